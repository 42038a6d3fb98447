//! The Relation value `ref()`, `source()`, `this`, `api.Relation.create()` and the adapter
//! return, with dbt's attributes and methods (`include`, `quote`, `incorporate`, `render`...).
//! It renders as dbt-postgres renders relations: each included part that is set, quoted
//! unless its quote policy says not to, joined by dots.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use mart_adapter::{quote_ident, Relation};
use minijinja::value::{DynObject, Enumerator, Object, ObjectRepr, Value};
use minijinja::{Error, ErrorKind, State};

use crate::args::{bind, Bound};

/// The prefix of an ephemeral model's CTE name (dbt's `add_ephemeral_prefix`).
pub const EPHEMERAL_PREFIX: &str = "__dbt__cte__";
/// What `relation.get('metadata')['type']` says; dbt_utils checks it ends in `Relation`.
const CLASS_NAME: &str = "PostgresRelation";

/// dbt's relation types, as the strings templates compare `relation.type` with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RelationType {
    Table,
    View,
    Cte,
    MaterializedView,
    External,
}

impl RelationType {
    pub const ALL: [RelationType; 5] = [
        RelationType::Table,
        RelationType::View,
        RelationType::Cte,
        RelationType::MaterializedView,
        RelationType::External,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RelationType::Table => "table",
            RelationType::View => "view",
            RelationType::Cte => "cte",
            RelationType::MaterializedView => "materialized_view",
            RelationType::External => "external",
        }
    }

    pub fn parse(text: &str) -> Option<RelationType> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// A `type=` argument: none, or one of the names; anything else is an error.
    pub(crate) fn from_arg(value: Option<&Value>) -> Result<Option<RelationType>, Error> {
        let Some(value) = value else { return Ok(None) };
        let text = value.as_str().unwrap_or_default();
        Self::parse(text).map(Some).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|t| t.as_str()).collect();
            Error::new(
                ErrorKind::InvalidOperation,
                format!(
                    "'{value}' is not a relation type; use one of {} or none",
                    names.join(", ")
                ),
            )
        })
    }
}

/// dbt's include and quote policies: one switch per part of the name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Policy {
    pub database: bool,
    pub schema: bool,
    pub identifier: bool,
}

impl Policy {
    pub const ALL: Policy = Policy {
        database: true,
        schema: true,
        identifier: true,
    };

    fn to_value(self) -> Value {
        Value::from_iter([
            ("database", self.database),
            ("schema", self.schema),
            ("identifier", self.identifier),
        ])
    }

    /// The policy with the parts `bound` sets (`database=`, `schema=`, `identifier=`).
    fn updated(mut self, bound: &Bound) -> Result<Policy, Error> {
        if let Some(b) = bound.bool("database")? {
            self.database = b;
        }
        if let Some(b) = bound.bool("schema")? {
            self.schema = b;
        }
        if let Some(b) = bound.bool("identifier")? {
            self.identifier = b;
        }
        Ok(self)
    }
}

const PARTS: &[&str] = &["database", "schema", "identifier"];

/// A relation as Jinja sees it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RelationValue {
    pub database: Option<String>,
    pub schema: Option<String>,
    pub identifier: Option<String>,
    pub kind: Option<RelationType>,
    pub include: Policy,
    pub quote: Policy,
    /// `--empty`: a ref() or source() renders as a zero-row subquery of the relation.
    pub empty: bool,
    /// A microbatch model's batch: a ref() or source() with an `event_time` renders as the
    /// subquery of the batch's rows.
    pub event_time: Option<EventTimeFilter>,
}

/// dbt's event-time filter: `field >= 'start' and field < 'end'`, the bounds as dbt
/// prints them (`2024-01-01 00:00:00+00:00`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventTimeFilter {
    pub field: String,
    pub start: String,
    pub end: String,
}

impl RelationValue {
    /// A relation of mart's (a model, a source, `this`): every part included and quoted.
    /// An empty schema means none.
    pub fn new(relation: Relation) -> Self {
        Self {
            database: relation.database,
            schema: Some(relation.schema).filter(|s| !s.is_empty()),
            identifier: Some(relation.identifier).filter(|s| !s.is_empty()),
            kind: None,
            include: Policy::ALL,
            quote: Policy::ALL,
            empty: false,
            event_time: None,
        }
    }

    /// An ephemeral model: its CTE name, unquoted, of type `cte` (as dbt's
    /// `create_ephemeral_from`).
    pub fn ephemeral(cte_name: String) -> Self {
        Self {
            database: None,
            schema: None,
            identifier: Some(cte_name),
            kind: Some(RelationType::Cte),
            include: Policy::ALL,
            quote: Policy {
                identifier: false,
                ..Policy::ALL
            },
            empty: false,
            event_time: None,
        }
    }

