//! The trained network as files that leave the playground: one zip (stored, no compression)
//! holding
//! - `model.safetensors`: the weights as named `F32` tensors in the convention of PyTorch's
//!   `nn.Linear` ([`Mlp::named_tensors`]: `hidden.{l}.weight` is `out x in`, `y = x W^T + b`),
//!   with the config JSON also in the safetensors metadata (key `fmp_config`);
//! - `config.json`: `{"format": "fmp-mlp-1", "architecture": {...}, "path": {...},
//!   "training": {...}, "sampling": {...}}` ([`config_json`]): everything needed to evaluate
//!   `u_theta(x, t)` (input `[x, y, t, sin 2 pi t, cos 2 pi t, ...]`, SiLU hidden layers) and to
//!   sample as the app does (its time grid ends at the clamp where `beta = BETA_MIN`);
//! - `drawing.csv`: the cloud it was trained on (`x,y`).
//!
//! `python/fmp_model.py` reads the zip (or a folder with the same three files).

use crate::mlp::Mlp;
use crate::path::{Schedule, BETA_MIN};
use safetensors::tensor::{Dtype, TensorView};

/// The `format` of [`config_json`].
pub const FORMAT: &str = "fmp-mlp-1";

/// What the config records besides the network's shape.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportInfo {
    /// The probability path's schedule.
    pub schedule: Schedule,
    /// Training steps done.
    pub steps: u64,
    /// Base learning rate.
    pub lr: f64,
    /// Batch size.
    pub batch: usize,
    /// Seed of the initialisation and the batches.
    pub seed: u64,
    /// How the exporter sampled: solver name and steps on the app's time grid.
    pub solver: String,
    /// ODE steps of that sampling.
    pub ode_steps: usize,
    /// The W2 between the exporter's samples at `t = 1` and the drawing, with the sample count,
    /// if measured.
    pub w2: Option<(f64, usize)>,
}

/// A finite number as JSON (`null` otherwise).
fn num(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        "null".to_string()
    }
}

/// The config JSON of [`FORMAT`] for `mlp` (one line).
pub fn config_json(mlp: &Mlp, info: &ExportInfo) -> String {
    let c = mlp.config();
    let (w2, w2_samples) = match info.w2 {
        Some((w, n)) => (num(w), n.to_string()),
        None => ("null".to_string(), "null".to_string()),
    };
    format!(
        "{{\"format\":\"{FORMAT}\",\
\"architecture\":{{\"kind\":\"mlp\",\"activation\":\"silu\",\"width\":{},\"depth\":{},\
\"time_features\":{},\"classes\":{},\"input\":\"x, y, t, then sin(2 pi k t), cos(2 pi k t) for k = 1..time_features, then a one-hot label of classes entries (label y sets entry y - 1, the null label 0 none)\",\
\"output\":\"u_theta(x, t), 2 values\",\"tensors\":\"hidden.{{l}}.weight (out x in), hidden.{{l}}.bias, \
out.weight, out.bias; y = x W^T + b\"}},\
\"path\":{{\"schedule\":\"{}\",\"alpha_beta\":{},\"beta_min\":{},\"t_max\":{}}},\
\"training\":{{\"steps\":{},\"lr\":{},\"batch\":{},\"seed\":{}}},\
\"sampling\":{{\"solver\":{},\"steps\":{},\"grid\":\"ode::time_grid: uniform in t + ln(beta_t) / ln(beta_min) \
from 0 to t_max\",\"w2_to_drawing\":{},\"w2_samples\":{}}}}}",
        c.width,
        c.depth,
        c.time_features,
        c.classes,
        info.schedule.name(),
        crate::json::string(match info.schedule {
            Schedule::Linear => "(t, 1 - t)",
            Schedule::Cosine => "(sin(pi t / 2), cos(pi t / 2))",
            Schedule::Sqrt => "(t, sqrt(1 - t))",
        }),
        num(BETA_MIN),
        num(info.schedule.t_max()),
        info.steps,
        num(info.lr),
        info.batch,
        info.seed,
        crate::json::string(&info.solver),
        info.ode_steps,
        w2,
        w2_samples,
    )
}

