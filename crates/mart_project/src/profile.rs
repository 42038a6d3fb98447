//! profiles.yml in dbt's format: profile -> target -> outputs.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mart_diagnostics::{Code, Diagnostic, SourceFile};
use serde_json::Value;

use crate::{env, yaml};

/// A secret that never shows in Debug output, logs or artifacts (its value is registered
/// with [`crate::secrets`], which masks it at every output edge).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

/// The connection target a command runs against.
#[derive(Clone, Debug)]
pub struct Target {
    pub profile_name: String,
    pub name: String,
    pub adapter_type: String,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Secret,
    pub dbname: String,
    pub schema: String,
    pub threads: usize,
    pub sslmode: Option<String>,
    pub connect_timeout: Option<u64>,
    /// Where the profile came from, for messages.
    pub file: PathBuf,
}

/// Directories searched for profiles.yml, in order.
pub fn profile_search_dirs(explicit: Option<&Path>, project_root: &Path) -> Vec<PathBuf> {
    if let Some(dir) = explicit {
        return vec![dir.to_path_buf()];
    }
    let mut dirs = Vec::new();
    if let Some(dir) = std::env::var_os("MART_PROFILES_DIR") {
        dirs.push(PathBuf::from(dir));
    }
    dirs.push(project_root.to_path_buf());
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(&home).join(".mart"));
        dirs.push(PathBuf::from(home).join(".dbt"));
    }
    dirs
}

/// Finds profiles.yml, renders env_var() in it and picks the profile and target.
pub fn load_target(
    dirs: &[PathBuf],
    profile_name: &str,
    target_override: Option<&str>,
) -> Result<Target, Diagnostic> {
    let Some(path) = dirs
        .iter()
        .map(|d| d.join("profiles.yml"))
        .find(|p| p.is_file())
    else {
        let searched: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        return Err(Diagnostic::error(
            Code::Profile,
            format!("no profiles.yml found (searched: {})", searched.join(", ")),
        )
        .with_help(
            "copy profiles.example.yml to profiles.yml in the project, or pass --profiles-dir DIR",
        ));
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Diagnostic::error(Code::Io, format!("cannot read {}: {e}", path.display())))?;
    let file = Arc::new(SourceFile::new(path.clone(), text));
    parse_target(&file, profile_name, target_override)
}

