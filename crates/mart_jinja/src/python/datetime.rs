//! `modules.datetime` and `modules.pytz`: Python's datetime, date and timedelta values and
//! the UTC timezone. Their arithmetic is in [`super::arith`] (minijinja has no operator
//! hooks; `+`, `-` and `*` are rewritten into calls); comparisons are `custom_cmp`.

use std::cmp::Ordering;
use std::fmt::{self, Write};
use std::sync::Arc;

use chrono::format::{Item, StrftimeItems};
use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeDelta, Timelike, Utc};
use minijinja::value::{from_args, DynObject, Kwargs, Object, ObjectRepr, Value};
use minijinja::{Error, State};

use super::list::invalid;
use super::timezone::PyTz;

/// Python's `datetime.datetime`: a wall-clock time, with a timezone if it is aware.
#[derive(Clone, Debug)]
pub struct PyDateTime {
    pub(super) naive: NaiveDateTime,
    pub(super) tz: Option<PyTz>,
}

impl PyDateTime {
    /// `at` as an aware UTC datetime, as dbt's `run_started_at` is.
    pub fn utc(at: std::time::SystemTime) -> Self {
        let naive = chrono::DateTime::<Utc>::from(at).naive_utc();
        PyDateTime {
            naive,
            tz: Some(PyTz::utc()),
        }
    }
}

impl From<PyDateTime> for Value {
    fn from(dt: PyDateTime) -> Value {
        Value::from_object(dt)
    }
}

pub(super) fn datetime_arg(value: &Value) -> Result<PyDateTime, Error> {
    value
        .downcast_object_ref::<PyDateTime>()
        .cloned()
        .ok_or_else(|| invalid(format!("expected a datetime, got {}", value.kind())))
}

fn tz_arg(value: Option<&Value>) -> Result<Option<PyTz>, Error> {
    match value {
        None => Ok(None),
        Some(v) if v.is_none() => Ok(None),
        Some(v) => v
            .downcast_object_ref::<PyTz>()
            .cloned()
            .map(Some)
            .ok_or_else(|| invalid("tz must be a timezone such as modules.pytz.utc")),
    }
}

