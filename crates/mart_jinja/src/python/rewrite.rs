//! List and dict literals in template source become calls of mart's constructors, whose
//! values are mutable like Python's (minijinja builds immutable values from literals).
//!
//! `[a, b]` becomes `__mart_list(a, b)` and `{k: v}` becomes `__mart_dict(k, v)`; Python's
//! printf formatting of a string literal, `'%s.%s' % (a, b)`, becomes the filter call
//! `'%s.%s'|__mart_percent((a, b))` (the closing parenthesis after the operand). One pass
//! over the text tokenizes only Jinja regions (`{{ }}`, `{% %}`); template data, comments,
//! raw blocks and string literals are copied unchanged. A second pass over the result
//! turns binary `+`, `-` and `*` into calls (see [`super::operators`]). No line break is
//! added or removed, so minijinja's line numbers stay those of the file; offsets within a
//! line move, and [`Rewritten::original_offset`] maps them back.

use std::borrow::Cow;

use super::operators::rewrite_operators;

/// The constructor a list literal becomes.
pub(crate) const LIST_FN: &str = "__mart_list";
/// The constructor a dict literal becomes.
pub(crate) const DICT_FN: &str = "__mart_dict";
/// The filter `'text' % args` becomes (minijinja has no `%` for strings).
pub(crate) const PERCENT_FILTER: &str = "__mart_percent";

/// A template's text with its literals rewritten.
#[derive(Debug)]
pub struct Rewritten<'a> {
    pub text: Cow<'a, str>,
    /// (offset in the original text, bytes inserted there), in order.
    inserts: Vec<(usize, usize)>,
    /// The same for the operator rewrite, offsets in the literal rewrite's output.
    operator_inserts: Vec<(usize, usize)>,
}

impl Rewritten<'_> {
    /// The offset in the original text of `offset` in the rewritten one (an offset inside
    /// inserted text maps to where it was inserted).
    pub fn original_offset(&self, offset: usize) -> usize {
        before_inserts(
            &self.inserts,
            before_inserts(&self.operator_inserts, offset),
        )
    }
}

/// The offset before `inserts` were made of `offset` after them.
fn before_inserts(inserts: &[(usize, usize)], offset: usize) -> usize {
    let mut shift = 0;
    for &(at, len) in inserts {
        if offset < at + shift {
            break;
        }
        if offset < at + shift + len {
            return at;
        }
        shift += len;
    }
    offset - shift
}

/// What an open bracket in a region is.
#[derive(Clone, Copy, PartialEq)]
enum Open {
    Paren,
    Subscript,
    List,
    Dict,
}

/// Which region the tokenizer is in, and so which delimiter ends it.
#[derive(Clone, Copy, PartialEq)]
enum Region {
    Variable,
    Block,
}

/// Keywords after which an operand (and so a literal) follows.
const OPERAND_KEYWORDS: [&str; 10] = [
    "in", "and", "or", "not", "if", "else", "elif", "is", "do", "return",
];

/// Rewrites every list and dict literal of `source` (see the module doc).
pub fn rewrite_literals(source: &str) -> Rewritten<'_> {
    let mut writer = Writer {
        source,
        out: String::new(),
        copied: 0,
        inserts: Vec::new(),
    };
    let bytes = source.as_bytes();
    let mut at = 0;
    while let Some(found) = find_region_start(bytes, at) {
        let (start, kind) = found;
        match kind {
            b'#' => {
                at = find(bytes, start + 2, b"#}").map_or(bytes.len(), |i| i + 2);
            }
            b'%' if is_raw_tag(bytes, start) => {
                at = end_of_raw_block(bytes, start);
            }
            _ => {
                let region = if kind == b'{' {
                    Region::Variable
                } else {
                    Region::Block
                };
                let mut inner = start + 2;
                if matches!(bytes.get(inner), Some(b'-' | b'+')) {
                    inner += 1;
                }
                at = tokenize_region(&mut writer, inner, region);
            }
        }
    }
    writer.finish()
}

struct Writer<'a> {
    source: &'a str,
    out: String,
    copied: usize,
    inserts: Vec<(usize, usize)>,
}

