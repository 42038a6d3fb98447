//! Unit tests as nodes: `unit_test.<package>.<model>.<name>`, a child of the model it
//! tests (as in dbt's manifest), with each `given:` input resolved to the node or source
//! it stands for.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use mart_diagnostics::{closest_name, Code, Diagnostic, Span};
use mart_graph::{NodeId, ResourceType};
use mart_project::{Fixture, NodeConfig, UnitTestOverrides, UnitTestProperties};
use serde_json::Value;

use crate::data_tests::{parse_relation_call, Dependency};
use mart_adapter::Relation;
use mart_jinja::{RefCall, ResolvedRef, Resolver, SourceCall};

use crate::manifest::{config_error, cte_name, find_source, ManifestResolver, Node, SourceNode};
use crate::names::NameIndex;

/// What makes a node a unit test.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct UnitTestInfo {
    /// The model it runs.
    pub model: NodeId,
    pub given: Vec<GivenFixture>,
    pub expect: Fixture,
    pub overrides: UnitTestOverrides,
    /// `overrides.macros.is_incremental` (false when not given).
    pub is_incremental: bool,
    /// Where the entry's name is written.
    pub span: Span,
}

/// A `given:` input and the node it replaces.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct GivenFixture {
    /// As written: `ref('x')`, `source('s', 't')`, `this`.
    pub input: String,
    /// The model, seed, snapshot or source; `None` for `this` (the model itself).
    pub node: Option<NodeId>,
    pub fixture: Fixture,
}

/// The unit test nodes of the root project's `unit_tests:` (dbt tests models of the
/// current project only). Tests of disabled models are left out, as dbt leaves them.
pub(crate) fn unit_test_nodes(
    tests: &[UnitTestProperties],
    root_package: &str,
    nodes: &[Node],
    names: &NameIndex<NodeId>,
    disabled: &HashMap<String, PathBuf>,
    sources: &BTreeMap<NodeId, SourceNode>,
) -> Vec<Result<Node, Diagnostic>> {
    let by_id: HashMap<&NodeId, &Node> = nodes.iter().map(|n| (&n.id, n)).collect();
    let mut seen: BTreeSet<NodeId> = BTreeSet::new();
    let mut out = Vec::new();
    for test in tests {
        if disabled.contains_key(&test.model) {
            continue;
        }
        let model = names
            .find(None, &test.model, None, root_package)
            .and_then(|id| by_id.get(id))
            .filter(|n| n.resource_type == ResourceType::Model && n.package == root_package);
        let Some(model) = model else {
            out.push(Err(unknown_model(test, nodes, root_package)));
            continue;
        };
        let node = unit_test_node(test, model, &by_id, names, sources);
        if let Ok(node) = &node {
            if !seen.insert(node.id.clone()) {
                out.push(Err(Diagnostic::error(
                    Code::DuplicateNode,
                    format!(
                        "model '{}' has two unit tests named '{}'",
                        model.name, test.name
                    ),
                )
                .with_span(test.span.clone())
                .with_help("give each unit test of a model its own name")));
                continue;
            }
        }
        out.push(node);
    }
    out
}

fn unknown_model(test: &UnitTestProperties, nodes: &[Node], root_package: &str) -> Diagnostic {
    let models = nodes
        .iter()
        .filter(|n| n.resource_type == ResourceType::Model && n.package == root_package)
        .map(|n| n.name.as_str());
    let d = Diagnostic::error(
        Code::UnknownRef,
        format!(
            "unit test '{}' tests unknown model '{}'",
            test.name, test.model
        ),
    )
    .with_span(test.key_span("model"));
    match closest_name(&test.model, models) {
        Some(close) => d.with_help(format!("did you mean '{close}'?")),
        None => d.with_help("name a SQL model of this project in `model:`"),
    }
}

