//! Mutable literals and Python's methods, rendered through a bare environment set up as
//! mart sets up its own (register + the literal rewrite).

use minijinja::Environment;

use super::{register, rewrite_literals};

pub(super) fn env() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Lenient);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    register(&mut env);
    env
}

/// Renders `source` (rewritten) or returns the error's text.
pub(super) fn render(source: &str) -> String {
    let env = env();
    let text = rewrite_literals(source).text.into_owned();
    match env.render_named_str("t.sql", &text, ()) {
        Ok(out) => out,
        Err(e) => format!("error: {e}"),
    }
}

#[track_caller]
fn check(source: &str, expected: &str) {
    assert_eq!(render(source), expected, "template: {source}");
}

#[test]
fn append_is_seen_through_every_name() {
    check("{% set xs = [] %}{% do xs.append(1) %}{{ xs }}", "[1]");
    check(
        "{% set xs = [1] %}{% set ys = xs %}{% do ys.append(2) %}{{ xs }} {{ ys }}",
        "[1, 2] [1, 2]",
    );
    check(
        "{% set d = {'k': []} %}{% do d['k'].append('a') %}{% do d.k.append('b') %}{{ d }}",
        r#"{"k": ["a", "b"]}"#,
    );
}

#[test]
fn a_macro_changes_the_list_its_caller_passed() {
    check(
        "{% macro add(xs, d) %}{% do xs.append(3) %}{% do d.update({'b': 2}) %}{% endmacro %}\
         {% set xs = [1, 2] %}{% set d = {'a': 1} %}{{ add(xs, d) }}{{ xs }} {{ d }}",
        r#"[1, 2, 3] {"a": 1, "b": 2}"#,
    );
    // In a loop too (the loop's scope does not copy the list).
    check(
        "{% set xs = [] %}{% for i in range(3) %}{% do xs.append(i * 2) %}{% endfor %}{{ xs|join(',') }}",
        "0,2,4",
    );
}