impl<'a> Writer<'a> {
    /// Replaces the one-byte token at `at` with `with`.
    fn replace(&mut self, at: usize, with: &str) {
        self.out.push_str(&self.source[self.copied..at]);
        self.out.push_str(with);
        self.copied = at + 1;
        if with.len() > 1 {
            self.inserts.push((at, with.len() - 1));
        }
    }

    /// Inserts `text` before the byte at `at`.
    fn insert(&mut self, at: usize, text: &str) {
        self.out.push_str(&self.source[self.copied..at]);
        self.out.push_str(text);
        self.copied = at;
        self.inserts.push((at, text.len()));
    }

    /// The result, with the operators of the literal rewrite's output rewritten too.
    fn finish(mut self) -> Rewritten<'a> {
        let text = if self.copied == 0 && self.inserts.is_empty() {
            Cow::Borrowed(self.source)
        } else {
            self.out.push_str(&self.source[self.copied..]);
            Cow::Owned(self.out)
        };
        match rewrite_operators(&text) {
            Some((text, operator_inserts)) => Rewritten {
                text: Cow::Owned(text),
                inserts: self.inserts,
                operator_inserts,
            },
            None => Rewritten {
                text,
                inserts: self.inserts,
                operator_inserts: Vec::new(),
            },
        }
    }
}

/// The next `{{`, `{%` or `{#` at or after `from`: its offset and second byte.
pub(super) fn find_region_start(bytes: &[u8], from: usize) -> Option<(usize, u8)> {
    let mut at = from;
    while let Some(i) = bytes
        .get(at..)?
        .iter()
        .position(|&b| b == b'{')
        .map(|i| at + i)
    {
        match bytes.get(i + 1) {
            Some(&kind @ (b'{' | b'%' | b'#')) => return Some((i, kind)),
            _ => at = i + 1,
        }
    }
    None
}

/// The offset of the two-byte `needle` at or after `from`.
pub(super) fn find(bytes: &[u8], from: usize, needle: &[u8; 2]) -> Option<usize> {
    let mut at = from;
    loop {
        let i = at + bytes.get(at..)?.iter().position(|&b| b == needle[0])?;
        if bytes.get(i + 1) == Some(&needle[1]) {
            return Some(i);
        }
        at = i + 1;
    }
}

/// The keyword of the block tag starting at `start` (`{%`), whitespace control skipped.
fn tag_keyword(bytes: &[u8], start: usize) -> &[u8] {
    let mut at = start + 2;
    if matches!(bytes.get(at), Some(b'-' | b'+')) {
        at += 1;
    }
    while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    let end = bytes[at..]
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
        .map_or(bytes.len(), |i| at + i);
    &bytes[at..end]
}

pub(super) fn is_raw_tag(bytes: &[u8], start: usize) -> bool {
    tag_keyword(bytes, start) == b"raw"
}

/// The offset after the `{% endraw %}` closing the raw block at `start`, or the end.
pub(super) fn end_of_raw_block(bytes: &[u8], start: usize) -> usize {
    let mut at = start + 2;
    while let Some(i) = find(bytes, at, b"{%") {
        if tag_keyword(bytes, i) == b"endraw" {
            return find(bytes, i, b"%}").map_or(bytes.len(), |e| e + 2);
        }
        at = i + 2;
    }
    bytes.len()
}

