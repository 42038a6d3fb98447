//! The batches of the microbatch incremental strategy, as dbt-core 1.10 computes them:
//! times are UTC; a batch is `[start, end)` of one `batch_size`; the first run (or a full
//! refresh) starts at `begin`, a later run `lookback` batches before the current one, and
//! `--event-time-start` / `--event-time-end` override both ends.

use std::fmt;

pub use chrono::NaiveDateTime;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike};

/// `batch_size`: how much time one batch covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchSize {
    Hour,
    Day,
    Month,
    Year,
}

impl BatchSize {
    pub fn parse(value: &str) -> Result<BatchSize, String> {
        match value.trim() {
            "hour" => Ok(BatchSize::Hour),
            "day" => Ok(BatchSize::Day),
            "month" => Ok(BatchSize::Month),
            "year" => Ok(BatchSize::Year),
            other => Err(format!(
                "unknown batch_size '{other}': expected hour, day, month or year"
            )),
        }
    }

    /// The start of the batch that holds `t`.
    pub fn truncate(self, t: NaiveDateTime) -> NaiveDateTime {
        let (year, month, day, hour) = match self {
            BatchSize::Hour => (t.year(), t.month(), t.day(), t.hour()),
            BatchSize::Day => (t.year(), t.month(), t.day(), 0),
            BatchSize::Month => (t.year(), t.month(), 1, 0),
            BatchSize::Year => (t.year(), 1, 1, 0),
        };
        NaiveDate::from_ymd_opt(year, month, day)
            .and_then(|d| d.and_hms_opt(hour, 0, 0))
            .unwrap_or(t)
    }

    /// The start of the batch `offset` batches after (or before) the one that holds `t`.
    pub fn offset(self, t: NaiveDateTime, offset: i64) -> NaiveDateTime {
        let start = self.truncate(t);
        match self {
            BatchSize::Hour => start + Duration::hours(offset),
            BatchSize::Day => start + Duration::days(offset),
            BatchSize::Month | BatchSize::Year => {
                let months = if self == BatchSize::Month {
                    offset
                } else {
                    offset * 12
                };
                let index = i64::from(start.year()) * 12 + i64::from(start.month0()) + months;
                let (year, month0) = (index.div_euclid(12), index.rem_euclid(12));
                i32::try_from(year)
                    .ok()
                    .and_then(|y| NaiveDate::from_ymd_opt(y, month0 as u32 + 1, 1))
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .unwrap_or(start)
            }
        }
    }

    /// `t` when it starts a batch, else the start of the next batch.
    pub fn ceiling(self, t: NaiveDateTime) -> NaiveDateTime {
        let start = self.truncate(t);
        if start == t {
            t
        } else {
            self.offset(start, 1)
        }
    }

    /// How dbt names a batch by its start: `2024-09-17T16`, `2024-09-17`, `2024-09`, `2024`.
    pub fn label(self, start: NaiveDateTime) -> String {
        let format = match self {
            BatchSize::Hour => "%Y-%m-%dT%H",
            BatchSize::Day => "%Y-%m-%d",
            BatchSize::Month => "%Y-%m",
            BatchSize::Year => "%Y",
        };
        start.format(format).to_string()
    }
}

/// One batch: `[start, end)`, UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Batch {
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
}

impl Batch {
    /// The bound as run_results.json writes it: `2024-01-01T00:00:00+00:00`.
    pub fn iso(t: NaiveDateTime) -> String {
        t.and_utc().to_rfc3339()
    }

    /// The bound as the batch filter compares it: `'2024-01-01 00:00:00+00:00'`'s text.
    pub fn filter_bound(t: NaiveDateTime) -> String {
        format!("{}+00:00", t.format("%Y-%m-%d %H:%M:%S"))
    }
}

impl fmt::Display for Batch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}, {})", Batch::iso(self.start), Batch::iso(self.end))
    }
}

