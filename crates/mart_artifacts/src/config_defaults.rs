//! dbt's defaults for the config keys a node's manifest `config` always has, by resource
//! type (dbt-core 1.10's `ModelConfig`, `SeedConfig`, `SnapshotConfig`, `TestConfig`,
//! `SourceConfig`): tools reading the manifest find every key, set or not.

use mart_graph::ResourceType;
use serde_json::{json, Map, Value};

/// The default config of a node of `resource_type` (models, seeds, snapshots, tests,
/// analyses, operations); `materialized` is the node's.
pub(crate) fn node_config_defaults(
    resource_type: ResourceType,
    materialized: &str,
) -> Map<String, Value> {
    if resource_type == ResourceType::Test {
        return object(json!({
            "alias": null, "database": null, "enabled": true, "error_if": "!= 0",
            "fail_calc": "count(*)", "group": null, "limit": null, "materialized": "test",
            "meta": {}, "schema": "dbt_test__audit", "severity": "ERROR",
            "store_failures": null, "store_failures_as": null, "tags": [],
            "warn_if": "!= 0", "where": null,
        }));
    }
    let mut config = object(json!({
        "alias": null, "batch_size": null, "begin": null, "column_types": {},
        "concurrent_batches": null, "contract": {"alias_types": true, "enforced": false},
        "database": null, "docs": {"node_color": null, "show": true}, "enabled": true,
        "event_time": null, "full_refresh": null, "grants": {}, "group": null,
        "incremental_strategy": null, "lookback": 1, "materialized": materialized,
        "meta": {}, "on_configuration_change": "apply", "on_schema_change": "ignore",
        "packages": [], "persist_docs": {}, "post-hook": [], "pre-hook": [], "quoting": {},
        "schema": null, "tags": [], "unique_key": null,
    }));
    let extra = match resource_type {
        ResourceType::Model => json!({"access": "protected", "freshness": null}),
        ResourceType::Seed => json!({"delimiter": ",", "quote_columns": null}),
        ResourceType::Snapshot => json!({
            "check_cols": null, "dbt_valid_to_current": null,
            "snapshot_meta_column_names": {
                "dbt_is_deleted": null, "dbt_scd_id": null, "dbt_updated_at": null,
                "dbt_valid_from": null, "dbt_valid_to": null,
            },
            "strategy": null, "target_database": null, "target_schema": null,
            "updated_at": null,
        }),
        _ => json!({}),
    };
    config.extend(object(extra));
    config
}

/// A source's default config.
pub(crate) fn source_config_defaults() -> Map<String, Value> {
    object(json!({
        "enabled": true, "event_time": null,
        "freshness": {
            "warn_after": {"count": null, "period": null},
            "error_after": {"count": null, "period": null},
            "filter": null,
        },
        "loaded_at_field": null, "loaded_at_query": null, "meta": {}, "tags": [],
    }))
}

/// Fills the keys `config` lacks from `defaults`; nested objects (`docs`, `contract`,
/// `snapshot_meta_column_names`) are filled key by key.
pub(crate) fn fill_defaults(config: &mut Map<String, Value>, defaults: Map<String, Value>) {
    for (key, default) in defaults {
        match (config.get_mut(&key), default) {
            (None, default) => {
                config.insert(key, default);
            }
            (Some(Value::Object(set)), Value::Object(default)) => fill_defaults(set, default),
            _ => {}
        }
    }
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_keys_stay_and_nested_defaults_fill_in() {
        let mut config = object(json!({"docs": {"show": false}, "unique_key": "id"}));
        fill_defaults(
            &mut config,
            node_config_defaults(ResourceType::Model, "table"),
        );
        assert_eq!(config["docs"], json!({"show": false, "node_color": null}));
        assert_eq!(config["unique_key"], "id");
        assert_eq!(config["materialized"], "table");
        assert_eq!(config["access"], "protected");
        assert_eq!(config.len(), 29);
    }

    #[test]
    fn tests_have_their_own_keys_and_no_contract() {
        let config = node_config_defaults(ResourceType::Test, "test");
        assert!(!config.contains_key("contract"));
        assert_eq!(config["schema"], "dbt_test__audit");
        assert_eq!(config.len(), 16);
    }
}
