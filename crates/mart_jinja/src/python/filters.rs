//! Jinja2's filters that minijinja lacks or takes differently, with Jinja2's signatures.

use minijinja::value::Value;
use minijinja::{Environment, Error, ErrorKind};

pub(crate) fn register(env: &mut Environment<'static>) {
    env.add_filter("truncate", truncate);
    env.add_filter("length", length);
    env.add_filter("count", length);
}

/// `length`, where an undefined value has length 0 as in Jinja2 (`column.fields|length`
/// on a column type without fields).
fn length(value: Value) -> Result<usize, Error> {
    if value.is_undefined() {
        return Ok(0);
    }
    value.len().ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("cannot calculate length of value of type {}", value.kind()),
        )
    })
}

/// `truncate(s, length=255, killwords=False, end='...', leeway=5)`: `s` unchanged when it
/// is at most `length + leeway` characters; else cut to `length` characters including
/// `end`, at the last word boundary unless `killwords`.
fn truncate(
    value: Value,
    length: Option<usize>,
    killwords: Option<bool>,
    end: Option<String>,
    leeway: Option<usize>,
) -> Result<String, Error> {
    let text = match value.as_str() {
        Some(s) => s.to_string(),
        None if value.is_none() || value.is_undefined() => return Ok(String::new()),
        None => value.to_string(),
    };
    let length = length.unwrap_or(255);
    let end = end.unwrap_or_else(|| "...".to_string());
    let leeway = leeway.unwrap_or(5);
    let end_len = end.chars().count();
    if length < end_len {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("truncate: length {length} is shorter than the end text {end:?}"),
        ));
    }
    if text.chars().count() <= length + leeway {
        return Ok(text);
    }
    let kept: String = text.chars().take(length - end_len).collect();
    if killwords.unwrap_or(false) {
        return Ok(kept + &end);
    }
    let cut = kept
        .rsplit_once(' ')
        .map_or(kept.as_str(), |(head, _)| head);
    Ok(format!("{cut}{end}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_of_undefined_is_zero() {
        assert_eq!(length(Value::UNDEFINED).unwrap(), 0);
        assert_eq!(length(Value::from(vec![1, 2])).unwrap(), 2);
        assert_eq!(length(Value::from("abc")).unwrap(), 3);
        assert!(length(Value::from(())).is_err());
    }

    #[test]
    fn truncate_follows_jinja2() {
        let t = |s: &str, l, k, e: &str| {
            truncate(Value::from(s), Some(l), Some(k), Some(e.to_string()), None).unwrap()
        };
        assert_eq!(t("select 1 as a, 2 as b", 8, true, ""), "select 1");
        assert_eq!(
            t("foo bar baz qux quux corge", 12, false, "..."),
            "foo bar..."
        );
        assert_eq!(
            t("foo bar baz qux quux corge", 12, true, "..."),
            "foo bar b..."
        );
        // Within the leeway: unchanged.
        assert_eq!(t("hello world!", 8, true, ""), "hello world!");
        assert!(truncate(Value::from("abc"), Some(1), None, None, None).is_err());
        assert_eq!(
            truncate(Value::from(()), None, None, None, None).unwrap(),
            ""
        );
    }
}
