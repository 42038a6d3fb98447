//! The files of a resource folder. Symbolic links are followed, as dbt follows them; a
//! link back to a folder the walk is in is a loop: a warning naming the link and the
//! folder, and the walk goes on without following it.

use std::path::{Path, PathBuf};

use mart_diagnostics::{Code, Diagnostic, Diagnostics};

/// The files under `root/dir` (hidden ones left out), as paths relative to `root` (through
/// the links, as written), sorted. One walk per folder: callers pick the extensions they
/// want. Loops and broken links are warnings in `findings`; unreadable folders errors.
pub(crate) fn walk(root: &Path, dir: &str, findings: &mut Diagnostics) -> Vec<PathBuf> {
    let base = root.join(dir);
    if !base.is_dir() {
        return Vec::new();
    }
    let relative = |path: &Path| path.strip_prefix(root).unwrap_or(path).to_path_buf();
    let mut out = Vec::new();
    let entries = walkdir::WalkDir::new(&base)
        .follow_links(true)
        .sort_by_file_name();
    for entry in entries {
        match entry {
            Ok(e) if e.file_type().is_file() => {
                let path = e.path();
                let hidden = path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'));
                if !hidden {
                    out.push(relative(path));
                }
            }
            Ok(_) => {}
            Err(e) => findings.push(walk_problem(&e, &relative)),
        }
    }
    out
}

fn walk_problem(e: &walkdir::Error, relative: &dyn Fn(&Path) -> PathBuf) -> Diagnostic {
    let path = e.path().map(relative).unwrap_or_default();
    if let Some(ancestor) = e.loop_ancestor() {
        return Diagnostic::warning(
            Code::Io,
            format!(
                "symbolic link {} loops back to {}; it is not followed",
                path.display(),
                relative(ancestor).display()
            ),
        )
        .with_path(&path)
        .with_help("remove the link, or point it at a folder outside the one it is in");
    }
    let broken = e
        .io_error()
        .is_some_and(|io| io.kind() == std::io::ErrorKind::NotFound)
        && e.path().is_some_and(|p| p.is_symlink());
    if broken {
        let target = e
            .path()
            .and_then(|p| std::fs::read_link(p).ok())
            .unwrap_or_default();
        return Diagnostic::warning(
            Code::Io,
            format!(
                "symbolic link {} points to {}, which does not exist; it is skipped",
                path.display(),
                target.display()
            ),
        )
        .with_path(&path)
        .with_help("fix or remove the link");
    }
    let why = e
        .io_error()
        .map_or_else(|| e.to_string(), ToString::to_string);
    Diagnostic::error(Code::Io, format!("cannot read {}: {why}", path.display()))
        .with_path(&path)
        .with_help("check that the folder exists and is readable")
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    fn temp(name: &str) -> PathBuf {
        let root = std::env::temp_dir().join(format!("mart_walk_{name}_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("models/own")).unwrap();
        std::fs::write(root.join("models/own/a.sql"), "select 1").unwrap();
        root
    }

    #[test]
    fn linked_folders_and_files_are_followed() {
        let root = temp("links");
        std::fs::create_dir_all(root.join("shared/deep")).unwrap();
        std::fs::write(root.join("shared/deep/b.sql"), "select 2").unwrap();
        std::fs::write(root.join("c.sql"), "select 3").unwrap();
        symlink(root.join("shared"), root.join("models/shared")).unwrap();
        symlink("../c.sql", root.join("models/c.sql")).unwrap();
        let mut findings = Diagnostics::default();
        let files = walk(&root, "models", &mut findings);
        assert_eq!(
            files,
            [
                PathBuf::from("models/c.sql"),
                "models/own/a.sql".into(),
                "models/shared/deep/b.sql".into()
            ]
        );
        assert!(findings.is_empty());
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_loop_and_a_broken_link_are_warnings() {
        let root = temp("loop");
        symlink("..", root.join("models/own/up")).unwrap();
        symlink("nowhere.sql", root.join("models/gone.sql")).unwrap();
        let mut findings = Diagnostics::default();
        let files = walk(&root, "models", &mut findings);
        assert_eq!(files, [PathBuf::from("models/own/a.sql")]);
        let messages: Vec<(&str, bool)> = findings
            .iter()
            .map(|d| (d.message.as_str(), d.is_error()))
            .collect();
        assert_eq!(
            messages,
            [
                (
                    "symbolic link models/gone.sql points to nowhere.sql, which does not exist; it is skipped",
                    false
                ),
                (
                    "symbolic link models/own/up loops back to models; it is not followed",
                    false
                ),
            ]
        );
        std::fs::remove_dir_all(root).unwrap();
    }
}
