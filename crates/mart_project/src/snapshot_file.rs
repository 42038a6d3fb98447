//! Snapshot definitions: `{% snapshot name %} ... {% endsnapshot %}` blocks in `.sql` files
//! under the snapshot paths, and dbt 1.9's YAML form (a `snapshots:` entry with
//! `relation:`).

use std::sync::Arc;

use mart_diagnostics::{Code, Diagnostic, SourceFile, Span};

use crate::properties::NodeProperties;
use crate::NodeFile;

/// The snapshot blocks of one file, each as a [`NodeFile`] whose text is the file's with
/// everything outside the block's body removed but its line breaks, so that render errors
/// keep the file's line numbers.
pub(crate) fn snapshot_blocks(
    file: &Arc<SourceFile>,
    fqn_prefix: &[String],
) -> Result<Vec<NodeFile>, Diagnostic> {
    let text = &*file.text;
    let mut blocks = Vec::new();
    let mut at = 0;
    while let Some((open_start, open_end, name)) = next_tag(text, at, "snapshot") {
        let Some((close_start, close_end, _)) = next_tag(text, open_end, "endsnapshot") else {
            return Err(Diagnostic::error(
                Code::ProjectFile,
                format!("snapshot '{name}' has no {{% endsnapshot %}}"),
            )
            .with_span(Span::new(file.clone(), open_start..open_end))
            .with_help("close the block with {% endsnapshot %}"));
        };
        let mut masked = blank(&text[..open_end]);
        masked.push_str(&text[open_end..close_start]);
        masked.push_str(&blank(&text[close_start..]));
        let mut fqn = fqn_prefix.to_vec();
        fqn.push(name.clone());
        blocks.push(NodeFile {
            name,
            file: Arc::new(SourceFile::new(file.path.clone(), masked)),
            fqn,
            version: None,
        });
        at = close_end;
    }
    Ok(blocks)
}

/// A YAML-defined snapshot as a node file: `select * from {{ <relation> }}` placed on the
/// line of its `relation:` key, so errors name that line.
pub(crate) fn yaml_snapshot(
    props: &NodeProperties,
    relation: &str,
    project: &str,
) -> Result<NodeFile, Diagnostic> {
    let relation = relation.trim();
    let looks_like_call = |f: &str| relation.starts_with(f) && relation.ends_with(')');
    if !(looks_like_call("ref(") || looks_like_call("source(")) {
        return Err(Diagnostic::error(
            Code::PropertyFile,
            format!("snapshot '{}': relation must be ref('...') or source('...', '...'), found '{relation}'", props.name),
        )
        .with_span(crate::yaml::entry_span(&props.file, &props.name))
        .with_help("write relation: ref('model') or relation: source('source', 'table')"));
    }
    let line = props
        .file
        .text
        .find(relation)
        .map_or(0, |i| props.file.text[..i].matches('\n').count());
    let text = format!("{}select * from {{{{ {relation} }}}}\n", "\n".repeat(line));
    let dir = props
        .file
        .path
        .parent()
        .map(|p| p.to_path_buf())
        .unwrap_or_default();
    let mut fqn = vec![project.to_string()];
    fqn.extend(
        dir.components()
            .skip(1)
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    fqn.push(props.name.clone());
    Ok(NodeFile {
        name: props.name.clone(),
        file: Arc::new(SourceFile::new(props.file.path.clone(), text)),
        fqn,
        version: None,
    })
}

/// Only the line breaks of `text`.
fn blank(text: &str) -> String {
    text.chars().filter(|c| *c == '\n').collect()
}

/// The next `{% keyword args %}` tag (with optional `-` trim marks) at or after `from`:
/// its byte range and its first argument.
fn next_tag(text: &str, from: usize, keyword: &str) -> Option<(usize, usize, String)> {
    let mut at = from;
    while let Some(i) = text[at..].find("{%") {
        let start = at + i;
        let len = text[start..].find("%}")?;
        let end = start + len + 2;
        let inner = text[start + 2..end - 2]
            .trim_start_matches('-')
            .trim_end_matches('-')
            .trim();
        let mut words = inner.split_whitespace();
        if words.next() == Some(keyword) {
            let name = words.next().unwrap_or_default().to_string();
            return Some((start, end, name));
        }
        at = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_keep_line_numbers() {
        let file = Arc::new(SourceFile::new(
            "snapshots/s.sql",
            "-- two\n{% snapshot a %}\nselect 1\n{% endsnapshot %}\n{%- snapshot b -%}select 2{% endsnapshot %}\n",
        ));
        let blocks = snapshot_blocks(&file, &["p".to_string()]).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].name, "a");
        assert_eq!(blocks[0].fqn, ["p", "a"]);
        assert_eq!(blocks[0].file.text.lines().nth(2), Some("select 1"));
        assert_eq!(blocks[0].file.text.as_ref(), "\n\nselect 1\n\n\n");
        assert_eq!(blocks[1].file.text.trim(), "select 2");
    }

    #[test]
    fn unclosed_block_is_an_error() {
        let file = Arc::new(SourceFile::new(
            "snapshots/s.sql",
            "{% snapshot a %}\nselect 1\n",
        ));
        let err = snapshot_blocks(&file, &[]).unwrap_err();
        assert_eq!(err.message, "snapshot 'a' has no {% endsnapshot %}");
        assert_eq!(err.span.unwrap().line_col().0, 1);
    }
}