/// The weights of `mlp` as a safetensors file (little-endian `F32` tensors of
/// [`Mlp::named_tensors`]), with `metadata` pairs in its header.
pub fn safetensors_bytes(mlp: &Mlp, metadata: &[(&str, &str)]) -> Result<Vec<u8>, String> {
    let tensors = mlp.named_tensors();
    let bytes: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, _, v)| v.iter().flat_map(|x| x.to_le_bytes()).collect())
        .collect();
    let views = tensors
        .iter()
        .zip(&bytes)
        .map(|((name, shape, _), b)| {
            TensorView::new(Dtype::F32, shape.clone(), b)
                .map(|v| (name.clone(), v))
                .map_err(|e| format!("tensor {name}: {e}"))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let meta = metadata
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    safetensors::serialize(views, Some(meta)).map_err(|e| format!("safetensors: {e}"))
}

/// The network of a safetensors file written by [`safetensors_bytes`]: the shape is read from
/// the tensors (`hidden.0.weight` is `width x (3 + 2 time_features)`, one `hidden.{l}` per
/// hidden layer), every tensor is checked (name, dtype, shape), and a foreign or damaged file
/// is an error that says what is wrong.
pub fn read_safetensors(bytes: &[u8]) -> Result<Mlp, String> {
    let st = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| format!("not a safetensors file ({e})"))?;
    let first = st.tensor("hidden.0.weight").map_err(|_| {
        "no tensor hidden.0.weight: not a network exported by the playground".to_string()
    })?;
    // A class-conditional network says how many one-hot label inputs it has (metadata
    // "classes"; absent: 0, as in files of earlier versions).
    let (_, meta) = safetensors::SafeTensors::read_metadata(bytes)
        .map_err(|e| format!("not a safetensors file ({e})"))?;
    let classes: usize = match meta.metadata().as_ref().and_then(|m| m.get("classes")) {
        None => 0,
        Some(v) => v
            .parse()
            .ok()
            .filter(|&k| k <= crate::data::MAX_CLASSES)
            .ok_or_else(|| {
                format!(
                    "metadata classes {v:?} is not 0..={}",
                    crate::data::MAX_CLASSES
                )
            })?,
    };
    let shape = first.shape().to_vec();
    if shape.len() != 2 || shape[1] < 3 + classes || (shape[1] - 3 - classes) % 2 != 0 {
        return Err(format!(
            "hidden.0.weight has shape {shape:?}, expected [width, 3 + 2 k + {classes}]"
        ));
    }
    let mut depth = 0;
    while st.tensor(&format!("hidden.{depth}.weight")).is_ok() {
        depth += 1;
    }
    let config = crate::mlp::MlpConfig {
        width: shape[0],
        depth,
        time_features: (shape[1] - 3 - classes) / 2,
        classes,
    };
    if !crate::limits::WIDTH.contains(config.width as u64)
        || !crate::limits::DEPTH.contains(config.depth as u64)
        || !crate::limits::TIME_FEATURES.contains(config.time_features as u64)
    {
        return Err(format!(
            "a network of width {}, depth {}, time features {} is beyond the limits",
            config.width, config.depth, config.time_features
        ));
    }
    // The expected tensors, in order, from a network of that shape.
    let expected = Mlp::from_params(config, vec![0.0; config.num_params()])?.named_tensors();
    let mut tensors = Vec::with_capacity(expected.len());
    for (name, shape, _) in expected {
        let t = st.tensor(&name).map_err(|_| format!("no tensor {name}"))?;
        if t.dtype() != Dtype::F32 || t.shape() != shape.as_slice() {
            return Err(format!(
                "{name} is {:?} {:?}, expected F32 {shape:?}",
                t.dtype(),
                t.shape()
            ));
        }
        let values = t
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        tensors.push((name, shape, values));
    }
    Mlp::from_named_tensors(config, &tensors)
}

