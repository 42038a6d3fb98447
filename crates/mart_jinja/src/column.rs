//! dbt-postgres's Column (`api.Column`, and what `adapter.get_columns_in_relation` returns):
//! a name and a type, with dbt's rules for `data_type` (`character varying(n)`,
//! `numeric(p,s)`, `text` and unsized varchar left as they are) and its type tests.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use minijinja::value::{DynObject, Object, Value};
use minijinja::{Error, ErrorKind, State};

use crate::args::{bind, Bound};

/// One column.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ColumnValue {
    pub column: String,
    pub dtype: String,
    pub char_size: Option<i64>,
    pub numeric_precision: Option<i64>,
    pub numeric_scale: Option<i64>,
}

const STRING_TYPES: &[&str] = &["text", "character varying", "character", "varchar"];
const INTEGER_TYPES: &[&str] = &[
    "smallint",
    "integer",
    "bigint",
    "smallserial",
    "serial",
    "bigserial",
    "int2",
    "int4",
    "int8",
    "serial2",
    "serial4",
    "serial8",
];
const FLOAT_TYPES: &[&str] = &[
    "real",
    "float4",
    "float",
    "double precision",
    "float8",
    "double",
];
const NUMERIC_TYPES: &[&str] = &["numeric", "decimal"];
/// The size dbt assumes for `text` and unsized strings.
const DEFAULT_STRING_SIZE: i64 = 256;

const NEW_PARAMS: &[&str] = &[
    "column",
    "dtype",
    "char_size",
    "numeric_precision",
    "numeric_scale",
];

impl ColumnValue {
    pub fn new(column: impl Into<String>, dtype: impl Into<String>) -> Self {
        Self {
            column: column.into(),
            dtype: dtype.into(),
            char_size: None,
            numeric_precision: None,
            numeric_scale: None,
        }
    }

    /// `api.Column(column, dtype, char_size=None, numeric_precision=None, numeric_scale=None)`.
    fn from_args(args: &[Value]) -> Result<Self, Error> {
        let bound = bind("Column", args, NEW_PARAMS)?;
        Ok(Self {
            column: name_arg(&bound)?,
            dtype: bound.required_string("dtype")?,
            char_size: bound.int("char_size")?,
            numeric_precision: bound.int("numeric_precision")?,
            numeric_scale: bound.int("numeric_scale")?,
        })
    }

    fn dtype_is(&self, names: &[&str]) -> bool {
        names.contains(&self.dtype.to_lowercase().as_str())
    }

    pub fn is_string(&self) -> bool {
        self.dtype_is(STRING_TYPES)
    }

    pub fn is_integer(&self) -> bool {
        self.dtype_is(INTEGER_TYPES)
    }

    pub fn is_float(&self) -> bool {
        self.dtype_is(FLOAT_TYPES)
    }

    pub fn is_numeric(&self) -> bool {
        self.dtype_is(NUMERIC_TYPES)
    }

    pub fn is_number(&self) -> bool {
        self.is_integer() || self.is_float() || self.is_numeric()
    }

    /// A string column's size: 256 for `text` or when unknown.
    pub fn string_size(&self) -> Result<i64, Error> {
        if !self.is_string() {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!(
                    "string_size() called on column '{}' of type {}, which is not a string",
                    self.column, self.dtype
                ),
            ));
        }
        Ok(match self.char_size {
            Some(size) if self.dtype != "text" => size,
            _ => DEFAULT_STRING_SIZE,
        })
    }

    /// Whether both are strings and `other` is the longer.
    pub fn can_expand_to(&self, other: &ColumnValue) -> Result<bool, Error> {
        if !self.is_string() || !other.is_string() {
            return Ok(false);
        }
        Ok(other.string_size()? > self.string_size()?)
    }

    /// The type as dbt-postgres reports it.
    pub fn data_type(&self) -> String {
        let lower = self.dtype.to_lowercase();
        // dbt-postgres keeps `text` and unsized varchar as they are.
        if lower == "text" || (lower == "character varying" && self.char_size.is_none()) {
            return self.dtype.clone();
        }
        if self.is_string() {
            return string_type(self.char_size.unwrap_or(DEFAULT_STRING_SIZE));
        }
        if self.is_numeric() {
            return numeric_type(&self.dtype, self.numeric_precision, self.numeric_scale);
        }
        self.dtype.clone()
    }
}

fn name_arg(bound: &Bound) -> Result<String, Error> {
    // `api.Column.create(none, 'text')` is allowed (dbt-codegen does it).
    Ok(bound.string("column")?.unwrap_or_default())
}

