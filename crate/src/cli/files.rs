//! The files the commands read and write; every error names the file (and the line).

use std::io::Read;

use super::args::file_shown;
use super::Failure;
use crate::data;
use crate::limits::{self, IntLimit};
use crate::mlp::Mlp;
use crate::Point;

/// Read and parse a CSV point cloud of at most `limit.max` points; errors name the file (and
/// the line).
pub(super) fn read_points(file: &str, limit: IntLimit) -> Result<Vec<Point>, Failure> {
    read_labelled(file, limit, false).map(|(points, _)| points)
}

/// The points of a CSV file and, with `labelled`, its labels (`None`: the file has none).
pub(super) fn read_labelled(
    file: &str,
    limit: IntLimit,
    labelled: bool,
) -> Result<(Vec<Point>, Option<Vec<u8>>), Failure> {
    let name = file_shown(file);
    let mut bytes = Vec::new();
    std::fs::File::open(file)
        .and_then(|f| f.take(limits::MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("{name}: {e}"))?;
    if bytes.len() as u64 > limits::MAX_FILE_BYTES {
        return Err(format!(
            "{name}: the file is larger than {} bytes, the most a CSV file may have",
            limits::MAX_FILE_BYTES
        )
        .into());
    }
    let text = data::decode_utf8(&bytes).map_err(|e| format!("{name}: {e}"))?;
    let (points, labels) = if labelled {
        data::parse_labelled_csv(text)
    } else {
        data::parse_points_csv(text).map(|p| (p, None))
    }
    .map_err(|e| format!("{name}: {e}"))?;
    if points.len() as u64 > limit.max {
        return Err(format!(
            "{name}: it holds {} points; the most is {}",
            points.len(),
            limit.max
        )
        .into());
    }
    Ok((points, labels))
}

/// Writes `contents` to `file`; the error names the file.
pub(super) fn write(file: &str, contents: impl AsRef<[u8]>) -> Result<(), Failure> {
    std::fs::write(file, contents).map_err(|e| format!("{}: {e}", file_shown(file)).into())
}

/// A network saved by `train --save` (the folder, or its model.safetensors).
pub(super) fn load_model(model: &str) -> Result<Mlp, Failure> {
    let path = std::path::Path::new(model);
    let file = if path.is_dir() {
        path.join("model.safetensors")
    } else {
        path.to_path_buf()
    };
    let shown = file_shown(&file.to_string_lossy());
    let meta = std::fs::metadata(&file).map_err(|e| format!("{shown}: {e}"))?;
    if meta.len() > limits::MAX_FILE_BYTES * 4 {
        return Err(format!("{shown}: too large for a playground network").into());
    }
    let bytes = std::fs::read(&file).map_err(|e| format!("{shown}: {e}"))?;
    Ok(crate::export::read_safetensors(&bytes).map_err(|e| format!("{shown}: {e}"))?)
}
