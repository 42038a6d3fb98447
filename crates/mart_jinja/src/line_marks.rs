//! Tracing rendered SQL back to template lines. A template is rendered a second time
//! with a mark at the start of each line that begins in plain text; the marks that
//! precede a place of the output say which template line wrote it. Only whitespace
//! stripping (`{%-`) can differ between the two renders, so places are matched by their
//! count of non-blank characters.

const OPEN: char = '\u{E000}';
const CLOSE: char = '\u{E001}';

/// Blocks whose output is captured or transformed, not written: marks there would
/// change what the template computes.
const CAPTURING: [&str; 7] = [
    "macro",
    "call",
    "filter",
    "materialization",
    "test",
    "docs",
    "raw",
];

/// `text` with a mark before each line that starts outside any tag, comment, raw block
/// or capturing block.
pub fn mark_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut capturing: Vec<String> = Vec::new();
    let mut rest = text;
    let mut line = 1;
    let mut at_line_start = true;
    while !rest.is_empty() {
        if at_line_start && capturing.is_empty() {
            out.push(OPEN);
            out.push_str(&line.to_string());
            out.push(CLOSE);
        }
        at_line_start = false;
        let tag = ["{{", "{%", "{#"].iter().find(|t| rest.starts_with(**t));
        if let Some(open) = tag {
            let close = match *open {
                "{{" => "}}",
                "{%" => "%}",
                _ => "#}",
            };
            let end = rest[2..]
                .find(close)
                .map_or(rest.len(), |i| i + 2 + close.len());
            let (whole, after) = rest.split_at(end);
            if *open == "{%" {
                track_block(whole, &mut capturing);
            }
            line += whole.matches('\n').count();
            out.push_str(whole);
            rest = after;
            continue;
        }
        let next = rest.find(['\n', '{']).map_or(rest.len(), |i| i + 1);
        let (chunk, after) = rest.split_at(next);
        if chunk.ends_with('\n') {
            line += 1;
            at_line_start = true;
        }
        out.push_str(chunk);
        rest = after;
    }
    out
}

/// Opens or closes a capturing block for a `{% ... %}` tag.
fn track_block(tag: &str, capturing: &mut Vec<String>) {
    let inner = tag
        .trim_start_matches("{%")
        .trim_end_matches("%}")
        .trim_matches(|c: char| c == '-' || c == '+' || c.is_whitespace());
    let mut words = inner.split_whitespace();
    let Some(word) = words.next() else {
        return;
    };
    if let Some(ended) = word.strip_prefix("end") {
        if capturing.last().is_some_and(|open| open == ended) {
            capturing.pop();
        }
        return;
    }
    let block_set = word == "set" && !inner.contains('=');
    if capturing.last().is_some_and(|open| open == "raw") {
        return;
    }
    if block_set || CAPTURING.contains(&word) {
        capturing.push(word.to_string());
    }
}

/// The template line (1-based) that wrote the character at byte `offset` of `rendered`,
/// and the text that line wrote before it (see [`column_in_line`]); `None` when the
/// marked render does not match the plain one.
pub fn source_point(
    rendered: &str,
    marked: &str,
    offset: usize,
) -> Option<(usize, Option<String>)> {
    let plain: String = marked_text(marked)
        .filter(|(c, _)| !c.is_whitespace())
        .map(|(c, _)| c)
        .collect();
    let original: String = rendered.chars().filter(|c| !c.is_whitespace()).collect();
    if plain != original {
        return None;
    }
    let wanted = rendered
        .get(..offset.min(rendered.len()))?
        .chars()
        .filter(|c| !c.is_whitespace())
        .count();
    let mut seen = 0;
    let mut last = None;
    for (c, mark) in marked_text(marked) {
        if c.is_whitespace() {
            continue;
        }
        if seen == wanted {
            return Some(mark.map_or((1, None), |(line, since)| (line, Some(since))));
        }
        seen += 1;
        last = mark;
    }
    // The offset is past the last character (the end of the input).
    Some(last.map_or((1, None), |(line, _)| (line, None)))
}

/// The characters of a marked render without the marks, each with the line of the last
/// mark before it and the text written since that mark.
fn marked_text(marked: &str) -> impl Iterator<Item = (char, Option<(usize, String)>)> + '_ {
    let mut chars = marked.chars();
    let mut mark: Option<(usize, String)> = None;
    std::iter::from_fn(move || loop {
        let c = chars.next()?;
        if c == OPEN {
            let digits: String = chars.by_ref().take_while(|c| *c != CLOSE).collect();
            mark = digits.parse().ok().map(|line| (line, String::new()));
            continue;
        }
        let here = mark.clone();
        if let Some((_, since)) = &mut mark {
            since.push(c);
        }
        return Some((c, here));
    })
}

/// The 1-based column of `written` (the text a line wrote before a place) in the
/// template `line`, when the line begins with exactly that text.
pub fn column_in_line(line: &str, written: &str) -> Option<usize> {
    line.starts_with(written)
        .then(|| written.chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marks(text: &str) -> String {
        mark_lines(text).replace(OPEN, "<").replace(CLOSE, ">")
    }

    #[test]
    fn lines_in_text_are_marked_and_tags_are_not() {
        assert_eq!(
            marks("select a,\n  {{ x }} as b\nfrom t"),
            "<1>select a,\n<2>  {{ x }} as b\n<3>from t"
        );
        assert_eq!(
            marks("{#\ncomment\n#}\nselect 1"),
            "<1>{#\ncomment\n#}\n<4>select 1"
        );
        assert_eq!(
            marks("{% set x %}\na\n{% endset %}\nb\n{% raw %}\n{{ y }}\n{% endraw %}\nc"),
            "<1>{% set x %}\na\n{% endset %}\n<4>b\n<5>{% raw %}\n{{ y }}\n{% endraw %}\n<8>c"
        );
        assert_eq!(marks("{% set x = 1 %}\na"), "<1>{% set x = 1 %}\n<2>a");
    }

    #[test]
    fn places_map_to_the_line_that_wrote_them() {
        let marked =
            "\u{E000}1\u{E001}select a,\n\u{E000}2\u{E001}  x as b\n\u{E000}3\u{E001}  y\n";
        let rendered = "select a,\n  x as b\n  y\n";
        let at = |needle: &str| rendered.find(needle).unwrap();
        let written = |s: &str| Some(s.to_string());
        assert_eq!(
            source_point(rendered, marked, at("x")),
            Some((2, written("  ")))
        );
        assert_eq!(
            source_point(rendered, marked, at("y")),
            Some((3, written("  ")))
        );
        assert_eq!(
            source_point(rendered, marked, rendered.len()),
            Some((3, None))
        );
        assert_eq!(source_point("other", marked, 0), None);
    }

    #[test]
    fn columns_only_where_the_line_wrote_its_own_text() {
        assert_eq!(column_in_line("  nmae,", "  "), Some(3));
        assert_eq!(column_in_line("  {{ f() }} nmae", "  expanded "), None);
    }
}