pub fn string_type(size: i64) -> String {
    format!("character varying({size})")
}

pub fn numeric_type(dtype: &str, precision: Option<i64>, scale: Option<i64>) -> String {
    match (precision, scale) {
        (Some(p), Some(s)) => format!("{dtype}({p},{s})"),
        _ => dtype.to_string(),
    }
}

/// `string_type(size)` and `numeric_type(dtype, precision, scale)`, on the class and on
/// columns alike.
fn class_method(method: &str, args: &[Value]) -> Result<Option<Value>, Error> {
    Ok(Some(match method {
        "string_type" => {
            let bound = bind("string_type", args, &["size"])?;
            let size = bound.int("size")?;
            Value::from(string_type(size.ok_or_else(|| {
                bound.wrong_type("size", "an integer", &Value::from(()))
            })?))
        }
        "numeric_type" => {
            let bound = bind("numeric_type", args, &["dtype", "precision", "scale"])?;
            Value::from(numeric_type(
                &bound.required_string("dtype")?,
                bound.int("precision")?,
                bound.int("scale")?,
            ))
        }
        _ => return Ok(None),
    }))
}

impl fmt::Display for ColumnValue {
    // Python's dataclass repr, which is what dbt prints for a column.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let opt = |v: Option<i64>| v.map_or("None".to_string(), |v| v.to_string());
        write!(
            f,
            "PostgresColumn(column='{}', dtype='{}', char_size={}, numeric_precision={}, numeric_scale={})",
            self.column,
            self.dtype,
            opt(self.char_size),
            opt(self.numeric_precision),
            opt(self.numeric_scale)
        )
    }
}

