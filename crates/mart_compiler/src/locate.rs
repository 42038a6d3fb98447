//! Finds where a call such as `ref('dim_user')` is written in a file, for diagnostics
//! about calls that were recorded during rendering.

use std::ops::Range;

/// The byte range of the first `func(...)` call whose quoted arguments include all of
/// `args`, in order. Returns `None` when the call is built dynamically.
pub(crate) fn locate_call(text: &str, func: &str, args: &[&str]) -> Option<Range<usize>> {
    locate_call_where(text, func, |inside| quoted_strings(inside) == args)
}

/// The first `ref(...)` naming `name` (with or without a package) and, when given,
/// `version` (`v=2`, `v='2'`, `version=2`); for a call without a version, one that
/// gives none.
pub(crate) fn locate_ref(text: &str, name: &str, version: Option<&str>) -> Option<Range<usize>> {
    locate_call_where(text, "ref", |inside| {
        let (args, version_arg) = match inside.find(['=']) {
            Some(eq) => {
                let key_start = inside[..eq].rfind([',', '(']).map_or(0, |i| i + 1);
                let value = inside[eq + 1..].trim().trim_matches(['\'', '"']).trim();
                (&inside[..key_start], Some(value))
            }
            None => (inside, None),
        };
        let quoted = quoted_strings(args);
        quoted.last() == Some(&name) && quoted.len() <= 2 && version_arg == version
    })
}

fn locate_call_where(
    text: &str,
    func: &str,
    matches: impl Fn(&str) -> bool,
) -> Option<Range<usize>> {
    let mut from = 0;
    while let Some(found) = text.get(from..)?.find(func) {
        let start = from + found;
        from = start + func.len();
        let boundary_before = text[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '.'));
        let rest = &text[from..];
        let open = rest.len() - rest.trim_start().len();
        if !boundary_before || !rest[open..].starts_with('(') {
            continue;
        }
        let Some(close) = rest[open..].find(')') else {
            continue;
        };
        let inside = &rest[open + 1..open + close];
        if matches(inside) {
            return Some(start..from + open + close + 1);
        }
    }
    None
}

fn quoted_strings(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(['\'', '"']) {
        let quote = rest.as_bytes()[i] as char;
        let after = &rest[i + 1..];
        let Some(end) = after.find(quote) else { break };
        out.push(&after[..end]);
        rest = &after[end + 1..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_calls_with_either_quote() {
        let text =
            "select * from {{ ref('a') }} join {{ ref( \"b\" ) }} join {{ source('raw', 'b') }}";
        assert_eq!(
            locate_call(text, "ref", &["b"]).map(|r| &text[r]),
            Some("ref( \"b\" )")
        );
        assert_eq!(
            locate_call(text, "source", &["raw", "b"]).map(|r| &text[r]),
            Some("source('raw', 'b')")
        );
        assert_eq!(locate_call(text, "ref", &["c"]), None);
        assert_eq!(locate_call("{{ my_ref('a') }}", "ref", &["a"]), None);
    }

    #[test]
    fn finds_refs_by_version() {
        let text = "{{ ref('m') }} {{ ref('m', v=1) }} {{ ref('p', 'm', version='9') }}";
        let at = |version| locate_ref(text, "m", version).map(|r| &text[r]);
        assert_eq!(at(None), Some("ref('m')"));
        assert_eq!(at(Some("1")), Some("ref('m', v=1)"));
        assert_eq!(at(Some("9")), Some("ref('p', 'm', version='9')"));
        assert_eq!(at(Some("2")), None);
    }
}
