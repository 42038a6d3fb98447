//! packages.yml / dependencies.yml: the package entries as typed specs, each with the
//! file and line it is written at, as written (dbt's `unrendered`) and as rendered.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::{DepsError, Origin, Warning};
use crate::render::{render_env_vars, EnvLookup};
use crate::yaml_lines;

pub const PACKAGES_FILE_NAME: &str = "packages.yml";
pub const DEPENDENCIES_FILE_NAME: &str = "dependencies.yml";

/// The packages a project (or package) asks for.
#[derive(Clone, Debug)]
pub struct PackagesFile {
    /// packages.yml or dependencies.yml, whichever holds the `packages:` list.
    pub path: PathBuf,
    pub entries: Vec<PackageEntry>,
    pub warnings: Vec<Warning>,
}

/// One item of the `packages:` list.
#[derive(Clone, Debug, PartialEq)]
pub struct PackageEntry {
    pub origin: Origin,
    pub source: Source,
    /// The entry as written, before env_var() is rendered.
    pub unrendered: Map<String, Value>,
    /// The entry with env_var() rendered; other values keep their YAML types.
    pub rendered: Map<String, Value>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// `local:`, a path relative to the folder of the file that names it.
    Local {
        path: String,
    },
    Git(GitSpec),
    Tarball(TarballSpec),
    Hub(HubSpec),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GitSpec {
    pub url: String,
    /// The URL as written (the lock keeps it so a token stays an env_var() call).
    pub url_unrendered: String,
    /// A branch, tag or full commit SHA; none means the default branch (HEAD).
    pub revision: Option<String>,
    pub subdirectory: Option<String>,
    /// `warn-unpinned:` (none means warn).
    pub warn_unpinned: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TarballSpec {
    pub url: String,
    pub url_unrendered: String,
    /// The folder name it installs under (dbt takes it from the spec, not the tarball).
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HubSpec {
    /// `org/name`.
    pub package: String,
    /// Range strings such as ">=1.0.0", "<2.0.0" or "1.1.1"; all must hold.
    pub versions: Vec<String>,
    pub install_prerelease: bool,
}

const KIND_KEYS: [&str; 5] = ["local", "git", "tarball", "package", "private"];

fn allowed_keys(kind: &str) -> &'static [&'static str] {
    match kind {
        "local" => &["local", "name"],
        "git" => &["git", "revision", "subdirectory", "warn-unpinned", "name"],
        "tarball" => &["tarball", "name"],
        _ => &[
            "package",
            "version",
            "install_prerelease",
            "install-prerelease",
            "name",
        ],
    }
}

/// Reads the project's packages.yml or dependencies.yml (dbt's rules for having both);
/// `None` when neither exists.
pub fn read_packages(dir: &Path, env: EnvLookup<'_>) -> Result<Option<PackagesFile>, DepsError> {
    let packages = read_yaml(&dir.join(PACKAGES_FILE_NAME))?;
    let dependencies = read_yaml(&dir.join(DEPENDENCIES_FILE_NAME))?;
    if let Some((path, text, map)) = &dependencies {
        if map.contains_key("projects") {
            let line = yaml_lines::top_level_key_line(text, "projects");
            return Err(DepsError::file(
                Origin::new(path, line),
                "`projects:` (cross-project references) is a dbt Cloud feature; mart does not support it",
                "remove `projects:` from dependencies.yml and install those projects as packages",
            ));
        }
    }
    if let Some((path, text, map)) = &packages {
        if map.contains_key("projects") {
            let line = yaml_lines::top_level_key_line(text, "projects");
            return Err(DepsError::file(
                Origin::new(path, line),
                "The 'projects' key cannot be specified in packages.yml",
                "move `projects:` to dependencies.yml (it is a dbt Cloud feature)",
            ));
        }
    }
    let chosen = match (packages, dependencies) {
        (Some(p), Some(d)) if p.2.contains_key("packages") && d.2.contains_key("packages") => {
            let line = yaml_lines::top_level_key_line(&d.1, "packages");
            return Err(DepsError::file(
                Origin::new(&d.0, line),
                "The 'packages' key cannot be specified in both packages.yml and dependencies.yml",
                "keep the `packages:` list in one of the two files",
            ));
        }
        (_, Some(d)) if d.2.contains_key("packages") => d,
        (Some(p), _) => p,
        (None, Some(d)) => d,
        (None, None) => return Ok(None),
    };
    let (path, text, map) = chosen;
    parse_packages_map(&path, &text, &map, &[], env).map(Some)
}

type YamlFile = (PathBuf, String, Map<String, Value>);

fn read_yaml(path: &Path) -> Result<Option<YamlFile>, DepsError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(DepsError::io("read", path, e)),
    };
    let map = parse_yaml_map(path, &text)?;
    Ok(Some((path.to_path_buf(), text, map)))
}