impl Object for ColumnValue {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(match key.as_str()? {
            "name" | "column" => Value::from(self.column.clone()),
            "quoted" => Value::from(format!("\"{}\"", self.column)),
            "dtype" => Value::from(self.dtype.clone()),
            "data_type" | "expanded_data_type" => Value::from(self.data_type()),
            "char_size" => Value::from(self.char_size),
            "numeric_precision" => Value::from(self.numeric_precision),
            "numeric_scale" => Value::from(self.numeric_scale),
            _ => return None,
        })
    }

    fn custom_cmp(self: &Arc<Self>, other: &DynObject) -> Option<Ordering> {
        Some((**self).cmp(other.downcast_ref::<Self>()?))
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        if let Some(value) = class_method(method, args)? {
            return Ok(value);
        }
        let test = |f: fn(&ColumnValue) -> bool| -> Result<Value, Error> {
            bind(method, args, &[])?;
            Ok(Value::from(f(self)))
        };
        match method {
            "is_string" => test(ColumnValue::is_string),
            "is_number" => test(ColumnValue::is_number),
            "is_numeric" => test(ColumnValue::is_numeric),
            "is_integer" => test(ColumnValue::is_integer),
            "is_float" => test(ColumnValue::is_float),
            "string_size" => {
                bind(method, args, &[])?;
                self.string_size().map(Value::from)
            }
            "can_expand_to" => {
                let bound = bind(method, args, &["other_column"])?;
                let other = bound.required("other_column")?;
                let other = other
                    .downcast_object_ref::<ColumnValue>()
                    .ok_or_else(|| bound.wrong_type("other_column", "a column", other))?;
                self.can_expand_to(other).map(Value::from)
            }
            "literal" => {
                let bound = bind(method, args, &["value"])?;
                Ok(Value::from(format!(
                    "{}::{}",
                    bound.required("value")?,
                    self.data_type()
                )))
            }
            _ => Err(Error::new(
                ErrorKind::UnknownMethod,
                format!("a column has no method '{method}'"),
            )),
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// `api.Column`: called, it makes a column; `create`, `from_description`, `string_type`
/// and `numeric_type` are its class methods.
#[derive(Debug)]
pub(crate) struct ColumnClass;

impl Object for ColumnClass {
    fn call(self: &Arc<Self>, _state: &State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        ColumnValue::from_args(args).map(Value::from_object)
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        if let Some(value) = class_method(method, args)? {
            return Ok(value);
        }
        match method {
            "create" => {
                let bound = bind("Column.create", args, &["column", "label_or_dtype"])?;
                let dtype = bound.required_string("label_or_dtype")?;
                // dbt's only type label: STRING means text.
                let dtype = if dtype.eq_ignore_ascii_case("string") {
                    "TEXT".to_string()
                } else {
                    dtype
                };
                Ok(Value::from_object(ColumnValue::new(
                    name_arg(&bound)?,
                    dtype,
                )))
            }
            "from_description" => {
                let bound = bind("Column.from_description", args, &["name", "raw_data_type"])?;
                let name = bound.string("name")?.unwrap_or_default();
                from_description(name, &bound.required_string("raw_data_type")?)
                    .map(Value::from_object)
            }
            _ => Err(Error::new(
                ErrorKind::UnknownMethod,
                format!("api.Column has no method '{method}'"),
            )),
        }
    }
}

/// `varchar(10)` → size 10; `numeric(10,2)` → precision 10, scale 2; `text` → no sizes.
pub fn from_description(name: String, raw: &str) -> Result<ColumnValue, Error> {
    let invalid = |why: &str| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("could not interpret data type \"{raw}\": {why}"),
        )
    };
    let (dtype, sizes) = match raw.split_once('(') {
        None => (raw, None),
        Some((dtype, rest)) => {
            let inner = rest
                .split_once(')')
                .map(|(inner, _)| inner)
                .ok_or_else(|| invalid("no closing parenthesis"))?;
            (dtype, Some(inner))
        }
    };
    let mut column = ColumnValue::new(name, dtype);
    if let Some(sizes) = sizes {
        let parse = |part: &str| {
            part.trim()
                .parse::<i64>()
                .map_err(|_| invalid(&format!("could not convert \"{part}\" to an integer")))
        };
        match sizes.split(',').collect::<Vec<_>>().as_slice() {
            [size] => column.char_size = Some(parse(size)?),
            [precision, scale] => {
                column.numeric_precision = Some(parse(precision)?);
                column.numeric_scale = Some(parse(scale)?);
            }
            _ => return Err(invalid("more than two sizes")),
        }
    }
    Ok(column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(dtype: &str, char_size: Option<i64>, p: Option<i64>, s: Option<i64>) -> ColumnValue {
        ColumnValue {
            column: "c".into(),
            dtype: dtype.into(),
            char_size,
            numeric_precision: p,
            numeric_scale: s,
        }
    }

    #[test]
    fn data_types_as_dbt_postgres_reports_them() {
        let cases = [
            (column("text", None, None, None), "text"),
            (
                column("character varying", None, None, None),
                "character varying",
            ),
            (
                column("character varying", Some(10), None, None),
                "character varying(10)",
            ),
            // dbt reports char(n) as varchar(n).
            (
                column("character", Some(3), None, None),
                "character varying(3)",
            ),
            (column("numeric", None, Some(10), Some(2)), "numeric(10,2)"),
            (column("numeric", None, None, None), "numeric"),
            (column("integer", None, Some(32), Some(0)), "integer"),
            (
                column("timestamp without time zone", None, None, None),
                "timestamp without time zone",
            ),
        ];
        for (column, expected) in cases {
            assert_eq!(column.data_type(), expected, "{column}");
        }
    }

    #[test]
    fn type_tests_and_expansion() {
        let short = column("character varying", Some(10), None, None);
        let long = column("character varying", Some(300), None, None);
        let text = column("text", None, None, None);
        assert!(short.can_expand_to(&long).unwrap());
        assert!(!long.can_expand_to(&short).unwrap());
        // text counts as 256 characters, as in dbt.
        assert!(text.can_expand_to(&long).unwrap());
        assert_eq!(text.string_size().unwrap(), 256);
        let int = column("int4", None, None, None);
        assert!(int.is_integer() && int.is_number() && !int.is_numeric() && !int.is_string());
        assert!(!int.can_expand_to(&long).unwrap());
        assert_eq!(
            int.string_size().unwrap_err().detail(),
            Some("string_size() called on column 'c' of type int4, which is not a string")
        );
        assert!(column("DOUBLE PRECISION", None, None, None).is_float());
        assert!(column("decimal", None, None, None).is_numeric());
    }

    #[test]
    fn from_description_reads_sizes() {
        let c = from_description("a".into(), "numeric(12,3)").unwrap();
        assert_eq!(
            (c.dtype.as_str(), c.numeric_precision, c.numeric_scale),
            ("numeric", Some(12), Some(3))
        );
        let c = from_description("a".into(), "varchar(7)").unwrap();
        assert_eq!(c.char_size, Some(7));
        assert_eq!(
            from_description("a".into(), "varchar(x)").unwrap_err().detail(),
            Some("could not interpret data type \"varchar(x)\": could not convert \"x\" to an integer")
        );
    }
}
