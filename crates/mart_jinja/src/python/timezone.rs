//! `modules.pytz` timezones (UTC only) and the offsets of aware datetimes.

use std::fmt;
use std::sync::Arc;

use chrono::{FixedOffset, Offset, TimeDelta, TimeZone, Utc};
use minijinja::value::{from_args, Object, ObjectRepr, Value};
use minijinja::{Error, State};

use super::datetime::{datetime_arg, PyDateTime, PyTimedelta};
use super::list::invalid;

/// A timezone: only UTC (and fixed offsets read from ISO text) are known to mart.
#[derive(Clone, Debug)]
pub struct PyTz {
    pub(super) name: String,
    /// The offset in force: for a named zone, the one of the datetime it is attached to
    /// (or of now, for the zone on its own).
    pub(super) offset: FixedOffset,
    /// A named zone of the tz database (with its daylight-saving rules).
    pub(super) zone: Option<chrono_tz::Tz>,
}

impl PyTz {
    pub fn utc() -> Self {
        Self {
            name: "UTC".to_string(),
            offset: Utc.fix(),
            zone: None,
        }
    }

    pub(super) fn fixed(offset: FixedOffset) -> Self {
        if offset.local_minus_utc() == 0 {
            return Self::utc();
        }
        Self {
            name: format!("UTC{offset}"),
            offset,
            zone: None,
        }
    }

    /// `pytz.timezone(name)`.
    /// `pytz.timezone(name)`: a zone of the tz database.
    pub fn named(name: &str) -> Result<Self, Error> {
        if matches!(name, "UTC" | "utc" | "Etc/UTC" | "Universal" | "Zulu") {
            return Ok(Self::utc());
        }
        let zone: chrono_tz::Tz = name.parse().map_err(|_| {
            invalid(format!(
                "modules.pytz.timezone('{name}'): unknown timezone; use a tz database name such as 'Asia/Seoul'"
            ))
        })?;
        Ok(Self {
            name: name.to_string(),
            offset: Utc::now().with_timezone(&zone).offset().fix(),
            zone: Some(zone),
        })
    }

    /// This zone as in force at the UTC instant `utc`.
    pub(super) fn at_utc(&self, utc: chrono::NaiveDateTime) -> Self {
        match self.zone {
            Some(zone) => Self {
                offset: zone.offset_from_utc_datetime(&utc).fix(),
                ..self.clone()
            },
            None => self.clone(),
        }
    }

    /// This zone as in force at the wall-clock time `local` (pytz's `localize`; an
    /// ambiguous time takes the earlier offset, a skipped one the offset before the gap).
    pub(super) fn at_local(&self, local: chrono::NaiveDateTime) -> Self {
        let Some(zone) = self.zone else {
            return self.clone();
        };
        let offset = match zone.offset_from_local_datetime(&local) {
            chrono::LocalResult::Single(o) | chrono::LocalResult::Ambiguous(o, _) => o.fix(),
            chrono::LocalResult::None => zone
                .offset_from_utc_datetime(&(local - TimeDelta::hours(1)))
                .fix(),
        };
        Self {
            offset,
            ..self.clone()
        }
    }

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
                    tz: Some(self.at_local(dt.naive)),
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