/// Python's strftime directives in chrono's terms: `%f` is microseconds (6 digits), and
/// `%z`/`%Z` are empty for a naive value.
fn chrono_format(format: &str, tz: Option<&PyTz>) -> String {
    let mut out = String::with_capacity(format.len());
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('f') => out.push_str("%6f"),
            Some('z') => out.push_str(&tz.map(PyTz::z).unwrap_or_default()),
            Some('Z') => out.push_str(&tz.map(|t| t.name.clone()).unwrap_or_default()),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

fn strftime(
    naive: Option<NaiveDateTime>,
    date: NaiveDate,
    format: &str,
    tz: Option<&PyTz>,
) -> Result<String, Error> {
    let format = chrono_format(format, tz);
    let items: Vec<Item> = StrftimeItems::new(&format).collect();
    if items.iter().any(|i| matches!(i, Item::Error)) {
        return Err(invalid(format!(
            "strftime(): unsupported directive in '{format}'"
        )));
    }
    let mut out = String::new();
    let written = match naive {
        Some(dt) => write!(out, "{}", dt.format_with_items(items.into_iter())),
        None => write!(out, "{}", date.format_with_items(items.into_iter())),
    };
    written.map_err(|_| {
        invalid(format!(
            "strftime(): '{format}' needs a time this value does not have"
        ))
    })?;
    Ok(out)
}

impl PyDateTime {
    /// What datetimes are ordered by: naive ones by wall-clock time, then aware ones by
    /// their UTC time.
    fn order_key(&self) -> (bool, NaiveDateTime) {
        match &self.tz {
            None => (false, self.naive),
            Some(tz) => (
                true,
                self.naive - TimeDelta::seconds(tz.offset.local_minus_utc().into()),
            ),
        }
    }

    fn isoformat(&self, sep: &str) -> String {
        let mut s = format!(
            "{}{sep}{}",
            self.naive.date(),
            self.naive.time().format("%H:%M:%S")
        );
        let micros = self.naive.nanosecond() / 1000;
        if micros > 0 {
            let _ = write!(s, ".{micros:06}");
        }
        if let Some(tz) = &self.tz {
            s.push_str(&tz.colon());
        }
        s
    }

    fn now(tz: Option<PyTz>) -> Self {
        let utc = Utc::now().naive_utc();
        match tz {
            Some(tz) => {
                let tz = tz.at_utc(utc);
                PyDateTime {
                    naive: utc + tz.offset,
                    tz: Some(tz),
                }
            }
            None => PyDateTime {
                naive: chrono::Local::now().naive_local(),
                tz: None,
            },
        }
    }
}

impl Object for PyDateTime {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    /// Aware datetimes compare as instants, naive ones as wall-clock times; Python
    /// refuses to order a naive against an aware one, here every naive one comes first
    /// (and they are never equal, as in Python).
    fn custom_cmp(self: &Arc<Self>, other: &DynObject) -> Option<Ordering> {
        let other = other.downcast_ref::<Self>()?;
        Some(self.order_key().cmp(&other.order_key()))
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let n = &self.naive;
        Some(match key.as_str()? {
            "year" => Value::from(n.year()),
            "month" => Value::from(n.month()),
            "day" => Value::from(n.day()),
            "hour" => Value::from(n.hour()),
            "minute" => Value::from(n.minute()),
            "second" => Value::from(n.second()),
            "microsecond" => Value::from(n.nanosecond() / 1000),
            "tzinfo" => self.tz.clone().map_or(Value::from(()), Value::from_object),
            _ => return None,
        })
    }

    fn call_method(
        self: &Arc<Self>,
        _: &State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let n = self.naive;
        match method {
            "strftime" => {
                let (format,): (&str,) = from_args(args)?;
                strftime(Some(n), n.date(), format, self.tz.as_ref()).map(Value::from)
            }
            "isoformat" => {
                let (sep,): (Option<&str>,) = from_args(args)?;
                Ok(Value::from(self.isoformat(sep.unwrap_or("T"))))
            }
            "date" => Ok(Value::from_object(PyDate(n.date()))),
            "timestamp" => {
                let offset = self.tz.as_ref().map_or(0, |t| t.offset.local_minus_utc());
                let utc = n - TimeDelta::seconds(offset.into());
                Ok(Value::from(utc.and_utc().timestamp_micros() as f64 / 1e6))
            }
            "weekday" => Ok(Value::from(n.weekday().num_days_from_monday())),
            "isoweekday" => Ok(Value::from(n.weekday().number_from_monday())),
            "astimezone" => {
                let (tz,): (Option<Value>,) = from_args(args)?;
                let from = self.tz.as_ref().map_or(0, |t| t.offset.local_minus_utc());
                let utc = n - TimeDelta::seconds(from.into());
                let tz = tz_arg(tz.as_ref())?.unwrap_or_else(PyTz::utc).at_utc(utc);
                let shift = i64::from(tz.offset.local_minus_utc() - from);
                Ok(PyDateTime {
                    naive: n + TimeDelta::seconds(shift),
                    tz: Some(tz),
                }
                .into())
            }
            "replace" => {
                let (kwargs,): (Kwargs,) = from_args(args)?;
                let part = |name: &str, current: u32| -> Result<u32, Error> {
                    Ok(kwargs.get::<Option<u32>>(name)?.unwrap_or(current))
                };
                let year = kwargs.get::<Option<i32>>("year")?.unwrap_or(n.year());
                let date =
                    NaiveDate::from_ymd_opt(year, part("month", n.month())?, part("day", n.day())?)
                        .ok_or_else(|| invalid("replace(): day is out of range for month"))?;
                let naive = date
                    .and_hms_micro_opt(
                        part("hour", n.hour())?,
                        part("minute", n.minute())?,
                        part("second", n.second())?,
                        part("microsecond", n.nanosecond() / 1000)?,
                    )
                    .ok_or_else(|| invalid("replace(): a time part is out of range"))?;
                let tz = match kwargs.get::<Option<Value>>("tzinfo")? {
                    Some(v) => tz_arg(Some(&v))?,
                    None => self.tz.clone(),
                };
                kwargs.assert_all_used()?;
                Ok(PyDateTime { naive, tz }.into())
            }
            _ => Err(Error::from(minijinja::ErrorKind::UnknownMethod)),
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.isoformat(" "))
    }
}

/// Python's `datetime.date`.
#[derive(Clone, Debug)]
pub struct PyDate(pub(super) NaiveDate);

impl Object for PyDate {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn custom_cmp(self: &Arc<Self>, other: &DynObject) -> Option<Ordering> {
        Some(self.0.cmp(&other.downcast_ref::<Self>()?.0))
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(match key.as_str()? {
            "year" => Value::from(self.0.year()),
            "month" => Value::from(self.0.month()),
            "day" => Value::from(self.0.day()),
            _ => return None,
        })
    }

    fn call_method(
        self: &Arc<Self>,
        _: &State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "strftime" => {
                let (format,): (&str,) = from_args(args)?;
                strftime(None, self.0, format, None).map(Value::from)
            }
            "isoformat" => Ok(Value::from(self.0.to_string())),
            "weekday" => Ok(Value::from(self.0.weekday().num_days_from_monday())),
            "isoweekday" => Ok(Value::from(self.0.weekday().number_from_monday())),
            _ => Err(Error::from(minijinja::ErrorKind::UnknownMethod)),
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Python's `datetime.timedelta`.
#[derive(Clone, Debug)]
pub struct PyTimedelta(pub(super) TimeDelta);

impl From<PyTimedelta> for Value {
    fn from(td: PyTimedelta) -> Value {
        Value::from_object(td)
    }
}

impl PyTimedelta {
    /// Python's normalized parts: days (any sign), seconds in 0..86400, microseconds.
    pub(super) fn parts(&self) -> (i64, i64, i64) {
        let micros = self.0.num_microseconds().unwrap_or(i64::MAX);
        let days = micros.div_euclid(86_400_000_000);
        let rest = micros.rem_euclid(86_400_000_000);
        (days, rest / 1_000_000, rest % 1_000_000)
    }
}

impl Object for PyTimedelta {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn custom_cmp(self: &Arc<Self>, other: &DynObject) -> Option<Ordering> {
        Some(self.0.cmp(&other.downcast_ref::<Self>()?.0))
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let (days, seconds, micros) = self.parts();
        Some(match key.as_str()? {
            "days" => Value::from(days),
            "seconds" => Value::from(seconds),
            "microseconds" => Value::from(micros),
            _ => return None,
        })
    }

    fn call_method(
        self: &Arc<Self>,
        _: &State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "total_seconds" => {
                let () = from_args(args)?;
                Ok(Value::from(
                    self.0.num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6,
                ))
            }
            _ => Err(Error::from(minijinja::ErrorKind::UnknownMethod)),
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (days, seconds, micros) = self.parts();
        if days != 0 {
            let plural = if days.abs() == 1 { "" } else { "s" };
            write!(f, "{days} day{plural}, ")?;
        }
        write!(
            f,
            "{}:{:02}:{:02}",
            seconds / 3600,
            seconds % 3600 / 60,
            seconds % 60
        )?;
        if micros != 0 {
            write!(f, ".{micros:06}")?;
        }
        Ok(())
    }
}

/// `modules.datetime.datetime`, `.date`, `.timedelta` and `.timezone`: callable like the
/// Python classes, with their class methods.
#[derive(Debug)]
pub enum PyClass {
    DateTime,
    Date,
    Timedelta,
    Timezone,
}

impl Object for PyClass {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match (&**self, key.as_str()?) {
            (PyClass::Timezone, "utc") => Some(Value::from_object(PyTz::utc())),
            _ => None,
        }
    }

    fn call(self: &Arc<Self>, _: &State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        match **self {
            PyClass::DateTime => {
                let (pos, kwargs): (&[Value], Kwargs) = from_args(args)?;
                let part = |i: usize, name: &str| -> Result<u32, Error> {
                    Ok(python_arg(pos, i, name, &kwargs)?.unwrap_or(0))
                };
                let year: i32 = python_arg(pos, 0, "year", &kwargs)?
                    .ok_or_else(|| invalid("datetime() needs year, month and day"))?;
                let naive = NaiveDate::from_ymd_opt(year, part(1, "month")?, part(2, "day")?)
                    .and_then(|d| {
                        d.and_hms_micro_opt(
                            part(3, "hour").ok()?,
                            part(4, "minute").ok()?,
                            part(5, "second").ok()?,
                            part(6, "microsecond").ok()?,
                        )
                    })
                    .ok_or_else(|| invalid("datetime(): a part is out of range"))?;
                let tzinfo = match pos.get(7) {
                    Some(v) => Some(v.clone()),
                    None => kwargs.get::<Option<Value>>("tzinfo")?,
                };
                let tz = tz_arg(tzinfo.as_ref())?;
                kwargs.assert_all_used()?;
                Ok(PyDateTime { naive, tz }.into())
            }
            PyClass::Date => {
                let (year, month, day): (i32, u32, u32) = from_args(args)?;
                NaiveDate::from_ymd_opt(year, month, day)
                    .map(|d| Value::from_object(PyDate(d)))
                    .ok_or_else(|| invalid("date(): day is out of range for month"))
            }
            PyClass::Timedelta => timedelta(args),
            PyClass::Timezone => Err(invalid(
                "timezone(offset) is not supported by mart; use modules.datetime.timezone.utc",
            )),
        }
    }

    fn call_method(
        self: &Arc<Self>,
        _: &State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match (&**self, method) {
            (PyClass::DateTime, "now") => {
                let (tz,): (Option<Value>,) = from_args(args)?;
                Ok(PyDateTime::now(tz_arg(tz.as_ref())?).into())
            }
            (PyClass::DateTime, "utcnow") => Ok(PyDateTime {
                naive: Utc::now().naive_utc(),
                tz: None,
            }
            .into()),
            (PyClass::DateTime, "today") => Ok(PyDateTime::now(None).into()),
            (PyClass::Date, "today") => Ok(Value::from_object(PyDate(
                chrono::Local::now().date_naive(),
            ))),
            (PyClass::DateTime, "strptime") => {
                let (text, format): (&str, &str) = from_args(args)?;
                strptime(text, format)
            }
            (PyClass::DateTime, "fromisoformat") => {
                let (text,): (&str,) = from_args(args)?;
                fromisoformat(text)
            }
            (PyClass::Date, "fromisoformat") => {
                let (text,): (&str,) = from_args(args)?;
                NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    .map(|d| Value::from_object(PyDate(d)))
                    .map_err(|e| invalid(format!("date.fromisoformat('{text}'): {e}")))
            }
            _ => Err(Error::from(minijinja::ErrorKind::UnknownMethod)),
        }
    }
}

fn timedelta(args: &[Value]) -> Result<Value, Error> {
    let (pos, kwargs): (&[Value], Kwargs) = from_args(args)?;
    let mut total = 0.0;
    // Python's order of the positional arguments, and each one's length in microseconds.
    for (i, (name, unit)) in [
        ("days", 86_400e6),
        ("seconds", 1e6),
        ("microseconds", 1.0),
        ("milliseconds", 1e3),
        ("minutes", 60e6),
        ("hours", 3_600e6),
        ("weeks", 604_800e6),
    ]
    .into_iter()
    .enumerate()
    {
        total += python_arg::<f64>(pos, i, name, &kwargs)?.unwrap_or(0.0) * unit;
    }
    kwargs.assert_all_used()?;
    Ok(PyTimedelta(TimeDelta::microseconds(total.round() as i64)).into())
}

/// Python's strptime: `%f` reads the fraction after a `.`; a format without a time gives
/// midnight; `%z` makes the value aware.
fn strptime(text: &str, format: &str) -> Result<Value, Error> {
    let chrono_fmt = format.replace(".%f", "%.f");
    let error = |e: chrono::ParseError| invalid(format!("strptime('{text}', '{format}'): {e}"));
    if format.contains("%z") {
        let dt = chrono::DateTime::parse_from_str(text, &chrono_fmt).map_err(error)?;
        return Ok(PyDateTime {
            naive: dt.naive_local(),
            tz: Some(PyTz::fixed(*dt.offset())),
        }
        .into());
    }
    let naive = match NaiveDateTime::parse_from_str(text, &chrono_fmt) {
        Ok(naive) => naive,
        Err(e) if e.kind() == chrono::format::ParseErrorKind::NotEnough => {
            NaiveDate::parse_from_str(text, &chrono_fmt)
                .map_err(error)?
                .and_time(chrono::NaiveTime::MIN)
        }
        Err(e) => return Err(error(e)),
    };
    Ok(PyDateTime { naive, tz: None }.into())
}

fn fromisoformat(text: &str) -> Result<Value, Error> {
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(&text.replacen(' ', "T", 1)) {
        return Ok(PyDateTime {
            naive: dt.naive_local(),
            tz: Some(PyTz::fixed(*dt.offset())),
        }
        .into());
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(PyDateTime { naive, tz: None }.into());
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|d| {
            PyDateTime {
                naive: d.and_time(chrono::NaiveTime::MIN),
                tz: None,
            }
            .into()
        })
        .map_err(|_| {
            invalid(format!(
                "datetime.fromisoformat(): '{text}' is not an ISO date or time"
            ))
        })
}

/// Argument `index` if passed by position, else `name` if passed by keyword.
fn python_arg<T: TryFrom<Value, Error = Error>>(
    pos: &[Value],
    index: usize,
    name: &str,
    kwargs: &Kwargs,
) -> Result<Option<T>, Error> {
    let value = match pos.get(index) {
        Some(v) => Some(v.clone()),
        None => kwargs.get::<Option<Value>>(name)?,
    };
    value.map(T::try_from).transpose()
}