/// A YAML file whose top level is a mapping (an empty file is an empty mapping).
pub(crate) fn parse_yaml_map(path: &Path, text: &str) -> Result<Map<String, Value>, DepsError> {
    let value: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| {
        let line = e.location().map(|l| l.line());
        DepsError::file(
            Origin::new(path, line),
            format!("invalid YAML: {e}"),
            "fix the YAML at that line (indentation or quoting)",
        )
    })?;
    let json = match value {
        serde_yaml::Value::Null => return Ok(Map::new()),
        other => serde_json::to_value(other).map_err(|e| {
            DepsError::file(
                Origin::new(path, None),
                format!("unsupported YAML value: {e}"),
                "use only string keys and plain values",
            )
        })?,
    };
    match json {
        Value::Object(map) => Ok(map),
        _ => Err(DepsError::file(
            Origin::new(path, Some(1)),
            "the file is not a YAML mapping",
            "write `packages:` followed by a list of packages",
        )),
    }
}

/// The `packages:` list of a parsed file; `other_keys` are further top-level keys the
/// file may have (the lock's `sha1_hash`).
pub(crate) fn parse_packages_map(
    path: &Path,
    text: &str,
    map: &Map<String, Value>,
    other_keys: &[&str],
    env: EnvLookup<'_>,
) -> Result<PackagesFile, DepsError> {
    let mut warnings = Vec::new();
    let known: Vec<&str> = std::iter::once("packages")
        .chain(other_keys.iter().copied())
        .collect();
    for key in map.keys().filter(|k| !known.contains(&k.as_str())) {
        let line = yaml_lines::top_level_key_line(text, key);
        warnings.push(unknown_key(path, line, key, &known));
    }
    let items = match map.get("packages") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        Some(_) => {
            let line = yaml_lines::top_level_key_line(text, "packages");
            return Err(DepsError::file(
                Origin::new(path, line),
                "`packages:` is not a list",
                "write each package as a list item: `- package: dbt-labs/dbt_utils`",
            ));
        }
    };
    let lines = yaml_lines::entry_lines(text);
    let key_line = yaml_lines::top_level_key_line(text, "packages");
    let mut entries = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let start = lines.get(i).copied().or(key_line);
        let end = lines.get(i + 1).copied();
        let origin = Origin::new(path, start);
        let key_origin = |key: &str| {
            let line = start.and_then(|s| yaml_lines::key_line(text, key, s, end));
            Origin::new(path, line.or(start))
        };
        let (entry, mut entry_warnings) = parse_entry(item, origin, &key_origin, env)?;
        entries.push(entry);
        warnings.append(&mut entry_warnings);
    }
    Ok(PackagesFile {
        path: path.to_path_buf(),
        entries,
        warnings,
    })
}

/// Entries given as JSON (the `packages` of a hub version), all at one origin.
pub(crate) fn parse_json_entries(
    items: &[Value],
    origin: &Origin,
    env: EnvLookup<'_>,
) -> Result<Vec<PackageEntry>, DepsError> {
    items
        .iter()
        .map(|item| parse_entry(item, origin.clone(), &|_| origin.clone(), env).map(|(e, _)| e))
        .collect()
}

fn unknown_key(path: &Path, line: Option<usize>, key: &str, known: &[&str]) -> Warning {
    let hint = mart_diagnostics::closest_name(key, known.iter().copied())
        .map(|k| format!("; did you mean `{k}`?"))
        .unwrap_or_else(|| format!(" (known keys: {})", known.join(", ")));
    Warning {
        origin: Origin::new(path, line),
        message: format!("unknown key `{key}` is ignored{hint}"),
    }
}

