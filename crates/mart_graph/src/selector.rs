//! dbt's selection grammar: `a b` (union), `a,b` (intersection), `@a`, `+a`, `2+a`,
//! `a+`, `a+2`, and `method:value` criteria.

use std::fmt;

use mart_diagnostics::{closest_name, Code, Diagnostic};

use crate::node::ResourceType;
use crate::state::{StateCheck, RESULT_STATUSES, STATE_VALUES};

/// The methods a selector may name before `:` (config takes a key: `config.<key>`).
const METHODS: [&str; 19] = [
    "tag",
    "path",
    "file",
    "fqn",
    "package",
    "source",
    "resource_type",
    "config",
    "test_type",
    "test_name",
    "exposure",
    "semantic_model",
    "metric",
    "saved_query",
    "state",
    "result",
    "version",
    "access",
    "group",
];

fn methods_list() -> String {
    METHODS
        .iter()
        .map(|m| if *m == "config" { "config.<key>" } else { m })
        .collect::<Vec<_>>()
        .join(", ")
}

fn did_you_mean(suggestion: &Option<String>) -> String {
    suggestion
        .as_ref()
        .map_or(String::new(), |s| format!("; did you mean '{s}'?"))
}

fn results_file(results: &bool) -> &'static str {
    if *results {
        " and run_results.json"
    } else {
        ""
    }
}

/// What is wrong with a selector, quoting the selector (one whitespace-separated token).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    #[error(
        "unknown selector method '{method}' in '{selector}'; methods are: {methods}{hint}",
        methods = methods_list(),
        hint = did_you_mean(suggestion)
    )]
    UnknownMethod {
        selector: String,
        method: String,
        suggestion: Option<String>,
    },
    #[error("selector '{selector}' has no value; write {example}")]
    EmptyValue { selector: String, example: String },
    #[error(
        "selector '{selector}' has an empty part between commas; \
         write 'a,b' to select what a and b have in common"
    )]
    EmptyPart { selector: String },
    #[error(
        "the depth '{depth}' in '{selector}' is not a usable number; \
         write a whole number, as in 2+model or model+2"
    )]
    BadDepth { selector: String, depth: String },
    #[error(
        "'@' cannot be combined with a '+' prefix in '{selector}'; \
         '@model' already selects the model, its descendants and their ancestors"
    )]
    AtWithParents { selector: String },
    #[error(
        "unexpected '{found}' in '{selector}'; graph operators go around a selector: \
         +model, 2+model, model+, model+2, @model"
    )]
    MisplacedOperator { selector: String, found: char },
    #[error(
        "unknown resource type '{value}' in '{selector}'; resource types are: {types}{hint}",
        types = ResourceType::names(),
        hint = did_you_mean(suggestion)
    )]
    UnknownResourceType {
        selector: String,
        value: String,
        suggestion: Option<String>,
    },
    #[error(
        "'config' needs a key in '{selector}'; write config.<key>:<value>, \
         as in config.materialized:table"
    )]
    ConfigWithoutKey { selector: String },
    #[error(
        "unknown version selector '{value}' in '{selector}'; \
         write version:latest, version:prerelease, version:old or version:none{hint}",
        hint = did_you_mean(suggestion)
    )]
    UnknownVersion {
        selector: String,
        value: String,
        suggestion: Option<String>,
    },
    #[error(
        "source selector '{selector}' has too many parts; write source:<source>, \
         source:<source>.<table> or source:<package>.<source>.<table>"
    )]
    SourceParts { selector: String },
    #[error("unknown state '{value}' in '{selector}'; state: takes {values}", values = STATE_VALUES)]
    UnknownState { selector: String, value: String },
    #[error(
        "unknown result status '{value}' in '{selector}'; result: takes {statuses}",
        statuses = RESULT_STATUSES.join(", ")
    )]
    UnknownResultStatus { selector: String, value: String },
    #[error(
        "'{selector}' compares with an earlier run: pass --state DIR (or set DBT_STATE), \
         DIR holding that run's manifest.json{files}",
        files = results_file(.results)
    )]
    NoState { selector: String, results: bool },
}

impl SelectorError {
    pub fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::error(Code::Selector, self.to_string())
    }
}

