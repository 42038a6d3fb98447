//! dbt's `api` namespace: `api.Relation` (`create`, `add_ephemeral_prefix`, the type
//! constants) and `api.Column`.

use std::sync::Arc;

use minijinja::value::{Object, Value};
use minijinja::{Error, ErrorKind, State};

use crate::args::bind;
use crate::column::ColumnClass;
use crate::relation::{type_constant, Policy, RelationType, RelationValue, EPHEMERAL_PREFIX};

#[derive(Debug)]
pub(crate) struct Api;

impl Object for Api {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "Relation" => Some(Value::from_object(RelationClass)),
            "Column" => Some(Value::from_object(ColumnClass)),
            _ => None,
        }
    }
}

/// `api.Relation`.
#[derive(Debug)]
struct RelationClass;

impl Object for RelationClass {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        type_constant(key.as_str()?)
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "create" => create(args).map(RelationValue::into_value),
            "add_ephemeral_prefix" => {
                let bound = bind("add_ephemeral_prefix", args, &["name"])?;
                let name = bound.string("name")?.unwrap_or_default();
                Ok(Value::from(format!("{EPHEMERAL_PREFIX}{name}")))
            }
            _ => Err(Error::new(
                ErrorKind::UnknownMethod,
                format!("api.Relation has no method '{method}' (mart supports create and add_ephemeral_prefix)"),
            )),
        }
    }
}

/// `api.Relation.create(database=None, schema=None, identifier=None, type=None)`, with
/// `include_policy=` and `quote_policy=` dicts as dbt allows.
fn create(args: &[Value]) -> Result<RelationValue, Error> {
    let bound = bind(
        "Relation.create",
        args,
        &[
            "database",
            "schema",
            "identifier",
            "type",
            "include_policy",
            "quote_policy",
        ],
    )?;
    let relation = RelationValue {
        database: bound.string("database")?,
        schema: bound.string("schema")?,
        identifier: bound.string("identifier")?,
        kind: RelationType::from_arg(bound.value("type"))?,
        include: Policy::ALL,
        quote: Policy::ALL,
        empty: false,
        event_time: None,
    };
    let mut policies = Vec::new();
    for name in ["include_policy", "quote_policy"] {
        if let Some(policy) = bound.value(name) {
            policies.push((name, policy.clone()));
        }
    }
    if policies.is_empty() {
        return Ok(relation);
    }
    // The policies merge the way incorporate() merges them.
    let kwargs =
        minijinja::value::Kwargs::from_iter(policies.into_iter().map(|(k, v)| (k.to_string(), v)));
    relation.incorporate(&[Value::from(kwargs)])
}

#[cfg(test)]
#[path = "api_tests.rs"]
mod tests;
