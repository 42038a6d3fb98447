//! Diagnostics for what the analysis of one node found, placed in the node's source file.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use mart_diagnostics::{Code, Diagnostic, LineIndex, SourceFile, Span};
use mart_project::StaticAnalysis;
use mart_sql::{ProblemKind, SqlError};

use super::shapes::{NodeAnalysis, Outcome};
use super::{Judgement, SyntaxJudge};
use crate::{Compiler, Node};

pub(super) fn diagnostics(
    compiler: &Compiler<'_>,
    node: &Node,
    analysed: &NodeAnalysis,
    mode: StaticAnalysis,
    judge: Option<&dyn SyntaxJudge>,
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
            SqlError::Parse(e) => match judge.map_or(Judgement::Unavailable, |j| j.judge(sql)) {
                Judgement::Rejected(message) => vec![placed(
                    compiler,
                    node,
                    sql,
                    e.offset..e.offset,
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

/// `d` at the place of `range` of the node's rendered `sql`: its line in the node's
/// source file when the render can be traced back, with the rendered line as a note.
fn placed(
    compiler: &Compiler<'_>,
    node: &Node,
    sql: &Arc<str>,
    range: Range<usize>,
    d: Diagnostic,
) -> Diagnostic {
    let rendered_path = compiler
        .manifest
        .compiled_path(&node.id)
        .map(|p| {
            p.strip_prefix(&compiler.manifest.root)
                .map(PathBuf::from)
                .unwrap_or(p)
        })
        .unwrap_or_else(|| PathBuf::from(&node.original_file_path));
    let rendered = Arc::new(SourceFile::new(rendered_path.clone(), sql.clone()));
    let (line, column) = LineIndex::new(sql).line_col(sql, range.start);
    let note = format!(
        "in the compiled SQL: {}:{line}:{column}",
        rendered_path.display()
    );
    d.with_span(Span::new(rendered, range)).with_note(note)
}
