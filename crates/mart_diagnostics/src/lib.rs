//! Spans into source files and the one `Diagnostic` type every stage reports with.
//!
//! Stages keep byte ranges; line and column are computed only when a diagnostic is
//! rendered, from the file text the diagnostic carries.

mod render;
pub mod shared_files;

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use render::{render_human, render_json_line};

/// A file as the user wrote it: its path relative to the project root and its text.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: Arc<str>,
}

impl SourceFile {
    pub fn new(path: impl Into<PathBuf>, text: impl Into<Arc<str>>) -> Self {
        Self {
            path: path.into(),
            text: text.into(),
        }
    }
}

/// A byte range inside a file.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Span {
    #[serde(with = "shared_files")]
    pub file: Arc<SourceFile>,
    pub range: Range<usize>,
}

impl Span {
    pub fn new(file: Arc<SourceFile>, range: Range<usize>) -> Self {
        Self { file, range }
    }

    /// The span of a whole 1-based line (used when a tool reports only a line).
    pub fn line(file: Arc<SourceFile>, line: usize) -> Self {
        let range = LineIndex::new(&file.text).line_range(line);
        Self { file, range }
    }

    /// 1-based line and column (in characters) of the span's start.
    pub fn line_col(&self) -> (usize, usize) {
        LineIndex::new(&self.file.text).line_col(&self.file.text, self.range.start)
    }
}

/// Byte offsets of line starts, for offset -> line:column and back.
pub struct LineIndex {
    starts: Vec<usize>,
    len: usize,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self {
            starts,
            len: text.len(),
        }
    }

    /// 1-based line and 1-based character column of a byte offset.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.len);
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        let col = text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line, col + 1)
    }

    /// Byte range of a 1-based line, without its newline; clamps to the last line.
    pub fn line_range(&self, line: usize) -> Range<usize> {
        let idx = line.clamp(1, self.starts.len()) - 1;
        let start = self.starts[idx];
        let end = self
            .starts
            .get(idx + 1)
            .map_or(self.len, |next| next.saturating_sub(1));
        start..end.max(start)
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Information about what a stage did not do (never an error, not a warning).
    Note,
    Warning,
    Error,
}

/// Stable diagnostic codes, grouped by stage: project 1xx, jinja 2xx, sql 3xx,
/// graph 4xx, database 5xx, command line 6xx.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Code {
    /// A project file could not be read.
    Io,
    /// project.yml / dbt_project.yml is missing or invalid.
    ProjectFile,
    /// profiles.yml, the profile or the target is missing or invalid.
    Profile,
    /// A property file (models:, sources:, seeds:) is invalid.
    PropertyFile,
    /// A config value has the wrong type or an unknown value.
    Config,
    /// Two nodes share a name.
    DuplicateNode,
    /// A docs block (`{% docs %}`) is malformed or its name is taken.
    DocsBlock,
    /// Jinja syntax error.
    TemplateSyntax,
    /// Jinja evaluation error (undefined names, failed macros, raise_compiler_error).
    TemplateRender,
    /// The compiled SQL does not parse.
    SqlSyntax,
    /// A column reference no relation in reach has.
    UnknownColumn,
    /// A qualifier (`x.col`) that names no relation of the FROM clause.
    UnknownQualifier,
    /// An unqualified column several relations of the FROM clause have.
    AmbiguousColumn,
    /// The SQL analysis could not read a node (a gap of the SQL parser).
    AnalysisSkipped,
    /// `static_analysis: strict`: a node the analysis could not prove valid.
    Unproven,
    /// A model's SQL gives other columns (or types) than its enforced contract declares.
    ContractMismatch,
    /// ref() to a model that does not exist.
    UnknownRef,
    /// source() to a source that does not exist.
    UnknownSource,
    /// ref() to a disabled model.
    DisabledRef,
    /// The graph has a cycle.
    Cycle,
    /// The selection syntax is invalid.
    Selector,
    /// doc() names a docs block that does not exist.
    UnknownDoc,
    /// A model past its `deprecation_date`, or a ref to one.
    Deprecated,
    /// ref() to a model whose `access` does not allow the caller (private, protected).
    RefAccess,
    /// The database rejected a statement.
    Database,
    /// The database could not be reached.
    Connection,
    /// Invalid command-line arguments or values (--vars, flags).
    Usage,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Io => "MART100",
            Code::ProjectFile => "MART101",
            Code::Profile => "MART102",
            Code::PropertyFile => "MART103",
            Code::Config => "MART104",
            Code::DuplicateNode => "MART105",
            Code::DocsBlock => "MART106",
            Code::TemplateSyntax => "MART201",
            Code::TemplateRender => "MART202",
            Code::SqlSyntax => "MART301",
            Code::UnknownColumn => "MART302",
            Code::UnknownQualifier => "MART303",
            Code::AmbiguousColumn => "MART304",
            Code::AnalysisSkipped => "MART305",
            Code::Unproven => "MART306",
            Code::ContractMismatch => "MART307",
            Code::UnknownRef => "MART401",
            Code::UnknownSource => "MART402",
            Code::DisabledRef => "MART403",
            Code::Cycle => "MART404",
            Code::Selector => "MART405",
            Code::UnknownDoc => "MART406",
            Code::Deprecated => "MART407",
            Code::RefAccess => "MART408",
            Code::Database => "MART501",
            Code::Connection => "MART502",
            Code::Usage => "MART601",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A secondary location with its own message ("first defined here").
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// One problem for the user: what is wrong, where, and what to do.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// Where the problem is; `None` when it has no place in a file.
    pub span: Option<Span>,
    /// A file the problem belongs to when no exact span is known.
    pub path: Option<PathBuf>,
    pub labels: Vec<Label>,
    pub notes: Vec<String>,
    pub help: Option<String>,
    /// The name dbt gives this warning's event (`NoNodesForSelectionCriteria`), which
    /// `--warn-error-options` names; none when dbt has no such warning.
    #[serde(default)]
    pub event: Option<String>,
}

