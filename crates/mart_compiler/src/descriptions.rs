//! Descriptions as the manifest and the docs keep them: rendered, with `doc()` giving the
//! docs blocks' text (dbt renders every description at parse time).

use std::sync::Arc;

use mart_diagnostics::{Diagnostic, SourceFile};
use mart_jinja::{DocLookup, JinjaEnv};
use mart_project::{ColumnProperties, NodeProperties, Project};

/// The docs blocks of the project and of its packages.
pub(crate) fn doc_lookup(project: &Project) -> Arc<DocLookup> {
    let blocks = std::iter::once(project)
        .chain(&project.packages)
        .flat_map(|p| &p.docs)
        .map(|b| (b.package.as_str(), b.name.as_str(), b.contents.as_str()));
    Arc::new(DocLookup::new(&project.config.name, blocks))
}

/// Renders the descriptions of one package's property entries.
pub(crate) struct Describer<'a> {
    pub env: &'a JinjaEnv,
    pub docs: &'a Arc<DocLookup>,
    pub package: &'a str,
}

impl Describer<'_> {
    pub fn text(&self, file: &Arc<SourceFile>, text: &str) -> Result<String, Diagnostic> {
        self.env
            .render_description(file, text, self.docs, self.package)
    }

    /// The columns with their descriptions rendered; shared as they are when none holds
    /// Jinja.
    pub fn columns(
        &self,
        file: &Arc<SourceFile>,
        columns: &Arc<[ColumnProperties]>,
    ) -> Result<Arc<[ColumnProperties]>, Diagnostic> {
        if !columns.iter().any(|c| has_jinja(&c.description)) {
            return Ok(columns.clone());
        }
        columns
            .iter()
            .map(|c| {
                Ok(ColumnProperties {
                    description: self.text(file, &c.description)?,
                    ..c.clone()
                })
            })
            .collect()
    }

    /// A node's description and columns from its property entry (none: empty).
    pub fn node(
        &self,
        properties: Option<&NodeProperties>,
    ) -> Result<(String, Arc<[ColumnProperties]>), Diagnostic> {
        match properties {
            Some(p) => Ok((
                self.text(&p.file, &p.description)?,
                self.columns(&p.file, &p.columns)?,
            )),
            None => Ok((String::new(), Arc::from([]))),
        }
    }
}

fn has_jinja(text: &str) -> bool {
    text.contains("{{") || text.contains("{%")
}

/// A warning for each node whose `docs.node_color` is neither a hex code nor a colour
/// name (dbt rejects those too); the docs site draws such a node in its default colour.
pub(crate) fn node_color_warnings(nodes: &[crate::Node]) -> Vec<Diagnostic> {
    nodes
        .iter()
        .filter_map(|node| {
            let color = mart_project::DocsConfig::of(&node.config.raw).node_color?;
            if mart_project::is_node_color(&color) {
                return None;
            }
            let d = Diagnostic::warning(
                mart_diagnostics::Code::Config,
                format!(
                    "'{}': docs.node_color '{color}' is not a hex code (#rrggbb) or a colour name; the docs site draws the node in its default colour",
                    node.name
                ),
            )
            .with_help("write a colour name (purple) or a hex code (#8a2be2)");
            let in_file = node.file.as_ref().and_then(|f| {
                let at = f.text.find("node_color")?;
                Some(mart_diagnostics::Span::new(f.clone(), at..at + "node_color".len()))
            });
            Some(match in_file {
                Some(span) => d.with_span(span),
                None => d.with_path(&node.original_file_path),
            })
        })
        .collect()
}
