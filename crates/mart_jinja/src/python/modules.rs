//! dbt's `modules` global: `datetime`, `pytz`, `re` and `itertools`.

use std::sync::Arc;

use minijinja::value::{from_args, Kwargs, Object, ObjectRepr, Value};
use minijinja::{Error, ErrorKind, State};

use super::datetime::PyClass;
use super::list::invalid;
use super::regex::ReModule;
use super::timezone::PyTz;

/// The `modules` object.
#[derive(Debug)]
pub struct Modules;

impl Object for Modules {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(match key.as_str()? {
            "datetime" => Value::from_object(DatetimeModule),
            "pytz" => Value::from_object(PytzModule),
            "re" => Value::from_object(ReModule),
            "itertools" => Value::from_object(ItertoolsModule),
            _ => return None,
        })
    }
}

/// `modules.datetime`.
#[derive(Debug)]
struct DatetimeModule;

impl Object for DatetimeModule {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(Value::from_object(match key.as_str()? {
            "datetime" => PyClass::DateTime,
            "date" => PyClass::Date,
            "timedelta" => PyClass::Timedelta,
            "timezone" => PyClass::Timezone,
            _ => return None,
        }))
    }
}

/// `modules.pytz`: `utc`, `UTC` and `timezone(name)` (UTC only).
#[derive(Debug)]
struct PytzModule;

impl Object for PytzModule {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "utc" | "UTC" => Some(Value::from_object(PyTz::utc())),
            _ => None,
        }
    }

    fn call_method(
        self: &Arc<Self>,
        _: &State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "timezone" => {
                let (name,): (&str,) = from_args(args)?;
                PyTz::named(name).map(Value::from_object)
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// `modules.itertools`: `product`, `chain`, `combinations`, `permutations`; each returns a
/// list of tuples (tuples are read-only sequences).
#[derive(Debug)]
struct ItertoolsModule;

fn items(value: &Value) -> Result<Vec<Value>, Error> {
    Ok(value.try_iter()?.collect())
}

fn tuple(items: impl IntoIterator<Item = Value>) -> Value {
    Value::from(items.into_iter().collect::<Vec<_>>())
}

impl Object for ItertoolsModule {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn call_method(
        self: &Arc<Self>,
        _: &State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "product" => {
                let (pools, kwargs): (&[Value], Kwargs) = from_args(args)?;
                let repeat: usize = kwargs.get::<Option<usize>>("repeat")?.unwrap_or(1);
                kwargs.assert_all_used()?;
                let pools: Vec<Vec<Value>> = pools.iter().map(items).collect::<Result<_, _>>()?;
                let mut result: Vec<Vec<Value>> = vec![Vec::new()];
                for pool in std::iter::repeat_n(&pools, repeat).flatten() {
                    result = result
                        .into_iter()
                        .flat_map(|prefix| {
                            pool.iter().map(move |item| {
                                let mut next = prefix.clone();
                                next.push(item.clone());
                                next
                            })
                        })
                        .collect();
                }
                Ok(Value::from(result.into_iter().map(tuple).collect::<Vec<_>>()))
            }
            "chain" => {
                let (iterables,): (&[Value],) = from_args(args)?;
                let mut all = Vec::new();
                for iterable in iterables {
                    all.extend(items(iterable)?);
                }
                Ok(Value::from(all))
            }
            "combinations" | "permutations" => {
                let (iterable, r): (Value, Option<usize>) = from_args(args)?;
                let pool = items(&iterable)?;
                let r = match (method, r) {
                    (_, Some(r)) => r,
                    ("permutations", None) => pool.len(),
                    _ => return Err(invalid("combinations() takes the length r of each combination")),
                };
                let mut out = Vec::new();
                arrangements(&pool, r, method == "permutations", &mut Vec::new(), &mut out);
                Ok(Value::from(out))
            }
            _ => Err(Error::new(
                ErrorKind::UnknownMethod,
                format!("modules.itertools.{method}() is not supported by mart; product, chain, combinations and permutations are"),
            )),
        }
    }
}

/// Every r-length arrangement of `pool`'s positions in Python's order: combinations keep
/// positions increasing, permutations take any unused position.
fn arrangements(
    pool: &[Value],
    r: usize,
    ordered: bool,
    chosen: &mut Vec<usize>,
    out: &mut Vec<Value>,
) {
    if chosen.len() == r {
        out.push(tuple(chosen.iter().map(|&i| pool[i].clone())));
        return;
    }
    let from = if ordered {
        0
    } else {
        chosen.last().map_or(0, |l| l + 1)
    };
    for i in from..pool.len() {
        if ordered && chosen.contains(&i) {
            continue;
        }
        chosen.push(i);
        arrangements(pool, r, ordered, chosen, out);
        chosen.pop();
    }
}