fn unit_test_node(
    test: &UnitTestProperties,
    model: &Node,
    nodes_by_id: &HashMap<&NodeId, &Node>,
    names: &NameIndex<NodeId>,
    sources: &BTreeMap<NodeId, SourceNode>,
) -> Result<Node, Diagnostic> {
    let file = test.span.file.clone();
    let fail = |key: &str, message: String, help: String| {
        Diagnostic::error(
            Code::PropertyFile,
            format!("unit test '{}': {message}", test.name),
        )
        .with_span(test.key_span(key))
        .with_help(help)
    };
    let mut given = Vec::with_capacity(test.given.len());
    for input in &test.given {
        let node = if input.input == "this" {
            None
        } else {
            let found = match parse_relation_call(&input.input) {
                Some(Dependency::Ref(call)) => names.find(
                    call.package.as_deref(),
                    &call.name,
                    call.version.as_deref(),
                    &model.package,
                ),
                Some(Dependency::Source(call)) => find_source(sources, &call, &model.package),
                None => return Err(fail(
                    "given",
                    format!(
                        "input `{}` is not ref('...'), source('...', '...') or this",
                        input.input
                    ),
                    "write the input as the model writes it: ref('x'), source('s', 't'), or this"
                        .into(),
                )),
            };
            match found.filter(|id| model.depends_on.contains(id)) {
                Some(id) => Some(id.clone()),
                None => {
                    return Err(fail(
                        "given",
                        format!(
                            "input {} is not read by model '{}'",
                            input.input, model.name
                        ),
                        format!("the model reads {}", read_list(model)),
                    ))
                }
            }
        };
        // dbt reads a seed given without rows from its CSV file; mart does not yet.
        let is_seed = node
            .as_ref()
            .and_then(|id| nodes_by_id.get(id))
            .is_some_and(|n| n.resource_type == ResourceType::Seed);
        if is_seed && input.fixture.written_rows.is_null() && input.fixture.fixture.is_none() {
            return Err(fail(
                "given",
                format!("input {} is a seed given without rows; reading the seed's CSV as its rows is not supported by mart yet", input.input),
                "give its rows (`rows: [...]`, or `rows: []` for none)".into(),
            ));
        }
        given.push(GivenFixture {
            input: input.input.clone(),
            node,
            fixture: input.fixture.clone(),
        });
    }
    // A parent without rows would be read from the warehouse: dbt fails to compile it.
    for parent in &model.depends_on {
        if !given.iter().any(|g| g.node.as_ref() == Some(parent)) {
            return Err(fail(
                "given",
                format!(
                    "model '{}' reads {}, which has no `given:` input",
                    model.name,
                    input_text(parent)
                ),
                format!(
                    "add `- input: {}` with its rows (`rows: []` for none)",
                    input_text(parent)
                ),
            ));
        }
    }
    let mut is_incremental = false;
    for (name, value) in &test.overrides.macros {
        match (name.as_str(), value) {
            ("is_incremental", Value::Bool(b)) => is_incremental = *b,
            ("is_incremental", other) => {
                return Err(fail(
                    "overrides",
                    format!("`is_incremental` must be true or false, found {other}"),
                    "write `is_incremental: true` or `is_incremental: false`".into(),
                ))
            }
            (other, _) => {
                return Err(fail(
                    "overrides",
                    format!(
                    "overriding macro '{other}' is not supported by mart yet (only is_incremental)"
                ),
                    "remove the override, or test the model without it".into(),
                ))
            }
        }
    }
    let config =
        NodeConfig::from_map(test.config.clone(), "test").map_err(|e| config_error(&file, &e))?;
    let original_file_path = crate::manifest::path_string(&file.path);
    // dbt: the package, the property file's folders under its resource path, the model,
    // the test (so a unit test follows where it is declared, not where its model is).
    let mut fqn = vec![model.package.clone()];
    fqn.extend(
        std::path::Path::new(&original_file_path)
            .parent()
            .into_iter()
            .flat_map(|p| p.components().skip(1))
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    fqn.push(model.name.clone());
    fqn.push(test.name.clone());
    Ok(Node {
        id: NodeId::for_node(
            ResourceType::UnitTest,
            &model.package,
            &format!("{}.{}", model.name, test.name),
        ),
        name: test.name.clone(),
        resource_type: ResourceType::UnitTest,
        package: model.package.clone(),
        fqn,
        path: original_file_path
            .split_once('/')
            .map_or(original_file_path.clone(), |(_, rest)| rest.to_string()),
        original_file_path,
        file: Some(file),
        config: Box::new(config),
        relation: model.relation.clone(),
        description: test.description.clone(),
        columns: Arc::from(Vec::new()),
        constraints: Arc::from(Vec::new()),
        depends_on: vec![model.id.clone()],
        refs: Vec::new(),
        source_calls: Vec::new(),
        depends_on_macros: Vec::new(),
        test: None,
        unit_test: Some(Box::new(UnitTestInfo {
            model: model.id.clone(),
            given,
            expect: test.expect.clone(),
            overrides: test.overrides.clone(),
            is_incremental,
            span: test.span.clone(),
        })),
        versioning: None,
    })
}

/// `ref('x')` or `source('s', 't')` for a parent id.
fn input_text(id: &NodeId) -> String {
    let parts: Vec<&str> = id.as_str().split('.').collect();
    match parts.as_slice() {
        ["source", _, source, table] => format!("source('{source}', '{table}')"),
        [_, _, name, ..] => format!("ref('{name}')"),
        _ => id.to_string(),
    }
}

fn read_list(model: &Node) -> String {
    if model.depends_on.is_empty() {
        return "no ref() or source(); remove the input".into();
    }
    model
        .depends_on
        .iter()
        .map(input_text)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The CTE a given input's rows are injected as: dbt's `__dbt__cte__<name>`.
pub(crate) fn fixture_cte_name(
    given: &GivenFixture,
    sources: &BTreeMap<NodeId, SourceNode>,
) -> String {
    match &given.node {
        None => cte_name("this"),
        Some(id) => match sources.get(id) {
            Some(s) => cte_name(&format!("{}__{}", s.table.source_name, s.table.name)),
            None => cte_name(id.as_str().rsplit('.').next().unwrap_or_default()),
        },
    }
}

/// Resolves the given inputs of a unit test to their CTEs, anything else as the manifest
/// does (the test checks at parse time that every input is given).
pub(crate) struct FixtureResolver {
    pub(crate) inner: Arc<ManifestResolver>,
    pub(crate) refs: HashMap<NodeId, String>,
    pub(crate) sources: HashMap<(String, String), String>,
}

impl Resolver for FixtureResolver {
    fn resolve_ref(&self, call: &RefCall, from_package: Option<&str>) -> Option<ResolvedRef> {
        match self
            .inner
            .node_for(call, from_package)
            .and_then(|id| self.refs.get(id))
        {
            Some(cte) => Some(ResolvedRef::Ephemeral {
                cte_name: cte.clone(),
            }),
            None => self.inner.resolve_ref(call, from_package),
        }
    }

    fn resolve_source(&self, call: &SourceCall) -> Option<Relation> {
        self.inner.resolve_source(call)
    }

    fn resolve_source_ref(&self, call: &SourceCall) -> Option<ResolvedRef> {
        match self.sources.get(&(call.source.clone(), call.table.clone())) {
            Some(cte) => Some(ResolvedRef::Ephemeral {
                cte_name: cte.clone(),
            }),
            None => self.inner.resolve_source_ref(call),
        }
    }

    fn ref_names(&self) -> Vec<String> {
        self.inner.ref_names()
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::Fixture;
    use crate::Compiler;

    const MODELS: [(&str, &str); 3] = [
        ("models/stg.sql", "select 1 as id"),
        (
            "models/totals.sql",
            "{{ config(materialized='incremental') }}select s.id, '{{ var('v', 'no') }}' as v, '{{ env_var('MART_UNIT_E', 'no') }}' as e from {{ ref('stg') }} s join {{ source('raw', 'log') }} l using (id)\n{% if is_incremental() %}where s.id > (select max(id) from {{ this }}){% endif %}",
        ),
        (
            "models/_src.yml",
            "sources:\n  - name: raw\n    tables:\n      - name: log\n",
        ),
    ];

    fn project(name: &str, unit: &str) -> Fixture {
        let mut files = MODELS.to_vec();
        files.push(("models/_unit.yml", unit));
        Fixture::new(name, &files)
    }

    #[test]
    fn given_inputs_become_ctes_with_the_overrides() {
        let fixture = project(
            "unit_ctes",
            "unit_tests:\n  - name: t\n    model: totals\n    overrides:\n      macros: {is_incremental: true}\n      vars: {v: yes}\n      env_vars: {MART_UNIT_E: set}\n    given:\n      - input: ref('stg')\n        rows: [{id: 1}]\n      - input: source('raw', 'log')\n        rows: [{id: 1}]\n      - input: this\n        rows: []\n    expect:\n      rows: [{id: 1}]\n",
        );
        let (manifest, env) = fixture.build().unwrap();
        let id = mart_graph::NodeId::from("unit_test.learn.totals.t".to_string());
        let unit = manifest.node(&id).unwrap();
        assert_eq!(
            unit.depends_on,
            [mart_graph::NodeId::from("model.learn.totals".to_string())]
        );
        let inputs = [
            "select 1 as id".to_string(),
            "select 2 as id".to_string(),
            "select 3 as id".to_string(),
        ];
        let sql = Compiler::new(&manifest, &env, None)
            .compile_unit_test(&id, &inputs)
            .unwrap()
            .sql;
        insta::assert_snapshot!(sql, @r"
            with __dbt__cte__stg as (
            select 1 as id
            ), __dbt__cte__raw__log as (
            select 2 as id
            ), __dbt__cte__this as (
            select 3 as id
            )
            select s.id, 'yes' as v, 'set' as e from __dbt__cte__stg s join __dbt__cte__raw__log l using (id)
            where s.id > (select max(id) from __dbt__cte__this)
        ");
        let err = Compiler::new(&manifest, &env, None)
            .compile(&id, false)
            .unwrap_err();
        assert_eq!(
            err.message,
            "unit test 't' compiles only with its given rows"
        );
    }

    #[test]
    fn inputs_must_match_what_the_model_reads() {
        let missing = project(
            "unit_missing",
            "unit_tests:\n  - name: t\n    model: totals\n    given:\n      - input: ref('stg')\n        rows: []\n    expect: {rows: []}\n",
        );
        insta::assert_snapshot!(missing.errors(), @r"
            models/_unit.yml:4:5: error[MART103]: unit test 't': model 'totals' reads source('raw', 'log'), which has no `given:` input
              |
            4 |     given:
              |     ^^^^^
              = help: add `- input: source('raw', 'log')` with its rows (`rows: []` for none)
        ");
        let unread = project(
            "unit_unread",
            "unit_tests:\n  - name: t\n    model: stg\n    overrides:\n      macros: {star: x}\n    given:\n      - input: ref('totals')\n        rows: []\n    expect: {rows: []}\n",
        );
        insta::assert_snapshot!(unread.errors(), @r"
            models/_unit.yml:6:5: error[MART103]: unit test 't': input ref('totals') is not read by model 'stg'
              |
            6 |     given:
              |     ^^^^^
              = help: the model reads no ref() or source(); remove the input
        ");
        let seed = Fixture::new(
            "unit_seed",
            &[
                ("seeds/codes.csv", "code\n1\n"),
                ("models/m.sql", "select * from {{ ref('codes') }}"),
                (
                    "models/_unit.yml",
                    "unit_tests:\n  - name: t\n    model: m\n    given:\n      - input: ref('codes')\n    expect: {rows: []}\n",
                ),
            ],
        );
        assert!(seed
            .errors()
            .contains("input ref('codes') is a seed given without rows"));
        let macro_override = project(
            "unit_macro",
            "unit_tests:\n  - name: t\n    model: stg\n    overrides:\n      macros: {star: x}\n    expect: {rows: []}\n",
        );
        insta::assert_snapshot!(macro_override.errors(), @r"
            models/_unit.yml:4:5: error[MART103]: unit test 't': overriding macro 'star' is not supported by mart yet (only is_incremental)
              |
            4 |     overrides:
              |     ^^^^^^^^^
              = help: remove the override, or test the model without it
        ");
    }
}