/// Reads a time as dbt accepts it in `begin`, `--event-time-start` and run_results.json:
/// `2024-01-01`, `2024-01-01 10:00[:00]`, `2024-01-01T10:00:00`, with an optional UTC
/// offset (`Z`, `+02:00`), which is applied.
pub fn parse_time(text: &str) -> Result<NaiveDateTime, String> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.naive_utc());
    }
    for format in ["%Y-%m-%d %H:%M:%S%:z", "%Y-%m-%dT%H:%M:%S%.f%:z"] {
        if let Ok(t) = DateTime::parse_from_str(text, format) {
            return Ok(t.naive_utc());
        }
    }
    for format in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(t);
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .ok_or_else(|| {
            format!("'{text}' is not a time; write it as 2024-01-01 or 2024-01-01 10:00:00")
        })
}

/// What decides a run's batches.
#[derive(Clone, Copy, Debug)]
pub struct BatchPlan {
    pub size: BatchSize,
    pub begin: Option<NaiveDateTime>,
    pub lookback: u32,
    /// `--event-time-start` / `--event-time-end`.
    pub event_time_start: Option<NaiveDateTime>,
    pub event_time_end: Option<NaiveDateTime>,
    /// The run's start time (the default end).
    pub now: NaiveDateTime,
    /// The model's table exists and this is no full refresh.
    pub incremental: bool,
}