#[test]
fn list_methods() {
    check(
        "{% set xs = [1] %}{% do xs.extend([2, 3]) %}{{ xs }}",
        "[1, 2, 3]",
    );
    check("{% set xs = [1, 3] %}{% do xs.insert(1, 2) %}{% do xs.insert(-10, 0) %}{% do xs.insert(99, 4) %}{{ xs }}", "[0, 1, 2, 3, 4]");
    check(
        "{% set xs = [1, 2, 3] %}{{ xs.pop() }} {{ xs.pop(0) }} {{ xs }}",
        "3 1 [2]",
    );
    check(
        "{% set xs = [1, 2, 3] %}{{ xs.pop(-2) }} {{ xs }}",
        "2 [1, 3]",
    );
    check(
        "{% set xs = [] %}{{ xs.pop() }}",
        "error: invalid operation: pop from empty list (in t.sql:1)",
    );
    check("{% set xs = ['a', 'b', 'a'] %}{% do xs.remove('a') %}{{ xs }} {{ xs.index('a') }} {{ xs.count('a') }}", r#"["b", "a"] 1 1"#);
    check(
        "{% set xs = [1] %}{{ xs.index(5) }}",
        "error: invalid operation: 5 is not in list (in t.sql:1)",
    );
    check("{% set xs = [1, 3, 2] %}{% do xs.reverse() %}{{ xs }}{% do xs.sort() %}{{ xs }}{% do xs.sort(reverse=true) %}{{ xs }}", "[2, 3, 1][1, 2, 3][3, 2, 1]");
    check(
        "{% set xs = [1] %}{% set ys = xs.copy() %}{% do ys.append(2) %}{{ xs }} {{ ys }}",
        "[1] [1, 2]",
    );
    check("{% set xs = [1] %}{% do xs.clear() %}{{ xs }}", "[]");
}

#[test]
fn dict_methods() {
    check(
        "{% set d = {} %}{% do d.update({'a': 1}) %}{% do d.update(b=2) %}{{ d }}",
        r#"{"a": 1, "b": 2}"#,
    );
    check(
        "{% set d = {'a': 1} %}{{ d.setdefault('a', 5) }} {{ d.setdefault('b', 7) }} {{ d }}",
        r#"1 7 {"a": 1, "b": 7}"#,
    );
    check(
        "{% set d = {'a': 1, 'b': 2, 'c': 3} %}{{ d.pop('b') }} {{ d.pop('x', 'none') }} {{ d }}",
        r#"2 none {"a": 1, "c": 3}"#,
    );
    check(
        "{% set d = {'z': 1, 'a': 2} %}{{ d.keys()|list }} {{ d.values()|list }} {% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %} {{ d.get('a') }} {{ d.get('q', 0) }} {{ d.get('q') }}",
        r#"["z", "a"] [1, 2] z=1;a=2; 2 0 None"#,
    );
    check(
        "{% set d = {'a': 1} %}{% set e = d.copy() %}{% do e.update({'b': 2}) %}{{ d }} {{ e }}",
        r#"{"a": 1} {"a": 1, "b": 2}"#,
    );
    check(
        "{% set d = {'a': 1} %}{{ d.popitem() }} {{ d }}",
        r#"["a", 1] {}"#,
    );
    // Insertion order, as in Python, not key order.
    check("{{ {'b': 1, 'a': 2} }}", r#"{"b": 1, "a": 2}"#);
}

#[test]
fn mutable_values_read_like_plain_ones() {
    check("{% set xs = [1, 2, 3] %}{{ xs|length }} {{ 2 in xs }} {{ 5 in xs }} {{ xs[0] }} {{ xs[-1] }} {{ xs[1:] }} {{ xs[::-1] }}", "3 True False 1 3 [2, 3] [3, 2, 1]");
    check(
        "{% set d = {'a': 1} %}{{ 'a' in d }} {{ d['a'] }} {{ d.a }} {{ d|length }}",
        "True 1 1 1",
    );
    check("{% set xs = ['b', 'a', 'b'] %}{{ xs|sort|join(',') }} {{ xs|unique|list }} {{ xs|map('upper')|join }}", r#"a,b,b ["b", "a"] BAB"#);
    check(
        "{% set xs = [{'n': 1, 'ok': true}, {'n': 2, 'ok': false}] %}{{ xs|selectattr('ok')|map(attribute='n')|list }}",
        "[1]",
    );
    check(
        "{{ [1, 'a', none, true]|tojson }} {{ {'a': [1]}|tojson }}",
        r#"[1,"a",null,true] {"a":[1]}"#,
    );
    check(
        "{{ [1] == [1] }} {{ [1, 2] == [2, 1] }} {{ {'a': 1} == {'a': 1} }} {{ [] == [] }}",
        "True False True True",
    );
    check(
        "{{ 'e' if [] else 'f' }} {{ 'e' if {} else 'f' }} {{ 'e' if [0] else 'f' }}",
        "f f e",
    );
    check("{{ ['a'] }} {{ [] }} {{ {} }}", r#"["a"] [] {}"#);
    check(
        "{{ [1] + [2] }} {{ ([1] + [2])|length }} {% for x in [1] + [2, 3] %}{{ x }}{% endfor %}",
        "[1, 2] 2 123",
    );
    check(
        "{% set xs = [1, 2] %}{{ xs[5] }}|{{ xs[5] is undefined }}",
        "|True",
    );
    check(
        "{% for a, b in [[1, 2], [3, 4]] %}{{ a }}{{ b }}{% endfor %}",
        "1234",
    );
}

#[test]
fn nested_literals_are_mutable_at_every_level() {
    check(
        "{% set d = {'a': [1, {'b': []}]} %}{% do d['a'][1]['b'].append(2) %}{% do d['a'].append(3) %}{{ d }}",
        r#"{"a": [1, {"b": [2]}, 3]}"#,
    );
}

#[test]
fn filter_results_of_list_and_sort_are_mutable() {
    check(
        "{% set xs = (['b', 'a']|sort) %}{% do xs.append('c') %}{{ xs }}",
        r#"["a", "b", "c"]"#,
    );
    check(
        "{% set xs = range(2)|list %}{% do xs.append(9) %}{{ xs }}",
        "[0, 1, 9]",
    );
    check(
        "{% set xs = 'a,b'.split(',') %}{% do xs.append('c') %}{{ xs }}",
        r#"["a", "b", "c"]"#,
    );
}

#[test]
fn changing_a_plain_list_is_an_error_that_says_what_to_do() {
    let out = render("{% set xs = range(2) %}{% do xs.append(1) %}");
    assert!(
        out.starts_with("error: invalid operation: append() cannot change this list"),
        "{out}"
    );
    assert!(out.contains("x.copy()"), "{out}");
    // copy() of a plain value is mutable.
    check(
        "{% set xs = range(2).copy() %}{% do xs.append(5) %}{{ xs }} {{ range(3).index(2) }}",
        "[0, 1, 5] 2",
    );
}

#[test]
fn string_methods() {
    check(
        "{{ 'a,b'.split(',') }} {{ 'a b'.split() }} {{ ' x '.strip() }}|{{ 'xxaxx'.strip('x') }}",
        r#"["a", "b"] ["a", "b"] x|a"#,
    );
    check("{{ 'Ab'.lower() }} {{ 'Ab'.upper() }} {{ 'aXa'.replace('a', 'b') }} {{ 'ab'.startswith('a') }} {{ 'ab'.endswith('a') }}", "ab AB bXb True False");
    check(
        "{{ ', '.join(['a', 'b']) }} {{ '-'.join(('x', 'y')) }}",
        "a, b x-y",
    );
    check(
        "{{ '{}_{}'.format('a', 1) }} {{ '{0}-{0}'.format('z') }} {{ '{n}!'.format(n=3) }}",
        "a_1 z-z 3!",
    );
    check("{{ 'abcb'.count('b') }} {{ 'abc'.find('c') }} {{ 'hello world'.title() }} {{ 'abc'.capitalize() }}", "2 2 Hello World Abc");
    check("{{ '  a'.lstrip() }}|{{ 'a  '.rstrip() }}|{{ 'a\\nb'.splitlines() }} {{ '12'.isdigit() }} {{ '1a'.isdigit() }}", r#"a|a|["a", "b"] True False"#);
    check(
        "{{ '7'.zfill(3) }} {{ 'pre_x'.removeprefix('pre_') }} {{ 'a.b.c'.rsplit('.', 1) }}",
        r#"007 x ["a.b", "c"]"#,
    );
}

#[test]
fn percent_formatting() {
    check("{{ '%s-%s' % ('a', 1) }} {{ '%s' % 'x' }} {{ '%05.1f|%d' % (3.14159, 7) }} {{ '%s' % [1] }}", r#"a-1 x 003.1|7 [1]"#);
    check("{{ 'n=%s' % 3 ~ '!' }} {{ 7 % 3 }}", "n=3! 1");
}

#[test]
fn methods_on_plain_maps_and_lists() {
    // Values that did not come from a literal: the context's.
    let env = env();
    let ctx = minijinja::context! { m => minijinja::context! { a => 1 }, xs => vec![1, 2, 1] };
    let out = env
        .render_str("{{ m.items()|list }} {{ m.keys()|list }} {{ m.values()|list }} {{ m.get('a') }} {{ m.get('b', 2) }} {{ xs.count(1) }} {{ xs.index(2) }}", ctx)
        .unwrap_or_else(|e| e.to_string());
    assert_eq!(out, r#"[["a", 1]] ["a"] [1] 1 2 2 1"#);
}

#[test]
fn errors_keep_their_line() {
    let source = "{% set xs = [\n  1,\n  {'a': 2}] %}\n{{ xs[0] }}\n{{ nope() }}";
    let env = env();
    let text = rewrite_literals(source).text.into_owned();
    let err = env.render_named_str("t.sql", &text, ()).err();
    assert_eq!(err.and_then(|e| e.line()), Some(5));
    let source = "{% set d = {'a': [1,\n2]} %}\n{{ d.a.pop(7) }}";
    let text = rewrite_literals(source).text.into_owned();
    let err = env.render_named_str("t.sql", &text, ()).err();
    assert_eq!(err.and_then(|e| e.line()), Some(3));
}

#[test]
fn literal_text_in_strings_and_comments_is_not_a_list() {
    check(
        "{# [1] #}{{ '[1]' }} {{ \"{'a': 1}\" }} [x] {x}",
        "[1] {'a': 1} [x] {x}",
    );
    check("{% raw %}{{ [1] }}{% endraw %}", "{{ [1] }}");
}

#[test]
fn through_jinja_env_a_macro_changes_its_callers_list_and_lines_hold() {
    use std::sync::Arc;

    use mart_diagnostics::SourceFile;

    use crate::{EnvSettings, JinjaEnv, Phase, RenderScope};

    let macros = [mart_project::MacroFile {
        package: String::new(),
        file: Arc::new(SourceFile::new(
            "macros/cols.sql",
            "{% macro add_col(cols, by_rel, rel) %}\n{% do cols.append('c') %}{% do by_rel[rel].append(rel) %}\n{% endmacro %}",
        )),
    }];
    let jinja = JinjaEnv::new(&EnvSettings::default(), &macros).unwrap_or_else(|e| panic!("{e:?}"));
    let scope = Arc::new(RenderScope::new(Phase::Compile));
    let model = Arc::new(SourceFile::new(
        "models/m.sql",
        "{% set cols = ['a'] %}{% set by_rel = {'r': []} %}{% do add_col(cols, by_rel, 'r') -%}\n{{ cols|join(',') }} {{ by_rel }}",
    ));
    assert_eq!(
        jinja.render(&model, &scope).map_err(|d| d.message),
        Ok(r#"a,c {"r": ["r"]}"#.to_string())
    );
    let broken = Arc::new(SourceFile::new(
        "models/broken.sql",
        "{% set xs = [1,\n {'a': [2]}] %}\n{{ xs.pop(9) }}",
    ));
    let diagnostic = jinja.render(&broken, &scope).err();
    let line = diagnostic.and_then(|d| d.span).map(|s| s.line_col().0);
    assert_eq!(line, Some(3));
}

#[test]
fn to_python_makes_plain_values_mutable_deeply() {
    let env = env();
    let value = super::to_python(minijinja::Value::from_serialize(
        serde_json::json!({"a": [1]}),
    ));
    let out = env
        .render_str(
            "{% do v.a.append(2) %}{% do v.update({'b': 3}) %}{{ v }}",
            minijinja::context! { v => value },
        )
        .unwrap_or_else(|e| e.to_string());
    assert_eq!(out, r#"{"a": [1, 2], "b": 3}"#);
}
