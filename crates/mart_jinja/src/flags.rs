//! dbt's `flags`: the invocation's settings (`flags.FULL_REFRESH`, `flags.WHICH`, ...),
//! set by the command once it knows them; a name dbt has but the command did not set
//! reads as none, a name dbt does not have is undefined.

use std::fmt;
use std::sync::{Arc, Mutex};

use minijinja::value::{Enumerator, Object, Value};

/// The flags dbt's context has, with the value a command that sets nothing gives them.
const DEFAULTS: [(&str, FlagDefault); 12] = [
    ("FULL_REFRESH", FlagDefault::Bool(false)),
    ("STORE_FAILURES", FlagDefault::Bool(false)),
    ("FAIL_FAST", FlagDefault::Bool(false)),
    ("EMPTY", FlagDefault::Bool(false)),
    ("USE_COLORS", FlagDefault::Bool(false)),
    ("DEBUG", FlagDefault::Bool(false)),
    ("WARN_ERROR", FlagDefault::Bool(false)),
    ("PARTIAL_PARSE", FlagDefault::Bool(true)),
    ("WHICH", FlagDefault::Str("parse")),
    ("INVOCATION_COMMAND", FlagDefault::Str("mart")),
    ("LOG_FORMAT", FlagDefault::Str("text")),
    ("STATE", FlagDefault::None),
];

#[derive(Clone, Copy)]
enum FlagDefault {
    Bool(bool),
    Str(&'static str),
    None,
}

impl FlagDefault {
    fn value(self) -> Value {
        match self {
            FlagDefault::Bool(b) => Value::from(b),
            FlagDefault::Str(s) => Value::from(s),
            FlagDefault::None => Value::from(()),
        }
    }
}

#[derive(Default)]
pub(crate) struct Flags {
    set: Mutex<serde_json::Map<String, serde_json::Value>>,
}

impl fmt::Debug for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Flags")
    }
}

impl Flags {
    pub fn set(&self, flags: serde_json::Map<String, serde_json::Value>) {
        *self.set.lock().unwrap_or_else(|e| e.into_inner()) = flags;
    }
}

impl Object for Flags {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let key = key.as_str()?;
        let set = self.set.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(value) = set.get(key) {
            return Some(Value::from_serialize(value));
        }
        DEFAULTS
            .iter()
            .find(|(name, _)| *name == key)
            .map(|(_, default)| default.value())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&[
            "FULL_REFRESH",
            "STORE_FAILURES",
            "FAIL_FAST",
            "EMPTY",
            "USE_COLORS",
            "DEBUG",
            "WARN_ERROR",
            "PARTIAL_PARSE",
            "WHICH",
            "INVOCATION_COMMAND",
            "LOG_FORMAT",
            "STATE",
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_flags_override_defaults_and_unknown_ones_are_undefined() {
        let flags = Arc::new(Flags::default());
        let get = |k: &str| flags.get_value(&Value::from(k));
        assert_eq!(get("FULL_REFRESH"), Some(Value::from(false)));
        assert_eq!(get("WHICH"), Some(Value::from("parse")));
        assert_eq!(get("NOPE"), None);
        let mut set = serde_json::Map::new();
        set.insert("FULL_REFRESH".into(), serde_json::json!(true));
        set.insert("WHICH".into(), serde_json::json!("run"));
        flags.set(set);
        assert_eq!(get("FULL_REFRESH"), Some(Value::from(true)));
        assert_eq!(get("WHICH"), Some(Value::from("run")));
        assert_eq!(get("STATE"), Some(Value::from(())));
    }
}
