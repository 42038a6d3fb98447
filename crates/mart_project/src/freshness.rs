//! A source table's freshness rule (`freshness: {warn_after, error_after, filter}` and
//! `loaded_at_field`), as dbt resolves it: the table's `config:` over its own keys over the
//! source's `config:` over the source's keys; `freshness: null` turns it off.

use serde_json::Value;

use crate::properties::SourceTable;

/// `warn_after` / `error_after`: `{count: 12, period: hour}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Threshold {
    pub count: u64,
    pub period: Period,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    Minute,
    Hour,
    Day,
}

impl Period {
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Minute => "minute",
            Period::Hour => "hour",
            Period::Day => "day",
        }
    }

    fn seconds(self) -> u64 {
        match self {
            Period::Minute => 60,
            Period::Hour => 3_600,
            Period::Day => 86_400,
        }
    }
}

impl Threshold {
    pub fn seconds(self) -> u64 {
        self.count.saturating_mul(self.period.seconds())
    }
}

/// What `mart source freshness` checks for one table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FreshnessRule {
    pub loaded_at_field: String,
    pub warn_after: Option<Threshold>,
    pub error_after: Option<Threshold>,
    pub filter: Option<String>,
}

/// `pass`, `warn` or `error` for data `age_seconds` old.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FreshnessStatus {
    Pass,
    Warn,
    Error,
}

impl FreshnessRule {
    pub fn judge(&self, age_seconds: f64) -> FreshnessStatus {
        let over = |t: Option<Threshold>| t.is_some_and(|t| age_seconds > t.seconds() as f64);
        if over(self.error_after) {
            FreshnessStatus::Error
        } else if over(self.warn_after) {
            FreshnessStatus::Warn
        } else {
            FreshnessStatus::Pass
        }
    }
}

/// `update` laid over `base` as dbt merges freshness rules (the source's, then the
/// table's): `None` (not written) inherits, `null` turns the rule off, and within a rule
/// `warn_after` / `error_after` merge field by field, an explicit `null` dropping one.
pub(crate) fn merge_freshness(base: Option<Value>, update: Option<Value>) -> Option<Value> {
    let Some(update) = update else {
        return base;
    };
    let (Some(Value::Object(mut merged)), Value::Object(update)) = (base, &update) else {
        return Some(update);
    };
    for (key, value) in update {
        let threshold = key == "warn_after" || key == "error_after";
        match (merged.get_mut(key), value) {
            (Some(Value::Object(base)), Value::Object(fields)) if threshold => {
                for (field, v) in fields {
                    if !v.is_null() {
                        base.insert(field.clone(), v.clone());
                    }
                }
            }
            (_, Value::Null) if !threshold => {}
            _ => {
                merged.insert(key.clone(), value.clone());
            }
        }
    }
    Some(Value::Object(merged))
}

impl SourceTable {
    /// The table's freshness rule; `None` when it has none (no thresholds, or no
    /// `loaded_at_field` to read them against). A malformed rule is an error message.
    pub fn freshness_rule(&self) -> Result<Option<FreshnessRule>, String> {
        // The merged config holds the table's and the source's `config:` keys.
        let freshness = merge_freshness(
            self.freshness.clone(),
            self.config.get("freshness").cloned(),
        );
        let loaded_at = match self.config.get("loaded_at_field") {
            Some(Value::String(field)) => Some(field.clone()),
            Some(Value::Null) | None => self.loaded_at_field.clone(),
            Some(other) => {
                return Err(format!(
                    "loaded_at_field must be a column name, found {other}"
                ))
            }
        };
        let Some(Value::Object(rule)) = freshness else {
            return match freshness {
                None | Some(Value::Null) => Ok(None),
                Some(other) => Err(format!(
                    "freshness must be a mapping with warn_after, error_after and filter, found {other}"
                )),
            };
        };
        for key in rule.keys() {
            if !matches!(key.as_str(), "warn_after" | "error_after" | "filter") {
                return Err(format!(
                    "unknown freshness key '{key}'; expected warn_after, error_after or filter"
                ));
            }
        }
        let warn_after = threshold(rule.get("warn_after"), "warn_after")?;
        let error_after = threshold(rule.get("error_after"), "error_after")?;
        if warn_after.is_none() && error_after.is_none() {
            return Ok(None);
        }
        let Some(loaded_at_field) = loaded_at else {
            return Err("freshness is set but loaded_at_field is not: mart reads the newest loaded_at_field value to judge freshness (PostgreSQL has no load metadata)".into());
        };
        let filter = match rule.get("filter") {
            None | Some(Value::Null) => None,
            Some(Value::String(f)) => Some(f.clone()),
            Some(other) => return Err(format!("freshness filter must be SQL text, found {other}")),
        };
        Ok(Some(FreshnessRule {
            loaded_at_field,
            warn_after,
            error_after,
            filter,
        }))
    }
}

