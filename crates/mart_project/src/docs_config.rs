//! The `docs:` config of a node (`show`, `node_color`), as the docs site reads it.

use serde_json::Value;

use crate::config::ConfigMap;

/// A node's `docs:` config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocsConfig {
    /// `docs: {show: false}` hides the node from the docs site's lists and graphs.
    pub show: bool,
    /// `docs: {node_color: ...}` as written; see [`is_node_color`].
    pub node_color: Option<String>,
}

impl DocsConfig {
    pub fn of(config: &ConfigMap) -> DocsConfig {
        let docs = config.get("docs");
        let field = |key: &str| docs.and_then(|d| d.get(key));
        DocsConfig {
            show: field("show").and_then(Value::as_bool).unwrap_or(true),
            node_color: field("node_color")
                .and_then(Value::as_str)
                .map(str::to_string),
        }
    }
}

/// What dbt takes as a node colour: a hex code (`#abc`, `#aabbcc`) or a colour name.
/// Letters only for names, so the value is safe inside a style attribute.
pub fn is_node_color(color: &str) -> bool {
    match color.strip_prefix('#') {
        Some(hex) => matches!(hex.len(), 3 | 6) && hex.chars().all(|c| c.is_ascii_hexdigit()),
        None => !color.is_empty() && color.chars().all(|c| c.is_ascii_alphabetic()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_show_and_node_color() {
        let config: ConfigMap = [(
            "docs".to_string(),
            serde_json::json!({"show": false, "node_color": "#0a0"}),
        )]
        .into_iter()
        .collect();
        assert_eq!(
            DocsConfig::of(&config),
            DocsConfig {
                show: false,
                node_color: Some("#0a0".into())
            }
        );
        assert!(DocsConfig::of(&ConfigMap::default()).show);
    }

    #[test]
    fn node_colors_are_hex_codes_or_names() {
        for ok in ["#abc", "#A0B1C2", "purple", "DarkGreen"] {
            assert!(is_node_color(ok), "{ok}");
        }
        for bad in ["", "#abcd", "#ggg", "red;background:url(x)", "rgb(1,2,3)"] {
            assert!(!is_node_color(bad), "{bad}");
        }
    }
}
