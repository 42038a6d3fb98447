//! Finds where a call such as `ref('dim_user')` is written in a file, for diagnostics
//! about calls that were recorded during rendering.

use std::ops::Range;

/// The byte range of the first `func(...)` call whose quoted arguments include all of
/// `args`, in order. Returns `None` when the call is built dynamically.
pub(crate) fn locate_call(text: &str, func: &str, args: &[&str]) -> Option<Range<usize>> {
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
        if quoted_strings(inside) == args {
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
}
