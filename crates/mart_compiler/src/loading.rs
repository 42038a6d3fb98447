//! One project being parsed: the root project or one of its installed packages. A
//! package's nodes take the root project's folder configs over the package's own, and
//! resolve bare macro names and `var()` for their package.

use std::ops::Deref;
use std::path::Path;
use std::sync::Arc;

use mart_project::{ConfigMap, ConfigTree, Project, ProjectConfig};

pub(crate) struct Loading<'a> {
    pub project: &'a Project,
    pub root: &'a ProjectConfig,
    /// The groups of the root project and of every package (`group:` may name any).
    pub group_names: Arc<[String]>,
}

impl<'a> Loading<'a> {
    /// The root project, then each installed package.
    pub fn all(root: &'a Project) -> Vec<Loading<'a>> {
        let projects = || std::iter::once(root).chain(&root.packages);
        let group_names: Arc<[String]> = projects()
            .flat_map(|p| p.groups.iter().map(|g| g.name.clone()))
            .collect();
        projects()
            .map(|project| Loading {
                project,
                root: &root.config,
                group_names: group_names.clone(),
            })
            .collect()
    }

    pub fn is_root(&self) -> bool {
        std::ptr::eq(&self.project.config, self.root)
    }

    /// The package a render scope names: none for the root project.
    pub fn scope_package(&self) -> Option<String> {
        (!self.is_root()).then(|| self.project.config.name.clone())
    }

    /// The folder config layers of `tree` (one of a project file's `models:`, `seeds:`,
    /// ...) for a node with this fqn: the package's own, then the root project's, each
    /// shallow to deep.
    pub fn layers(
        &self,
        tree: fn(&ProjectConfig) -> &ConfigTree,
        fqn: &[String],
    ) -> Vec<ConfigMap> {
        let mut layers = tree(&self.project.config).layers_for(fqn);
        if !self.is_root() {
            layers.extend(tree(self.root).layers_for(fqn));
        }
        layers
    }
}

impl Loading<'_> {
    /// A file's path as dbt's `original_file_path` gives it: relative to its package's
    /// own folder (the root project's files are relative to the root already).
    pub fn relative_path(&self, path: &Path) -> String {
        let package_dir = self
            .project
            .config
            .file
            .path
            .parent()
            .unwrap_or(Path::new(""));
        let relative = path.strip_prefix(package_dir).unwrap_or(path);
        relative.to_string_lossy().replace('\\', "/")
    }
}

impl Deref for Loading<'_> {
    type Target = Project;

    fn deref(&self) -> &Project {
        self.project
    }
}
