//! Docs blocks: `{% docs name %}...{% enddocs %}` in the `.md` files of the docs paths,
//! which descriptions pull in with `{{ doc('name') }}`.

use std::sync::Arc;

use mart_diagnostics::{Code, Diagnostic, Diagnostics, SourceFile, Span};

/// One docs block, as dbt's manifest keeps it (`doc.<package>.<name>`).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct DocBlock {
    pub package: String,
    pub name: String,
    /// The block's text between its tags, trimmed as dbt trims it.
    pub contents: String,
    /// dbt's `path`: relative to the docs path the file was found in.
    pub path: String,
    /// Relative to the package's folder, forward slashes.
    pub original_file_path: String,
    /// The `.md` file (its path relative to the project root).
    #[serde(with = "mart_diagnostics::shared_files")]
    pub file: Arc<SourceFile>,
    /// Where the opening tag sits in the file.
    pub start: usize,
}

impl DocBlock {
    pub fn unique_id(&self) -> String {
        format!("doc.{}.{}", self.package, self.name)
    }

    pub fn span(&self) -> Span {
        Span::new(self.file.clone(), self.start..self.start)
    }
}

/// A `{% ... %}` tag: its words and where it starts and ends.
struct Tag<'a> {
    words: Vec<&'a str>,
    start: usize,
    end: usize,
}

/// The next tag at or after `from`, or None when there is none (or it is not closed).
fn next_tag(text: &str, from: usize) -> Option<Tag<'_>> {
    let start = from + text.get(from..)?.find("{%")?;
    let inner_start = start + 2;
    let end = inner_start + text[inner_start..].find("%}")? + 2;
    let inner = text[inner_start..end - 2]
        .trim_start_matches('-')
        .trim_end_matches('-');
    Some(Tag {
        words: inner.split_whitespace().collect(),
        start,
        end,
    })
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The docs blocks of one `.md` file; `path` is dbt's path for them (relative to the docs
/// path). Text outside blocks is ignored, as dbt does.
pub(crate) fn docs_blocks(
    package: &str,
    (path, original_file_path): (&str, &str),
    file: &Arc<SourceFile>,
) -> Result<Vec<DocBlock>, Diagnostic> {
    let text = &file.text;
    let at = |start: usize, end: usize| Span::new(file.clone(), start..end);
    let mut blocks = Vec::new();
    let mut from = 0;
    while let Some(tag) = next_tag(text, from) {
        from = tag.end;
        match tag.words.as_slice() {
            ["docs", name] if is_identifier(name) => {
                let mut close = next_tag(text, tag.end);
                while let Some(c) = &close {
                    if c.words.first() == Some(&"enddocs") {
                        break;
                    }
                    close = next_tag(text, c.end);
                }
                let Some(close) = close else {
                    return Err(Diagnostic::error(
                        Code::DocsBlock,
                        format!("docs block '{name}' is not closed"),
                    )
                    .with_span(at(tag.start, tag.end))
                    .with_help("end the block with {% enddocs %}"));
                };
                blocks.push(DocBlock {
                    package: package.to_string(),
                    name: (*name).to_string(),
                    contents: text[tag.end..close.start].trim().to_string(),
                    path: path.to_string(),
                    original_file_path: original_file_path.to_string(),
                    file: file.clone(),
                    start: tag.start,
                });
                from = close.end;
            }
            ["docs", ..] => {
                return Err(Diagnostic::error(
                    Code::DocsBlock,
                    "a docs block needs one name: {% docs name %}",
                )
                .with_span(at(tag.start, tag.end))
                .with_help("name the block with letters, digits and underscores"));
            }
            ["enddocs", ..] => {
                return Err(Diagnostic::error(
                    Code::DocsBlock,
                    "{% enddocs %} without a {% docs %} block",
                )
                .with_span(at(tag.start, tag.end))
                .with_help("remove it or open the block with {% docs name %}"));
            }
            _ => {}
        }
    }
    Ok(blocks)
}

/// Two blocks of one package with one name are an error naming both files, as in dbt.
pub(crate) fn check_unique_docs(blocks: &[DocBlock], errors: &mut Diagnostics) {
    let mut seen: std::collections::HashMap<(&str, &str), &DocBlock> =
        std::collections::HashMap::new();
    for block in blocks {
        if let Some(first) = seen.insert((&block.package, &block.name), block) {
            errors.push(
                Diagnostic::error(
                    Code::DocsBlock,
                    format!(
                        "two docs blocks are named '{}': {} and {}",
                        block.name,
                        first.file.path.display(),
                        block.file.path.display()
                    ),
                )
                .with_span(block.span())
                .with_label(first.span(), "first defined here")
                .with_help("rename or remove one of the blocks: doc() needs names to be unique"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> Arc<SourceFile> {
        Arc::new(SourceFile::new("models/docs.md", text))
    }

    #[test]
    fn reads_blocks_and_trims_their_contents() {
        let f = file(
            "intro\n{% docs orders %}\n# Orders\n\n| a | b |\n{% enddocs %}\n{%- docs __overview__ -%} Hi {%- enddocs -%}\n",
        );
        let blocks = docs_blocks("shop", ("docs.md", "models/docs.md"), &f).unwrap();
        let got: Vec<(&str, &str)> = blocks
            .iter()
            .map(|b| (b.name.as_str(), b.contents.as_str()))
            .collect();
        assert_eq!(
            got,
            [("orders", "# Orders\n\n| a | b |"), ("__overview__", "Hi")]
        );
        assert_eq!(blocks[0].unique_id(), "doc.shop.orders");
        assert_eq!(blocks[0].span().line_col(), (2, 1));
    }

    #[test]
    fn other_tags_inside_a_block_are_its_text() {
        let f = file("{% docs a %}x {% raw %}y{% endraw %}{% enddocs %}");
        let blocks = docs_blocks("p", ("docs.md", "models/docs.md"), &f).unwrap();
        assert_eq!(blocks[0].contents, "x {% raw %}y{% endraw %}");
    }

    #[test]
    fn malformed_blocks_are_errors_at_their_line() {
        for (text, message, line) in [
            ("\n{% docs a %}\ntext", "docs block 'a' is not closed", 2),
            (
                "{% docs %}x{% enddocs %}",
                "a docs block needs one name: {% docs name %}",
                1,
            ),
            (
                "x\n\n{% enddocs %}",
                "{% enddocs %} without a {% docs %} block",
                3,
            ),
        ] {
            let err = docs_blocks("p", ("docs.md", "models/docs.md"), &file(text)).unwrap_err();
            assert_eq!(err.message, message);
            assert_eq!(err.span.unwrap().line_col().0, line);
        }
    }

    #[test]
    fn a_name_defined_twice_names_both_files() {
        let a = docs_blocks(
            "p",
            ("a.md", "models/docs.md"),
            &file("{% docs x %}1{% enddocs %}"),
        )
        .unwrap();
        let other = Arc::new(SourceFile::new("docs/b.md", "{% docs x %}2{% enddocs %}"));
        let b = docs_blocks("p", ("b.md", "docs/b.md"), &other).unwrap();
        let mut errors = Diagnostics::default();
        check_unique_docs(&[a, b].concat(), &mut errors);
        let messages: Vec<String> = errors.iter().map(|d| d.message.clone()).collect();
        assert_eq!(
            messages,
            ["two docs blocks are named 'x': models/docs.md and docs/b.md"]
        );
    }
}
