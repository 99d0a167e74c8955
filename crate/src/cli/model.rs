//! A network saved by `train --save` (`--model` of `eval` and `flow`), read as
//! `python/fmp_model.py` reads it: the tensors of `model.safetensors` (at most
//! [`limits::MAX_MODEL_BYTES`]), the config (the folder's `config.json`, at most
//! [`limits::MAX_CONFIG_BYTES`], or the `fmp_config` metadata of a bare `model.safetensors`)
//! checked against them (format, width, depth, time features, classes; the schedule and its
//! clamp; the sampling solver and steps), and every weight finite. Each refusal names the file
//! and what is wrong.

use std::path::Path;

use serde_json::Value;

use super::args::file_shown;
use super::files::read_regular;
use super::Failure;
use crate::export::FORMAT;
use crate::limits;
use crate::mlp::Mlp;
use crate::ode::Solver;
use crate::path::{Schedule, BETA_MIN};

/// A saved network with the schedule it was trained on.
#[derive(Debug)]
pub(super) struct SavedModel {
    /// The network.
    pub mlp: Mlp,
    /// Its config's `path.schedule`.
    pub schedule: Schedule,
}

/// Loads `--model` (a folder written by `train --save`, or its `model.safetensors`).
pub(super) fn load_model(model: &str) -> Result<SavedModel, Failure> {
    let path = Path::new(model);
    let folder = path.is_dir();
    let file = if folder {
        path.join("model.safetensors")
    } else {
        path.to_path_buf()
    };
    let shown = file_shown(&file.to_string_lossy());
    let bytes = read_regular(&file, limits::MAX_MODEL_BYTES, "a playground network")?;
    let mlp = crate::export::read_safetensors(&bytes).map_err(|e| format!("{shown}: {e}"))?;
    let config_file = path.join("config.json");
    let (what, text) = if folder && config_file.exists() {
        let bytes = read_regular(&config_file, limits::MAX_CONFIG_BYTES, "a config")?;
        let what = file_shown(&config_file.to_string_lossy());
        let text = String::from_utf8(bytes).map_err(|_| format!("{what} is not UTF-8 text"))?;
        (what, text)
    } else {
        let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes)
            .map_err(|e| format!("{shown}: not a safetensors file ({e})"))?;
        let meta = meta.metadata().clone().unwrap_or_default();
        if let Some(format) = meta.get("format").filter(|f| *f != FORMAT) {
            return Err(format!("{shown}: foreign metadata, format is {format:?}").into());
        }
        let text = meta.get("fmp_config").cloned().ok_or_else(|| {
            format!("{shown}: no config (no config.json beside it and no fmp_config metadata)")
        })?;
        (format!("the fmp_config metadata of {shown}"), text)
    };
    let schedule = check_config(&text, &mlp).map_err(|e| format!("{what}: {e}"))?;
    if let Some((name, v)) = first_non_finite(&mlp) {
        return Err(format!(
            "{shown}: the model is not finite ({name} holds {v}); it cannot be evaluated"
        )
        .into());
    }
    Ok(SavedModel { mlp, schedule })
}

/// The first tensor holding a value that is not finite, with that value.
fn first_non_finite(mlp: &Mlp) -> Option<(String, f32)> {
    mlp.named_tensors()
        .into_iter()
        .find_map(|(name, _, values)| {
            values
                .into_iter()
                .find(|v| !v.is_finite())
                .map(|v| (name, v))
        })
}

