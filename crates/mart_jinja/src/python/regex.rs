//! `modules.re`: Python's `re` functions on the `fancy-regex` crate (lookaround and
//! backreferences included). Python's syntax is translated where the two differ (`\Z`,
//! `{,n}`, literal braces, the flags, `\1` and `\g<name>` in replacements).

use std::sync::Arc;

use fancy_regex::{Captures, Regex};
use minijinja::value::{from_args, Kwargs, Object, ObjectRepr, Value};
use minijinja::{Error, ErrorKind, State};

use super::list::{invalid, PyList};

/// Python's flag values, so that `re.I + re.M` works (`|` is a filter in Jinja).
const IGNORECASE: i64 = 2;
const MULTILINE: i64 = 8;
const DOTALL: i64 = 16;
const VERBOSE: i64 = 64;

/// The `modules.re` object.
#[derive(Debug)]
pub struct ReModule;

/// How a function applies its pattern.
#[derive(Clone, Copy, PartialEq)]
enum Anchor {
    Search,
    Start,
    Full,
}

fn compile(pattern: &str, flags: i64, anchor: Anchor) -> Result<Regex, Error> {
    let translated = translate(pattern);
    let anchored = match anchor {
        Anchor::Search => translated,
        Anchor::Start => format!(r"\A(?:{translated})"),
        Anchor::Full => format!(r"\A(?:{translated})\z"),
    };
    let mut inline = String::new();
    for (flag, letter) in [
        (IGNORECASE, 'i'),
        (MULTILINE, 'm'),
        (DOTALL, 's'),
        (VERBOSE, 'x'),
    ] {
        if flags & flag != 0 {
            inline.push(letter);
        }
    }
    let full = if inline.is_empty() {
        anchored
    } else {
        format!("(?{inline}){anchored}")
    };
    Regex::new(&full).map_err(|e| invalid(format!("re: pattern '{pattern}' is not valid: {e}")))
}

/// A matching error (the backtracking limit of a pathological pattern) as a render error.
fn matched<T>(result: Result<T, fancy_regex::Error>) -> Result<T, Error> {
    result.map_err(|e| invalid(format!("re: {e}")))
}

/// Python's pattern syntax in the regex crate's: `\Z` (end of text) is `\z`; a `{` that
/// starts no repetition (`{{ ref(`) is a literal brace, as in Python, and so is a `}`
/// that closes none.
fn translate(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.char_indices().peekable();
    let mut in_quantifier = false;
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, 'Z')) => out.push_str(r"\z"),
                Some((_, next)) => {
                    out.push('\\');
                    out.push(next);
                }
                None => out.push('\\'),
            },
            '{' if is_repetition(&pattern[at..]) => {
                in_quantifier = true;
                // Python's `{,n}` is the crate's `{0,n}`.
                out.push_str(if pattern[at + 1..].starts_with(',') {
                    "{0"
                } else {
                    "{"
                });
            }
            '{' => out.push_str(r"\{"),
            '}' if in_quantifier => {
                in_quantifier = false;
                out.push('}');
            }
            '}' => out.push_str(r"\}"),
            _ => out.push(c),
        }
    }
    out
}

/// Whether `text` (starting at a `{`) is a repetition: `{m}`, `{m,}`, `{,n}`, `{m,n}`.
fn is_repetition(text: &str) -> bool {
    let Some(end) = text.find('}') else {
        return false;
    };
    let inner = &text[1..end];
    let (low, high) = inner.split_once(',').unwrap_or((inner, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    digits(low) && digits(high) && !(low.is_empty() && high.is_empty())
}

/// Python's replacement syntax (`\1`, `\g<1>`, `\g<name>`, `\n`) in the crate's (`${1}`).
fn translate_replacement(repl: &str) -> String {
    let mut out = String::with_capacity(repl.len());
    let mut chars = repl.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' => out.push_str("$$"),
            '\\' => match chars.next() {
                Some(d) if d.is_ascii_digit() => {
                    let mut group = d.to_string();
                    if let Some(&e) = chars.peek().filter(|e| e.is_ascii_digit()) {
                        group.push(e);
                        chars.next();
                    }
                    out.push_str(&format!("${{{group}}}"));
                }
                Some('g') if chars.peek() == Some(&'<') => {
                    chars.next();
                    let name: String = chars.by_ref().take_while(|c| *c != '>').collect();
                    out.push_str(&format!("${{{name}}}"));
                }
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('\\') => out.push('\\'),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            },
            _ => out.push(c),
        }
    }
    out
}