impl BatchPlan {
    /// The batches in order; an error when a first run has no `begin`.
    pub fn batches(&self) -> Result<Vec<Batch>, String> {
        let size = self.size;
        let end = size.ceiling(self.event_time_end.unwrap_or(self.now));
        let start = match (self.event_time_start, self.incremental) {
            (Some(start), _) => size.truncate(start),
            (None, false) => size.truncate(self.begin.ok_or("requires a 'begin' configuration")?),
            (None, true) => {
                // The end always starts a batch, so the last batch ends at it: one more back.
                let mut lookback = i64::from(self.lookback);
                if size.truncate(end) == end {
                    lookback += 1;
                }
                size.offset(end, -lookback)
            }
        };
        let mut batches = Vec::new();
        let mut batch_start = start;
        loop {
            let batch_end = size.offset(batch_start, 1);
            batches.push(Batch {
                start: batch_start,
                end: batch_end,
            });
            if batch_end >= end {
                break;
            }
            batch_start = batch_end;
        }
        // dbt ends the last batch at the end itself.
        if let Some(last) = batches.last_mut() {
            last.end = end;
        }
        Ok(batches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> NaiveDateTime {
        parse_time(text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn truncate_offset_and_ceiling_as_dbt() {
        let x = t("2024-09-17 16:06:00");
        let cases = [
            (
                BatchSize::Hour,
                "2024-09-17 16:00:00",
                "2024-09-17 15:00:00",
                "2024-09-17 17:00:00",
            ),
            (
                BatchSize::Day,
                "2024-09-17 00:00:00",
                "2024-09-16 00:00:00",
                "2024-09-18 00:00:00",
            ),
            (
                BatchSize::Month,
                "2024-09-01 00:00:00",
                "2024-08-01 00:00:00",
                "2024-10-01 00:00:00",
            ),
            (
                BatchSize::Year,
                "2024-01-01 00:00:00",
                "2023-01-01 00:00:00",
                "2025-01-01 00:00:00",
            ),
        ];
        for (size, truncated, before, after) in cases {
            assert_eq!(size.truncate(x), t(truncated), "{size:?}");
            assert_eq!(size.offset(x, -1), t(before), "{size:?}");
            assert_eq!(size.offset(x, 1), t(after), "{size:?}");
            assert_eq!(size.ceiling(x), t(after), "{size:?}");
            assert_eq!(size.ceiling(t(truncated)), t(truncated), "{size:?}");
        }
        assert_eq!(
            BatchSize::Month.offset(t("2024-01-31"), -13),
            t("2022-12-01")
        );
        assert_eq!(BatchSize::Hour.label(x), "2024-09-17T16");
        assert_eq!(BatchSize::Day.label(x), "2024-09-17");
        assert_eq!(BatchSize::Month.label(x), "2024-09");
        assert_eq!(BatchSize::Year.label(x), "2024");
        assert_eq!(
            BatchSize::parse("week"),
            Err("unknown batch_size 'week': expected hour, day, month or year".into())
        );
    }

    #[test]
    fn times_parse_in_the_forms_dbt_reads() {
        assert_eq!(t("2024-01-02"), t("2024-01-02 00:00:00"));
        assert_eq!(t("2024-01-02T03:04:05"), t("2024-01-02 03:04:05"));
        assert_eq!(t("2024-01-02T03:04:05+00:00"), t("2024-01-02 03:04:05"));
        assert_eq!(t("2024-01-02T05:04:05+02:00"), t("2024-01-02 03:04:05"));
        assert_eq!(t("2024-01-02 03:04:05Z"), t("2024-01-02 03:04:05"));
        assert_eq!(t("2024-01-02 03:04"), t("2024-01-02 03:04:00"));
        assert!(parse_time("yesterday").is_err());
        let b = Batch {
            start: t("2024-01-01"),
            end: t("2024-01-02"),
        };
        assert_eq!(Batch::iso(b.start), "2024-01-01T00:00:00+00:00");
        assert_eq!(Batch::filter_bound(b.start), "2024-01-01 00:00:00+00:00");
    }

    fn plan(incremental: bool) -> BatchPlan {
        BatchPlan {
            size: BatchSize::Day,
            begin: Some(t("2024-01-01 06:00")),
            lookback: 1,
            event_time_start: None,
            event_time_end: None,
            now: t("2024-01-04 10:30"),
            incremental,
        }
    }

    fn labels(plan: BatchPlan) -> Vec<String> {
        plan.batches()
            .unwrap_or_else(|e| panic!("{e}"))
            .iter()
            .map(|b| b.to_string())
            .collect()
    }

    #[test]
    fn first_runs_start_at_begin_later_runs_look_back() {
        assert_eq!(
            labels(plan(false)),
            [
                "[2024-01-01T00:00:00+00:00, 2024-01-02T00:00:00+00:00)",
                "[2024-01-02T00:00:00+00:00, 2024-01-03T00:00:00+00:00)",
                "[2024-01-03T00:00:00+00:00, 2024-01-04T00:00:00+00:00)",
                "[2024-01-04T00:00:00+00:00, 2024-01-05T00:00:00+00:00)",
            ]
        );
        // lookback 1: the current batch and the one before it.
        assert_eq!(
            labels(plan(true)),
            [
                "[2024-01-03T00:00:00+00:00, 2024-01-04T00:00:00+00:00)",
                "[2024-01-04T00:00:00+00:00, 2024-01-05T00:00:00+00:00)",
            ]
        );
        let zero = BatchPlan {
            lookback: 0,
            ..plan(true)
        };
        assert_eq!(labels(zero).len(), 1);
        let no_begin = BatchPlan {
            begin: None,
            ..plan(false)
        };
        assert_eq!(
            no_begin.batches(),
            Err("requires a 'begin' configuration".into())
        );
    }

    #[test]
    fn event_time_flags_override_both_ends() {
        let flags = BatchPlan {
            event_time_start: Some(t("2024-01-02 12:00")),
            event_time_end: Some(t("2024-01-03 08:00")),
            ..plan(true)
        };
        // The end is rounded up to a batch boundary, the start down.
        assert_eq!(
            labels(flags),
            [
                "[2024-01-02T00:00:00+00:00, 2024-01-03T00:00:00+00:00)",
                "[2024-01-03T00:00:00+00:00, 2024-01-04T00:00:00+00:00)",
            ]
        );
        let hours = BatchPlan {
            size: BatchSize::Hour,
            event_time_start: Some(t("2024-01-02 22:00")),
            event_time_end: Some(t("2024-01-03 00:00")),
            ..plan(false)
        };
        assert_eq!(labels(hours).len(), 2);
    }
}
