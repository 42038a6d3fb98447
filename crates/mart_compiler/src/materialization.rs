//! Running a model's materialization block (`{% materialization name, default %}`) in
//! the node's context, with what dbt gives such a block: `sql` / `compiled_code`,
//! `pre_hooks` / `post_hooks`, `database`, `schema`, and a `model` with its description
//! and columns.

use std::sync::Arc;

use mart_diagnostics::{Code, Diagnostic};
use mart_graph::NodeId;
use mart_jinja::{RelationValue, StatementOutcome};
use mart_project::Hook;
use minijinja::value::Value;

use crate::compile::Compiler;

/// What a materialization block did.
#[derive(Debug)]
pub struct MaterializationRun {
    /// Messages from log()/print(), in order, kept when the block failed half-way.
    pub logs: Vec<String>,
    pub result: Result<Materialized, Diagnostic>,
}

/// What a block that ran to its end returned.
#[derive(Debug)]
pub struct Materialized {
    pub relations: Vec<RelationValue>,
    /// Its `statement('main')`, which dbt reports as the model's result.
    pub main: Option<StatementOutcome>,
    /// Whether it committed; dbt rolls back the work of a block that never does.
    pub committed: bool,
}

impl Compiler<'_> {
    /// Calls the materialization macro `macro_name` of `package` for model `id`, whose
    /// SQL compiled to `compiled_sql`. Its queries run through the compiler's query
    /// runner (the node's session).
    pub fn run_materialization(
        &self,
        id: &NodeId,
        is_incremental: bool,
        package: &str,
        macro_name: &str,
        compiled_sql: &str,
    ) -> MaterializationRun {
        let Some(node) = self.manifest.node(id) else {
            return MaterializationRun {
                logs: Vec::new(),
                result: Err(Diagnostic::error(
                    Code::UnknownRef,
                    format!("'{id}' is not a node of this project"),
                )),
            };
        };
        let mut scope = self.scope(Some(node), is_incremental);
        if let serde_json::Value::Object(model) = &mut scope.model {
            let columns: serde_json::Map<String, serde_json::Value> = node
                .columns
                .iter()
                .map(|c| {
                    let column = serde_json::json!({
                        "name": c.name,
                        "description": c.description,
                        "data_type": c.data_type,
                        "quote": c.quote,
                    });
                    (c.name.clone(), column)
                })
                .collect();
            model.insert("description".into(), node.description.clone().into());
            model.insert("columns".into(), columns.into());
            model.insert("alias".into(), node.relation.identifier.clone().into());
            model.insert("schema".into(), node.relation.schema.clone().into());
            model.insert("database".into(), node.relation.database.clone().into());
            model.insert("compiled_code".into(), compiled_sql.into());
        }
        let scope = Arc::new(scope);
        let variables = vec![
            ("sql", Value::from(compiled_sql)),
            ("compiled_code", Value::from(compiled_sql)),
            ("pre_hooks", hooks_value(&node.config.pre_hook)),
            ("post_hooks", hooks_value(&node.config.post_hook)),
            ("database", Value::from(node.relation.database.clone())),
            ("schema", Value::from(node.relation.schema.clone())),
        ];
        let result = self
            .env
            .run_materialization(package, macro_name, variables, &scope);
        MaterializationRun {
            logs: scope.take_recorded().logs,
            result: result.map(|relations| Materialized {
                relations,
                main: scope.statement_outcome("main"),
                committed: scope.committed(),
            }),
        }
    }
}

/// dbt's hook dicts: `{sql, transaction, index}`.
fn hooks_value(hooks: &[Hook]) -> Value {
    Value::from_serialize(
        hooks
            .iter()
            .enumerate()
            .map(|(index, h)| serde_json::json!({"sql": h.sql, "transaction": h.transaction, "index": index}))
            .collect::<Vec<_>>(),
    )
}