pub fn parse_target(
    file: &Arc<SourceFile>,
    profile_name: &str,
    target_override: Option<&str>,
) -> Result<Target, Diagnostic> {
    let raw: serde_yaml::Value = yaml::parse(file, Code::Profile)?;
    let root = yaml::to_json(raw);
    let error = |message: String, help: String| {
        Diagnostic::error(Code::Profile, message)
            .with_path(&file.path)
            .with_help(help)
    };
    let Some(profile) = root.get(profile_name) else {
        let names: Vec<&str> = root
            .as_object()
            .map(|m| {
                m.keys()
                    .map(String::as_str)
                    .filter(|k| *k != "config")
                    .collect()
            })
            .unwrap_or_default();
        return Err(error(
            format!("profile '{profile_name}' is not in {}", file.path.display()),
            format!(
                "add a '{profile_name}:' profile, or set `profile:` in the project file to one of: {}",
                names.join(", ")
            ),
        ));
    };
    let jinja = env::yaml_environment();
    let render = |value: &Value| -> Result<Value, Diagnostic> {
        match value {
            Value::String(s) if s.contains("{{") || s.contains("{%") => {
                jinja.render_str(s, ()).map(Value::String).map_err(|e| {
                    error(
                        format!(
                            "cannot render '{s}': {}",
                            e.detail().unwrap_or(&e.to_string())
                        ),
                        "check the env_var() call and that the variable is set".into(),
                    )
                })
            }
            other => Ok(other.clone()),
        }
    };
    let target_name = match target_override {
        Some(t) => t.to_string(),
        None => match profile.get("target").map(&render).transpose()? {
            Some(Value::String(t)) => t,
            _ => "dev".to_string(),
        },
    };
    let outputs = profile.get("outputs").and_then(Value::as_object);
    let Some(output) = outputs.and_then(|o| o.get(&target_name)) else {
        let names: Vec<&str> = outputs
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        return Err(error(
            format!("target '{target_name}' is not in profile '{profile_name}'"),
            format!("use --target with one of: {}", names.join(", ")),
        ));
    };
    let field = |keys: &[&str]| -> Result<Option<String>, Diagnostic> {
        for key in keys {
            if let Some(v) = output.get(*key) {
                return Ok(match render(v)? {
                    Value::String(s) => Some(s),
                    Value::Null => None,
                    other => Some(other.to_string()),
                });
            }
        }
        Ok(None)
    };
    let required = |keys: &[&str]| -> Result<String, Diagnostic> {
        field(keys)?.ok_or_else(|| {
            error(
                format!(
                    "target '{target_name}' of profile '{profile_name}' has no '{}'",
                    keys[0]
                ),
                format!("add `{}: ...` under outputs.{target_name}", keys[0]),
            )
        })
    };
    let number = |keys: &[&str], default: u64| -> Result<u64, Diagnostic> {
        match field(keys)? {
            None => Ok(default),
            Some(s) => s.trim().parse().map_err(|_| {
                error(
                    format!(
                        "'{}' of target '{target_name}' must be a whole number, found '{s}'",
                        keys[0]
                    ),
                    format!("set {} to a number", keys[0]),
                )
            }),
        }
    };
    let adapter_type = required(&["type"])?;
    if adapter_type != "postgres" {
        return Err(error(
            format!("target '{target_name}' has type '{adapter_type}'; mart supports postgres"),
            "set `type: postgres`".into(),
        ));
    }
    let port = number(&["port"], 5432)?;
    let password = field(&["password", "pass"])?.unwrap_or_default();
    let target = Target {
        profile_name: profile_name.to_string(),
        adapter_type,
        host: field(&["host"])?.unwrap_or_else(|| "127.0.0.1".into()),
        port: u16::try_from(port).map_err(|_| {
            error(
                format!("port {port} is out of range"),
                "use a port below 65536".into(),
            )
        })?,
        user: required(&["user"])?,
        password: Secret(password),
        dbname: required(&["dbname", "database"])?,
        schema: required(&["schema"])?,
        threads: usize::try_from(number(&["threads"], 1)?.max(1)).unwrap_or(1),
        sslmode: field(&["sslmode"])?,
        connect_timeout: field(&["connect_timeout"])?
            .map(|s| s.trim().parse())
            .transpose()
            .map_err(|_| {
                error(
                    "connect_timeout must be a number of seconds".into(),
                    "fix connect_timeout".into(),
                )
            })?,
        name: target_name,
        file: file.path.clone(),
    };
    // A password equal to a name the target shows anyway (a dev setup's user and password
    // `postgres`) is not masked: masking it would blank that name in every artifact.
    let password = target.password.expose();
    let shown = [&target.user, &target.dbname, &target.host, &target.schema];
    if !shown.iter().any(|name| *name == password) {
        crate::secrets::register_secret(password);
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROFILE: &str = "learn:\n  target: dev\n  outputs:\n    dev:\n      type: postgres\n      host: localhost\n      port: \"{{ env_var('MART_TEST_UNSET_PORT', '5433') }}\"\n      user: me\n      password: s3cret\n      dbname: db\n      schema: \"{{ env_var('MART_TEST_UNSET_SCHEMA', 'analytics') }}\"\n      threads: 8\n";

    fn file(text: &str) -> Arc<SourceFile> {
        Arc::new(SourceFile::new("profiles.yml", text))
    }

    #[test]
    fn reads_target_with_env_var_defaults() {
        let t = parse_target(&file(PROFILE), "learn", None).unwrap();
        assert_eq!(
            (t.port, t.schema.as_str(), t.threads),
            (5433, "analytics", 8)
        );
        assert_eq!(t.password.expose(), "s3cret");
        assert!(!format!("{t:?}").contains("s3cret"));
        assert_eq!(crate::secrets::scrub("pw s3cret"), "pw *****");
    }

    #[test]
    fn a_password_equal_to_a_shown_name_is_not_masked() {
        let text = PROFILE.replace("password: s3cret", "password: me");
        let t = parse_target(&file(&text), "learn", None).unwrap();
        assert_eq!(t.password.expose(), "me");
        assert_eq!(crate::secrets::scrub("user me"), "user me");
    }

    #[test]
    fn unknown_target_lists_the_known_ones() {
        let err = parse_target(&file(PROFILE), "learn", Some("prod")).unwrap_err();
        assert_eq!(err.message, "target 'prod' is not in profile 'learn'");
        assert_eq!(err.help.as_deref(), Some("use --target with one of: dev"));
    }

    #[test]
    fn unset_env_var_without_default_says_what_to_do() {
        let text = PROFILE.replace(
            "'MART_TEST_UNSET_SCHEMA', 'analytics'",
            "'MART_TEST_UNSET_SCHEMA'",
        );
        let err = parse_target(&file(&text), "learn", None).unwrap_err();
        assert!(
            err.message
                .contains("environment variable 'MART_TEST_UNSET_SCHEMA' is not set"),
            "{}",
            err.message
        );
    }
}
