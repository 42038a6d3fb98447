//! minijinja errors as diagnostics pointing at the user's file and line.

use std::collections::HashMap;
use std::sync::Arc;

use mart_diagnostics::{Code, Diagnostic, SourceFile, Span};
use minijinja::ErrorKind;

/// `fallback` is the file being rendered, used when the error names no known template.
pub(crate) fn to_diagnostic(
    error: &minijinja::Error,
    files: &HashMap<String, Arc<SourceFile>>,
    fallback: Option<&Arc<SourceFile>>,
) -> Diagnostic {
    let code = match error.kind() {
        ErrorKind::SyntaxError | ErrorKind::BadEscape => Code::TemplateSyntax,
        _ => Code::TemplateRender,
    };
    let message = match error.detail() {
        Some(detail) if error.kind() == ErrorKind::InvalidOperation => detail.to_string(),
        Some(detail) => format!("{}: {detail}", error.kind()),
        None => error.kind().to_string(),
    };
    let mut diagnostic = Diagnostic::error(code, message).with_help(help(error.kind()));
    let file = error.name().and_then(|name| files.get(name)).or_else(|| {
        fallback.filter(|f| error.name().is_none_or(|n| f.path.to_string_lossy() == n))
    });
    if let Some(file) = file {
        let span = match (error.range(), error.line()) {
            (Some(range), _) if range.end <= file.text.len() => Span::new(file.clone(), range),
            (_, Some(line)) => Span::line(file.clone(), line),
            _ => Span::line(file.clone(), 1),
        };
        diagnostic = diagnostic.with_span(span);
    } else if let Some(name) = error.name() {
        diagnostic = diagnostic.with_path(name);
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        diagnostic = diagnostic.with_note(cause.to_string());
        source = cause.source();
    }
    diagnostic
}

fn help(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::SyntaxError => "check the Jinja tags around this place: every {% if %}, {% for %} and {% macro %} needs its end tag",
        ErrorKind::UnknownFunction => "define the macro in a file under macro-paths, or check its spelling",
        ErrorKind::UndefinedError => "define the variable, pass it with --vars, or check its spelling",
        ErrorKind::TooManyArguments | ErrorKind::MissingArgument => "check the arguments of this call against the macro's definition",
        _ => "fix the template at the marked place",
    }
}