fn threshold(value: Option<&Value>, key: &str) -> Result<Option<Threshold>, String> {
    let Some(value) = value else { return Ok(None) };
    let Value::Object(map) = value else {
        return match value {
            Value::Null => Ok(None),
            other => Err(format!(
                "{key} must be {{count: N, period: minute|hour|day}}, found {other}"
            )),
        };
    };
    // dbt: a threshold without a count is no threshold.
    let count = match map.get("count") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .ok_or_else(|| format!("{key}.count must be a whole number, found {n}"))?,
        Some(other) => return Err(format!("{key}.count must be a whole number, found {other}")),
    };
    let period = match map.get("period").and_then(Value::as_str) {
        Some("minute") => Period::Minute,
        Some("hour") => Period::Hour,
        Some("day") => Period::Day,
        other => {
            return Err(format!(
                "{key}.period must be minute, hour or day, found {}",
                other.unwrap_or("nothing")
            ))
        }
    };
    Ok(Some(Threshold { count, period }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(json: Value) -> Result<Option<FreshnessRule>, String> {
        threshold(Some(&json), "warn_after").map(|t| {
            t.map(|t| FreshnessRule {
                loaded_at_field: "at".into(),
                warn_after: Some(t),
                error_after: None,
                filter: None,
            })
        })
    }

    #[test]
    fn rules_merge_as_dbt_merges_them() {
        use serde_json::json;
        let source = json!({"warn_after": {"count": 1, "period": "hour"},
                            "error_after": {"count": 1, "period": "day"}, "filter": "a"});
        // Not written: inherited; null: off.
        assert_eq!(
            merge_freshness(Some(source.clone()), None),
            Some(source.clone())
        );
        assert_eq!(
            merge_freshness(Some(source.clone()), Some(Value::Null)),
            Some(Value::Null)
        );
        assert_eq!(
            merge_freshness(Some(Value::Null), Some(json!({"filter": "b"}))),
            Some(json!({"filter": "b"}))
        );
        // Field by field within a threshold; a null threshold is dropped, a null filter kept.
        assert_eq!(
            merge_freshness(
                Some(source),
                Some(json!({"warn_after": {"count": 3}, "error_after": null, "filter": null}))
            ),
            Some(json!({"warn_after": {"count": 3, "period": "hour"},
                        "error_after": null, "filter": "a"}))
        );
    }

    #[test]
    fn thresholds_and_judgement() {
        let r = rule(serde_json::json!({"count": 2, "period": "hour"}))
            .unwrap()
            .unwrap();
        assert_eq!(r.judge(7_199.0), FreshnessStatus::Pass);
        assert_eq!(r.judge(7_201.0), FreshnessStatus::Warn);
        let both = FreshnessRule {
            error_after: Some(Threshold {
                count: 1,
                period: Period::Day,
            }),
            ..r
        };
        assert_eq!(both.judge(86_401.0), FreshnessStatus::Error);
        assert_eq!(rule(serde_json::json!({"period": "hour"})).unwrap(), None);
        assert_eq!(
            rule(serde_json::json!({"count": 2, "period": "week"})).unwrap_err(),
            "warn_after.period must be minute, hour or day, found week"
        );
    }
}
