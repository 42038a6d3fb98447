//! What dbt's context says about the running command: `run_started_at` (an aware UTC
//! datetime), `invocation_id`, `thread_id`, `selected_resources` and `graph` (the
//! project's nodes and sources with their configs and columns, built when a template
//! first reads it, since most never do).

use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

use minijinja::value::{Enumerator, Object, Value};
use minijinja::Environment;

use crate::python::PyDateTime;

/// Builds `graph`'s content: `{nodes: {...}, sources: {...}, exposures: {}, ...}`.
pub type GraphBuilder = Box<dyn Fn() -> serde_json::Value + Send + Sync>;

/// The invocation's values that a command sets after the environment is made.
#[derive(Default)]
pub(crate) struct Invocation {
    selected: Mutex<Vec<String>>,
    graph_builder: Mutex<Option<GraphBuilder>>,
    graph: OnceLock<Value>,
}

impl fmt::Debug for Invocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Invocation")
    }
}

impl Invocation {
    pub fn set_selected(&self, ids: Vec<String>) {
        *self.selected.lock().unwrap_or_else(|e| e.into_inner()) = ids;
    }

    pub fn set_graph(&self, builder: GraphBuilder) {
        *self.graph_builder.lock().unwrap_or_else(|e| e.into_inner()) = Some(builder);
    }

    fn graph(&self) -> Value {
        self.graph
            .get_or_init(|| {
                let builder = self.graph_builder.lock().unwrap_or_else(|e| e.into_inner());
                // While parsing there is no graph yet: dbt's is empty then too.
                let content = builder.as_ref().map_or_else(empty_graph, |build| build());
                Value::from_serialize(&content)
            })
            .clone()
    }
}

fn empty_graph() -> serde_json::Value {
    serde_json::json!({
        "nodes": {}, "sources": {}, "exposures": {}, "metrics": {},
        "groups": {}, "semantic_models": {}, "saved_queries": {},
    })
}

/// `graph` and `selected_resources`, read from the invocation when used.
#[derive(Debug)]
struct InvocationGlobal {
    invocation: Arc<Invocation>,
    key: &'static str,
}

impl Object for InvocationGlobal {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match self.key {
            "graph" => self
                .invocation
                .graph()
                .get_item(key)
                .ok()
                .filter(|v| !v.is_undefined()),
            _ => {
                let selected = self
                    .invocation
                    .selected
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                selected
                    .get(key.as_usize()?)
                    .map(|s| Value::from(s.as_str()))
            }
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        match self.key {
            "graph" => match self.invocation.graph().try_iter() {
                Ok(keys) => Enumerator::Values(keys.collect()),
                Err(_) => Enumerator::Empty,
            },
            _ => Enumerator::Seq(
                self.invocation
                    .selected
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .len(),
            ),
        }
    }

    fn repr(self: &Arc<Self>) -> minijinja::value::ObjectRepr {
        match self.key {
            "graph" => minijinja::value::ObjectRepr::Map,
            _ => minijinja::value::ObjectRepr::Seq,
        }
    }
}

pub(crate) fn register(
    env: &mut Environment<'static>,
    invocation_id: &str,
    run_started_at: std::time::SystemTime,
) -> Arc<Invocation> {
    let invocation = Arc::new(Invocation::default());
    env.add_global(
        "run_started_at",
        Value::from(PyDateTime::utc(run_started_at)),
    );
    env.add_global("invocation_id", Value::from(invocation_id.to_string()));
    // mart renders on worker threads of its own; dbt's name for the main one.
    env.add_global("thread_id", Value::from("MainThread"));
    for key in ["graph", "selected_resources"] {
        env.add_global(
            key,
            Value::from_object(InvocationGlobal {
                invocation: invocation.clone(),
                key,
            }),
        );
    }
    invocation
}