/// Extracts `(pattern, string, rest..., flags)` the Python way: flags positional after
/// the fixed arguments or as `flags=`.
fn flags_arg(positional: Option<i64>, kwargs: &Kwargs) -> Result<i64, Error> {
    let named: Option<i64> = kwargs.get("flags")?;
    Ok(positional.or(named).unwrap_or(0))
}

fn apply(pattern: &str, flags: i64, method: &str, args: &[Value]) -> Result<Value, Error> {
    match method {
        "search" | "match" | "fullmatch" => {
            let (text, kwargs): (&str, Kwargs) = from_args(args)?;
            kwargs.assert_all_used()?;
            let anchor = match method {
                "search" => Anchor::Search,
                "match" => Anchor::Start,
                _ => Anchor::Full,
            };
            let re = compile(pattern, flags, anchor)?;
            Ok(matched(re.captures(text))?.map_or(Value::from(()), |c| {
                Value::from_object(PyMatch::new(&re, &c, text))
            }))
        }
        "findall" => {
            let (text,): (&str,) = from_args(args)?;
            let re = compile(pattern, flags, Anchor::Search)?;
            let groups = re.captures_len() - 1;
            let mut found = Vec::new();
            for c in re.captures_iter(text) {
                let c = matched(c)?;
                let group = |i: usize| Value::from(c.get(i).map_or("", |m| m.as_str()));
                found.push(match groups {
                    0 => group(0),
                    1 => group(1),
                    n => Value::from((1..=n).map(group).collect::<Vec<_>>()),
                });
            }
            Ok(PyList::value(found))
        }
        "sub" => {
            let (repl, text, count, kwargs): (&str, &str, Option<usize>, Kwargs) = from_args(args)?;
            let count = count.or(kwargs.get("count")?).unwrap_or(0);
            kwargs.assert_all_used()?;
            let re = compile(pattern, flags, Anchor::Search)?;
            Ok(Value::from(
                re.replacen(text, count, translate_replacement(repl).as_str())
                    .into_owned(),
            ))
        }
        "split" => {
            let (text, maxsplit, kwargs): (&str, Option<usize>, Kwargs) = from_args(args)?;
            let maxsplit = maxsplit.or(kwargs.get("maxsplit")?).unwrap_or(0);
            kwargs.assert_all_used()?;
            let re = compile(pattern, flags, Anchor::Search)?;
            let mut parts = Vec::new();
            let mut last = 0;
            for (n, caps) in re.captures_iter(text).enumerate() {
                if maxsplit > 0 && n >= maxsplit {
                    break;
                }
                let caps = matched(caps)?;
                let Some(whole) = caps.get(0) else { continue };
                parts.push(Value::from(&text[last..whole.start()]));
                // Python puts the groups' texts between the parts.
                for group in caps.iter().skip(1) {
                    parts.push(group.map_or(Value::from(()), |m| Value::from(m.as_str())));
                }
                last = whole.end();
            }
            parts.push(Value::from(&text[last..]));
            Ok(PyList::value(parts))
        }
        _ => Err(Error::from(ErrorKind::UnknownMethod)),
    }
}

impl Object for ReModule {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(Value::from(match key.as_str()? {
            "IGNORECASE" | "I" => IGNORECASE,
            "MULTILINE" | "M" => MULTILINE,
            "DOTALL" | "S" => DOTALL,
            "VERBOSE" | "X" => VERBOSE,
            _ => return None,
        }))
    }

    fn call_method(
        self: &Arc<Self>,
        _: &State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "compile" => {
                let (pattern, flags, kwargs): (&str, Option<i64>, Kwargs) = from_args(args)?;
                let flags = flags_arg(flags, &kwargs)?;
                kwargs.assert_all_used()?;
                compile(pattern, flags, Anchor::Search)?;
                Ok(Value::from_object(PyPattern {
                    pattern: pattern.to_string(),
                    flags,
                }))
            }
            "escape" => {
                let (text,): (&str,) = from_args(args)?;
                Ok(Value::from(fancy_regex::escape(text).into_owned()))
            }
            _ => {
                let Some((pattern, rest)) = args.split_first() else {
                    return Err(invalid(format!("re.{method}() takes a pattern first")));
                };
                let pattern = pattern.as_str().ok_or_else(|| {
                    invalid(format!("re.{method}(): the pattern must be a string"))
                })?;
                // Flags are the argument after the function's own ones, or flags=.
                let own = match method {
                    "search" | "match" | "fullmatch" | "findall" => 1,
                    "split" => 2,
                    "sub" => 3,
                    _ => return Err(Error::from(ErrorKind::UnknownMethod)),
                };
                let (positional, flags) = split_flags(rest, own)?;
                apply(pattern, flags, method, &positional)
            }
        }
    }
}

