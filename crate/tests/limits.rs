//! The limits table ([`fmp::limits`]) holds the page's numbers: this test reads the page's
//! sources (`www/state.js`, `www/io.js`, `www/train.worker.js`) and compares. If it fails, the
//! page and the command line disagree: change one of them so they agree again. Native only.
#![cfg(not(target_arch = "wasm32"))]

use fmp::limits;

fn www(file: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../www")
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A JavaScript numeric expression of the forms the page uses: `12`, `1e-5`, `2 ** 31 - 1`.
fn eval(expr: &str) -> f64 {
    let expr = expr.trim();
    if let Some((a, b)) = expr.rsplit_once(" - ") {
        return eval(a) - eval(b);
    }
    if let Some((a, b)) = expr.split_once("**") {
        return eval(a).powf(eval(b));
    }
    expr.parse()
        .unwrap_or_else(|_| panic!("cannot read the page's number {expr:?}"))
}

/// `(min, max)` of the `buildProps` entry `key` (`key: { kind: .., min: A, max: B }`).
fn page_range(state: &str, key: &str) -> (f64, f64) {
    let props = &state[state.find("function buildProps").expect("buildProps")..];
    let entry = props
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{key}: {{")))
        .unwrap_or_else(|| panic!("buildProps has no {key}"));
    let field = |name: &str| {
        let start = entry
            .find(&format!("{name}: "))
            .unwrap_or_else(|| panic!("{key} has no {name}: {entry}"))
            + name.len()
            + 2;
        let rest = &entry[start..];
        eval(&rest[..rest.find([',', '}']).unwrap_or(rest.len())])
    };
    (field("min"), field("max"))
}

/// The value of `const NAME = VALUE;` in `source`.
fn page_const(source: &str, name: &str) -> f64 {
    let start = source
        .find(&format!("const {name} = "))
        .unwrap_or_else(|| panic!("no const {name}"))
        + name.len()
        + 9;
    let rest = &source[start..];
    eval(&rest[..rest.find(';').expect(";")])
}

#[test]
fn the_page_and_the_command_line_have_the_same_limits() {
    let state = www("state.js");
    for l in limits::INT_LIMITS {
        match l.page {
            Some("MAX_POINTS") => assert_eq!(page_const(&state, "MAX_POINTS"), l.max as f64),
            Some(key) => assert_eq!(
                page_range(&state, key),
                (l.min as f64, l.max as f64),
                "{}",
                l.name
            ),
            None => {}
        }
    }
    for l in limits::REAL_LIMITS {
        if let Some(key) = l.page {
            assert_eq!(page_range(&state, key), (l.min, l.max), "{}", l.name);
        }
    }
    assert_eq!(page_const(&state, "WORLD"), limits::WORLD);

    let io = www("io.js");
    for (needle, what) in [
        (
            format!(
                "size > {}",
                limits::format_number(limits::MAX_FILE_BYTES as f64)
            ),
            "file size",
        ),
        ("Math.abs(v) > WORLD * 0.95".to_string(), "rescale trigger"),
        ("fit_to_box(pts, WORLD * 0.85)".to_string(), "rescale box"),
        ("pts.length / 2 > MAX_POINTS".to_string(), "point count"),
    ] {
        assert!(
            io.contains(&needle),
            "io.js no longer has {needle:?} ({what})"
        );
    }
    assert_eq!(limits::RESCALE_ABOVE, limits::WORLD * 0.95);
    assert_eq!(limits::RESCALE_TO, limits::WORLD * 0.85);

    let worker = www("train.worker.js");
    assert_eq!(page_const(&worker, "DIVERGED"), limits::DIVERGED_LOSS);
}
