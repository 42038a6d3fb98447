//! dbt's `sha1_hash` of the packages spec, reproduced so either tool honours the other's
//! lock: each entry becomes the dict of dbt's package contract (rendered fields, unset
//! optional fields as null, the entry as written under `unrendered`, `name` only when
//! set), dumped as Python's `json.dumps(..., sort_keys=True)`; the dumps are sorted,
//! joined with newlines and hashed with SHA-1.

use serde_json::{Map, Number, Value};
use sha1::{Digest, Sha1};

use crate::spec::{PackageEntry, Source};

/// The `sha1_hash` dbt writes into package-lock.yml for these entries.
pub fn packages_sha1(entries: &[PackageEntry]) -> String {
    let mut dumps: Vec<String> = entries
        .iter()
        .map(|e| python_json(&Value::Object(contract_dict(e))))
        .collect();
    dumps.sort();
    let digest = Sha1::digest(dumps.join("\n").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn contract_dict(entry: &PackageEntry) -> Map<String, Value> {
    let field = |key: &str| entry.rendered.get(key).cloned().unwrap_or(Value::Null);
    let mut dict = Map::new();
    let keys: &[&str] = match &entry.source {
        Source::Local { .. } => &["local"],
        Source::Tarball(_) => &["tarball", "name"],
        Source::Git(_) => &["git", "revision", "warn-unpinned", "subdirectory"],
        Source::Hub(_) => &["package", "version"],
    };
    for key in keys {
        dict.insert((*key).to_string(), field(key));
    }
    if matches!(entry.source, Source::Hub(_)) {
        let prerelease = entry
            .rendered
            .get("install_prerelease")
            .cloned()
            .unwrap_or(Value::Bool(false));
        dict.insert("install_prerelease".into(), prerelease);
    }
    if !matches!(entry.source, Source::Tarball(_)) {
        if let Some(name) = entry.rendered.get("name").filter(|v| !v.is_null()) {
            dict.insert("name".into(), name.clone());
        }
    }
    dict.insert("unrendered".into(), Value::Object(entry.unrendered.clone()));
    dict
}

/// `json.dumps(value, sort_keys=True)` as Python writes it (", " and ": " separators,
/// non-ASCII escaped).
pub(crate) fn python_json(value: &Value) -> String {
    let mut out = String::new();
    write_json(value, &mut out);
    out
}

fn write_json(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&python_number(n)),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_string(key, out);
                out.push_str(": ");
                write_json(&map[key], out);
            }
            out.push('}');
        }
    }
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A number as Python's `repr()` writes it: integers plainly, floats with a `.0` or
/// an exponent such as `1e+16`.
pub(crate) fn python_number(n: &Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    let magnitude = f.abs();
    if magnitude != 0.0 && !(1e-4..1e16).contains(&magnitude) {
        let rust = format!("{f:e}");
        let (mantissa, exponent) = rust.split_once('e').unwrap_or((&rust, "0"));
        let (sign, digits) = match exponent.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', exponent),
        };
        return format!("{mantissa}e{sign}{digits:0>2}");
    }
    if f.fract() == 0.0 {
        format!("{f:.1}")
    } else {
        format!("{f}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::parse_text;

    #[test]
    fn python_json_matches_json_dumps() {
        let value =
            serde_json::json!({"b": [1, 2.5, "é\"\n"], "a": null, "c": {"z": true, "y": 1.0}});
        assert_eq!(
            python_json(&value),
            r#"{"a": null, "b": [1, 2.5, "\u00e9\"\n"], "c": {"y": 1.0, "z": true}}"#
        );
        let n = |f: f64| python_number(&Number::from_f64(f).unwrap());
        assert_eq!(n(1e16), "1e+16");
        assert_eq!(n(1.5e-5), "1.5e-05");
        assert_eq!(n(0.1), "0.1");
        assert_eq!(n(3.0), "3.0");
    }

    /// Hashes dbt-core wrote into real package-lock.yml files for these packages.yml.
    #[test]
    fn reproduces_hashes_written_by_dbt() {
        let hub = "packages:\n  - package: dbt-labs/dbt_utils\n    version: [\">=1.3.0\", \"<2.0.0\"]\n  - package: dbt-labs/codegen\n    version: [\">=0.14.0\", \"<1.0.0\"]\n";
        assert_eq!(
            packages_sha1(&parse_text(hub).entries),
            "01f31e0d658d76121f50e62b998342ebf138df11"
        );
        let local = "packages:\n  - local: ../../platform_core/platform_core\n";
        assert_eq!(
            packages_sha1(&parse_text(local).entries),
            "7db87d427e98c01ae247c8bdc18109501e38afe1"
        );
    }

    #[test]
    fn git_entry_dict_has_nulls_and_the_unrendered_entry() {
        let text =
            "packages:\n  - git: \"https://{{ env_var('TOKEN') }}@h/r.git\"\n    revision: v1\n";
        let entry = &parse_text(text).entries[0];
        assert_eq!(
            python_json(&Value::Object(contract_dict(entry))),
            "{\"git\": \"https://s3cret@h/r.git\", \"revision\": \"v1\", \"subdirectory\": null, \
             \"unrendered\": {\"git\": \"https://{{ env_var('TOKEN') }}@h/r.git\", \"revision\": \"v1\"}, \
             \"warn-unpinned\": null}"
        );
    }
}
