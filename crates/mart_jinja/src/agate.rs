//! The agate column types dbt gives query results and how a PostgreSQL value becomes a
//! template value: integers as integers, numerics and floats as numbers, booleans as
//! booleans, dates and timestamps as text the way Python prints them, the rest as text.

use std::sync::Arc;

use minijinja::value::{Object, Value};

/// agate's data types, named as dbt's type tester names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AgateType {
    Integer,
    Number,
    Boolean,
    Date,
    DateTime,
    Text,
}

impl AgateType {
    pub(crate) fn name(self) -> &'static str {
        match self {
            AgateType::Integer => "Integer",
            AgateType::Number => "Number",
            AgateType::Boolean => "Boolean",
            AgateType::Date => "Date",
            AgateType::DateTime => "DateTime",
            AgateType::Text => "Text",
        }
    }

    /// The type of a column of PostgreSQL type `pg_type` (as `pg_type.typname` spells it).
    pub(crate) fn of_pg_type(pg_type: &str) -> AgateType {
        match pg_type {
            "int2" | "int4" | "int8" | "oid" => AgateType::Integer,
            "numeric" | "float4" | "float8" => AgateType::Number,
            "bool" => AgateType::Boolean,
            "date" => AgateType::Date,
            "timestamp" | "timestamptz" => AgateType::DateTime,
            _ => AgateType::Text,
        }
    }
}

/// The type of a column whose PostgreSQL type is unknown: a number type when every value
/// reads as one, text otherwise.
pub(crate) fn infer_type<'a>(values: impl Iterator<Item = Option<&'a str>>) -> AgateType {
    let mut kind = AgateType::Integer;
    for value in values.flatten() {
        if value.parse::<i64>().is_ok() {
            continue;
        }
        if value.parse::<f64>().is_ok() {
            kind = AgateType::Number;
        } else {
            return AgateType::Text;
        }
    }
    kind
}

/// One value of a column of type `kind`, from PostgreSQL's text. A value that does not
/// read as its type stays text rather than failing the render.
pub(crate) fn cell(kind: AgateType, text: Option<&str>) -> Value {
    let Some(text) = text else {
        return Value::from(());
    };
    match kind {
        AgateType::Integer => text
            .parse::<i64>()
            .map_or_else(|_| Value::from(text), Value::from),
        AgateType::Number => number(text),
        AgateType::Boolean => match text {
            "t" | "true" => Value::from(true),
            "f" | "false" => Value::from(false),
            _ => Value::from(text),
        },
        AgateType::DateTime => Value::from(python_offset(text)),
        AgateType::Date | AgateType::Text => Value::from(text),
    }
}

/// A whole number stays an integer (so it prints without `.0`); others are floats.
fn number(text: &str) -> Value {
    if let Ok(int) = text.parse::<i64>() {
        return Value::from(int);
    }
    text.parse::<f64>()
        .map_or_else(|_| Value::from(text), Value::from)
}

/// PostgreSQL prints a whole-hour offset as `+00`, Python's datetime as `+00:00`.
fn python_offset(text: &str) -> String {
    let bytes = text.as_bytes();
    let n = bytes.len();
    let short_offset = n > 3
        && matches!(bytes[n - 3], b'+' | b'-')
        && bytes[n - 2].is_ascii_digit()
        && bytes[n - 1].is_ascii_digit()
        && text.contains(':');
    if short_offset {
        format!("{text}:00")
    } else {
        text.to_string()
    }
}

/// A column type object: `column.data_type.__class__.__name__` is `Number`, `Text`...
#[derive(Debug)]
pub(crate) struct TypeValue(pub AgateType);

impl Object for TypeValue {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "__class__" => Some(Value::from_iter([("__name__", self.0.name())])),
            "__name__" | "name" => Some(Value::from(self.0.name())),
            _ => None,
        }
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.name())
    }
}

