//! `env_var()`: shared by profiles.yml rendering here and the model Jinja context.

use minijinja::{Error, ErrorKind};

/// The value of environment variable `name`, else `default`, else an error saying how to fix it.
pub fn env_var(name: &str, default: Option<&str>) -> Result<String, Error> {
    match std::env::var(name) {
        Ok(value) => Ok(value),
        Err(_) => default.map(str::to_string).ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!(
                    "environment variable '{name}' is not set; set it or give env_var() a default: env_var('{name}', 'value')"
                ),
            )
        }),
    }
}

/// A Jinja environment with only `env_var` for rendering YAML values such as profiles.
pub(crate) fn yaml_environment() -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    env.add_function("env_var", |name: String, default: Option<String>| {
        env_var(&name, default.as_deref())
    });
    env
}
