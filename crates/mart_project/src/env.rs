//! `env_var()`: shared by profiles.yml rendering here and the model Jinja context.

use std::collections::BTreeMap;
use std::sync::Mutex;

use minijinja::{Error, ErrorKind};

use crate::secrets::{is_secret_env_var, SECRET_ENV_PREFIX};

/// Every variable `env_var()` has looked up in this process, with what it found: a saved
/// parse is current only while they are unchanged (see [`crate::InputStamp`]).
static READ: Mutex<BTreeMap<String, Option<String>>> = Mutex::new(BTreeMap::new());

/// The value of environment variable `name`, else `default`, else an error saying how to
/// fix it. Secret variables (`DBT_ENV_SECRET_*`) are refused: as in dbt, only
/// profiles.yml and packages.yml may read them, so that their values never reach SQL,
/// logs or artifacts.
pub fn env_var(name: &str, default: Option<&str>) -> Result<String, Error> {
    if is_secret_env_var(name) {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!(
                "secret env vars are allowed only in profiles.yml or packages.yml; found '{name}' here. Read it in profiles.yml, or drop the {SECRET_ENV_PREFIX} prefix if the value is not a secret"
            ),
        ));
    }
    read_env_var(name, default)
}

/// [`env_var`] for the files that may read secrets.
fn read_env_var(name: &str, default: Option<&str>) -> Result<String, Error> {
    let found = std::env::var(name).ok();
    if let Ok(mut read) = READ.lock() {
        read.insert(name.to_string(), found.clone());
    }
    match found {
        Some(value) => Ok(value),
        None => default.map(str::to_string).ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!(
                    "environment variable '{name}' is not set; set it or give env_var() a default: env_var('{name}', 'value')"
                ),
            )
        }),
    }
}

/// The variables `env_var()` has read so far and their values.
pub(crate) fn env_vars_read() -> BTreeMap<String, Option<String>> {
    READ.lock().map(|read| read.clone()).unwrap_or_default()
}

/// A Jinja environment with only `env_var` (secrets allowed) and dbt's type filters for
/// rendering profiles.yml values.
pub(crate) fn yaml_environment() -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    env.add_function("env_var", |name: String, default: Option<String>| {
        read_env_var(&name, default.as_deref())
    });
    add_type_filters(&mut env);
    env
}

/// dbt's filters that give a rendered YAML value its type: `as_bool`, `as_number`,
/// `as_text`, `as_native`.
pub fn add_type_filters(env: &mut minijinja::Environment<'static>) {
    use minijinja::value::Value;
    env.add_filter("as_bool", |v: Value| -> Value {
        match v.as_str() {
            Some(s) if s.eq_ignore_ascii_case("true") => Value::from(true),
            Some(s) if s.eq_ignore_ascii_case("false") => Value::from(false),
            _ => v,
        }
    });
    env.add_filter("as_number", |v: Value| -> Value {
        match v.as_str().map(str::trim) {
            Some(s) => s
                .parse::<i64>()
                .map(Value::from)
                .or_else(|_| s.parse::<f64>().map(Value::from))
                .unwrap_or(v.clone()),
            None => v,
        }
    });
    env.add_filter("as_text", |v: Value| v.to_string());
    env.add_filter("as_native", |v: Value| v);
}