/// The export as `(file name, bytes)`: `model.safetensors`, `config.json` and `drawing.csv`.
pub fn files(
    mlp: &Mlp,
    info: &ExportInfo,
    drawing_csv: &str,
) -> Result<Vec<(String, Vec<u8>)>, String> {
    let config = config_json(mlp, info);
    Ok(vec![
        (
            "model.safetensors".to_string(),
            safetensors_bytes(
                mlp,
                &[
                    ("format", FORMAT),
                    ("fmp_config", &config),
                    ("classes", &mlp.config().classes.to_string()),
                ],
            )?,
        ),
        (
            "config.json".to_string(),
            format!("{config}\n").into_bytes(),
        ),
        ("drawing.csv".to_string(), drawing_csv.as_bytes().to_vec()),
    ])
}

/// CRC-32 (IEEE, as zip uses it) of `data`.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A zip archive of `files` (method 0, stored; no timestamps, so the same files give the same
/// bytes). Each file and the archive must stay below 4 GiB (no zip64; an export is kilobytes).
pub fn zip(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    let le16 = |v: &mut Vec<u8>, x: u16| v.extend_from_slice(&x.to_le_bytes());
    let le32 = |v: &mut Vec<u8>, x: u32| v.extend_from_slice(&x.to_le_bytes());
    for (name, data) in files {
        let (crc, size, offset) = (crc32(data), data.len() as u32, out.len() as u32);
        // Local file header.
        le32(&mut out, 0x0403_4b50);
        for v in [20u16, 0, 0, 0, 0x21] {
            le16(&mut out, v); // version, flags, method (stored), time, date (1980-01-01)
        }
        le32(&mut out, crc);
        le32(&mut out, size);
        le32(&mut out, size);
        le16(&mut out, name.len() as u16);
        le16(&mut out, 0);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        // Its central directory entry.
        le32(&mut central, 0x0201_4b50);
        for v in [20u16, 20, 0, 0, 0, 0x21] {
            le16(&mut central, v); // made by, needed, flags, method, time, date
        }
        le32(&mut central, crc);
        le32(&mut central, size);
        le32(&mut central, size);
        le16(&mut central, name.len() as u16);
        for v in [0u16, 0, 0, 0] {
            le16(&mut central, v); // extra, comment, disk, internal attributes
        }
        le32(&mut central, 0); // external attributes
        le32(&mut central, offset);
        central.extend_from_slice(name.as_bytes());
    }
    let (cd_offset, cd_size) = (out.len() as u32, central.len() as u32);
    out.extend_from_slice(&central);
    le32(&mut out, 0x0605_4b50);
    for v in [0u16, 0, files.len() as u16, files.len() as u16] {
        le16(&mut out, v);
    }
    le32(&mut out, cd_size);
    le32(&mut out, cd_offset);
    le16(&mut out, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mlp::MlpConfig;
    use safetensors::SafeTensors;

    fn small() -> Mlp {
        let config = MlpConfig {
            width: 5,
            depth: 2,
            time_features: 1,
            classes: 0,
        };
        let n = config.num_params();
        Mlp::from_params(
            config,
            (0..n).map(|i| i as f32 * 0.01 - 0.3).collect::<Vec<_>>(),
        )
        .expect("shape")
    }

    #[test]
    fn a_file_reads_back_to_the_same_network_and_a_foreign_one_is_refused() {
        let mlp = small();
        let bytes = safetensors_bytes(&mlp, &[]).expect("bytes");
        let back = read_safetensors(&bytes).expect("read");
        assert_eq!(back.config(), mlp.config());
        assert_eq!(back.params(), mlp.params());
        assert!(read_safetensors(b"not a file")
            .unwrap_err()
            .contains("not a safetensors file"));
        let empty =
            safetensors::serialize(Vec::<(String, TensorView)>::new(), None).expect("empty");
        assert!(read_safetensors(&empty)
            .unwrap_err()
            .contains("hidden.0.weight"));
        // A truncated file.
        assert!(read_safetensors(&bytes[..bytes.len() - 4]).is_err());
    }

    #[test]
    fn a_class_conditional_network_round_trips_with_its_classes() {
        let config = MlpConfig {
            width: 5,
            depth: 2,
            time_features: 1,
            classes: 4,
        };
        let mlp = Mlp::new(config, &mut crate::rng::seeded(8));
        let info = ExportInfo {
            schedule: Schedule::Linear,
            steps: 1,
            lr: 0.01,
            batch: 8,
            seed: 0,
            solver: "euler".into(),
            ode_steps: 10,
            w2: None,
        };
        let files = files(&mlp, &info, "x,y,label\n0,0,1\n").expect("files");
        let back = read_safetensors(&files[0].1).expect("reads back");
        assert_eq!(back.config(), config);
        assert_eq!(back.params(), mlp.params());
        assert!(String::from_utf8_lossy(&files[1].1).contains("\"classes\":4"));
        // A bad count is refused.
        let bad = safetensors_bytes(&mlp, &[("classes", "9")]).expect("bytes");
        assert!(read_safetensors(&bad)
            .expect_err("refused")
            .contains("metadata classes"));
    }

    #[test]
    fn crc32_of_the_standard_check_string() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    /// The tensors, read back, give the network's own outputs by `y = x W^T + b` with SiLU:
    /// an independent forward pass in f64 from the file alone.
    #[test]
    fn the_safetensors_file_evaluates_like_the_network() {
        let mlp = small();
        let bytes = safetensors_bytes(&mlp, &[("k", "v")]).expect("bytes");
        let st = SafeTensors::deserialize(&bytes).expect("parse");
        let get = |name: &str| -> (Vec<usize>, Vec<f64>) {
            let t = st.tensor(name).expect(name);
            assert_eq!(t.dtype(), Dtype::F32);
            let v = t
                .data()
                .chunks_exact(4)
                .map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
                .collect();
            (t.shape().to_vec(), v)
        };
        let (x, t) = ([0.3, -0.7], 0.35);
        let tau = std::f64::consts::TAU;
        let mut a = vec![x[0], x[1], t, (tau * t).sin(), (tau * t).cos()];
        for name in ["hidden.0", "hidden.1", "out"] {
            let (shape, w) = get(&format!("{name}.weight"));
            let (_, b) = get(&format!("{name}.bias"));
            assert_eq!(shape[1], a.len(), "{name}");
            let z: Vec<f64> = (0..shape[0])
                .map(|i| {
                    b[i] + (0..shape[1])
                        .map(|j| w[i * shape[1] + j] * a[j])
                        .sum::<f64>()
                })
                .collect();
            a = if name == "out" {
                z
            } else {
                z.iter().map(|v| v / (1.0 + (-v).exp())).collect()
            };
        }
        let mut out = [[0.0; 2]];
        mlp.predict(&[x], t, &mut out, &mut crate::mlp::ForwardCache::new());
        for k in 0..2 {
            assert!((out[0][k] - a[k]).abs() < 1e-5, "{:?} vs {a:?}", out[0]);
        }
    }

    #[test]
    fn the_zip_lists_its_files_with_their_bytes() {
        let files = vec![
            ("a.txt".to_string(), b"hello".to_vec()),
            ("b.bin".to_string(), vec![0u8, 1, 2, 255]),
        ];
        let z = zip(&files);
        // Signatures at the documented places, and the data stored as given.
        assert_eq!(&z[..4], &[0x50, 0x4b, 0x03, 0x04]);
        assert_eq!(&z[30..35], b"a.txt");
        assert_eq!(&z[35..40], b"hello");
        let end = z.len() - 22;
        assert_eq!(&z[end..end + 4], &[0x50, 0x4b, 0x05, 0x06]);
        assert_eq!(u16::from_le_bytes([z[end + 10], z[end + 11]]), 2);
        // The same files give the same bytes.
        assert_eq!(z, zip(&files));
    }

    #[test]
    fn the_config_names_the_shape_and_the_path() {
        let info = ExportInfo {
            schedule: Schedule::Cosine,
            steps: 1200,
            lr: 0.01,
            batch: 512,
            seed: 7,
            solver: "rk4".into(),
            ode_steps: 50,
            w2: Some((0.12, 1000)),
        };
        let c = config_json(&small(), &info);
        for part in [
            "\"format\":\"fmp-mlp-1\"",
            "\"width\":5,\"depth\":2,\"time_features\":1",
            "\"schedule\":\"cosine\"",
            "\"steps\":1200",
            "\"w2_to_drawing\":0.12,\"w2_samples\":1000",
        ] {
            assert!(c.contains(part), "{part} in {c}");
        }
    }
}
