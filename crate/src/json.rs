//! The little JSON the crate writes by hand (no serde): string literals.

/// A JSON string literal: quotes, backslashes and control characters escaped.
pub(crate) fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        assert_eq!(string("moons"), "\"moons\"");
        assert_eq!(string("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(string("line\nbreak\u{1}"), r#""line\u000abreak\u0001""#);
        assert_eq!(string("8 Gaussians é"), "\"8 Gaussians é\"");
    }
}