/// Tokenizes one region from `at` (after its opening delimiter) to its closing delimiter,
/// rewriting literals; returns the offset after the region.
fn tokenize_region(writer: &mut Writer<'_>, mut at: usize, region: Region) -> usize {
    let bytes = writer.source.as_bytes();
    let close: &[u8] = match region {
        Region::Variable => b"}}",
        Region::Block => b"%}",
    };
    let mut stack: Vec<Open> = Vec::new();
    // Whether the next token is an operand (a literal) rather than an operator.
    let mut expect_operand = true;
    // Whether the last token was a string literal (the left side of a `%` to rewrite).
    let mut after_string = false;
    // The bracket depth of each rewritten `%` whose right operand is still open.
    let mut percents: Vec<usize> = Vec::new();
    let close_percents =
        |writer: &mut Writer<'_>, percents: &mut Vec<usize>, depth: usize, at: usize| {
            while percents.last().is_some_and(|d| *d >= depth) {
                percents.pop();
                writer.insert(at, ")");
            }
        };
    while at < bytes.len() {
        let b = bytes[at];
        if stack.is_empty() {
            let delimiter_at = if matches!(b, b'-' | b'+') { at + 1 } else { at };
            if bytes[delimiter_at..].starts_with(close) {
                close_percents(writer, &mut percents, 0, at);
                return delimiter_at + 2;
            }
        }
        if b.is_ascii_whitespace() {
            at += 1;
            continue;
        }
        let string_before = std::mem::replace(&mut after_string, false);
        match b {
            b'\'' | b'"' => {
                at = end_of_string(bytes, at);
                expect_operand = false;
                after_string = true;
            }
            b if b.is_ascii_alphabetic() || b == b'_' => {
                let end = bytes[at..]
                    .iter()
                    .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
                    .map_or(bytes.len(), |i| at + i);
                let word = &writer.source[at..end];
                let keyword = OPERAND_KEYWORDS.contains(&word);
                if keyword && !expect_operand {
                    close_percents(writer, &mut percents, stack.len(), at);
                }
                expect_operand = keyword;
                at = end;
            }
            b if b.is_ascii_digit() => {
                while at < bytes.len() && (bytes[at].is_ascii_alphanumeric() || bytes[at] == b'.') {
                    at += 1;
                }
                expect_operand = false;
            }
            b'(' => {
                stack.push(Open::Paren);
                expect_operand = true;
                at += 1;
            }
            b'[' => {
                if expect_operand {
                    stack.push(Open::List);
                    writer.replace(at, &format!("{LIST_FN}("));
                } else {
                    stack.push(Open::Subscript);
                }
                expect_operand = true;
                at += 1;
            }
            b'{' => {
                stack.push(Open::Dict);
                writer.replace(at, &format!("{DICT_FN}("));
                expect_operand = true;
                at += 1;
            }
            b')' | b']' | b'}' => {
                close_percents(writer, &mut percents, stack.len(), at);
                match stack.pop() {
                    Some(Open::List | Open::Dict) => writer.replace(at, ")"),
                    // Unbalanced: left for minijinja to report.
                    Some(Open::Paren | Open::Subscript) | None => {}
                }
                expect_operand = false;
                at += 1;
            }
            b':' => {
                close_percents(writer, &mut percents, stack.len(), at);
                if stack.last() == Some(&Open::Dict) {
                    writer.replace(at, ",");
                }
                expect_operand = true;
                at += 1;
            }
            // Attribute access and filters continue an operand.
            b'.' | b'|' => {
                expect_operand = true;
                at += 1;
            }
            _ => {
                // Operators and punctuation: the operand before them is complete.
                if !expect_operand {
                    close_percents(writer, &mut percents, stack.len(), at);
                }
                if b == b'%' && string_before {
                    writer.replace(at, &format!("|{PERCENT_FILTER}("));
                    percents.push(stack.len());
                }
                expect_operand = true;
                at += 1;
            }
        }
    }
    bytes.len()
}

