//! Renderers: the human form (file:line:col, excerpt, carets, help) and one JSON line.

use std::fmt::Write;

use crate::{Diagnostic, LineIndex, Severity, Span};

const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[1;33m";
const BLUE: &str = "\x1b[1;34m";
const CYAN: &str = "\x1b[1;36m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// `path:line:col: error[MART401]: message`, the source line with `^^^` under the span,
/// then labels, notes and help. `color` adds ANSI colours (for a TTY only).
pub fn render_human(d: &Diagnostic, color: bool) -> String {
    let paint = |code: &'static str| if color { code } else { "" };
    let (sev_color, sev) = match d.severity {
        Severity::Error => (paint(RED), "error"),
        Severity::Warning => (paint(YELLOW), "warning"),
        Severity::Note => (paint(CYAN), "note"),
    };
    let mut out = String::new();
    if let Some(location) = location(d) {
        let _ = write!(out, "{}{location}: ", paint(BOLD));
    }
    let _ = writeln!(
        out,
        "{sev_color}{sev}[{}]{}{}: {}{}",
        d.code,
        paint(RESET),
        paint(BOLD),
        d.message,
        paint(RESET)
    );
    if let Some(span) = &d.span {
        excerpt(&mut out, span, None, paint(BLUE), sev_color, paint(RESET));
    }
    for label in &d.labels {
        let (line, col) = label.span.line_col();
        let _ = writeln!(
            out,
            "{}:{line}:{col}: {}",
            label.span.file.path.display(),
            label.message
        );
        excerpt(
            &mut out,
            &label.span,
            None,
            paint(BLUE),
            paint(BLUE),
            paint(RESET),
        );
    }
    for note in &d.notes {
        let _ = writeln!(out, "  = note: {note}");
    }
    if let Some(help) = &d.help {
        let _ = writeln!(out, "  = help: {help}");
    }
    out.truncate(out.trim_end().len());
    out
}

fn location(d: &Diagnostic) -> Option<String> {
    if let Some(span) = &d.span {
        let (line, col) = span.line_col();
        return Some(format!("{}:{line}:{col}", span.file.path.display()));
    }
    d.path.as_ref().map(|p| p.display().to_string())
}

/// The span's first line with a gutter and carets under the spanned characters.
fn excerpt(
    out: &mut String,
    span: &Span,
    _label: Option<&str>,
    gutter: &str,
    caret: &str,
    reset: &str,
) {
    let text = &span.file.text;
    let index = LineIndex::new(text);
    let (line, col) = index.line_col(text, span.range.start);
    let range = index.line_range(line);
    let source_line = text
        .get(range.clone())
        .unwrap_or_default()
        .replace('\t', " ");
    let width = line.to_string().len();
    let span_end = span.range.end.min(range.end).max(span.range.start);
    let carets = text
        .get(span.range.start.min(range.end)..span_end)
        .map_or(1, |s| s.chars().count())
        .max(1);
    let _ = writeln!(out, "{gutter}{:width$} |{reset}", "");
    let _ = writeln!(out, "{gutter}{line:width$} |{reset} {source_line}");
    let _ = writeln!(
        out,
        "{gutter}{:width$} |{reset} {}{caret}{}{reset}",
        "",
        " ".repeat(col - 1),
        "^".repeat(carets)
    );
}

/// One JSON object on one line, for `--log-format json`.
pub fn render_json_line(d: &Diagnostic) -> String {
    let (line, column) = d.span.as_ref().map_or((None, None), |s| {
        let (l, c) = s.line_col();
        (Some(l), Some(c))
    });
    let value = JsonDiagnostic {
        code: d.code.as_str(),
        severity: d.severity,
        message: &d.message,
        file: d.file_path().map(|p| p.display().to_string()),
        line,
        column,
        notes: &d.notes,
        help: d.help.as_deref(),
    };
    serde_json::to_string(&value).unwrap_or_default()
}

#[derive(serde::Serialize)]
struct JsonDiagnostic<'a> {
    code: &'static str,
    severity: Severity,
    message: &'a str,
    file: Option<String>,
    line: Option<usize>,
    column: Option<usize>,
    notes: &'a [String],
    help: Option<&'a str>,
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{Code, SourceFile};

    fn unknown_ref() -> Diagnostic {
        let file = Arc::new(SourceFile::new(
            "models/orders.sql",
            "select *\nfrom {{ ref('custmers') }}\n",
        ));
        Diagnostic::error(Code::UnknownRef, "unknown ref 'custmers'")
            .with_span(Span::new(file, 17..32))
            .with_help("did you mean 'customers'?")
    }

    #[test]
    fn human_rendering_points_at_the_span() {
        insta::assert_snapshot!(render_human(&unknown_ref(), false), @r"
        models/orders.sql:2:9: error[MART401]: unknown ref 'custmers'
          |
        2 | from {{ ref('custmers') }}
          |         ^^^^^^^^^^^^^^^
          = help: did you mean 'customers'?
        ");
    }

    #[test]
    fn json_rendering_is_one_line() {
        assert_eq!(
            render_json_line(&unknown_ref()),
            r#"{"code":"MART401","severity":"error","message":"unknown ref 'custmers'","file":"models/orders.sql","line":2,"column":9,"notes":[],"help":"did you mean 'customers'?"}"#
        );
    }
}