/// The arguments of a module-level function without its flags (the positional argument
/// after the `own` ones, or `flags=`), and the flags.
fn split_flags(args: &[Value], own: usize) -> Result<(Vec<Value>, i64), Error> {
    let (mut positional, kwargs) = match args.split_last() {
        Some((last, rest)) if last.is_kwargs() => {
            (rest.to_vec(), Some(Kwargs::try_from(last.clone())?))
        }
        _ => (args.to_vec(), None),
    };
    let mut flags = 0;
    if positional.len() > own {
        flags = positional
            .remove(own)
            .as_i64()
            .ok_or_else(|| invalid("re: flags must be a number such as re.IGNORECASE"))?;
    }
    if let Some(kwargs) = kwargs {
        let mut rest = Vec::new();
        for key in kwargs.args() {
            let value: Value = kwargs.get(key)?;
            if key == "flags" {
                flags = value
                    .as_i64()
                    .ok_or_else(|| invalid("re: flags must be a number such as re.IGNORECASE"))?;
            } else {
                rest.push((key.to_string(), value));
            }
        }
        if !rest.is_empty() {
            positional.push(Value::from(Kwargs::from_iter(rest)));
        }
    }
    Ok((positional, flags))
}

/// `re.compile(...)`: the module functions without their pattern argument.
#[derive(Debug)]
struct PyPattern {
    pattern: String,
    flags: i64,
}

impl Object for PyPattern {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "pattern" => Some(Value::from(self.pattern.clone())),
            "flags" => Some(Value::from(self.flags)),
            _ => None,
        }
    }

    fn call_method(
        self: &Arc<Self>,
        _: &State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        apply(&self.pattern, self.flags, method, args)
    }
}

/// A match: `group`, `groups`, `groupdict`, `start`, `end`, `span`; true in a test.
#[derive(Debug)]
struct PyMatch {
    groups: Vec<Option<(usize, usize, String)>>,
    names: Vec<Option<String>>,
}

impl PyMatch {
    /// Offsets are counted in characters, as Python counts them.
    fn new(re: &Regex, caps: &Captures<'_>, text: &str) -> Self {
        let chars = |byte: usize| text[..byte].chars().count();
        Self {
            groups: caps
                .iter()
                .map(|m| m.map(|m| (chars(m.start()), chars(m.end()), m.as_str().to_string())))
                .collect(),
            names: re.capture_names().map(|n| n.map(str::to_string)).collect(),
        }
    }

    fn index(&self, key: &Value) -> Result<usize, Error> {
        let index = match key.as_str() {
            Some(name) => self.names.iter().position(|n| n.as_deref() == Some(name)),
            None => key.as_usize(),
        };
        index
            .filter(|i| *i < self.groups.len())
            .ok_or_else(|| invalid(format!("no such group: {key:?}")))
    }

    fn text(&self, index: usize) -> Value {
        self.groups[index]
            .as_ref()
            .map_or(Value::from(()), |g| Value::from(g.2.clone()))
    }
}

impl Object for PyMatch {
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
            "group" => {
                let keys = if args.is_empty() {
                    vec![Value::from(0)]
                } else {
                    args.to_vec()
                };
                let texts = keys
                    .iter()
                    .map(|k| self.index(k).map(|i| self.text(i)))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(if texts.len() == 1 {
                    texts[0].clone()
                } else {
                    Value::from(texts)
                })
            }
            "groups" => Ok(Value::from(
                (1..self.groups.len())
                    .map(|i| self.text(i))
                    .collect::<Vec<_>>(),
            )),
            "groupdict" => Ok(Value::from_iter(
                self.names
                    .iter()
                    .enumerate()
                    .filter_map(|(i, n)| n.clone().map(|n| (n, self.text(i)))),
            )),
            "start" | "end" | "span" => {
                let (key,): (Option<Value>,) = from_args(args)?;
                let index = self.index(&key.unwrap_or(Value::from(0)))?;
                let (start, end) = self.groups[index]
                    .as_ref()
                    .map_or((-1, -1), |g| (g.0 as i64, g.1 as i64));
                Ok(match method {
                    "start" => Value::from(start),
                    "end" => Value::from(end),
                    _ => Value::from(vec![Value::from(start), Value::from(end)]),
                })
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (start, end, text) = self.groups[0].clone().unwrap_or_default();
        write!(
            f,
            "<re.Match object; span=({start}, {end}), match='{text}'>"
        )
    }
}
