//! The names and types PostgreSQL gives a query's output columns.

use sqlparser::ast::{
    BinaryOperator, CastKind, DataType, Expr, Function, FunctionArguments, Ident, ObjectName,
    UnaryOperator, Value,
};

/// An identifier as PostgreSQL reads it: unquoted names fold to lower case.
pub(crate) fn ident(id: &Ident) -> String {
    match id.quote_style {
        Some(_) => id.value.clone(),
        None => id.value.to_lowercase(),
    }
}

pub(crate) fn name_parts(name: &ObjectName) -> Vec<String> {
    name.0
        .iter()
        .map(|part| {
            part.as_ident()
                .map(ident)
                .unwrap_or_else(|| part.to_string())
        })
        .collect()
}

/// Functions PostgreSQL calls without parentheses, which read like column names.
pub(crate) const NILADIC_FUNCTIONS: [&str; 11] = [
    "current_date",
    "current_time",
    "current_timestamp",
    "localtime",
    "localtimestamp",
    "current_user",
    "current_role",
    "session_user",
    "user",
    "current_schema",
    "current_catalog",
];

/// The name PostgreSQL gives an unaliased select item, and whether that name is sure
/// (it is not for expressions whose name PostgreSQL derives in ways not followed here).
pub(crate) fn output_name(expr: &Expr) -> (String, bool) {
    let sure = |name: &str| (name.to_string(), true);
    match expr {
        Expr::Identifier(id) => (ident(id), true),
        Expr::CompoundIdentifier(parts) => (parts.last().map(ident).unwrap_or_default(), true),
        Expr::Nested(inner) => output_name(inner),
        Expr::Cast { expr, .. } => match output_name(expr) {
            (name, true) if name != "?column?" => (name, true),
            _ => ("?column?".to_string(), false),
        },
        Expr::Function(f) => match name_parts(&f.name).pop() {
            Some(name) if !matches!(name.as_str(), "trim" | "btrim") => (name, true),
            _ => ("?column?".to_string(), false),
        },
        Expr::Case { .. } => sure("case"),
        Expr::Exists { .. } => sure("exists"),
        Expr::Array(_) => sure("array"),
        Expr::Extract { .. } => sure("extract"),
        Expr::Position { .. } => sure("position"),
        Expr::Substring { .. } => sure("substring"),
        Expr::Interval(_) => sure("interval"),
        Expr::Value(_) | Expr::BinaryOp { .. } | Expr::UnaryOp { .. } => sure("?column?"),
        e if is_predicate(e) => sure("?column?"),
        _ => ("?column?".to_string(), false),
    }
}

/// The type of an expression where the SQL alone tells it (casts, literals, a few
/// functions and operators); `column_type` gives the type of a column reference.
pub(crate) fn expr_type(
    expr: &Expr,
    column_type: &dyn Fn(&Expr) -> Option<String>,
) -> Option<String> {
    let t = |s: &str| Some(s.to_string());
    match expr {
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => column_type(expr),
        Expr::Nested(inner) => expr_type(inner, column_type),
        Expr::Cast {
            data_type,
            kind: CastKind::Cast | CastKind::DoubleColon,
            ..
        } => Some(type_name(data_type)),
        Expr::Value(value) => match &value.value {
            Value::Number(n, _) if n.contains(['.', 'e', 'E']) => t("numeric"),
            Value::Number(n, _) => match n.parse::<i64>() {
                Ok(v) if i32::try_from(v).is_ok() => t("integer"),
                Ok(_) => t("bigint"),
                Err(_) => t("numeric"),
            },
            Value::SingleQuotedString(_) | Value::DollarQuotedString(_) => t("text"),
            Value::Boolean(_) => t("boolean"),
            _ => None,
        },
        Expr::BinaryOp { op, .. } => match op {
            BinaryOperator::Eq
            | BinaryOperator::NotEq
            | BinaryOperator::Lt
            | BinaryOperator::LtEq
            | BinaryOperator::Gt
            | BinaryOperator::GtEq
            | BinaryOperator::And
            | BinaryOperator::Or => t("boolean"),
            BinaryOperator::StringConcat => t("text"),
            _ => None,
        },
        Expr::UnaryOp {
            op: UnaryOperator::Not,
            ..
        }
        | Expr::Exists { .. } => t("boolean"),
        e if is_predicate(e) => t("boolean"),
        Expr::Function(f) => function_type(f),
        _ => None,
    }
}

/// `x is null`, `x between a and b`, `x in (...)`, `x like p` and their kin: unnamed
/// boolean columns.
fn is_predicate(expr: &Expr) -> bool {
    matches!(
        expr,
        Expr::IsNull(_)
            | Expr::IsNotNull(_)
            | Expr::IsTrue(_)
            | Expr::IsFalse(_)
            | Expr::IsDistinctFrom(..)
            | Expr::IsNotDistinctFrom(..)
            | Expr::Between { .. }
            | Expr::InList { .. }
            | Expr::InSubquery { .. }
            | Expr::Like { .. }
            | Expr::ILike { .. }
    )
}

fn function_type(f: &Function) -> Option<String> {
    let name = name_parts(&f.name).pop()?;
    let t = |s: &str| Some(s.to_string());
    match name.as_str() {
        "count" => t("bigint"),
        "now" | "current_timestamp" => t("timestamp with time zone"),
        "current_date" => t("date"),
        "concat" | "concat_ws" | "lower" | "upper" | "md5" => t("text"),
        "row_number" | "rank" | "dense_rank" => t("bigint"),
        "length" | "char_length" if !matches!(f.args, FunctionArguments::None) => t("integer"),
        _ => None,
    }
}

/// A type as PostgreSQL's catalog spells it (`int` -> `integer`, `varchar(10)` ->
/// `character varying(10)`), for comparing declared and derived types.
pub fn normalize_type(name: &str) -> String {
    let lower = name.trim().to_lowercase();
    let (base, args) = match lower.find('(') {
        Some(i) => (lower[..i].trim(), lower[i..].replace(' ', "")),
        None => (lower.as_str(), String::new()),
    };
    let base = match base {
        "int" | "int4" | "integer" => "integer",
        "int8" | "bigint" => "bigint",
        "int2" | "smallint" => "smallint",
        "float8" | "double precision" | "float" => "double precision",
        "float4" | "real" => "real",
        "bool" | "boolean" => "boolean",
        "varchar" | "character varying" => "character varying",
        "char" | "character" | "bpchar" => "character",
        "decimal" | "numeric" => "numeric",
        "timestamp" | "timestamp without time zone" => "timestamp without time zone",
        "timestamptz" | "timestamp with time zone" => "timestamp with time zone",
        "time" | "time without time zone" => "time without time zone",
        "timetz" | "time with time zone" => "time with time zone",
        other => other,
    };
    format!("{base}{args}")
}

fn type_name(data_type: &DataType) -> String {
    normalize_type(&data_type.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_fold_to_the_catalog_spelling() {
        assert_eq!(normalize_type("INT"), "integer");
        assert_eq!(normalize_type("varchar(10)"), "character varying(10)");
        assert_eq!(normalize_type("numeric(10, 2)"), "numeric(10,2)");
        assert_eq!(normalize_type("timestamptz"), "timestamp with time zone");
        assert_eq!(normalize_type("jsonb"), "jsonb");
    }
}
