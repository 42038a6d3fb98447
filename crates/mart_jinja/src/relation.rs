//! The Relation value `ref()`, `source()` and `this` return: renders as the quoted name.

use std::fmt;
use std::sync::Arc;

use mart_adapter::{quote_ident, Relation};
use minijinja::value::{from_args, Enumerator, Kwargs, Object, Value};
use minijinja::{Error, State};

/// A relation as Jinja sees it. An ephemeral model's relation renders as its CTE name.
#[derive(Debug, Clone)]
pub struct RelationValue {
    pub relation: Relation,
    /// Set for ephemeral models: the CTE that will be injected.
    pub cte_name: Option<String>,
}

impl RelationValue {
    pub fn new(relation: Relation) -> Self {
        Self {
            relation,
            cte_name: None,
        }
    }

    pub fn into_value(self) -> Value {
        Value::from_object(self)
    }
}

impl fmt::Display for RelationValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cte_name {
            Some(cte) => f.write_str(cte),
            // `include(schema=False)`: the bare identifier (a database alone means nothing).
            None if self.relation.schema.is_empty() => {
                f.write_str(&quote_ident(&self.relation.identifier))
            }
            None => write!(f, "{}", self.relation),
        }
    }
}

impl Object for RelationValue {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let r = &self.relation;
        Some(match key.as_str()? {
            "database" => Value::from(r.database.clone()),
            "schema" => Value::from(r.schema.clone()),
            "identifier" | "name" | "table" => Value::from(r.identifier.clone()),
            "is_table" | "is_view" | "is_cte" => Value::from(false),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&["database", "schema", "identifier", "name"])
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "render" => Ok(Value::from(self.to_string())),
            "include" | "incorporate" => {
                let (kwargs,): (Kwargs,) = from_args(args)?;
                let mut next = (**self).clone();
                if method == "include" {
                    let database: Option<bool> = kwargs.get("database")?;
                    let schema: Option<bool> = kwargs.get("schema")?;
                    if database == Some(false) {
                        next.relation.database = None;
                    }
                    if schema == Some(false) {
                        next.relation.schema.clear();
                    }
                } else {
                    if let Some(identifier) = kwargs.get::<Option<String>>("identifier")? {
                        next.relation.identifier = identifier;
                    }
                    if let Some(schema) = kwargs.get::<Option<String>>("schema")? {
                        next.relation.schema = schema;
                    }
                }
                kwargs.assert_all_used()?;
                Ok(next.into_value())
            }
            "quote" => Ok(Value::from(quote_ident(&self.relation.identifier))),
            _ => Err(Error::from(minijinja::ErrorKind::UnknownMethod)),
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