    pub fn into_value(self) -> Value {
        Value::from_object(self)
    }

    /// The schema-qualified name the adapter queries the catalog for, or an error saying
    /// which part is missing for `call`.
    pub(crate) fn schema_and_identifier(&self, call: &str) -> Result<(&str, &str), Error> {
        match (&self.schema, &self.identifier) {
            (Some(schema), Some(identifier)) => Ok((schema, identifier)),
            _ => Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("{call}() needs a relation with a schema and an identifier, got '{self}'"),
            )),
        }
    }

    fn is(&self, kind: RelationType) -> bool {
        self.kind == Some(kind)
    }

    fn path(&self) -> Value {
        Value::from_iter([
            ("database", Value::from(self.database.clone())),
            ("schema", Value::from(self.schema.clone())),
            ("identifier", Value::from(self.identifier.clone())),
        ])
    }

    /// `incorporate(path={...}, type=..., include_policy={...}, quote_policy={...})`:
    /// the given entries merged over this relation's, as dbt does.
    pub(crate) fn incorporate(&self, args: &[Value]) -> Result<RelationValue, Error> {
        let bound = bind(
            "incorporate",
            args,
            &["path", "type", "include_policy", "quote_policy"],
        )?;
        let mut next = self.clone();
        if let Some(path) = bound.value("path") {
            let path = bind("incorporate(path=...)", &[mapping_kwargs(path)?], PARTS)?;
            for (name, slot) in [
                ("database", &mut next.database),
                ("schema", &mut next.schema),
                ("identifier", &mut next.identifier),
            ] {
                if path.is_given(name) {
                    *slot = path.string(name)?;
                }
            }
        }
        if bound.is_given("type") {
            next.kind = RelationType::from_arg(bound.value("type"))?;
        }
        if let Some(policy) = bound.value("include_policy") {
            let policy = bind(
                "incorporate(include_policy=...)",
                &[mapping_kwargs(policy)?],
                PARTS,
            )?;
            next.include = next.include.updated(&policy)?;
        }
        if let Some(policy) = bound.value("quote_policy") {
            let policy = bind(
                "incorporate(quote_policy=...)",
                &[mapping_kwargs(policy)?],
                PARTS,
            )?;
            next.quote = next.quote.updated(&policy)?;
        }
        Ok(next)
    }

    /// `replace_path(database=..., schema=..., identifier=...)`: none clears a part.
    fn replace_path(&self, args: &[Value]) -> Result<RelationValue, Error> {
        let bound = bind("replace_path", args, PARTS)?;
        let mut next = self.clone();
        for (name, slot) in [
            ("database", &mut next.database),
            ("schema", &mut next.schema),
            ("identifier", &mut next.identifier),
        ] {
            if bound.is_given(name) {
                *slot = bound.string(name)?;
            }
        }
        Ok(next)
    }

    /// `information_schema(view_name)`: `"db".INFORMATION_SCHEMA.view_name`, as dbt renders
    /// it (database only when set, the rest unquoted).
    fn information_schema(&self, args: &[Value]) -> Result<String, Error> {
        let bound = bind("information_schema", args, &["view_name"])?;
        let mut parts = Vec::new();
        if let Some(database) = &self.database {
            parts.push(self.part(database, self.quote.database));
        }
        parts.push("INFORMATION_SCHEMA".to_string());
        parts.extend(bound.string("view_name")?);
        Ok(parts.join("."))
    }

    fn part(&self, name: &str, quoted: bool) -> String {
        if quoted {
            quote_ident(name)
        } else {
            name.to_string()
        }
    }
}

/// A dict argument as keyword arguments, to bind its keys like a call's.
fn mapping_kwargs(value: &Value) -> Result<Value, Error> {
    let pairs = value
        .as_object()
        .filter(|o| o.repr() == ObjectRepr::Map)
        .and_then(|o| o.try_iter_pairs())
        .ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!("expected a dict such as {{'identifier': 'name'}}, got {value}"),
            )
        })?;
    let pairs: Vec<(String, Value)> = pairs.map(|(k, v)| (k.to_string(), v)).collect();
    Ok(Value::from(minijinja::value::Kwargs::from_iter(pairs)))
}

impl RelationValue {
    /// The relation as `--empty` reads it: dbt's `(select * from R where false limit 0)
    /// _dbt_limit_subq_<identifier>`, so a model builds its schema without reading data.
    pub fn emptied(self) -> Self {
        Self {
            empty: true,
            ..self
        }
    }

    /// The relation as a microbatch model's batch reads it (see [`EventTimeFilter`]).
    pub fn filtered(self, filter: EventTimeFilter) -> Self {
        Self {
            event_time: Some(filter),
            ..self
        }
    }
}