/// The offset after the string literal starting at `start` (its quote), escapes skipped.
fn end_of_string(bytes: &[u8], start: usize) -> usize {
    let quote = bytes[start];
    let mut at = start + 1;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            b if b == quote => return at + 1,
            _ => at += 1,
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rw(source: &str) -> String {
        rewrite_literals(source).text.into_owned()
    }

    #[test]
    fn literals_in_regions_become_constructor_calls() {
        assert_eq!(rw("{% set xs = [] %}"), "{% set xs = __mart_list() %}");
        assert_eq!(
            rw("{{ {'a': [1, {'b': 2}]} }}"),
            "{{ __mart_dict('a', __mart_list(1, __mart_dict('b', 2))) }}"
        );
        assert_eq!(
            rw("{%- for x in [1,2] -%}{{ x }}{%- endfor %}"),
            "{%- for x in __mart_list(1,2) -%}{{ x }}{%- endfor %}"
        );
        assert_eq!(
            rw("{{ f(a=[1], b={}) if x else [2] }}"),
            "{{ f(a=__mart_list(1), b=__mart_dict()) if x else __mart_list(2) }}"
        );
        assert_eq!(
            rw("{{ x in [1] and not [] }}"),
            "{{ x in __mart_list(1) and not __mart_list() }}"
        );
        assert_eq!(rw("{{ [1][0] }}"), "{{ __mart_list(1)[0] }}");
    }

    #[test]
    fn subscripts_and_slices_are_untouched() {
        for source in [
            "{{ xs[0] }}",
            "{{ d['k'] }}",
            "{{ foo()[1] }}",
            "{{ x.y[2:] }}",
            "{{ xs[-1] }}",
            "{{ 'ab'[1] }}",
        ] {
            assert_eq!(rw(source), source);
        }
        // A slice's colon inside a dict literal is the slice's.
        assert_eq!(
            rw("{{ {'a': xs[1:2]} }}"),
            "{{ __mart_dict('a', xs[1:2]) }}"
        );
    }

    #[test]
    fn data_comments_raw_blocks_and_strings_are_untouched() {
        for source in [
            "select [1] from {x}",
            "{# {% set xs = [1] %} #}",
            "{% raw %}{{ [1] }}{% endraw %}",
            "{%- raw -%}{{ {'a': 1} }}{%- endraw -%}",
            "{{ '[1]' ~ \"{'a': 2}\" ~ 'it\\'s [3]' }}",
        ] {
            assert_eq!(rw(source), source);
        }
        assert_eq!(
            rw("{% raw %}[1]{% endraw %}{{ [2] }}"),
            "{% raw %}[1]{% endraw %}{{ __mart_list(2) }}"
        );
    }

    #[test]
    fn whitespace_control_and_region_ends() {
        assert_eq!(rw("{{- [1] -}}[2]"), "{{- __mart_list(1) -}}[2]");
        assert_eq!(
            rw("{%+ set d = {} +%}{x}"),
            "{%+ set d = __mart_dict() +%}{x}"
        );
        // `}}` inside a dict literal does not end the region.
        assert_eq!(rw("{{ {'a': {}}}}"), "{{ __mart_dict('a', __mart_dict())}}");
    }

    #[test]
    fn percent_formatting_of_a_string_literal_becomes_a_filter() {
        assert_eq!(rw("{{ '%s' % x }}"), "{{ '%s' |__mart_percent( x )}}");
        assert_eq!(
            rw("{{ '%s.%s' % (a, b) ~ 'c' }}"),
            "{{ '%s.%s' |__mart_percent( (a, b) )~ 'c' }}"
        );
        assert_eq!(
            rw("{% set y = f('%d' % x.y|int, 2) %}"),
            "{% set y = f('%d' |__mart_percent( x.y|int), 2) %}"
        );
        assert_eq!(
            rw("{{ '%s' % -x if c else 'n' }}"),
            "{{ '%s' |__mart_percent( -x )if c else 'n' }}"
        );
        assert_eq!(
            rw("{{ '%s' % [1] -}}"),
            "{{ '%s' |__mart_percent( __mart_list(1) )-}}"
        );
        // Not after a string literal: minijinja's modulo.
        assert_eq!(
            rw("{{ 7 % 2 }}{% if x % 2 %}{% endif %}"),
            "{{ 7 % 2 }}{% if x % 2 %}{% endif %}"
        );
    }

    #[test]
    fn line_breaks_are_kept_and_offsets_map_back() {
        let source = "{% set xs = [\n1,\n{'a':\n2}] %}\n{{ xs[0] }}";
        let out = rewrite_literals(source);
        assert_eq!(out.text.matches('\n').count(), source.matches('\n').count());
        let in_out = out.text.find("xs[0]").unwrap_or_default();
        assert_eq!(
            out.original_offset(in_out),
            source.find("xs[0]").unwrap_or_default()
        );
        assert_eq!(out.original_offset(3), 3);
        // Inside an inserted name: where it was inserted.
        let list_at = source.find('[').unwrap_or_default();
        assert_eq!(out.original_offset(list_at + 4), list_at);
        assert!(matches!(rewrite_literals("{{ x }}").text, Cow::Borrowed(_)));
    }
}