impl Diagnostic {
    pub fn error(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            severity: Severity::Error,
            message: message.into(),
            span: None,
            path: None,
            labels: Vec::new(),
            notes: Vec::new(),
            help: None,
            event: None,
        }
    }

    /// Names dbt's event for this warning (see [`Diagnostic::event`]).
    pub fn with_event(mut self, event: &str) -> Self {
        self.event = Some(event.to_string());
        self
    }

    pub fn warning(code: Code, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(code, message)
        }
    }

    pub fn note(code: Code, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Note,
            ..Self::error(code, message)
        }
    }

    pub fn with_span(mut self, span: Span) -> Self {
        self.span = Some(span);
        self
    }

    pub fn with_path(mut self, path: impl AsRef<Path>) -> Self {
        self.path = Some(path.as_ref().to_path_buf());
        self
    }

    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The file this diagnostic points at, from its span or its path.
    pub fn file_path(&self) -> Option<&Path> {
        self.span
            .as_ref()
            .map(|s| s.file.path.as_path())
            .or(self.path.as_deref())
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&render_human(self, false))
    }
}

impl std::error::Error for Diagnostic {}

/// Several diagnostics reported together (a load collects all it finds).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// Ok(()) when no error was collected, else all of them (warnings included).
    pub fn into_result(self) -> Result<Vec<Diagnostic>, Diagnostics> {
        if self.has_errors() {
            Err(self)
        } else {
            Ok(self.0)
        }
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Self(vec![d])
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// The known name closest to `name`, if close enough to be a plausible typo.
pub fn closest_name<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

/// Levenshtein distance over characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let subst = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = subst.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_of_offsets() {
        let text = "ab\ncdé\n\nx";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_col(text, 0), (1, 1));
        assert_eq!(idx.line_col(text, 3), (2, 1));
        assert_eq!(idx.line_col(text, 7), (2, 4));
        assert_eq!(idx.line_col(text, 9), (4, 1));
        assert_eq!(idx.line_range(2), 3..7);
        assert_eq!(idx.line_range(3), 8..8);
        assert_eq!(idx.line_range(99), 9..10);
    }

    #[test]
    fn closest_name_suggests_typos_only() {
        let names = ["customers", "orders", "dim_user"];
        assert_eq!(closest_name("custmers", names), Some("customers"));
        assert_eq!(closest_name("dim_usr", names), Some("dim_user"));
        assert_eq!(closest_name("payments", names), None);
    }
}