impl fmt::Display for RelationValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let alias = self.identifier.as_deref().unwrap_or("relation");
        // As in dbt, the batch filter wraps the `--empty` subquery, not the other way round.
        if let Some(filter) = &self.event_time {
            let inner = RelationValue {
                event_time: None,
                ..self.clone()
            };
            let EventTimeFilter { field, start, end } = filter;
            return write!(
                f,
                "(select * from {inner} where {field} >= '{start}' and {field} < '{end}') _dbt_et_filter_subq_{alias}"
            );
        }
        if self.empty {
            let name = RelationValue {
                empty: false,
                ..self.clone()
            };
            return write!(
                f,
                "(select * from {name} where false limit 0) _dbt_limit_subq_{alias}"
            );
        }
        let parts = [
            (&self.database, self.include.database, self.quote.database),
            (&self.schema, self.include.schema, self.quote.schema),
            (
                &self.identifier,
                self.include.identifier,
                self.quote.identifier,
            ),
        ];
        let mut first = true;
        for (value, included, quoted) in parts {
            let Some(value) = value.as_deref().filter(|_| included) else {
                continue;
            };
            if !first {
                f.write_str(".")?;
            }
            first = false;
            f.write_str(&self.part(value, quoted))?;
        }
        Ok(())
    }
}

/// Relation-type constants shared by relations and `api.Relation`.
pub(crate) fn type_constant(name: &str) -> Option<Value> {
    let kind = match name {
        "Table" => RelationType::Table,
        "View" => RelationType::View,
        "CTE" => RelationType::Cte,
        "MaterializedView" => RelationType::MaterializedView,
        "External" => RelationType::External,
        _ => return None,
    };
    Some(Value::from(kind.as_str()))
}

impl Object for RelationValue {
    // A mapping, as dbt's relations are: dbt_utils' `_is_relation` tests `is mapping`.
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let key = key.as_str()?;
        if let Some(constant) = type_constant(key) {
            return Some(constant);
        }
        Some(match key {
            "database" => Value::from(self.database.clone()),
            "schema" => Value::from(self.schema.clone()),
            "identifier" | "name" | "table" => Value::from(self.identifier.clone()),
            "type" => Value::from(self.kind.map(RelationType::as_str)),
            "path" => self.path(),
            "include_policy" => self.include.to_value(),
            "quote_policy" => self.quote.to_value(),
            "quote_character" => Value::from("\""),
            "is_table" => Value::from(self.is(RelationType::Table)),
            "is_view" => Value::from(self.is(RelationType::View)),
            "is_cte" => Value::from(self.is(RelationType::Cte)),
            "is_materialized_view" => Value::from(self.is(RelationType::MaterializedView)),
            // dbt-postgres renames and replaces views and tables only.
            "can_be_renamed" | "can_be_replaced" => {
                Value::from(self.is(RelationType::Table) || self.is(RelationType::View))
            }
            "metadata" => Value::from_iter([("type", CLASS_NAME)]),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&["path", "type", "include_policy", "quote_policy", "metadata"])
    }

    fn is_true(self: &Arc<Self>) -> bool {
        true
    }

    fn custom_cmp(self: &Arc<Self>, other: &DynObject) -> Option<Ordering> {
        Some((**self).cmp(other.downcast_ref::<Self>()?))
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let next = match method {
            "render" => {
                // dbt: the plain name, without the `--empty` or batch subquery (the way a
                // model opts a ref out of its batch filter).
                bind("render", args, &[])?;
                let plain = RelationValue {
                    empty: false,
                    event_time: None,
                    ..(**self).clone()
                };
                return Ok(Value::from(plain.to_string()));
            }
            "get" => {
                let bound = bind("get", args, &["key", "default"])?;
                let key = bound.required("key")?;
                return Ok(self
                    .get_value(key)
                    .unwrap_or_else(|| bound.given("default").cloned().unwrap_or_default()));
            }
            "include" => RelationValue {
                include: self.include.updated(&bind("include", args, PARTS)?)?,
                ..(**self).clone()
            },
            "quote" => RelationValue {
                quote: self.quote.updated(&bind("quote", args, PARTS)?)?,
                ..(**self).clone()
            },
            "without_identifier" => {
                bind("without_identifier", args, &[])?;
                RelationValue {
                    identifier: None,
                    include: Policy {
                        identifier: false,
                        ..self.include
                    },
                    ..(**self).clone()
                }
            }
            "incorporate" => self.incorporate(args)?,
            "replace_path" => self.replace_path(args)?,
            "information_schema" => return self.information_schema(args).map(Value::from),
            _ => {
                return Err(Error::new(
                    ErrorKind::UnknownMethod,
                    format!("a relation has no method '{method}'"),
                ))
            }
        };
        Ok(next.into_value())
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
