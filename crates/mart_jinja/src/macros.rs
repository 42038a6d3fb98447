//! Macro files as minijinja reads them: generic tests and materializations as macros,
//! the names each file defines.

use std::borrow::Cow;
use std::sync::Arc;

use mart_diagnostics::{Code, Diagnostic, SourceFile};
use minijinja::{Environment, Error};

/// The macros a file defines: names declared with `{% macro name(...) %}` that its
/// module exports once evaluated (so macros inside other blocks are not counted).
pub(crate) fn macro_names(
    env: &Environment<'static>,
    template: &str,
    source: &str,
) -> Result<Vec<String>, Error> {
    let tmpl = env.get_template(template)?;
    let module = tmpl.render_captured(())?;
    let exports = module.state().exports();
    let mut names: Vec<String> = declared_macros(source)
        .into_iter()
        .filter(|n| exports.contains(&n.as_str()))
        .filter_map(|n| n.strip_prefix(DEFINED_PREFIX).map(str::to_string))
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

/// A macro file's text as minijinja reads it: generic tests become macros (as in dbt,
/// `{% test not_null(model, column_name) %}` defines the macro `test_not_null`), and so
/// do materialization blocks (`materialization_<name>_<adapter>`), keeping their lines.
///
/// Every macro is defined under [`DEFINED_PREFIX`] + its name, so that a call by bare
/// name, even from its own file, goes through the macro namespaces: dbt's resolution
/// order holds everywhere, and each call's `return()` ends that call only.
pub(crate) fn prepare_macro_source(source: &str) -> String {
    let source = generic_tests_as_macros(source);
    let source = crate::materialization::blocks_as_macros(&source);
    let source = crate::macro_defaults::late_defaults(&source);
    hide_definitions(&source)
}

/// What a macro is defined as in its prepared file: `{% macro x() %}` defines
/// `__mart_macro_x`.
pub(crate) const DEFINED_PREFIX: &str = "__mart_macro_";

/// `{% macro name(` -> `{% macro __mart_macro_name(`.
fn hide_definitions(source: &str) -> String {
    let mut out = String::with_capacity(source.len() + 256);
    let mut copied = 0;
    let mut from = 0;
    while let Some((start, keyword)) = next_tag(source, from, |k| k == "macro") {
        let keyword_at = start + source[start..].find(keyword).unwrap_or(0);
        let after = keyword_at + keyword.len();
        let rest = &source[after..];
        let name_at = after + (rest.len() - rest.trim_start().len());
        out.push_str(&source[copied..name_at]);
        out.push_str(DEFINED_PREFIX);
        copied = name_at;
        from = name_at;
    }
    out.push_str(&source[copied..]);
    out
}

/// `{% test name(` -> `{% macro test_name(` and `{% endtest %}` -> `{% endmacro %}`.
fn generic_tests_as_macros(source: &str) -> Cow<'_, str> {
    let mut out = String::new();
    let mut copied = 0;
    let mut from = 0;
    while let Some((start, keyword)) = next_tag(source, from, |k| k == "test" || k == "endtest") {
        let keyword_at = start + source[start..].find(keyword).unwrap_or(0);
        let after = keyword_at + keyword.len();
        out.push_str(&source[copied..keyword_at]);
        if keyword == "test" {
            let rest = &source[after..];
            let name_at = rest.len() - rest.trim_start().len();
            out.push_str("macro");
            out.push_str(&rest[..name_at]);
            out.push_str("test_");
            copied = after + name_at;
        } else {
            out.push_str("endmacro");
            copied = after;
        }
        from = after;
    }
    if copied == 0 {
        return Cow::Borrowed(source);
    }
    out.push_str(&source[copied..]);
    Cow::Owned(out)
}

/// The next `{% keyword ...` tag at or after `from` whose keyword satisfies `wanted`:
/// its start offset and keyword.
pub(crate) fn next_tag(
    source: &str,
    from: usize,
    wanted: impl Fn(&str) -> bool,
) -> Option<(usize, &str)> {
    let mut at = from;
    while let Some(i) = source.get(at..)?.find("{%") {
        let start = at + i;
        let rest = source[start + 2..]
            .trim_start_matches(['-', '+'])
            .trim_start();
        let keyword_len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let keyword = &rest[..keyword_len];
        if wanted(keyword) {
            return Some((start, keyword));
        }
        at = start + 2;
    }
    None
}

/// Names following `macro` at the start of a `{% ... %}` tag.
fn declared_macros(source: &str) -> Vec<String> {
    source
        .split("{%")
        .skip(1)
        .filter_map(|tag| {
            let rest = tag
                .trim_start_matches(['-', '+'])
                .trim_start()
                .strip_prefix("macro")?;
            if !rest.starts_with(char::is_whitespace) {
                return None;
            }
            let name: String = rest
                .trim_start()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            (!name.is_empty()).then_some(name)
        })
        .collect()
}

pub(crate) fn duplicate_macro(
    name: &str,
    file: &Arc<SourceFile>,
    first: &Arc<SourceFile>,
) -> Diagnostic {
    Diagnostic::error(
        Code::TemplateRender,
        format!("macro '{name}' is defined twice"),
    )
    .with_span(macro_span(file, name))
    .with_label(macro_span(first, name), "first defined here")
    .with_help("rename or remove one of the definitions")
}

pub(crate) fn macro_span(file: &Arc<SourceFile>, name: &str) -> mart_diagnostics::Span {
    let needle = format!("macro {name}");
    let start = file.text.find(&needle).map_or(0, |i| i + "macro ".len());
    mart_diagnostics::Span::new(file.clone(), start..start + name.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic_tests_become_macros_named_test_name() {
        assert_eq!(
            prepare_macro_source(
                "{%- test  is_even(model, column_name) -%}\nx\n{%- endtest %}{% testing %}"
            ),
            "{%- macro  __mart_macro_test_is_even(model, column_name) -%}\nx\n{%- endmacro %}{% testing %}"
        );
        assert_eq!(
            prepare_macro_source("{% macro m() %}{{ m2() }}{% endmacro %}{%+macro\tm2() %}{% endmacro %}"),
            "{% macro __mart_macro_m() %}{{ m2() }}{% endmacro %}{%+macro\t__mart_macro_m2() %}{% endmacro %}"
        );
    }
}
