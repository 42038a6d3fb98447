//! `+`, `-` and `*` after the rewrite: the same results (and errors) as minijinja's own
//! operators for its values, Python's arithmetic and comparisons for datetimes.

use minijinja::{context, Environment, UndefinedBehavior, Value};

use super::rewrite_literals;
use super::tests::{env, render};

fn operands() -> Value {
    context! {
        xs => vec![1, 2],
        ys => vec![3],
        n => 3,
        f => 0.5,
        s => "a",
        nothing => (),
        big => u64::MAX,
        m => context! { k => 1 },
    }
}

fn render_with(env: &Environment<'_>, source: &str) -> String {
    env.render_named_str("t.sql", source, operands())
        .unwrap_or_else(|e| format!("error: {e}"))
}

fn plain(undefined: UndefinedBehavior) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(undefined);
    env
}

#[test]
fn results_and_errors_are_minijinjas() {
    let mart = env();
    let mut strict_mart = env();
    strict_mart.set_undefined_behavior(UndefinedBehavior::Strict);
    let cases = [
        "{{ 1 + 2 }} {{ 1 - 2 }} {{ 3 * 4 }} {{ n + n * n - 1 }}",
        "{{ 1 + 2.5 }} {{ 2.5 - 1 }} {{ 1.5 * 2 }} {{ f + f }} {{ 0.1 + 0.2 }} {{ f * 2 }}",
        "{{ 9223372036854775807 + 1 }} {{ -9223372036854775807 - 10 }}",
        "{{ 9223372036854775807 * 9223372036854775807 }}",
        "{{ 9223372036854775807 * 9223372036854775807 * 9223372036854775807 }}",
        "{{ big + 1 }} {{ big - big }} {{ big * 2 }}",
        "{{ 1e308 * 10 }} {{ 1 - 1e308 * 10 }}",
        "{{ true + 1 }} {{ 1 - false }} {{ true * true }} {{ true + 0.5 }} {{ 0.5 * false }}",
        "{{ 'a' + nothing }}",
        "{{ xs + 'a' }}",
        "{{ 'a' + 'b' }} {{ s + 'b' + s }} {{ 'ab' * 3 }} {{ 2 * s }} {{ s * 0 }}",
        "{{ xs + ys }} {{ (xs + ys)|length }} {{ (1, 2) + (3,) }} {{ range(2) + xs }}",
        "{{ xs * 2 }} {{ 2 * ys }}",
        "{{ 'a' ~ 1 + 2 }}",
        "{{ 'a' + 1 }}",
        "{{ 1 - 'a' }}",
        "{{ s * 'b' }}",
        "{{ nothing + 1 }}",
        "{{ 1 - nothing }}",
        "{{ missing + 1 }}",
        "{{ missing * missing }}",
        "{{ m + m }}",
        "{{ m - 1 }}",
        "{{ xs - ys }}",
        "{{ -5 * -2 }} {{ 10 - 2 - 3 }} {{ 2 ** 3 - 1 }} {{ 7 // 2 + 7 % 2 }}",
    ];
    for source in cases {
        let rewritten = rewrite_literals(source).text.into_owned();
        assert_ne!(rewritten, source, "not rewritten: {source}");
        for (mart, undefined) in [
            (&mart, UndefinedBehavior::Lenient),
            (&strict_mart, UndefinedBehavior::Strict),
        ] {
            assert_eq!(
                render_with(mart, &rewritten),
                render_with(&plain(undefined), source),
                "template: {source} ({undefined:?})"
            );
        }
    }
}

#[test]
fn an_error_keeps_its_line() {
    let source = "{% set x = 1 %}\n{{ x\n + 'a' }}";
    let text = rewrite_literals(source).text.into_owned();
    let err = env().render_named_str("t.sql", &text, ()).err();
    let plain_err = plain(UndefinedBehavior::Lenient)
        .render_named_str("t.sql", source, ())
        .err();
    assert_eq!(
        err.as_ref().map(|e| (e.line(), e.to_string())),
        plain_err.as_ref().map(|e| (e.line(), e.to_string()))
    );
    assert_eq!(err.and_then(|e| e.line()), Some(3));
}

#[track_caller]
fn check(source: &str, expected: &str) {
    assert_eq!(render(source), expected, "template: {source}");
}

/// `source` with `dt` set to `modules.datetime`.
fn with_dt(source: &str) -> String {
    format!("{{% set dt = modules.datetime %}}{source}")
}

#[test]
fn the_dbt_docs_example() {
    check(
        &with_dt(
            "{% set end_date = dt.datetime(2024, 3, 15) %}\
             {% set start_date = (end_date - modules.datetime.timedelta(days=10)) %}{{ start_date }}"
        ),
        "2024-03-05 00:00:00",
    );
}

#[test]
fn the_dbt_expectations_timeseries_model() {
    // The first lines of dbt-expectations' integration_tests timeseries_hourly.sql.
    let model = "{% set end_date = modules.datetime.datetime.today().replace(hour=0, minute=0, second=0, microsecond=0) %}\n\
                 {% set start_date = (end_date - modules.datetime.timedelta(days=10)) %}\n";
    check(
        &(model.to_string()
            + "{{ end_date - start_date }}|{{ start_date.strftime('%H:%M:%S') }}|{{ start_date < end_date }}|{{ (start_date + modules.datetime.timedelta(days=10)) == end_date }}"),
        "\n\n10 days, 0:00:00|00:00:00|True|True",
    );
}