/// Checks the config JSON `text` against the network read from the tensors; its schedule.
fn check_config(text: &str, mlp: &Mlp) -> Result<Schedule, String> {
    let config: Value = serde_json::from_str(text).map_err(|e| format!("is not JSON ({e})"))?;
    let format = config.get("format");
    if format != Some(&Value::from(FORMAT)) {
        return Err(format!(
            "is not a playground config: format is {}, expected \"{FORMAT}\"",
            format.map_or("missing".to_string(), Value::to_string)
        ));
    }
    let section = |name: &str| -> Result<&serde_json::Map<String, Value>, String> {
        config
            .get(name)
            .and_then(Value::as_object)
            .ok_or_else(|| format!("has no {name:?} section"))
    };
    let (arch, path, sampling) = (
        section("architecture")?,
        section("path")?,
        section("sampling")?,
    );
    let c = mlp.config();
    let shape = format!(
        "the tensors are a network of width {}, depth {}, time features {}, classes {}",
        c.width, c.depth, c.time_features, c.classes
    );
    for (key, want, default) in [
        ("width", c.width, None),
        ("depth", c.depth, None),
        ("time_features", c.time_features, None),
        ("classes", c.classes, Some(0)),
    ] {
        let got = match arch.get(key) {
            None => default.ok_or_else(|| format!("architecture.{key} is missing"))?,
            Some(v) => v
                .as_u64()
                .map(|v| v as usize)
                .ok_or_else(|| format!("architecture.{key} is {v}, expected an integer"))?,
        };
        if got != want {
            return Err(format!("architecture.{key} is {got}, but {shape}"));
        }
    }
    let schedule = path.get("schedule");
    let schedule = Schedule::ALL
        .into_iter()
        .find(|s| schedule.and_then(Value::as_str) == Some(s.name()))
        .ok_or_else(|| {
            format!(
                "path.schedule is {}, expected one of {}",
                schedule.map_or("missing".to_string(), Value::to_string),
                names(Schedule::ALL.map(Schedule::name))
            )
        })?;
    for (key, want, tolerance) in [
        ("beta_min", BETA_MIN, 1e-15),
        ("t_max", schedule.t_max(), 1e-12),
    ] {
        if let Some(v) = path.get(key) {
            if !v.as_f64().is_some_and(|v| (v - want).abs() <= tolerance) {
                return Err(format!(
                    "path.{key} is {v}, expected {want} for the {} schedule",
                    schedule.name()
                ));
            }
        }
    }
    let solver = sampling.get("solver");
    if !Solver::ALL
        .iter()
        .any(|s| solver.and_then(Value::as_str) == Some(s.name()))
    {
        return Err(format!(
            "sampling.solver is {}, expected one of {}",
            solver.map_or("missing".to_string(), Value::to_string),
            names(Solver::ALL.map(Solver::name))
        ));
    }
    let steps = sampling.get("steps");
    if !steps
        .and_then(Value::as_u64)
        .is_some_and(|s| limits::FLOW_STEPS.contains(s))
    {
        return Err(format!(
            "sampling.steps is {}, expected an integer in {}",
            steps.map_or("missing".to_string(), Value::to_string),
            limits::FLOW_STEPS
        ));
    }
    Ok(schedule)
}

/// `a, b, c`.
fn names<const N: usize>(names: [&str; N]) -> String {
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mlp::MlpConfig;

    fn net(classes: usize) -> Mlp {
        let config = MlpConfig {
            width: 4,
            depth: 1,
            time_features: 1,
            classes,
        };
        Mlp::new(config, &mut crate::rng::seeded(1))
    }

    fn config(arch: &str, schedule: &str, steps: &str) -> String {
        format!(
            "{{\"format\":\"{FORMAT}\",\"architecture\":{{{arch}}},\"path\":{{\"schedule\":\
             {schedule}}},\"sampling\":{{\"solver\":\"rk4\",\"steps\":{steps}}}}}"
        )
    }

    #[test]
    fn a_config_must_describe_the_tensors() {
        let arch = "\"width\":4,\"depth\":1,\"time_features\":1";
        assert_eq!(
            check_config(&config(arch, "\"cosine\"", "50"), &net(0)),
            Ok(Schedule::Cosine)
        );
        for (text, mlp, want) in [
            ("not json".to_string(), net(0), "is not JSON"),
            ("{}".to_string(), net(0), "format is missing"),
            (
                config(
                    "\"width\":8,\"depth\":1,\"time_features\":1",
                    "\"linear\"",
                    "5",
                ),
                net(0),
                "architecture.width is 8, but the tensors are a network of width 4",
            ),
            (
                config(arch, "\"linear\"", "5"),
                net(2),
                "architecture.classes is 0, but",
            ),
            (
                config(arch, "\"bent\"", "5"),
                net(0),
                "path.schedule is \"bent\", expected one of linear, cosine, sqrt",
            ),
            (
                config(arch, "\"linear\"", "1000000000000"),
                net(0),
                "sampling.steps is 1000000000000, expected an integer in 1..=400",
            ),
            (
                config(arch, "\"linear\"", "0"),
                net(0),
                "sampling.steps is 0",
            ),
        ] {
            let e = check_config(&text, &mlp).expect_err(&text);
            assert!(e.contains(want), "{e} (want {want})");
        }
    }
}
