//! The files the commands read and write; every error names the file (and the line).
//!
//! Reading: only regular files are opened (a FIFO would block the open, a device such as
//! `/dev/zero` never ends), and no more than a limit of [`crate::limits`] is read (`take(limit +
//! 1)`, so a file that grows while it is read is refused too). Writing: every output is checked
//! before any work ([`check_output`], [`check_save_dir`]): its folder exists, it is a regular
//! file if it exists, and an existing file is overwritten only with `--force`.

use std::fs::Metadata;
use std::io::Read;
use std::path::Path;

use super::args::file_shown;
use super::Failure;
use crate::data;
use crate::limits::{self, IntLimit};
use crate::Point;

/// What kind of file `meta` is, for the messages (`a folder`, `a FIFO (named pipe)`, ...).
fn kind(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

/// The refusal of `name`, which is not a regular file.
fn not_regular(name: &str, meta: &Metadata) -> Failure {
    format!("{name} is {}, not a regular file", kind(meta)).into()
}

/// The bytes of the regular file `path`, at most `limit` of them (`what`: the kind of file
/// the message of a larger one names, e.g. `a CSV file`). Anything else (a folder, a FIFO, a
/// device) is refused before it is opened.
pub(super) fn read_regular(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>, Failure> {
    let name = file_shown(&path.to_string_lossy());
    let too_large = || -> Failure {
        format!("{name}: the file is larger than {limit} bytes, the most {what} may have").into()
    };
    let meta = std::fs::metadata(path).map_err(|e| format!("{name}: {e}"))?;
    if !meta.is_file() {
        return Err(not_regular(&name, &meta));
    }
    if meta.len() > limit {
        return Err(too_large());
    }
    let file = std::fs::File::open(path).map_err(|e| format!("{name}: {e}"))?;
    // The file opened may not be the one looked at (it was replaced in between).
    let meta = file.metadata().map_err(|e| format!("{name}: {e}"))?;
    if !meta.is_file() {
        return Err(not_regular(&name, &meta));
    }
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{name}: {e}"))?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

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
    let bytes = read_regular(Path::new(file), limits::MAX_FILE_BYTES, "a CSV file")?;
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

/// Checks, before any work, that `file` can be written: its folder exists, and the file does
/// not exist, or is a regular file and `force` is given.
pub(super) fn check_output(file: &str, force: bool) -> Result<(), Failure> {
    let name = file_shown(file);
    let path = Path::new(file);
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => Err(not_regular(&name, &meta)),
        Ok(_) if !force => Err(format!("{name} exists; give --force to overwrite it").into()),
        Ok(_) => Ok(()),
        Err(_) => {
            let folder = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            if folder.is_dir() {
                Ok(())
            } else {
                Err(format!(
                    "{name}: the folder {} does not exist",
                    file_shown(&folder.to_string_lossy())
                )
                .into())
            }
        }
    }
}

/// The files `train --save` writes into its folder.
pub(super) const SAVED_FILES: [&str; 3] = ["model.safetensors", "config.json", "drawing.csv"];

/// Checks, before any work, that `dir` can take a saved network: it does not exist (it will
/// be made), or is an empty folder, or a folder with files and `force` is given (then each of
/// [`SAVED_FILES`] in it must be a regular file if it exists).
pub(super) fn check_save_dir(dir: &str, force: bool) -> Result<(), Failure> {
    let name = file_shown(dir);
    let meta = match std::fs::metadata(dir) {
        Err(_) => return Ok(()),
        Ok(meta) => meta,
    };
    if !meta.is_dir() {
        return Err(format!("{name} exists and is {}, not a folder", kind(&meta)).into());
    }
    let mut entries = std::fs::read_dir(dir).map_err(|e| format!("{name}: {e}"))?;
    if entries.next().is_none() {
        return Ok(());
    }
    if !force {
        return Err(format!(
            "{name} holds files; give --force to overwrite its {}",
            SAVED_FILES.join(", ")
        )
        .into());
    }
    for file in SAVED_FILES {
        let path = Path::new(dir).join(file);
        if let Ok(meta) = std::fs::metadata(&path) {
            if !meta.is_file() {
                return Err(not_regular(&file_shown(&path.to_string_lossy()), &meta));
            }
        }
    }
    Ok(())
}

/// Writes `contents` to `file`; the error names the file.
pub(super) fn write(file: &str, contents: impl AsRef<[u8]>) -> Result<(), Failure> {
    std::fs::write(file, contents).map_err(|e| format!("{}: {e}", file_shown(file)).into())
}