/// `print_table()`'s text: a header, a rule and the rows, numbers right-aligned, cut to
/// `max_rows` rows, `max_columns` columns and `max_width` characters per value as agate
/// does (with `...` marking what was left out).
pub(crate) fn render_table(
    names: &[String],
    types: &[AgateType],
    rows: &[Vec<Value>],
    max_rows: usize,
    max_columns: usize,
    max_width: usize,
) -> String {
    let shown_columns = names.len().min(max_columns);
    let more_columns = names.len() > shown_columns;
    let cut = |text: String| -> String {
        if text.chars().count() > max_width {
            let kept: String = text.chars().take(max_width.saturating_sub(3)).collect();
            format!("{kept}...")
        } else {
            text
        }
    };
    let text_of = |v: &Value| {
        if v.is_none() {
            String::new()
        } else {
            cut(v.to_string())
        }
    };
    let mut table: Vec<Vec<String>> =
        vec![names[..shown_columns].iter().cloned().map(cut).collect()];
    for row in rows.iter().take(max_rows) {
        table.push(row[..shown_columns].iter().map(text_of).collect());
    }
    if rows.len() > max_rows {
        table.push(vec!["...".to_string(); shown_columns]);
    }
    if more_columns {
        for line in &mut table {
            line.push("...".to_string());
        }
    }
    let widths: Vec<usize> = (0..table[0].len())
        .map(|i| {
            table
                .iter()
                .map(|l| l[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let numeric = |i: usize| {
        types
            .get(i)
            .is_some_and(|t| matches!(t, AgateType::Integer | AgateType::Number))
    };
    let line = |cells: &[String], header: bool| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if numeric(i) && !header {
                    format!("{c:>w$}", w = widths[i])
                } else {
                    format!("{c:<w$}", w = widths[i])
                }
            })
            .collect();
        format!("| {} |", padded.join(" | "))
    };
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    let mut out = vec![line(&table[0], true), format!("| {} |", rule.join(" | "))];
    out.extend(table[1..].iter().map(|l| line(l, false)));
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_typed_by_their_postgres_type() {
        let int = AgateType::of_pg_type("int8");
        assert_eq!(cell(int, Some("42")), Value::from(42));
        assert_eq!(
            cell(AgateType::of_pg_type("numeric"), Some("1.50")),
            Value::from(1.5)
        );
        assert_eq!(
            cell(AgateType::of_pg_type("numeric"), Some("7")),
            Value::from(7)
        );
        assert_eq!(
            cell(AgateType::of_pg_type("bool"), Some("t")),
            Value::from(true)
        );
        assert_eq!(
            cell(AgateType::of_pg_type("text"), Some("007")),
            Value::from("007")
        );
        assert!(cell(int, None).is_none());
        assert_eq!(
            cell(
                AgateType::of_pg_type("timestamptz"),
                Some("2024-01-02 03:04:05+00")
            ),
            Value::from("2024-01-02 03:04:05+00:00")
        );
        assert_eq!(
            cell(
                AgateType::of_pg_type("timestamp"),
                Some("2024-01-02 03:04:05.5")
            ),
            Value::from("2024-01-02 03:04:05.5")
        );
        assert_eq!(AgateType::of_pg_type("date"), AgateType::Date);
        assert_eq!(AgateType::of_pg_type("uuid"), AgateType::Text);
    }

    #[test]
    fn unknown_types_are_inferred_from_every_value() {
        assert_eq!(
            infer_type([Some("1"), None, Some("2")].into_iter()),
            AgateType::Integer
        );
        assert_eq!(
            infer_type([Some("1"), Some("2.5")].into_iter()),
            AgateType::Number
        );
        assert_eq!(
            infer_type([Some("1"), Some("x")].into_iter()),
            AgateType::Text
        );
    }

    #[test]
    fn print_table_aligns_and_cuts() {
        let names = vec!["id".to_string(), "name".to_string()];
        let types = [AgateType::Integer, AgateType::Text];
        let rows = vec![
            vec![Value::from(1), Value::from("a")],
            vec![Value::from(100), Value::from(())],
            vec![Value::from(3), Value::from("c")],
        ];
        assert_eq!(
            render_table(&names, &types, &rows, 2, 6, 20),
            "| id  | name |\n| --- | ---- |\n|   1 | a    |\n| 100 |      |\n| ... | ...  |"
        );
        assert_eq!(
            render_table(&names, &types, &rows[..1], 20, 1, 20),
            "| id | ... |\n| -- | --- |\n|  1 | ... |"
        );
    }
}
