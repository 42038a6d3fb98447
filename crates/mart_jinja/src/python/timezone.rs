//! `modules.pytz` timezones (UTC only) and the offsets of aware datetimes.

use std::fmt;
use std::sync::Arc;

use chrono::{FixedOffset, Offset, TimeDelta, Utc};
use minijinja::value::{from_args, Object, ObjectRepr, Value};
use minijinja::{Error, State};

use super::datetime::{datetime_arg, PyDateTime, PyTimedelta};
use super::list::invalid;

/// A timezone: only UTC (and fixed offsets read from ISO text) are known to mart.
#[derive(Clone, Debug)]
pub struct PyTz {
    pub(super) name: String,
    pub(super) offset: FixedOffset,
}

impl PyTz {
    pub fn utc() -> Self {
        Self {
            name: "UTC".to_string(),
            offset: Utc.fix(),
        }
    }

    pub(super) fn fixed(offset: FixedOffset) -> Self {
        if offset.local_minus_utc() == 0 {
            return Self::utc();
        }
        Self {
            name: format!("UTC{offset}"),
            offset,
        }
    }

    /// `pytz.timezone(name)`.
    pub fn named(name: &str) -> Result<Self, Error> {
        match name {
            "UTC" | "utc" | "Etc/UTC" | "GMT" | "Etc/GMT" | "Universal" | "Zulu" => Ok(Self::utc()),
            _ => Err(invalid(format!(
                "modules.pytz.timezone('{name}'): mart knows only the UTC timezone; convert in SQL (at time zone '{name}') instead"
            ))),
        }
    }

    /// Python's `+HHMM` of `%z`.
    pub(super) fn z(&self) -> String {
        let secs = self.offset.local_minus_utc();
        let sign = if secs < 0 { '-' } else { '+' };
        let secs = secs.unsigned_abs();
        format!("{sign}{:02}{:02}", secs / 3600, secs % 3600 / 60)
    }

    /// Python's `+HH:MM` of isoformat().
    pub(super) fn colon(&self) -> String {
        let z = self.z();
        format!("{}:{}", &z[..3], &z[3..])
    }
}

impl Object for PyTz {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "zone" => Some(Value::from(self.name.clone())),
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
            "localize" => {
                let (dt,): (Value,) = from_args(args)?;
                let dt = datetime_arg(&dt)?;
                if dt.tz.is_some() {
                    return Err(invalid(
                        "localize(): the datetime already has a timezone; use astimezone()",
                    ));
                }
                Ok(PyDateTime {
                    naive: dt.naive,
                    tz: Some((**self).clone()),
                }
                .into())
            }
            "utcoffset" => {
                Ok(PyTimedelta(TimeDelta::seconds(self.offset.local_minus_utc().into())).into())
            }
            "tzname" => Ok(Value::from(self.name.clone())),
            _ => Err(Error::from(minijinja::ErrorKind::UnknownMethod)),
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}
