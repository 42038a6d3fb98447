//! Diagnostics for what the analysis of one node found, placed in the node's source file.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use mart_diagnostics::{Code, Diagnostic, LineIndex, SourceFile, Span};
use mart_project::StaticAnalysis;
use mart_sql::{ProblemKind, SqlError};

use super::shapes::{NodeAnalysis, Outcome};
use super::{AnalysisDatabase, Judgement};
use crate::{Compiler, Node};

pub(super) fn diagnostics(
    compiler: &Compiler<'_>,
    node: &Node,
    analysed: &NodeAnalysis,
    mode: StaticAnalysis,
    database: Option<&dyn AnalysisDatabase>,
) -> Vec<Diagnostic> {
    let strict = mode == StaticAnalysis::Strict;
    match &analysed.outcome {
        Outcome::NotAnalysed => Vec::new(),
        Outcome::Analysed { sql, analysis } => {
            let mut found: Vec<Diagnostic> = analysis
                .problems
                .iter()
                .map(|p| {
                    let code = match p.kind {
                        ProblemKind::UnknownColumn => Code::UnknownColumn,
                        ProblemKind::UnknownQualifier => Code::UnknownQualifier,
                        ProblemKind::AmbiguousColumn => Code::AmbiguousColumn,
                        ProblemKind::ReservedWord => Code::SqlSyntax,
                    };
                    let d = placed(
                        compiler,
                        node,
                        sql,
                        p.range.clone(),
                        Diagnostic::error(code, format!("{}: {}", node.name, p.message)),
                    );
                    match &p.help {
                        Some(help) => d.with_help(help),
                        None => d,
                    }
                })
                .collect();
            found.extend(super::contracts::mismatch(node, analysis));
            if strict && found.is_empty() && analysis.unchecked > 0 {
                found.push(
                    Diagnostic::error(
                        Code::Unproven,
                        format!(
                            "{}: {} column reference(s) read relations whose columns are not known, so static_analysis: strict cannot prove them",
                            node.name, analysis.unchecked
                        ),
                    )
                    .with_path(&node.original_file_path)
                    .with_help("declare the columns of the sources it reads (or enforce a contract upstream), or set static_analysis: baseline for it"),
                );
            }
            found
        }
        Outcome::Unparsed { sql, error } => match error {
            SqlError::Parse(e) if e.sure => vec![placed(
                compiler,
                node,
                sql,
                e.offset..e.offset,
                Diagnostic::error(
                    Code::SqlSyntax,
                    format!("{}: syntax error: {}", node.name, e.message),
                ),
            )
            .with_help("fix the SQL at this place; it would fail when PostgreSQL runs it")],
            SqlError::Parse(e) => match database.map_or(Judgement::Unavailable, |d| d.judge(sql)) {
                Judgement::Rejected { message, offset } => vec![placed(
                    compiler,
                    node,
                    sql,
                    offset.unwrap_or(e.offset)..offset.unwrap_or(e.offset),
                    Diagnostic::error(Code::SqlSyntax, format!("{}: {message}", node.name)),
                )
                .with_note(format!(
                    "PostgreSQL's parser rejects it; mart's reads: {}",
                    e.message
                ))],
                judgement => {
                    let why = match judgement {
                        Judgement::Accepted => "PostgreSQL accepts it",
                        _ => "no database was reachable to ask PostgreSQL",
                    };
                    vec![skipped(
                        node,
                        strict,
                        format!(
                            "{}: static analysis skipped: the SQL parser does not read this statement ({}; {why})",
                            node.name, e.message
                        ),
                    )]
                }
            },
            SqlError::NotAQuery => {
                let what = if sql.trim().is_empty() {
                    "the SQL is empty"
                } else {
                    "the SQL is not a single query"
                };
                vec![skipped(
                    node,
                    strict,
                    format!("{}: static analysis skipped: {what}", node.name),
                )]
            }
        },
    }
}

fn skipped(node: &Node, strict: bool, message: String) -> Diagnostic {
    let d = if strict {
        Diagnostic::error(Code::Unproven, message).with_help(
            "static_analysis: strict needs every node analysed; set baseline or off for this one",
        )
    } else {
        Diagnostic::note(Code::AnalysisSkipped, message)
    };
    d.with_path(&node.original_file_path)
}

