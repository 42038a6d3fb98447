//! `mart clean`: delete the clean-targets, but never anything outside the project or a
//! Cargo build folder.

use std::path::Path;

use mart_diagnostics::{Code, Diagnostic, Diagnostics};

use crate::args::GlobalArgs;
use crate::printer::Printer;
use crate::session::load_project;
use crate::Outcome;

pub fn run(global: &GlobalArgs) -> Result<Outcome, Diagnostics> {
    let printer = Printer::new(global);
    let project = load_project(global)?;
    let mut errors = Diagnostics::default();
    for target in &project.config.clean_targets {
        let path = project.root.join(target);
        if let Err(d) = check_removable(&project.root, &path) {
            errors.push(d.with_path(&project.config.file.path));
            continue;
        }
        if !path.exists() {
            continue;
        }
        match std::fs::remove_dir_all(&path) {
            Ok(()) => printer.info(&format!("Cleaned {target}")),
            Err(e) => errors.push(Diagnostic::error(
                Code::Io,
                format!("cannot remove {}: {e}", path.display()),
            )),
        }
    }
    if errors.has_errors() {
        return Err(errors);
    }
    printer.info("Finished cleaning all paths.");
    Ok(crate::Outcome::Success)
}

/// A clean-target must lie strictly inside the project and must not be a Cargo build
/// directory (Cargo marks those with CACHEDIR.TAG).
fn check_removable(root: &Path, path: &Path) -> Result<(), Diagnostic> {
    let inside = path.canonicalize().map_or_else(
        |_| lexically_inside(root, path),
        |p| p.starts_with(root) && p != root,
    );
    if !inside {
        return Err(Diagnostic::error(
            Code::ProjectFile,
            format!("clean-target {} is not inside the project", path.display()),
        )
        .with_help("list only folders inside the project under clean-targets"));
    }
    if path.join("CACHEDIR.TAG").exists() {
        return Err(Diagnostic::error(
            Code::ProjectFile,
            format!(
                "clean-target {} is a Cargo build folder; mart will not delete it",
                path.display()
            ),
        )
        .with_help("set target-path and clean-targets to a sub-folder, such as target/mart"));
    }
    Ok(())
}

/// For paths that do not exist yet: no `..` and not the root itself.
fn lexically_inside(root: &Path, path: &Path) -> bool {
    path.starts_with(root)
        && path != root
        && !path
            .components()
            .any(|c| matches!(c, std::path::Component::ParentDir))
}
