//! Secret values and their scrubbing. As in dbt, a secret is the value of any
//! `DBT_ENV_SECRET_*` environment variable, plus the profile's password; every output
//! edge (terminal lines, artifacts, files under the target directory) passes its text
//! through [`scrub`], which puts [`MASK`] where a secret was.

use std::borrow::Cow;
use std::sync::{OnceLock, RwLock};

/// dbt's prefix of environment variables whose values are secrets.
pub const SECRET_ENV_PREFIX: &str = "DBT_ENV_SECRET_";

/// What a secret value is replaced by, as dbt prints it.
pub const MASK: &str = "*****";

/// Secrets learnt while running (the profile's password), besides the environment's.
static REGISTERED: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Whether `name` is a variable only profiles.yml and packages.yml may read.
pub fn is_secret_env_var(name: &str) -> bool {
    name.starts_with(SECRET_ENV_PREFIX)
}

/// Marks `value` as secret from now on. Blank values are not secrets (masking them would
/// mangle every line).
pub fn register_secret(value: &str) {
    if value.trim().is_empty() {
        return;
    }
    if let Ok(mut registered) = REGISTERED.write() {
        if !registered.iter().any(|s| s == value) {
            registered.push(value.to_string());
        }
    }
}

/// The values of the process's `DBT_ENV_SECRET_*` variables, read once.
fn env_secrets() -> &'static [String] {
    static FROM_ENV: OnceLock<Vec<String>> = OnceLock::new();
    FROM_ENV.get_or_init(|| {
        std::env::vars_os()
            .filter(|(name, _)| name.to_str().is_some_and(is_secret_env_var))
            .filter_map(|(_, value)| value.into_string().ok())
            .filter(|value| !value.trim().is_empty())
            .collect()
    })
}

/// `text` with every secret value, as is and as it looks inside a JSON string, replaced
/// by [`MASK`]. Longer secrets go first, so a secret that contains another is masked
/// whole.
pub fn scrub(text: &str) -> Cow<'_, str> {
    let secrets = secret_values();
    if secrets.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut forms: Vec<String> = Vec::new();
    for secret in secrets {
        let escaped = json_escaped(&secret);
        if escaped != secret {
            forms.push(escaped);
        }
        forms.push(secret);
    }
    forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
    let mut out = Cow::Borrowed(text);
    for form in &forms {
        if out.contains(form.as_str()) {
            out = Cow::Owned(out.replace(form.as_str(), MASK));
        }
    }
    out
}

/// Whether a secret value appears in `bytes` as is: for binary files, which cannot be
/// scrubbed and are then better not written.
pub fn appears_in(bytes: &[u8]) -> bool {
    secret_values().iter().any(|secret| {
        bytes
            .windows(secret.len())
            .any(|window| window == secret.as_bytes())
    })
}

/// Whether there is any secret to mask (most runs have none, and skip the work).
pub fn any_secrets() -> bool {
    !env_secrets().is_empty() || REGISTERED.read().is_ok_and(|r| !r.is_empty())
}

/// The environment's secrets and the registered ones.
fn secret_values() -> Vec<String> {
    let registered = REGISTERED.read().map(|r| r.clone()).unwrap_or_default();
    env_secrets().iter().cloned().chain(registered).collect()
}

/// `value` as serde_json writes it inside a string, without the quotes.
fn json_escaped(value: &str) -> String {
    let quoted = serde_json::Value::from(value).to_string();
    quoted[1..quoted.len() - 1].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_are_masked_raw_and_json_escaped() {
        register_secret("pa\"ss-unit-1");
        register_secret("  ");
        assert_eq!(
            scrub("password=pa\"ss-unit-1;"),
            format!("password={MASK};")
        );
        assert_eq!(
            scrub(r#"{"msg":"pa\"ss-unit-1"}"#),
            format!(r#"{{"msg":"{MASK}"}}"#)
        );
        assert_eq!(scrub("nothing secret here  "), "nothing secret here  ");
        assert!(appears_in(b"\x00\x01pa\"ss-unit-1\x02"));
        assert!(!appears_in(b"pa\"ss-unit-"));
    }

    #[test]
    fn a_longer_secret_containing_a_shorter_one_is_masked_whole() {
        register_secret("abc-unit-2");
        register_secret("xxabc-unit-2yy");
        assert_eq!(scrub("[xxabc-unit-2yy]"), format!("[{MASK}]"));
    }

    #[test]
    fn secret_names_are_recognised_by_prefix() {
        assert!(is_secret_env_var("DBT_ENV_SECRET_PASSWORD"));
        assert!(!is_secret_env_var("DBT_ENV_PASSWORD"));
    }
}
