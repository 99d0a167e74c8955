//! What the app offers, as one JSON object: the data presets, schedules, ODE solvers and
//! couplings (ids and labels from [`Preset`], [`Schedule`], [`Solver`] and [`Coupling`]
//! themselves), the field kinds, flow kinds and grids the wasm surface evaluates
//! ([`crate::kinds`]), the default training settings ([`TrainConfig::default`]) and the limits
//! of every setting ([`crate::limits`]): each list and number exists once, in the core, and the
//! page reads it from here.

use crate::data::Preset;
use crate::json;
use crate::kinds::{FieldKind, FlowKind, GridKind};
use crate::limits::{self, IntLimit, RealLimit};
use crate::ode::Solver;
use crate::path::Schedule;
use crate::trainer::{Coupling, TrainConfig};

/// The integer limits under their catalog keys, in [`limits::INT_LIMITS`] order.
pub const INT_KEYS: [(&str, IntLimit); 11] = [
    ("batch", limits::BATCH),
    ("width", limits::WIDTH),
    ("depth", limits::DEPTH),
    ("time_features", limits::TIME_FEATURES),
    ("ode_steps", limits::ODE_STEPS),
    ("particles", limits::PARTICLES),
    ("seed", limits::SEED),
    ("points", limits::POINTS),
    ("train_steps", limits::TRAIN_STEPS),
    ("query_points", limits::QUERY_POINTS),
    ("class", limits::CLASS),
];

/// The real limits under their catalog keys, in [`limits::REAL_LIMITS`] order.
pub const REAL_KEYS: [(&str, RealLimit); 4] = [
    ("lr", limits::LR),
    ("t", limits::TIME),
    ("sigma", limits::SIGMA),
    ("guidance", limits::GUIDANCE),
];

/// The single numbers of [`crate::limits`] under their catalog keys.
pub const NUMBER_KEYS: [(&str, f64); 7] = [
    ("world", limits::WORLD),
    ("rescale_above", limits::RESCALE_ABOVE),
    ("rescale_to", limits::RESCALE_TO),
    ("max_coord", limits::MAX_COORD),
    ("max_file_bytes", limits::MAX_FILE_BYTES as f64),
    ("diverged_loss", limits::DIVERGED_LOSS),
    ("divergence_window", limits::DIVERGENCE_WINDOW as f64),
];

/// A JSON number: Rust's shortest round-trip form, which JavaScript's `Number` parses back to
/// the same `f64` (never an exponent, so always valid JSON for the finite limits).
fn number(v: f64) -> String {
    format!("{v}")
}

/// `{"name":..,"page":..,"min":..,"max":..}` (`page` null when the page has no such setting).
fn range(name: &str, page: Option<&str>, min: f64, max: f64) -> String {
    format!(
        "{{\"name\":{},\"page\":{},\"min\":{},\"max\":{}}}",
        json::string(name),
        page.map_or_else(|| "null".to_string(), json::string),
        number(min),
        number(max)
    )
}

/// The `"limits"` object (see [`catalog_json`]).
fn limits_json() -> String {
    let ranges = INT_KEYS
        .iter()
        .map(|(key, l)| (key, range(l.name, l.page, l.min as f64, l.max as f64)))
        .chain(
            REAL_KEYS
                .iter()
                .map(|(key, l)| (key, range(l.name, l.page, l.min, l.max))),
        )
        .map(|(key, value)| format!("{}:{value}", json::string(key)));
    let numbers = NUMBER_KEYS
        .iter()
        .map(|(key, v)| format!("{}:{}", json::string(key), number(*v)));
    let entries: Vec<String> = ranges.chain(numbers).collect();
    format!("{{{}}}", entries.join(","))
}