/// A whole selection value: the union of its whitespace-separated tokens. Empty when the
/// text held no selector.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Selector {
    pub union: Vec<Intersection>,
}

/// One whitespace-separated token: the intersection of its comma-separated parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Intersection {
    pub parts: Vec<SelectorPart>,
}

/// How far a graph operator reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Depth {
    All,
    Max(usize),
}

impl Depth {
    pub fn limit(self) -> Option<usize> {
        match self {
            Depth::All => None,
            Depth::Max(n) => Some(n),
        }
    }
}

/// One criterion with its graph operators.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectorPart {
    /// `@`: the matched nodes, their descendants and all ancestors of those.
    pub childrens_parents: bool,
    /// `+` / `N+` prefix: ancestors.
    pub parents: Option<Depth>,
    /// `+` / `+N` suffix: descendants.
    pub children: Option<Depth>,
    pub criterion: Criterion,
    /// False when the user wrote no method (`dim_user`, `models/dim`, `dim_user.sql`);
    /// only affects how the part is displayed.
    pub explicit_method: bool,
}

/// What a part matches before graph operators apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Criterion {
    /// Node name (glob) or fqn prefix, with or without the package (`fqn:`, and a bare
    /// value without `/` or a file extension). Never matches sources.
    Fqn(String),
    /// `tag:`; glob.
    Tag(String),
    /// `path:`; the file, or every file under the directory, relative to the project
    /// root, normalized to forward slashes without `./` or a trailing `/`.
    Path(String),
    /// `file:`, or a bare value ending in `.sql`, `.py` or `.csv`: the file name or stem.
    File(String),
    /// `package:`; glob.
    Package(String),
    /// `resource_type:`.
    ResourceType(ResourceType),
    /// `source:src`, `source:src.table`, `source:pkg.src.table`; each a glob.
    Source {
        package: Option<String>,
        source: String,
        table: Option<String>,
    },
    /// `config.<key>:<value>`; the value is a glob.
    Config { key: String, value: String },
    /// `test_type:generic`, `singular`, `data` (both) or `unit`.
    TestType(String),
    /// `test_name:unique`: generic tests by their test's name (glob allowed).
    TestName(String),
    /// `exposure:`, `semantic_model:`, `metric:` or `saved_query:` with `<name>` or
    /// `<package>.<name>` (each a glob): the nodes of that type.
    Named(ResourceType, String),
    /// `state:new`, `state:modified.body`, ...: compared with the `--state` manifest.
    State(StateCheck),
    /// `result:error`: the node's status in the `--state` run_results.json.
    Result(String),
    /// `version:latest|prerelease|old|none`: models by where their version stands.
    Version(VersionKind),
    /// `access:private|protected|public`: models by their access.
    Access(String),
    /// `group:<name>`: nodes in that group; glob.
    Group(String),
}

/// The values of the `version:` method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VersionKind {
    Latest,
    Prerelease,
    Old,
    /// Models without versions.
    None,
}

impl VersionKind {
    const ALL: [(&'static str, VersionKind); 4] = [
        ("latest", VersionKind::Latest),
        ("prerelease", VersionKind::Prerelease),
        ("old", VersionKind::Old),
        ("none", VersionKind::None),
    ];

    fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("none", |(name, _)| name)
    }
}

impl fmt::Display for Criterion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Criterion::Fqn(v) => write!(f, "fqn:{v}"),
            Criterion::Tag(v) => write!(f, "tag:{v}"),
            Criterion::Path(v) => write!(f, "path:{v}"),
            Criterion::File(v) => write!(f, "file:{v}"),
            Criterion::Package(v) => write!(f, "package:{v}"),
            Criterion::ResourceType(t) => write!(f, "resource_type:{t}"),
            Criterion::Source {
                package,
                source,
                table,
            } => {
                f.write_str("source:")?;
                if let Some(p) = package {
                    write!(f, "{p}.")?;
                }
                f.write_str(source)?;
                if let Some(t) = table {
                    write!(f, ".{t}")?;
                }
                Ok(())
            }
            Criterion::Config { key, value } => write!(f, "config.{key}:{value}"),
            Criterion::TestType(v) => write!(f, "test_type:{v}"),
            Criterion::TestName(v) => write!(f, "test_name:{v}"),
            Criterion::Named(t, v) => write!(f, "{t}:{v}"),
            Criterion::State(check) => write!(f, "state:{check}"),
            Criterion::Result(status) => write!(f, "result:{status}"),
            Criterion::Version(v) => write!(f, "version:{}", v.as_str()),
            Criterion::Access(v) => write!(f, "access:{v}"),
            Criterion::Group(v) => write!(f, "group:{v}"),
        }
    }
}

