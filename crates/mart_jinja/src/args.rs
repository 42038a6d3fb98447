//! Binding a call's positional and keyword arguments to named parameters, as Python does,
//! so `adapter.get_relation(db, schema, 'x')` and `get_relation(database=db, ...)` agree.

use minijinja::value::{Kwargs, Value};
use minijinja::{Error, ErrorKind};

/// The arguments of one call, bound to `params` by position then by name. `none` counts
/// as not given, as dbt's optional parameters default to None.
pub(crate) struct Bound {
    call: String,
    params: &'static [&'static str],
    values: Vec<Option<Value>>,
}

/// Binds `args` (a trailing kwargs value included) to `params`; too many positional
/// arguments, an unknown keyword or one given twice is an error naming `call`.
pub(crate) fn bind(
    call: &str,
    args: &[Value],
    params: &'static [&'static str],
) -> Result<Bound, Error> {
    let (positional, kwargs) = match args.split_last() {
        Some((last, rest)) if last.is_kwargs() => (rest, Some(Kwargs::try_from(last.clone())?)),
        _ => (args, None),
    };
    if positional.len() > params.len() {
        return Err(Error::new(
            ErrorKind::TooManyArguments,
            format!(
                "{call}() takes at most {} arguments ({}), got {}",
                params.len(),
                params.join(", "),
                positional.len()
            ),
        ));
    }
    let mut values: Vec<Option<Value>> = positional.iter().cloned().map(Some).collect();
    values.resize(params.len(), None);
    if let Some(kwargs) = kwargs {
        for name in kwargs.args() {
            let Some(index) = params.iter().position(|p| *p == name) else {
                let help = mart_diagnostics::closest_name(name, params.iter().copied())
                    .map(|c| format!("; did you mean '{c}'?"))
                    .unwrap_or_default();
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    format!("{call}() got an unexpected keyword argument '{name}'{help}"),
                ));
            };
            if values[index].is_some() {
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    format!("{call}() got multiple values for argument '{name}'"),
                ));
            }
            values[index] = Some(kwargs.get::<Value>(name)?);
        }
    }
    Ok(Bound {
        call: call.to_string(),
        params,
        values,
    })
}

impl Bound {
    /// The argument, `None` when it was not given or given as none.
    pub(crate) fn value(&self, name: &str) -> Option<&Value> {
        let index = self.params.iter().position(|p| *p == name)?;
        self.values[index]
            .as_ref()
            .filter(|v| !v.is_none() && !v.is_undefined())
    }

    /// The argument as given, none included.
    pub(crate) fn given(&self, name: &str) -> Option<&Value> {
        let index = self.params.iter().position(|p| *p == name)?;
        self.values[index].as_ref()
    }

    /// Whether `name` was given at all (none included), to tell "clear" from "keep".
    pub(crate) fn is_given(&self, name: &str) -> bool {
        self.given(name).is_some()
    }

    pub(crate) fn required(&self, name: &str) -> Result<&Value, Error> {
        self.value(name).ok_or_else(|| {
            Error::new(
                ErrorKind::MissingArgument,
                format!("{}() is missing the argument '{name}'", self.call),
            )
        })
    }

    /// An optional text argument; any other type is an error.
    pub(crate) fn string(&self, name: &str) -> Result<Option<String>, Error> {
        match self.value(name) {
            None => Ok(None),
            Some(v) => match v.as_str() {
                Some(s) => Ok(Some(s.to_string())),
                None => Err(self.wrong_type(name, "a string", v)),
            },
        }
    }

    pub(crate) fn required_string(&self, name: &str) -> Result<String, Error> {
        self.required(name)?;
        self.string(name)?
            .ok_or_else(|| self.wrong_type(name, "a string", &Value::from(())))
    }

    /// An optional boolean argument; any other type is an error.
    pub(crate) fn bool(&self, name: &str) -> Result<Option<bool>, Error> {
        match self.value(name) {
            None => Ok(None),
            Some(v) if v.kind() == minijinja::value::ValueKind::Bool => Ok(Some(v.is_true())),
            Some(v) => Err(self.wrong_type(name, "true or false", v)),
        }
    }

    /// An optional integer argument; any other type is an error.
    pub(crate) fn int(&self, name: &str) -> Result<Option<i64>, Error> {
        match self.value(name) {
            None => Ok(None),
            Some(v) => i64::try_from(v.clone())
                .map(Some)
                .map_err(|_| self.wrong_type(name, "an integer", v)),
        }
    }

    pub(crate) fn wrong_type(&self, name: &str, expected: &str, got: &Value) -> Error {
        Error::new(
            ErrorKind::InvalidOperation,
            format!(
                "{}(): '{name}' must be {expected}, got {} ({got})",
                self.call,
                got.kind()
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kwargs(pairs: &[(&str, Value)]) -> Value {
        Value::from(Kwargs::from_iter(
            pairs.iter().map(|(k, v)| (k.to_string(), v.clone())),
        ))
    }

    const PARAMS: &[&str] = &["database", "schema", "identifier"];

    #[test]
    fn positional_and_keyword_arguments_bind_to_the_same_parameters() {
        let args = [
            Value::from("db"),
            kwargs(&[("identifier", Value::from("t"))]),
        ];
        let bound = bind("get_relation", &args, PARAMS).unwrap();
        assert_eq!(bound.string("database").unwrap().as_deref(), Some("db"));
        assert_eq!(bound.string("schema").unwrap(), None);
        assert_eq!(bound.required_string("identifier").unwrap(), "t");
        assert_eq!(
            bound.required("schema").unwrap_err().detail(),
            Some("get_relation() is missing the argument 'schema'")
        );
    }

    #[test]
    fn wrong_calls_are_errors_naming_the_call() {
        let too_many = [1, 2, 3, 4].map(Value::from);
        let err = bind("f", &too_many, PARAMS).err().unwrap();
        assert_eq!(
            err.detail(),
            Some("f() takes at most 3 arguments (database, schema, identifier), got 4")
        );
        let err = bind("f", &[kwargs(&[("shema", Value::from("s"))])], PARAMS)
            .err()
            .unwrap();
        assert_eq!(
            err.detail(),
            Some("f() got an unexpected keyword argument 'shema'; did you mean 'schema'?")
        );
        let twice = [Value::from("db"), kwargs(&[("database", Value::from("x"))])];
        let err = bind("f", &twice, PARAMS).err().unwrap();
        assert_eq!(
            err.detail(),
            Some("f() got multiple values for argument 'database'")
        );
        let bound = bind("f", &[Value::from(3)], PARAMS).unwrap();
        assert_eq!(
            bound.string("database").unwrap_err().detail(),
            Some("f(): 'database' must be a string, got number (3)")
        );
    }
}
