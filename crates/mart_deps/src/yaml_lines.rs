//! Where the entries of a packages file sit: serde_yaml values carry no positions, so the
//! lines of the `packages:` list items (and of keys inside them) are found in the text.

/// The 1-based line of each item of the top-level `packages:` block list, in order.
/// A flow list (`packages: [...]`) has no item lines; callers then use the key's line.
pub(crate) fn entry_lines(text: &str) -> Vec<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let Some(key_at) = lines.iter().position(|l| is_top_level_key(l, "packages")) else {
        return Vec::new();
    };
    let mut items = Vec::new();
    let mut item_indent = None;
    for (i, line) in lines.iter().enumerate().skip(key_at + 1) {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = line.len() - trimmed.len();
        let is_item = trimmed == "-" || trimmed.starts_with("- ");
        if indent == 0 && !is_item {
            break;
        }
        if is_item && item_indent.is_none_or(|at| at == indent) {
            item_indent = Some(indent);
            items.push(i + 1);
        }
    }
    items
}

/// The 1-based line of the top-level `key:`, if written in block style.
pub(crate) fn top_level_key_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| is_top_level_key(l, key))
        .map(|i| i + 1)
}

/// The line of `key:` within the entry that starts at `start` (before `end`, if given).
pub(crate) fn key_line(text: &str, key: &str, start: usize, end: Option<usize>) -> Option<usize> {
    text.lines()
        .enumerate()
        .skip(start.saturating_sub(1))
        .take_while(|(i, _)| end.is_none_or(|e| i + 1 < e))
        .find(|(_, line)| {
            let body = line.trim_start().trim_start_matches("- ").trim_start();
            starts_with_key(body, key)
        })
        .map(|(i, _)| i + 1)
}

fn is_top_level_key(line: &str, key: &str) -> bool {
    !line.starts_with([' ', '\t']) && starts_with_key(line, key)
}

fn starts_with_key(body: &str, key: &str) -> bool {
    let unquoted = [key.to_string(), format!("'{key}'"), format!("\"{key}\"")];
    unquoted.iter().any(|k| {
        body.strip_prefix(k.as_str())
            .is_some_and(|rest| rest.trim_start().starts_with(':'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
# comment
packages:
  - package: dbt-labs/dbt_utils
    version: 1.3.0

  # another
  - git: https://example.com/x.git
    revision: v1
    - not an item: nested list
  - local: ../x
other: 1
";

    #[test]
    fn finds_each_item_and_keys_inside_it() {
        assert_eq!(entry_lines(TEXT), vec![3, 7, 10]);
        assert_eq!(key_line(TEXT, "revision", 7, Some(10)), Some(8));
        assert_eq!(key_line(TEXT, "revision", 3, Some(7)), None);
        assert_eq!(key_line(TEXT, "local", 10, None), Some(10));
        assert_eq!(top_level_key_line(TEXT, "other"), Some(11));
    }

    #[test]
    fn unindented_items_and_flow_lists() {
        assert_eq!(
            entry_lines("packages:\n- local: a\n- local: b\n"),
            vec![2, 3]
        );
        assert_eq!(entry_lines("packages: [{local: a}]\n"), Vec::<usize>::new());
    }
}