impl Criterion {
    fn value_text(&self) -> String {
        let text = self.to_string();
        match text.split_once(':') {
            Some((_, v)) => v.to_owned(),
            None => text,
        }
    }
}

impl fmt::Display for SelectorPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.childrens_parents {
            f.write_str("@")?;
        }
        match self.parents {
            Some(Depth::All) => f.write_str("+")?,
            Some(Depth::Max(n)) => write!(f, "{n}+")?,
            None => {}
        }
        if self.explicit_method {
            write!(f, "{}", self.criterion)?;
        } else {
            f.write_str(&self.criterion.value_text())?;
        }
        match self.children {
            Some(Depth::All) => f.write_str("+"),
            Some(Depth::Max(n)) => write!(f, "+{n}"),
            None => Ok(()),
        }
    }
}

impl fmt::Display for Intersection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, part) in self.parts.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{part}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, token) in self.union.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{token}")?;
        }
        Ok(())
    }
}

/// Parses one `--select`/`--exclude` value, which may hold several whitespace-separated
/// selectors.
pub fn parse_selector(text: &str) -> Result<Selector, SelectorError> {
    let union = text
        .split_whitespace()
        .map(parse_token)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Selector { union })
}

fn parse_token(token: &str) -> Result<Intersection, SelectorError> {
    let parts = token
        .split(',')
        .map(|part| {
            if part.is_empty() {
                Err(SelectorError::EmptyPart {
                    selector: token.to_owned(),
                })
            } else {
                parse_part(part)
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Intersection { parts })
}

fn parse_depth(digits: &str, selector: &str) -> Result<Depth, SelectorError> {
    if digits.is_empty() {
        return Ok(Depth::All);
    }
    digits
        .parse::<usize>()
        .map(Depth::Max)
        .map_err(|_| SelectorError::BadDepth {
            selector: selector.to_owned(),
            depth: digits.to_owned(),
        })
}

fn parse_part(text: &str) -> Result<SelectorPart, SelectorError> {
    let mut rest = text;
    let childrens_parents = match rest.strip_prefix('@') {
        Some(r) => {
            rest = r;
            true
        }
        None => false,
    };

    // Prefix: digits* '+'.
    let digits_len = rest.bytes().take_while(u8::is_ascii_digit).count();
    let parents = if rest[digits_len..].starts_with('+') {
        let depth = parse_depth(&rest[..digits_len], text)?;
        rest = &rest[digits_len + 1..];
        Some(depth)
    } else {
        None
    };
    if childrens_parents && parents.is_some() {
        return Err(SelectorError::AtWithParents {
            selector: text.to_owned(),
        });
    }

    // Suffix: '+' digits*.
    let trailing_digits = rest.bytes().rev().take_while(u8::is_ascii_digit).count();
    let before_digits = &rest[..rest.len() - trailing_digits];
    let children = match before_digits.strip_suffix('+') {
        Some(value) => {
            let depth = parse_depth(&rest[before_digits.len()..], text)?;
            rest = value;
            Some(depth)
        }
        None => None,
    };

    let (criterion, explicit_method) = match rest.split_once(':') {
        // A method's value may hold '+' (config.incremental_strategy:delete+insert).
        Some((method, value)) => (parse_method(method, value, text)?, true),
        None => {
            if let Some(found) = rest.chars().find(|c| matches!(c, '+' | '@')) {
                return Err(SelectorError::MisplacedOperator {
                    selector: text.to_owned(),
                    found,
                });
            }
            (default_criterion(rest, text)?, false)
        }
    };
    Ok(SelectorPart {
        childrens_parents,
        parents,
        children,
        criterion,
        explicit_method,
    })
}

fn empty_value(selector: &str, example: &str) -> SelectorError {
    SelectorError::EmptyValue {
        selector: selector.to_owned(),
        example: example.to_owned(),
    }
}

/// dbt's default method: a path when the value has a slash, a file name when it ends in
/// a file extension, otherwise a name or fqn.
fn default_criterion(value: &str, selector: &str) -> Result<Criterion, SelectorError> {
    if value.is_empty() {
        return Err(empty_value(
            selector,
            "a model name, a path or method:value, as in dim_user or tag:daily",
        ));
    }
    if value.contains(['/', '\\']) {
        return Ok(Criterion::Path(normalize_path(value)));
    }
    let lower = value.to_ascii_lowercase();
    if [".sql", ".py", ".csv"]
        .iter()
        .any(|ext| lower.ends_with(ext))
    {
        return Ok(Criterion::File(value.to_owned()));
    }
    Ok(Criterion::Fqn(value.to_owned()))
}

fn normalize_path(value: &str) -> String {
    let value = value.replace('\\', "/");
    let parts: Vec<&str> = value
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    parts.join("/")
}

fn parse_method(method: &str, value: &str, selector: &str) -> Result<Criterion, SelectorError> {
    if let Some(key) = method.strip_prefix("config.") {
        if key.is_empty() {
            return Err(SelectorError::ConfigWithoutKey {
                selector: selector.to_owned(),
            });
        }
        if value.is_empty() {
            return Err(empty_value(
                selector,
                &format!("config.{key}:<value>, as in config.materialized:table"),
            ));
        }
        return Ok(Criterion::Config {
            key: key.to_owned(),
            value: value.to_owned(),
        });
    }
    if method == "config" {
        return Err(SelectorError::ConfigWithoutKey {
            selector: selector.to_owned(),
        });
    }
    if !METHODS.contains(&method) {
        return Err(SelectorError::UnknownMethod {
            selector: selector.to_owned(),
            method: method.to_owned(),
            suggestion: closest_name(method, METHODS.iter().copied()).map(|m| {
                if m == "config" {
                    "config.<key>".to_owned()
                } else {
                    m.to_owned()
                }
            }),
        });
    }
    if value.is_empty() {
        return Err(empty_value(
            selector,
            &format!("{method}:<value>, as in {}", example_for(method)),
        ));
    }
    let value_owned = value.to_owned();
    Ok(match method {
        "tag" => Criterion::Tag(value_owned),
        "path" => Criterion::Path(normalize_path(value)),
        "file" => Criterion::File(value_owned),
        "fqn" => Criterion::Fqn(value_owned),
        "package" => Criterion::Package(value_owned),
        "test_type" => Criterion::TestType(value_owned),
        "test_name" => Criterion::TestName(value_owned),
        "exposure" => Criterion::Named(ResourceType::Exposure, value_owned),
        "semantic_model" => Criterion::Named(ResourceType::SemanticModel, value_owned),
        "metric" => Criterion::Named(ResourceType::Metric, value_owned),
        "saved_query" => Criterion::Named(ResourceType::SavedQuery, value_owned),
        "state" => Criterion::State(StateCheck::parse(value).ok_or_else(|| {
            SelectorError::UnknownState {
                selector: selector.to_owned(),
                value: value_owned.clone(),
            }
        })?),
        "result" if RESULT_STATUSES.contains(&value) => Criterion::Result(value_owned),
        "result" => {
            return Err(SelectorError::UnknownResultStatus {
                selector: selector.to_owned(),
                value: value_owned,
            })
        }
        "access" => Criterion::Access(value_owned),
        "group" => Criterion::Group(value_owned),
        "version" => match VersionKind::ALL.iter().find(|(name, _)| *name == value) {
            Some((_, kind)) => Criterion::Version(*kind),
            None => {
                return Err(SelectorError::UnknownVersion {
                    selector: selector.to_owned(),
                    value: value_owned.clone(),
                    suggestion: closest_name(value, VersionKind::ALL.iter().map(|(n, _)| *n))
                        .map(str::to_owned),
                })
            }
        },
        "resource_type" => {
            let t = value.parse::<ResourceType>().map_err(|_| {
                let names: Vec<&str> = ResourceType::ALL.iter().map(|t| t.as_str()).collect();
                SelectorError::UnknownResourceType {
                    selector: selector.to_owned(),
                    value: value_owned.clone(),
                    suggestion: closest_name(value, names.iter().copied()).map(str::to_owned),
                }
            })?;
            Criterion::ResourceType(t)
        }
        // "source"
        _ => {
            let parts: Vec<&str> = value.split('.').collect();
            let owned = |s: &str| s.to_owned();
            match parts.as_slice() {
                [source] => Criterion::Source {
                    package: None,
                    source: owned(source),
                    table: None,
                },
                [source, table] => Criterion::Source {
                    package: None,
                    source: owned(source),
                    table: Some(owned(table)),
                },
                [package, source, table] => Criterion::Source {
                    package: Some(owned(package)),
                    source: owned(source),
                    table: Some(owned(table)),
                },
                _ => {
                    return Err(SelectorError::SourceParts {
                        selector: selector.to_owned(),
                    })
                }
            }
        }
    })
}

fn example_for(method: &str) -> &'static str {
    match method {
        "tag" => "tag:daily",
        "path" => "path:models/dim",
        "file" => "file:dim_user.sql",
        "fqn" => "fqn:mart_example.dim",
        "package" => "package:mart_example",
        "source" => "source:raw.server_log",
        "test_type" => "test_type:generic",
        "test_name" => "test_name:unique",
        "exposure" => "exposure:weekly_kpis",
        "semantic_model" => "semantic_model:orders",
        "metric" => "metric:revenue",
        "saved_query" => "saved_query:daily_revenue",
        "state" => "state:modified",
        "result" => "result:error",
        "version" => "version:latest",
        "access" => "access:public",
        "group" => "group:finance",
        _ => "resource_type:model",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse_selector(text).unwrap_err().to_string()
    }

    #[test]
    fn parses_operators() {
        let s = parse_selector("@a 2+b+3 +tag:x+ c,config.materialized:table").unwrap();
        assert_eq!(s.union.len(), 4);
        let b = &s.union[1].parts[0];
        assert_eq!(b.parents, Some(Depth::Max(2)));
        assert_eq!(b.children, Some(Depth::Max(3)));
        assert_eq!(b.criterion, Criterion::Fqn("b".into()));
        assert!(s.union[0].parts[0].childrens_parents);
        assert_eq!(s.union[3].parts.len(), 2);
        insta::assert_snapshot!(s, @"@a 2+b+3 +tag:x+ c,config.materialized:table");
    }

    #[test]
    fn default_methods() {
        let crit = |t: &str| {
            parse_selector(t).unwrap().union[0].parts[0]
                .criterion
                .clone()
        };
        assert_eq!(crit("models/dim/"), Criterion::Path("models/dim".into()));
        assert_eq!(crit("./models\\dim"), Criterion::Path("models/dim".into()));
        assert_eq!(crit("dim_user.sql"), Criterion::File("dim_user.sql".into()));
        assert_eq!(
            crit("user_event.csv"),
            Criterion::File("user_event.csv".into())
        );
        assert_eq!(crit("dim.dim_user"), Criterion::Fqn("dim.dim_user".into()));
        assert_eq!(crit("3d_model"), Criterion::Fqn("3d_model".into()));
        assert_eq!(
            crit("source:p.raw.log"),
            Criterion::Source {
                package: Some("p".into()),
                source: "raw".into(),
                table: Some("log".into())
            }
        );
        assert_eq!(
            crit("resource_type:seed"),
            Criterion::ResourceType(ResourceType::Seed)
        );
        assert_eq!(
            crit("exposure:fx.weekly"),
            Criterion::Named(ResourceType::Exposure, "fx.weekly".into())
        );
        insta::assert_snapshot!(parse_selector("+exposure:weekly").unwrap(), @"+exposure:weekly");
        assert_eq!(
            crit("semantic_model:orders"),
            Criterion::Named(ResourceType::SemanticModel, "orders".into())
        );
        assert_eq!(
            crit("metric:shop.rev*"),
            Criterion::Named(ResourceType::Metric, "shop.rev*".into())
        );
        insta::assert_snapshot!(parse_selector("saved_query:daily+").unwrap(), @"saved_query:daily+");
        assert_eq!(parse_selector("  ").unwrap(), Selector::default());
    }

    #[test]
    fn error_messages() {
        insta::assert_snapshot!(err("tagg:daily"), @"unknown selector method 'tagg' in 'tagg:daily'; methods are: tag, path, file, fqn, package, source, resource_type, config.<key>, test_type, test_name, exposure, semantic_model, metric, saved_query, state, result, version, access, group; did you mean 'tag'?");
        insta::assert_snapshot!(err("materialized:table"), @"unknown selector method 'materialized' in 'materialized:table'; methods are: tag, path, file, fqn, package, source, resource_type, config.<key>, test_type, test_name, exposure, semantic_model, metric, saved_query, state, result, version, access, group");
        insta::assert_snapshot!(err("tag:"), @"selector 'tag:' has no value; write tag:<value>, as in tag:daily");
        insta::assert_snapshot!(err("+"), @"selector '+' has no value; write a model name, a path or method:value, as in dim_user or tag:daily");
        insta::assert_snapshot!(err("@"), @"selector '@' has no value; write a model name, a path or method:value, as in dim_user or tag:daily");
        insta::assert_snapshot!(err("config.materialized:"), @"selector 'config.materialized:' has no value; write config.materialized:<value>, as in config.materialized:table");
        insta::assert_snapshot!(err("a,,b"), @"selector 'a,,b' has an empty part between commas; write 'a,b' to select what a and b have in common");
        insta::assert_snapshot!(err("a,"), @"selector 'a,' has an empty part between commas; write 'a,b' to select what a and b have in common");
        insta::assert_snapshot!(err("99999999999999999999999+a"), @"the depth '99999999999999999999999' in '99999999999999999999999+a' is not a usable number; write a whole number, as in 2+model or model+2");
        insta::assert_snapshot!(err("a+99999999999999999999999"), @"the depth '99999999999999999999999' in 'a+99999999999999999999999' is not a usable number; write a whole number, as in 2+model or model+2");
        insta::assert_snapshot!(err("@+a"), @"'@' cannot be combined with a '+' prefix in '@+a'; '@model' already selects the model, its descendants and their ancestors");
        insta::assert_snapshot!(err("@2+a"), @"'@' cannot be combined with a '+' prefix in '@2+a'; '@model' already selects the model, its descendants and their ancestors");
        insta::assert_snapshot!(err("a+b"), @"unexpected '+' in 'a+b'; graph operators go around a selector: +model, 2+model, model+, model+2, @model");
        insta::assert_snapshot!(err("++a"), @"unexpected '+' in '++a'; graph operators go around a selector: +model, 2+model, model+, model+2, @model");
        assert!(parse_selector("config.incremental_strategy:delete+insert").is_ok());
        insta::assert_snapshot!(err("+@a"), @"unexpected '@' in '+@a'; graph operators go around a selector: +model, 2+model, model+, model+2, @model");
        insta::assert_snapshot!(err("resource_type:modle"), @"unknown resource type 'modle' in 'resource_type:modle'; resource types are: model, seed, snapshot, source, test, analysis, operation, unit_test, exposure, semantic_model, metric, saved_query; did you mean 'model'?");
        insta::assert_snapshot!(err("config:table"), @"'config' needs a key in 'config:table'; write config.<key>:<value>, as in config.materialized:table");
        insta::assert_snapshot!(err("config.:table"), @"'config' needs a key in 'config.:table'; write config.<key>:<value>, as in config.materialized:table");
        insta::assert_snapshot!(err("source:a.b.c.d"), @"source selector 'source:a.b.c.d' has too many parts; write source:<source>, source:<source>.<table> or source:<package>.<source>.<table>");
        insta::assert_snapshot!(err(":x"), @"unknown selector method '' in ':x'; methods are: tag, path, file, fqn, package, source, resource_type, config.<key>, test_type, test_name, exposure, semantic_model, metric, saved_query, state, result, version, access, group");
        // The first bad token is reported even after good ones.
        insta::assert_snapshot!(err("dim_user tagg:x"), @"unknown selector method 'tagg' in 'tagg:x'; methods are: tag, path, file, fqn, package, source, resource_type, config.<key>, test_type, test_name, exposure, semantic_model, metric, saved_query, state, result, version, access, group; did you mean 'tag'?");
        assert_eq!(
            parse_selector("tagg:x").unwrap_err().to_diagnostic().code,
            Code::Selector
        );
    }
}