/// `d` at the place of `range` of the node's rendered `sql`: in the node's source file
/// at the line that wrote it (the render traced back), else in the rendered SQL; the
/// compiled place as a note either way.
fn placed(
    compiler: &Compiler<'_>,
    node: &Node,
    sql: &Arc<str>,
    range: Range<usize>,
    d: Diagnostic,
) -> Diagnostic {
    let compiled_path = compiler
        .manifest
        .compiled_path(&node.id)
        .map(|p| {
            p.strip_prefix(&compiler.manifest.root)
                .map(PathBuf::from)
                .unwrap_or(p)
        })
        .unwrap_or_else(|| PathBuf::from(&node.original_file_path));
    let (line, column) = LineIndex::new(sql).line_col(sql, range.start);
    let note = format!(
        "in the compiled SQL: {}:{line}:{column}",
        compiled_path.display()
    );
    let span = source_span(compiler, node, sql, &range).unwrap_or_else(|| {
        let rendered = Arc::new(SourceFile::new(compiled_path, sql.clone()));
        Span::new(rendered, range)
    });
    d.with_span(span).with_note(note)
}

/// The span in the node's own file of `range` of its rendered SQL: the reference itself
/// where the template line wrote it as plain text, else the whole line. Generic tests
/// render a macro, not their property file, and are not traced.
fn source_span(
    compiler: &Compiler<'_>,
    node: &Node,
    sql: &str,
    range: &Range<usize>,
) -> Option<Span> {
    if node.test.as_ref().is_some_and(|t| t.template.is_some()) {
        return None;
    }
    let file = node.file.as_ref()?;
    // Without a database: the template's run_query() statements ran in its compile, and
    // must not run again (a template whose render needs them is not traced).
    let compiler = Compiler::new(compiler.manifest, compiler.env, None);
    let scope = Arc::new(compiler.scope(Some(node), false));
    let marked = compiler.env.render_marked(file, &scope).ok()?;
    let (line, written) = mart_jinja::line_marks::source_point(sql, &marked, range.start)?;
    let lines = LineIndex::new(&file.text);
    let line_range = lines.line_range(line);
    let text = file.text.get(line_range.clone())?;
    let start = written
        .and_then(|w| mart_jinja::line_marks::column_in_line(text, &w))
        .and_then(|column| text.char_indices().nth(column - 1).map(|(i, _)| i))
        .or_else(|| only_occurrence(text, sql.get(range.clone())?));
    let range = match start {
        Some(start) => {
            let len = (range.end - range.start).min(text.len() - start);
            line_range.start + start..line_range.start + start + len
        }
        None => {
            let trimmed = text.trim_end_matches(['\n', '\r']);
            let indent = trimmed.len() - trimmed.trim_start().len();
            line_range.start + indent..line_range.start + trimmed.len()
        }
    };
    Some(Span::new(file.clone(), range))
}

/// Where `word` is in `line`, when it is there once as a word of its own (a reference
/// written after a `{{ ref() }}` on its line, or passed to a macro as a string).
fn only_occurrence(line: &str, word: &str) -> Option<usize> {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    if word.is_empty() {
        return None;
    }
    let mut found = line.match_indices(word).filter(|(i, _)| {
        let before = line[..*i].chars().next_back();
        let after = line[i + word.len()..].chars().next();
        !before.is_some_and(is_word) && !after.is_some_and(is_word)
    });
    match (found.next(), found.next()) {
        (Some((i, _)), None) => Some(i),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::only_occurrence;

    #[test]
    fn a_word_found_once_in_its_line() {
        let line = "join {{ ref('orders') }} o on o.usr_id = u.user_id";
        assert_eq!(only_occurrence(line, "o.usr_id"), Some(30));
        assert_eq!(
            only_occurrence("{{ to_cents('amout') }}", "amout"),
            Some(13)
        );
        // Twice, or only inside a longer word: not placed.
        assert_eq!(only_occurrence("a.id = b.id", "id"), None);
        assert_eq!(only_occurrence("select user_id", "id"), None);
        assert_eq!(only_occurrence("select x", ""), None);
    }
}
