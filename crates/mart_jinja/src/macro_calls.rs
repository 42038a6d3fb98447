//! Which macros a macro calls, read from its text without rendering it (dbt's
//! `statically_extract_macro_calls`): every `name(` and `package.name(` inside a Jinja tag,
//! and `adapter.dispatch('name', 'namespace')`, kept when they lead to a macro. That is
//! the macro's `depends_on.macros` in the manifest.

use crate::namespaces::{dispatch_target, Registry};

/// A call as written.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Call {
    Bare(String),
    Qualified(String, String),
    Dispatch {
        name: String,
        namespace: Option<String>,
    },
}

/// Unique ids of the macros `text` (the body of macro `package.name`) calls, first call
/// first, each once, itself left out.
pub(crate) fn macro_dependencies(
    registry: &Registry,
    package: &str,
    name: &str,
    text: &str,
) -> Vec<String> {
    let local = Some(package);
    let mut ids: Vec<String> = Vec::new();
    for call in calls_in(text) {
        let target = match call {
            Call::Bare(called) => registry
                .resolve_bare(local, &called)
                .map(|p| (p.to_string(), called)),
            Call::Qualified(p, called) => registry.get(&p, &called).map(|_| (p, called)),
            Call::Dispatch {
                name: called,
                namespace,
            } => dispatch_target(registry, local, &called, namespace.as_deref()).ok(),
        };
        let Some((p, called)) = target else { continue };
        if p == package && called == name {
            continue;
        }
        let id = format!("macro.{p}.{called}");
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

/// The calls in the Jinja tags (`{{ }}`, `{% %}`) of `text`; comments and string literals
/// are skipped, and so are the names that `{% macro %}` / `{% test %}` define.
fn calls_in(text: &str) -> Vec<Call> {
    let mut calls = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = match after.chars().next() {
            Some('{') => "}}",
            Some('%') => "%}",
            Some('#') => {
                rest = after.find("#}").map_or("", |i| &after[i + 2..]);
                continue;
            }
            _ => {
                rest = after;
                continue;
            }
        };
        let body = &after[1..];
        let end = body.find(close).unwrap_or(body.len());
        calls_in_tag(&body[..end], &mut calls);
        rest = body.get(end + 2..).unwrap_or("");
    }
    calls
}

/// The calls in one tag's expression text.
fn calls_in_tag(tag: &str, calls: &mut Vec<Call>) {
    let tokens = tokens(tag);
    let mut i = 0;
    while i < tokens.len() {
        let Token::Name(chain) = &tokens[i] else {
            i += 1;
            continue;
        };
        let defines =
            i > 0 && matches!(&tokens[i - 1], Token::Name(k) if k == "macro" || k == "test");
        let called = matches!(tokens.get(i + 1), Some(Token::Open));
        if called && !defines {
            let parts: Vec<&str> = chain.split('.').collect();
            match parts.as_slice() {
                ["adapter", "dispatch"] => {
                    if let Some(call) = dispatch_call(&tokens[i + 2..]) {
                        calls.push(call);
                    }
                }
                [name] => calls.push(Call::Bare(name.to_string())),
                [package, name] => {
                    calls.push(Call::Qualified(package.to_string(), name.to_string()))
                }
                _ => {}
            }
        }
        i += 1;
    }
}

/// `adapter.dispatch('name', 'namespace')` or with `macro_namespace='namespace'`; only
/// literal names can be known without rendering.
fn dispatch_call(args: &[Token]) -> Option<Call> {
    let Some(Token::Text(name)) = args.first() else {
        return None;
    };
    let namespace = match (args.get(1), args.get(2), args.get(3), args.get(4)) {
        (Some(Token::Comma), Some(Token::Text(ns)), _, _) => Some(ns.clone()),
        (
            Some(Token::Comma),
            Some(Token::Name(key)),
            Some(Token::Equals),
            Some(Token::Text(ns)),
        ) if key == "macro_namespace" => Some(ns.clone()),
        _ => None,
    };
    Some(Call::Dispatch {
        name: name.clone(),
        namespace,
    })
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    /// A dotted name: `adapter.dispatch`, `dbt.current_timestamp`, `x`.
    Name(String),
    /// A string literal's content.
    Text(String),
    Open,
    Comma,
    Equals,
    /// Anything else (a method call on a value, `x.y()` after `)`, is not a macro).
    Other,
}

fn tokens(tag: &str) -> Vec<Token> {
    let chars: Vec<char> = tag.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '.')
            {
                i += 1;
            }
            let name: String = chars[start..i].iter().collect();
            // `x.y` after a closing bracket or a literal is a method of a value.
            let after_value = matches!(out.last(), Some(Token::Other | Token::Text(_)))
                && start > 0
                && chars[start - 1] == '.';
            out.push(if after_value {
                Token::Other
            } else {
                Token::Name(name.trim_end_matches('.').to_string())
            });
            continue;
        }
        match c {
            '\'' | '"' => {
                let start = i + 1;
                i = start;
                while i < chars.len() && chars[i] != c {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
                out.push(Token::Text(
                    chars[start..i.min(chars.len())].iter().collect(),
                ));
            }
            '(' => out.push(Token::Open),
            ',' => out.push(Token::Comma),
            '=' if chars.get(i + 1) != Some(&'=') => out.push(Token::Equals),
            c if c.is_whitespace() => {}
            _ => out.push(Token::Other),
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_found_in_tags_only() {
        let text = "{% macro m(x) %}select f(1) {{ a(x) }} {# b() #}{%- set y = pkg.c('s(') -%}\
                    {{ adapter.dispatch('d', 'ns')(x) }}{{ adapter.dispatch('e', macro_namespace='dbt')() }}\
                    {{ x.items() }}{{ 'q'.upper() }}{{ adapter.quote(x) }}{% endmacro %}";
        assert_eq!(
            calls_in(text),
            vec![
                Call::Bare("a".into()),
                Call::Qualified("pkg".into(), "c".into()),
                Call::Dispatch {
                    name: "d".into(),
                    namespace: Some("ns".into())
                },
                Call::Dispatch {
                    name: "e".into(),
                    namespace: Some("dbt".into())
                },
                Call::Qualified("x".into(), "items".into()),
                Call::Qualified("adapter".into(), "quote".into()),
            ]
        );
    }

    #[test]
    fn a_call_block_calls_its_macro() {
        assert_eq!(
            calls_in("{% call statement('main', fetch_result=True) %}select 1{% endcall %}"),
            vec![Call::Bare("statement".into())]
        );
    }
}
