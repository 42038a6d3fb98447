//! `mart deps`: install the packages of packages.yml (or dependencies.yml) into the
//! project's packages-install-path, as `dbt deps` does. Needs no profile or database.

use std::path::Path;
use std::sync::Arc;

use mart_deps::{run_deps, DepsError, DepsEvent, DepsOptions, Origin};
use mart_diagnostics::{Code, Diagnostic, Diagnostics, SourceFile, Span};
use mart_project::ProjectConfig;

use crate::args::{DepsArgs, GlobalArgs};
use crate::printer::Printer;
use crate::session::project_root;
use crate::Outcome;

pub fn run(global: &GlobalArgs, args: &DepsArgs) -> Result<Outcome, Diagnostics> {
    let printer = Printer::new(global);
    let given = project_root(global);
    let root = given.canonicalize().map_err(|e| {
        Diagnostic::error(
            Code::ProjectFile,
            format!("cannot open project folder {}: {e}", given.display()),
        )
        .with_help("pass an existing folder with --project-dir")
    })?;
    let config = ProjectConfig::load(&root)?;
    let options = DepsOptions {
        upgrade: args.upgrade,
        lock_only: args.lock,
        hub_url: mart_deps::hub_url_from_env(),
    };
    let env = |name: &str| std::env::var(name).ok();
    let mut on_event = |event: DepsEvent| match event {
        DepsEvent::Warning(w) => {
            let d = Diagnostic::warning(Code::ProjectFile, w.message);
            printer.diagnostic(&at(d, &w.origin, &root));
        }
        other => printer.info(&other.to_string()),
    };
    run_deps(
        &root,
        Path::new(&config.packages_install_path),
        &config.name,
        &options,
        &env,
        &mut on_event,
    )
    .map_err(|e| to_diagnostic(&e, &root))?;
    Ok(Outcome::Success)
}

fn to_diagnostic(e: &DepsError, root: &Path) -> Diagnostic {
    let code = match e {
        DepsError::Io { .. } => Code::Io,
        _ => Code::ProjectFile,
    };
    let d = Diagnostic::error(code, e.message()).with_help(e.help());
    match e.origin() {
        Some(origin) => at(d, origin, root),
        None => d,
    }
}

/// Points a diagnostic at the origin's line when the file can be read, else at its path.
fn at(d: Diagnostic, origin: &Origin, root: &Path) -> Diagnostic {
    let shown = origin.file.strip_prefix(root).unwrap_or(&origin.file);
    match (origin.line, std::fs::read_to_string(&origin.file)) {
        (Some(line), Ok(text)) => {
            let file = Arc::new(SourceFile::new(shown, text));
            d.with_span(Span::line(file, line))
        }
        _ => d.with_path(shown),
    }
}