fn parse_entry(
    item: &Value,
    origin: Origin,
    key_origin: &dyn Fn(&str) -> Origin,
    env: EnvLookup<'_>,
) -> Result<(PackageEntry, Vec<Warning>), DepsError> {
    let Value::Object(unrendered) = item else {
        return Err(DepsError::file(
            origin,
            "a package entry is not a mapping",
            "write it as `- package: org/name` with `version:` (or local:, git:, tarball:)",
        ));
    };
    let kinds: Vec<&str> = KIND_KEYS
        .into_iter()
        .filter(|k| unrendered.contains_key(*k))
        .collect();
    let kind = match kinds.as_slice() {
        [kind] => *kind,
        [] => {
            return Err(DepsError::file(
                origin,
                "a package entry has none of `local:`, `git:`, `tarball:` or `package:`",
                "say where the package comes from with one of those keys",
            ))
        }
        many => {
            return Err(DepsError::file(
                origin,
                format!(
                    "a package entry has more than one source: {}",
                    many.join(", ")
                ),
                "write each source as its own list item",
            ))
        }
    };
    let mut rendered = Map::new();
    for (key, value) in unrendered {
        let value = render_value(value, env).map_err(|why| {
            DepsError::file(key_origin(key), why, "set the variable or fix the value")
        })?;
        rendered.insert(key.clone(), value);
    }
    let mut warnings = Vec::new();
    let known = allowed_keys(kind);
    for key in rendered.keys().filter(|k| !known.contains(&k.as_str())) {
        let at = key_origin(key);
        warnings.push(unknown_key(&at.file, at.line, key, known));
    }
    let field = Fields {
        map: &rendered,
        key_origin,
    };
    let source = match kind {
        "local" => Source::Local {
            path: field.required_string("local")?,
        },
        "git" => Source::Git(GitSpec {
            url: field.required_string("git")?,
            url_unrendered: string_of(unrendered.get("git")).unwrap_or_default(),
            revision: field.optional_scalar("revision")?,
            subdirectory: field.optional_scalar("subdirectory")?,
            warn_unpinned: field.optional_bool("warn-unpinned")?.unwrap_or(true),
        }),
        "tarball" => Source::Tarball(TarballSpec {
            url: field.required_string("tarball")?,
            url_unrendered: string_of(unrendered.get("tarball")).unwrap_or_default(),
            name: field.required_string("name")?,
        }),
        "package" => Source::Hub(hub_spec(&field, &origin)?),
        _ => {
            return Err(DepsError::file(
                origin,
                "`private:` packages need dbt Cloud's git provider integration, which mart does not have",
                "use a `git:` package with the repository URL instead",
            ))
        }
    };
    let entry = PackageEntry {
        origin,
        source,
        unrendered: unrendered.clone(),
        rendered,
    };
    Ok((entry, warnings))
}

fn hub_spec(field: &Fields<'_>, origin: &Origin) -> Result<HubSpec, DepsError> {
    let package = field.required_string("package")?;
    if !package.contains('/') {
        return Err(DepsError::file(
            field.at("package"),
            format!("{package} was not found in the package index. Packages on the index require a namespace, e.g dbt-labs/dbt_utils"),
            "write the hub name as org/name",
        ));
    }
    let missing = || {
        DepsError::file(
            origin.clone(),
            format!("{package} is missing the version. When installing from the Hub package index, version is a required property"),
            "add `version:` with a version or a list of ranges, e.g. [\">=1.0.0\", \"<2.0.0\"]",
        )
    };
    let versions = match field.map.get("version") {
        None | Some(Value::Null) => return Err(missing()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| scalar_string(v).ok_or_else(|| field.wrong("version", "a version string")))
            .collect::<Result<Vec<_>, _>>()?,
        Some(v) => {
            vec![scalar_string(v).ok_or_else(|| field.wrong("version", "a version string"))?]
        }
    };
    if versions.is_empty() || versions.iter().any(String::is_empty) {
        return Err(missing());
    }
    let prerelease = field.optional_bool("install_prerelease")?;
    let prerelease_dashed = field.optional_bool("install-prerelease")?;
    Ok(HubSpec {
        package,
        versions,
        install_prerelease: prerelease.or(prerelease_dashed).unwrap_or(false),
    })
}

struct Fields<'a> {
    map: &'a Map<String, Value>,
    key_origin: &'a dyn Fn(&str) -> Origin,
}

impl Fields<'_> {
    fn at(&self, key: &str) -> Origin {
        (self.key_origin)(key)
    }

    fn wrong(&self, key: &str, expected: &str) -> DepsError {
        DepsError::file(
            self.at(key),
            format!("`{key}:` is not {expected}"),
            format!("write `{key}:` as {expected}"),
        )
    }

    fn required_string(&self, key: &str) -> Result<String, DepsError> {
        match self.optional_scalar(key)? {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(DepsError::file(
                self.at(key),
                format!("`{key}:` is missing its value. It is a required property."),
                format!("give `{key}:` a value"),
            )),
        }
    }

    fn optional_scalar(&self, key: &str) -> Result<Option<String>, DepsError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => scalar_string(v)
                .map(Some)
                .ok_or_else(|| self.wrong(key, "a string")),
        }
    }

    fn optional_bool(&self, key: &str) -> Result<Option<bool>, DepsError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(self.wrong(key, "true or false")),
        }
    }
}

/// A string or number as dbt's `str()` of it (a YAML `1.0` stays "1.0").
fn scalar_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(crate::hash::python_number(n)),
        _ => None,
    }
}

fn string_of(value: Option<&Value>) -> Option<String> {
    value.and_then(scalar_string)
}

fn render_value(value: &Value, env: EnvLookup<'_>) -> Result<Value, String> {
    Ok(match value {
        Value::String(s) => Value::String(render_env_vars(s, env)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| render_value(v, env))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                out.insert(k.clone(), render_value(v, env)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

#[cfg(test)]
#[path = "spec_tests.rs"]
mod tests;