/// The catalog, one JSON object (lists in UI order; each `id` parses back with its enum's
/// `parse` or `FromStr`):
/// - `"presets"`, `"schedules"`, `"solvers"`, `"couplings"`: `[{"id":..,"label":..},..]`;
/// - `"fields"`: the kinds of `Fields::velocity` ([`FieldKind`]), `[{"id","label"},..]`;
///   `"flow_fields"`: those a flow follows (`Fields::flow_begin`, [`FlowKind`]), ids only;
///   `"grids"`: the scalars of `Fields::grid` ([`GridKind`]), `[{"id","label"},..]`;
/// - `"defaults"`: `{"width","depth","time_features","batch","lr"}` ([`TrainConfig::default`]);
/// - `"limits"`: every range of [`crate::limits`] under its key of [`INT_KEYS`] and
///   [`REAL_KEYS`], as `{"name","page","min","max"}` (`name` as the error messages say it,
///   `page` the key of the same setting in the page's property table or its constant, or null),
///   then the single numbers of [`NUMBER_KEYS`]: `world` (half the stage's side), `rescale_above`
///   and `rescale_to` (a CSV cloud with a coordinate beyond the first is fitted into a box of
///   the second's half-width), `max_coord` (the largest CSV coordinate), `max_file_bytes` (the
///   largest CSV file), `diverged_loss` (a mean CFM loss above it is divergence) and
///   `divergence_window` (the command line's run of steps that mean is taken over).
pub fn catalog_json() -> String {
    fn list(items: impl Iterator<Item = (&'static str, &'static str)>) -> String {
        let entries: Vec<String> = items
            .map(|(id, label)| {
                format!(
                    "{{\"id\":{},\"label\":{}}}",
                    json::string(id),
                    json::string(label)
                )
            })
            .collect();
        format!("[{}]", entries.join(","))
    }
    let ids = |names: &mut dyn Iterator<Item = &'static str>| {
        let quoted: Vec<String> = names.map(json::string).collect();
        format!("[{}]", quoted.join(","))
    };
    let c = TrainConfig::default();
    format!(
        "{{\"presets\":{},\"schedules\":{},\"solvers\":{},\"couplings\":{},\
\"fields\":{},\"flow_fields\":{},\"grids\":{},\
\"defaults\":{{\"width\":{},\"depth\":{},\"time_features\":{},\"batch\":{},\"lr\":{}}},\
\"limits\":{}}}",
        list(Preset::ALL.iter().map(|p| (p.name(), p.label()))),
        list(Schedule::ALL.iter().map(|s| (s.name(), s.label()))),
        list(Solver::ALL.iter().map(|s| (s.name(), s.label()))),
        list(Coupling::ALL.iter().map(|k| (k.name(), k.label()))),
        list(FieldKind::ALL.iter().map(|k| (k.name(), k.label()))),
        ids(&mut FlowKind::ALL.iter().map(|k| k.name())),
        list(GridKind::ALL.iter().map(|k| (k.name(), k.label()))),
        c.mlp.width,
        c.mlp.depth,
        c.mlp.time_features,
        c.batch,
        c.adam.lr,
        limits_json()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `"id"` values of the list that follows `"key":` in `json`.
    fn ids<'a>(json: &'a str, key: &str) -> Vec<&'a str> {
        let start = json.find(&format!("\"{key}\":[")).expect("key present");
        let list = &json[start..start + json[start..].find(']').expect("list closes")];
        list.split("\"id\":\"")
            .skip(1)
            .map(|rest| &rest[..rest.find('"').expect("id closes")])
            .collect()
    }

    #[test]
    fn every_id_parses_back() {
        let json = catalog_json();
        let presets = ids(&json, "presets");
        let schedules = ids(&json, "schedules");
        let solvers = ids(&json, "solvers");
        assert_eq!(presets.len(), Preset::ALL.len());
        assert_eq!(schedules.len(), Schedule::ALL.len());
        assert_eq!(solvers.len(), Solver::ALL.len());
        for (id, p) in presets.iter().zip(Preset::ALL) {
            assert_eq!(Preset::parse(id), Some(p), "{id}");
        }
        for (id, s) in schedules.iter().zip(Schedule::ALL) {
            assert_eq!(Schedule::parse(id), Some(s), "{id}");
        }
        for (id, s) in solvers.iter().zip(Solver::ALL) {
            assert_eq!(Solver::parse(id), Some(s), "{id}");
        }
        let couplings = ids(&json, "couplings");
        assert_eq!(couplings.len(), Coupling::ALL.len());
        for (id, k) in couplings.iter().zip(Coupling::ALL) {
            assert_eq!(Coupling::parse(id), Some(k), "{id}");
        }
        let fields = ids(&json, "fields");
        assert_eq!(fields.len(), FieldKind::ALL.len());
        for (id, k) in fields.iter().zip(FieldKind::ALL) {
            assert_eq!(id.parse::<FieldKind>(), Ok(k), "{id}");
        }
        let grids = ids(&json, "grids");
        assert_eq!(grids.len(), GridKind::ALL.len());
        for (id, k) in grids.iter().zip(GridKind::ALL) {
            assert_eq!(id.parse::<GridKind>(), Ok(k), "{id}");
        }
        let start = json.find("\"flow_fields\":[").expect("flow_fields") + 15;
        let flows = &json[start..start + json[start..].find(']').expect("list closes")];
        let flows: Vec<&str> = flows.split(',').map(|q| q.trim_matches('"')).collect();
        assert_eq!(flows, ["learned", "marginal", "uniform"]);
        for id in flows {
            assert!(id.parse::<FlowKind>().is_ok(), "{id}");
        }
    }

    /// The number after `"key":` in `json` (up to the next `,` or `}`).
    fn number_at(json: &str, key: &str) -> f64 {
        let start = json
            .find(&format!("\"{key}\":"))
            .unwrap_or_else(|| panic!("{key} missing"))
            + key.len()
            + 3;
        let rest = &json[start..];
        let text = &rest[..rest.find([',', '}']).expect("number ends")];
        text.parse()
            .unwrap_or_else(|_| panic!("{key}: not a number: {text}"))
    }

    #[test]
    fn the_limits_are_those_of_the_limits_module() {
        let json = catalog_json();
        let limits = &json[json.find("\"limits\":{").expect("limits") + 9..];
        // Every limit of the table, under one key each.
        assert_eq!(INT_KEYS.map(|(_, l)| l), limits::INT_LIMITS);
        assert_eq!(REAL_KEYS.map(|(_, l)| l), limits::REAL_LIMITS);
        let mut keys: Vec<&str> = INT_KEYS
            .iter()
            .map(|(k, _)| *k)
            .chain(REAL_KEYS.iter().map(|(k, _)| *k))
            .chain(NUMBER_KEYS.iter().map(|(k, _)| *k))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(
            keys.len(),
            INT_KEYS.len() + REAL_KEYS.len() + NUMBER_KEYS.len()
        );
        // Each range as written: read back from the text, equal to the constant.
        let entry = |key: &str| {
            let start = limits.find(&format!("\"{key}\":{{")).expect("range") + key.len() + 3;
            &limits[start..start + limits[start..].find('}').expect("closes") + 1]
        };
        for (key, l) in INT_KEYS {
            let e = entry(key);
            assert_eq!(number_at(e, "min"), l.min as f64, "{key}");
            assert_eq!(number_at(e, "max"), l.max as f64, "{key}");
            assert!(e.contains(&format!("\"name\":\"{}\"", l.name)), "{e}");
            match l.page {
                Some(p) => assert!(e.contains(&format!("\"page\":\"{p}\"")), "{e}"),
                None => assert!(e.contains("\"page\":null"), "{e}"),
            }
        }
        for (key, l) in REAL_KEYS {
            let e = entry(key);
            assert_eq!(number_at(e, "min"), l.min, "{key}");
            assert_eq!(number_at(e, "max"), l.max, "{key}");
            assert_eq!(l.page, Some(key), "the page's key of {key}");
        }
        assert_eq!(number_at(limits, "world"), limits::WORLD);
        assert_eq!(number_at(limits, "rescale_above"), limits::RESCALE_ABOVE);
        assert_eq!(number_at(limits, "rescale_to"), limits::RESCALE_TO);
        assert_eq!(number_at(limits, "max_coord"), limits::MAX_COORD);
        assert_eq!(
            number_at(limits, "max_file_bytes"),
            limits::MAX_FILE_BYTES as f64
        );
        assert_eq!(number_at(limits, "diverged_loss"), limits::DIVERGED_LOSS);
        assert_eq!(
            number_at(limits, "divergence_window"),
            limits::DIVERGENCE_WINDOW as f64
        );
    }

    #[test]
    fn the_json_is_the_documented_one() {
        // The exact text the page's JavaScript reads.
        assert_eq!(
            catalog_json(),
            concat!(
                r#"{"presets":[{"id":"moons","label":"Two moons"},{"id":"circles","label":"Circles"},"#,
                r#"{"id":"8gaussians","label":"8 Gaussians"},{"id":"checkerboard","label":"Checkerboard"},"#,
                r#"{"id":"spiral","label":"Spiral"},{"id":"smiley","label":"Smiley"}],"#,
                r#""schedules":[{"id":"linear","label":"linear (CondOT)"},{"id":"cosine","label":"cosine"},"#,
                r#"{"id":"sqrt","label":"square-root"}],"#,
                r#""solvers":[{"id":"euler","label":"Euler"},{"id":"midpoint","label":"midpoint"},"#,
                r#"{"id":"rk4","label":"RK4"},{"id":"exact-step","label":"closed-form step"}],"#,
                r#""couplings":[{"id":"independent","label":"independent"},{"id":"ot","label":"minibatch OT"}],"#,
                r#""fields":[{"id":"learned","label":"learned field"},{"id":"marginal","label":"exact marginal field"},"#,
                r#"{"id":"uniform","label":"uniform-weight field"},{"id":"score","label":"exact score"},"#,
                r#"{"id":"score_learned","label":"learned score"},{"id":"denoiser","label":"posterior mean (denoiser)"},"#,
                r#"{"id":"sde_drift","label":"SDE drift"},{"id":"class","label":"exact class field"},"#,
                r#"{"id":"guided","label":"exact guided field"},{"id":"learned_class","label":"learned class field"},"#,
                r#"{"id":"learned_guided","label":"learned guided field"}],"#,
                r#""flow_fields":["learned","marginal","uniform"],"#,
                r#""grids":[{"id":"logp","label":"log density"},{"id":"divergence","label":"divergence of the exact field"},"#,
                r#"{"id":"error","label":"error of the learned field"},{"id":"residual","label":"continuity residual, exact field"},"#,
                r#"{"id":"residual_uniform","label":"continuity residual, uniform weights"},"#,
                r#"{"id":"residual_learned","label":"continuity residual, learned field"},"#,
                r#"{"id":"fokker_planck","label":"Fokker-Planck residual"}],"#,
                r#""defaults":{"width":64,"depth":3,"time_features":2,"batch":512,"lr":0.01},"#,
                r#""limits":{"batch":{"name":"batch","page":"batch","min":1,"max":4096},"#,
                r#""width":{"name":"width","page":"width","min":4,"max":512},"#,
                r#""depth":{"name":"depth","page":"depth","min":1,"max":8},"#,
                r#""time_features":{"name":"time features","page":null,"min":0,"max":16},"#,
                r#""ode_steps":{"name":"ODE steps","page":"odeSteps","min":2,"max":400},"#,
                r#""particles":{"name":"particles","page":"particles","min":100,"max":5000},"#,
                r#""seed":{"name":"seed","page":"seed","min":0,"max":2147483647},"#,
                r#""points":{"name":"points","page":"MAX_POINTS","min":1,"max":5000},"#,
                r#""train_steps":{"name":"steps","page":null,"min":1,"max":1000000},"#,
                r#""query_points":{"name":"query points","page":null,"min":1,"max":100000},"#,
                r#""class":{"name":"class","page":"sampleClass","min":1,"max":4},"#,
                r#""lr":{"name":"learning rate","page":"lr","min":0.00001,"max":10},"#,
                r#""t":{"name":"t","page":"t","min":0,"max":1},"#,
                r#""sigma":{"name":"sigma","page":"sigma","min":0,"max":3},"#,
                r#""guidance":{"name":"guidance","page":"guidance","min":0,"max":8},"#,
                r#""world":3.5,"rescale_above":3.3249999999999997,"rescale_to":2.975,"#,
                r#""max_coord":1000000,"max_file_bytes":5000000,"diverged_loss":10000,"divergence_window":10}}"#
            )
        );
    }
}
