//! Exposures in the manifest and the graph: children of what they depend on (unknown refs
//! are errors with "did you mean", as in dbt), with their descriptions rendered. Nothing
//! is built for them.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use mart_diagnostics::Diagnostics;
use mart_graph::{GraphNode, NodeId, ResourceType};
use mart_jinja::{RefCall, SourceCall};
use mart_project::{Exposure, ExposureDependency};

use crate::descriptions::Describer;
use crate::loading::Loading;
use crate::manifest::{flat_config, resolve_calls, Dependent, SourceNode};

/// An exposure with its place in the graph.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ExposureNode {
    pub id: NodeId,
    pub package: String,
    /// [package, folders of its property file under the model path..., name], as dbt.
    pub fqn: Vec<String>,
    /// dbt's `path`: the property file relative to its model path.
    pub path: String,
    /// Relative to the package's folder, forward slashes.
    pub original_file_path: String,
    /// With its description rendered.
    pub exposure: Exposure,
    pub refs: Vec<RefCall>,
    pub source_calls: Vec<SourceCall>,
    pub depends_on: Vec<NodeId>,
}

impl ExposureNode {
    pub(crate) fn graph_node(&self) -> GraphNode {
        GraphNode {
            id: self.id.clone(),
            name: self.exposure.name.clone(),
            resource_type: ResourceType::Exposure,
            package: self.package.clone(),
            original_file_path: self.original_file_path.clone(),
            fqn: self.fqn.clone(),
            tags: self.exposure.tags.clone(),
            materialized: None,
            source_name: None,
            config: flat_config(&self.exposure.config),
            depends_on: self.depends_on.clone(),
            test_type: None,
            test_name: None,
            version: None,
        }
    }
}

/// The exposures of one project (or package), resolved against the manifest's names.
pub(crate) fn exposure_nodes(
    project: &Loading<'_>,
    describer: &Describer<'_>,
    names: crate::manifest::Names<'_>,
    disabled: &HashMap<String, PathBuf>,
    sources: &BTreeMap<NodeId, SourceNode>,
    errors: &mut Diagnostics,
) -> Vec<ExposureNode> {
    let package = project.config.name.as_str();
    let mut nodes = Vec::new();
    for exposure in &project.exposures {
        let mut exposure = exposure.clone();
        match describer.text(&exposure.file, &exposure.description) {
            Ok(text) => exposure.description = text,
            Err(d) => errors.push(d),
        }
        let (mut refs, mut source_calls) = (Vec::new(), Vec::new());
        for dependency in &exposure.depends_on {
            match dependency {
                ExposureDependency::Ref { package, name } => refs.push(RefCall {
                    package: package.clone(),
                    name: name.clone(),
                    version: None,
                }),
                ExposureDependency::Source { source, table } => source_calls.push(SourceCall {
                    source: source.clone(),
                    table: table.clone(),
                }),
            }
        }
        let id = NodeId::exposure(package, &exposure.name);
        let depends_on = resolve_calls(
            &Dependent {
                id: &id,
                name: &exposure.name,
                package,
                // dbt's exposures have no group: they may not ref private models.
                group: None,
                attached: None,
                file: &exposure.file,
                refs: &refs,
                source_calls: &source_calls,
            },
            names,
            disabled,
            sources,
            errors,
        );
        let original_file_path = project.relative_path(&exposure.file.path);
        let path = under_model_path(project, &original_file_path);
        let mut fqn = vec![package.to_string()];
        if let Some((folders, _)) = path.rsplit_once('/') {
            fqn.extend(folders.split('/').map(str::to_string));
        }
        fqn.push(exposure.name.clone());
        nodes.push(ExposureNode {
            id,
            package: package.to_string(),
            fqn,
            path,
            original_file_path,
            exposure,
            refs,
            source_calls,
            depends_on,
        });
    }
    nodes
}

/// A property file's path relative to the model (or other resource) path holding it.
pub(crate) fn under_model_path(project: &Loading<'_>, path: &str) -> String {
    let config = &project.config;
    config
        .model_paths
        .iter()
        .chain(&config.seed_paths)
        .chain(&config.snapshot_paths)
        .chain(&config.analysis_paths)
        .filter_map(|dir| {
            let dir = project.relative_path(std::path::Path::new(dir));
            path.strip_prefix(&format!("{}/", dir.trim_end_matches('/')))
                .map(str::to_string)
        })
        .next()
        .unwrap_or_else(|| path.to_string())
}