#[test]
fn datetime_plus_or_minus_timedelta() {
    check(
        &with_dt("{{ dt.datetime(2024, 1, 31, 23, 30) + dt.timedelta(hours=1) }}"),
        "2024-02-01 00:30:00",
    );
    check(
        &with_dt("{{ dt.timedelta(minutes=90) + dt.datetime(2024, 1, 1) }}"),
        "2024-01-01 01:30:00",
    );
    check(
        &with_dt("{{ dt.datetime(2024, 3, 1) - dt.timedelta(days=1, microseconds=1) }}"),
        "2024-02-28 23:59:59.999999",
    );
    // Aware stays aware, in the same timezone.
    check(
        &with_dt(
            "{{ dt.datetime(2024, 1, 1, 23, tzinfo=modules.pytz.utc) + dt.timedelta(hours=2) }}",
        ),
        "2024-01-02 01:00:00+00:00",
    );
    check(
        &with_dt(
            "{{ (dt.datetime.fromisoformat('2024-06-01T12:00:00+09:00') - dt.timedelta(weeks=1)).isoformat() }}"
        ),
        "2024-05-25T12:00:00+09:00",
    );
}

#[test]
fn date_plus_or_minus_timedelta_uses_its_days() {
    check(
        &with_dt("{{ dt.date(2024, 3, 1) - dt.timedelta(days=1) }}"),
        "2024-02-29",
    );
    check(
        &with_dt("{{ dt.date(2024, 3, 1) + dt.timedelta(hours=25) }}"),
        "2024-03-02",
    );
    // As in Python: a part of a day is dropped, a negative one is a whole day back.
    check(
        &with_dt(
            "{{ dt.date(2024, 3, 1) - dt.timedelta(hours=1) }} {{ dt.date(2024, 3, 1) + dt.timedelta(hours=-1) }}"
        ),
        "2024-03-01 2024-02-29",
    );
    check(
        &with_dt("{{ dt.date(2024, 3, 1) - dt.date(2024, 1, 1) }}"),
        "60 days, 0:00:00",
    );
}

#[test]
fn differences_of_datetimes_are_timedeltas() {
    check(
        &with_dt(
            "{% set a = dt.datetime(2024, 1, 1) %}{% set b = dt.datetime(2024, 1, 2, 1) %}\
             {{ b - a }} {{ a - b }} {{ (b - a).total_seconds() }} {{ (a - a) }}",
        ),
        "1 day, 1:00:00 -2 days, 23:00:00 90000.0 0:00:00",
    );
    // Aware ones subtract as instants.
    check(
        &with_dt(
            "{{ dt.datetime.fromisoformat('2024-01-01T09:00:00+09:00') - dt.datetime(2024, 1, 1, tzinfo=modules.pytz.utc) }}"
        ),
        "0:00:00",
    );
    check(
        &with_dt(
            "{{ dt.datetime(2024, 1, 1) - dt.datetime(2024, 1, 1, tzinfo=modules.pytz.utc) }}"
        ),
        "error: invalid operation: can't subtract offset-naive and offset-aware datetimes (in t.sql:1)",
    );
}

#[test]
fn timedelta_arithmetic() {
    check(
        &with_dt(
            "{% set h = dt.timedelta(hours=1) %}{{ h * 2 }}|{{ 3 * h }}|{{ h * 0.5 }}|{{ h + h }}|{{ h - h * 2 }}|{{ h * -1 }}"
        ),
        "2:00:00|3:00:00|0:30:00|2:00:00|-1 day, 23:00:00|-1 day, 23:00:00",
    );
}

#[test]
fn unsupported_operands_are_errors() {
    check(
        &with_dt(
            "{{ dt.datetime(2024, 1, 1) + 1 }}"
        ),
        "error: invalid operation: unsupported operand types for +: datetime and number (in t.sql:1)",
    );
    check(
        &with_dt(
            "{{ dt.datetime(2024, 1, 1) + dt.datetime(2024, 1, 1) }}"
        ),
        "error: invalid operation: unsupported operand types for +: datetime and datetime (in t.sql:1)",
    );
    check(
        &with_dt(
            "{{ dt.timedelta(1) - dt.date(2024, 1, 1) }}"
        ),
        "error: invalid operation: unsupported operand types for -: timedelta and date (in t.sql:1)",
    );
    check(
        &with_dt(
            "{{ 'a' * dt.timedelta(1) }}"
        ),
        "error: invalid operation: unsupported operand types for *: string and timedelta (in t.sql:1)",
    );
}

#[test]
fn comparisons() {
    check(
        &with_dt(
            "{% set a = dt.datetime(2024, 1, 1) %}{% set b = dt.datetime(2024, 1, 2) %}\
             {{ a < b }} {{ a > b }} {{ a <= a }} {{ a == dt.datetime(2024, 1, 1) }} {{ a != b }} {{ [b, a]|sort|first == a }}"
        ),
        "True False True True True True",
    );
    check(
        &with_dt(
            "{{ dt.date(2024, 1, 2) > dt.date(2023, 12, 31) }} {{ dt.timedelta(hours=1) < dt.timedelta(minutes=61) }} {{ dt.timedelta(days=1) == dt.timedelta(hours=24) }}"
        ),
        "True True True",
    );
    // Aware datetimes compare as instants; a naive one never equals an aware one.
    check(
        &with_dt(
            "{% set u = dt.datetime(2024, 1, 1, tzinfo=modules.pytz.utc) %}\
             {{ dt.datetime.fromisoformat('2024-01-01T09:00:00+09:00') == u }} {{ dt.datetime(2024, 1, 1) == u }}"
        ),
        "True False",
    );
}
