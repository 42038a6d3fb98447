//! The Jinja dbt allows in packages.yml values, which in practice is `env_var()` (for
//! private git tokens): `{{ env_var('NAME') }}` and `{{ env_var('NAME', 'default') }}`
//! are substituted; any other Jinja is refused by name.

/// Looks up an environment variable (injected so tests need not touch the process's).
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Substitutes every `{{ env_var(...) }}` in `text`; the error says what is wrong.
pub(crate) fn render_env_vars(text: &str, env: EnvLookup<'_>) -> Result<String, String> {
    for tag in ["{%", "{#"] {
        if let Some(at) = text.find(tag) {
            return Err(format!(
                "unsupported Jinja `{}` in `{text}`: only {{{{ env_var('NAME') }}}} is rendered in package specs",
                excerpt(&text[at..])
            ));
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err(format!("unclosed `{{{{` in `{text}`"));
        };
        let inner = after[..end].trim_start_matches('-').trim_end_matches('-');
        out.push_str(&env_var_call(inner.trim(), env)?);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn excerpt(text: &str) -> &str {
    let end = text
        .find("%}")
        .or_else(|| text.find("#}"))
        .map_or(text.len(), |e| e + 2);
    &text[..end]
}

/// `env_var('NAME')` or `env_var('NAME', 'default')`, evaluated.
fn env_var_call(expr: &str, env: EnvLookup<'_>) -> Result<String, String> {
    let unsupported = || {
        format!(
            "unsupported Jinja `{{{{ {expr} }}}}`: only {{{{ env_var('NAME') }}}} and {{{{ env_var('NAME', 'default') }}}} are rendered in package specs"
        )
    };
    let args = expr
        .strip_prefix("env_var")
        .map(str::trim_start)
        .and_then(|s| s.strip_prefix('('))
        .and_then(|s| s.trim_end().strip_suffix(')'))
        .ok_or_else(unsupported)?;
    let mut literals = Vec::new();
    let mut rest = args.trim();
    while !rest.is_empty() {
        let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"');
        let quote = quote.ok_or_else(unsupported)?;
        let body = &rest[1..];
        let close = body.find(quote).ok_or_else(unsupported)?;
        literals.push(&body[..close]);
        rest = body[close + 1..].trim_start();
        if let Some(after_comma) = rest.strip_prefix(',') {
            rest = after_comma.trim_start();
            if rest.is_empty() {
                return Err(unsupported());
            }
        } else if !rest.is_empty() {
            return Err(unsupported());
        }
    }
    match literals.as_slice() {
        [name] => env(name).ok_or_else(|| format!("Env var required but not provided: '{name}'")),
        [name, default] => Ok(env(name).unwrap_or_else(|| (*default).to_string())),
        _ => Err(unsupported()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "TOKEN").then(|| "s3cret".to_string())
    }

    #[test]
    fn substitutes_env_var_with_and_without_default() {
        let url = "https://{{ env_var('TOKEN') }}@example.com/{{env_var(\"REPO\", 'pkg')}}.git";
        assert_eq!(
            render_env_vars(url, &env),
            Ok("https://s3cret@example.com/pkg.git".to_string())
        );
        assert_eq!(
            render_env_vars("{{- env_var('TOKEN') -}}", &env),
            Ok("s3cret".into())
        );
        assert_eq!(render_env_vars("plain", &env), Ok("plain".into()));
    }

    #[test]
    fn missing_env_var_without_default_is_an_error() {
        assert_eq!(
            render_env_vars("{{ env_var('NOPE') }}", &env),
            Err("Env var required but not provided: 'NOPE'".into())
        );
    }

    #[test]
    fn other_jinja_is_refused_by_name() {
        let err = render_env_vars("{{ var('x') }}", &env).unwrap_err();
        assert!(
            err.starts_with("unsupported Jinja `{{ var('x') }}`"),
            "{err}"
        );
        let err = render_env_vars("a{% if x %}b{% endif %}", &env).unwrap_err();
        assert!(err.starts_with("unsupported Jinja `{% if x %}`"), "{err}");
        let err = render_env_vars("{{ env_var('A', 'b', 'c') }}", &env).unwrap_err();
        assert!(err.contains("env_var('A', 'b', 'c')"), "{err}");
        assert_eq!(
            render_env_vars("{{ env_var('A')", &env),
            Err("unclosed `{{` in `{{ env_var('A')`".into())
        );
    }
}
