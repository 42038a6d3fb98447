//! The exact text `+`, `-` and `*` are rewritten into, and what is left alone.

use super::rewrite_literals;

fn rw(source: &str) -> String {
    rewrite_literals(source).text.into_owned()
}

#[track_caller]
fn check_table(table: &[(&str, &str)]) {
    for (source, expected) in table {
        assert_eq!(rw(source), *expected, "source: {source}");
    }
}

#[track_caller]
fn unchanged(sources: &[&str]) {
    for source in sources {
        assert_eq!(rw(source), *source);
    }
}

#[test]
fn precedence_decides_the_operands() {
    check_table(&[
        ("{{ a + b }}", "{{ __mart_add(a , b) }}"),
        ("{{ a - b }}", "{{ __mart_sub(a , b) }}"),
        ("{{ a+b-c }}", "{{ __mart_sub(__mart_add(a,b),c) }}"),
        ("{{ a + b * c }}", "{{ __mart_add(a , __mart_mul(b , c)) }}"),
        ("{{ a * b + c }}", "{{ __mart_add(__mart_mul(a , b) , c) }}"),
        ("{{ a * b * c }}", "{{ __mart_mul(__mart_mul(a , b) , c) }}"),
        (
            "{{ a / b + c // d % e }}",
            "{{ __mart_add(a / b , c // d % e) }}",
        ),
        ("{{ a ** 2 - 1 }}", "{{ __mart_sub(a ** 2 , 1) }}"),
        (
            "{{ (a + b) * c }}",
            "{{ __mart_mul((__mart_add(a , b)) , c) }}",
        ),
        ("{{ a ~ b + c ~ d }}", "{{ __mart_add(a ~ b , c ~ d) }}"),
        (
            "{{ a + b == c - d }}",
            "{{ __mart_add(a , b) == __mart_sub(c , d) }}",
        ),
        ("{{ a < b + 1 <= c }}", "{{ a < __mart_add(b , 1) <= c }}"),
        (
            "{{ x + 1 if a - b > 0 else y * 2 }}",
            "{{ __mart_add(x , 1) if __mart_sub(a , b) > 0 else __mart_mul(y , 2) }}",
        ),
        (
            "{{ not a + b and c - d or e }}",
            "{{ not __mart_add(a , b) and __mart_sub(c , d) or e }}",
        ),
        ("{{ a + b in xs }}", "{{ __mart_add(a , b) in xs }}"),
        ("{{ a - b not in xs }}", "{{ __mart_sub(a , b) not in xs }}"),
    ]);
}

#[test]
fn postfix_filters_and_tests_bind_tighter() {
    check_table(&[
        ("{{ a.b + c[0] }}", "{{ __mart_add(a.b , c[0]) }}"),
        (
            "{{ f(x)[1:2] - g.h(y, z=1) }}",
            "{{ __mart_sub(f(x)[1:2] , g.h(y, z=1)) }}",
        ),
        ("{{ a|length + 1 }}", "{{ __mart_add(a|length , 1) }}"),
        (
            "{{ 1 + a|default(2) }}",
            "{{ __mart_add(1 , a|default(2)) }}",
        ),
        ("{{ (a + b)|int }}", "{{ (__mart_add(a , b))|int }}"),
        ("{{ a|f(b + c)|g }}", "{{ a|f(__mart_add(b , c))|g }}"),
        (
            "{{ a + b is defined }}",
            "{{ __mart_add(a , b is defined) }}",
        ),
        (
            "{{ a is divisibleby 3 + 1 }}",
            "{{ __mart_add(a is divisibleby 3 , 1) }}",
        ),
        ("{{ x.0 + 1 }}", "{{ __mart_add(x.0 , 1) }}"),
        (
            "{{ 1.5 + 2e-3 - 0x1F }}",
            "{{ __mart_sub(__mart_add(1.5 , 2e-3) , 0x1F) }}",
        ),
        ("{{ 'a' 'b' + c }}", "{{ __mart_add('a' 'b' , c) }}"),
    ]);
}

#[test]
fn calls_subscripts_and_literals_are_operands() {
    check_table(&[
        (
            "{{ f(a + b, c - d) }}",
            "{{ f(__mart_add(a , b), __mart_sub(c , d)) }}",
        ),
        ("{{ f(n=a + 1) }}", "{{ f(n=__mart_add(a , 1)) }}"),
        (
            "{{ f(*xs, **kw) + 1 }}",
            "{{ __mart_add(f(*xs, **kw) , 1) }}",
        ),
        ("{{ xs[i + 1] }}", "{{ xs[__mart_add(i , 1)] }}"),
        ("{{ xs[i - 1:] }}", "{{ xs[__mart_sub(i , 1):] }}"),
        (
            "{{ [1] + [2] }}",
            "{{ __mart_add(__mart_list(1) , __mart_list(2)) }}",
        ),
        (
            "{{ {'a': x + 1} }}",
            "{{ __mart_dict('a', __mart_add(x , 1)) }}",
        ),
        ("{{ (a, b + 1) }}", "{{ (a, __mart_add(b , 1)) }}"),
        (
            "{{ '%s' % a + b }}",
            "{{ __mart_add('%s' |__mart_percent( a ), b) }}",
        ),
        ("{{ 'x' + y ~ 'z' }}", "{{ __mart_add('x' , y ~ 'z') }}"),
    ]);
}

#[test]
fn unary_minus_stays() {
    check_table(&[
        ("{{ -1 }}", "{{ -1 }}"),
        ("{{ x * -y }}", "{{ __mart_mul(x , -y) }}"),
        ("{{ -a - -b }}", "{{ __mart_sub(-a , -b) }}"),
        ("{{ f(-1) }}", "{{ f(-1) }}"),
        ("{{ xs[-1] - 1 }}", "{{ __mart_sub(xs[-1] , 1) }}"),
    ]);
}

#[test]
fn statements() {
    check_table(&[
        ("{% set x = a + b %}", "{% set x = __mart_add(a , b) %}"),
        (
            "{% set ns.x = a - 1 %}",
            "{% set ns.x = __mart_sub(a , 1) %}",
        ),
        (
            "{% set x, y = a + 1, b - 1 %}",
            "{% set x, y = __mart_add(a , 1), __mart_sub(b , 1) %}",
        ),
        ("{%- if a + b > c -%}", "{%- if __mart_add(a , b) > c -%}"),
        ("{% elif a - 1 %}", "{% elif __mart_sub(a , 1) %}"),
        ("{% for x in a + b %}", "{% for x in __mart_add(a , b) %}"),
        (
            "{% for i, x in f(n - 1) if x * 2 > 1 recursive %}",
            "{% for i, x in f(__mart_sub(n , 1)) if __mart_mul(x , 2) > 1 recursive %}",
        ),
        (
            "{% do xs.append(n + 1) %}",
            "{% do xs.append(__mart_add(n , 1)) %}",
        ),
        (
            "{% do return(a + b) %}",
            "{% do return(__mart_add(a , b)) %}",
        ),
        (
            "{% macro m(a, b=1 + 2) %}{% endmacro %}",
            "{% macro m(a, b=__mart_add(1 , 2)) %}{% endmacro %}",
        ),
        (
            "{% call(row) f(n + 1) %}{% endcall %}",
            "{% call(row) f(__mart_add(n , 1)) %}{% endcall %}",
        ),
        (
            "{% with x = a + 1 %}{% endwith %}",
            "{% with x = __mart_add(a , 1) %}{% endwith %}",
        ),
        ("{{- a + b -}}", "{{- __mart_add(a , b) -}}"),
        ("{{ a - b-}}", "{{ __mart_sub(a , b)-}}"),
        ("{%+ set x = a + b +%}", "{%+ set x = __mart_add(a , b) +%}"),
    ]);
}

#[test]
fn what_is_left_alone() {
    unchanged(&[
        // Template data, comments, raw blocks and strings.
        "select a + b from t",
        "{# {{ a + b }} #}",
        "{% raw %}{{ a + b }}{% endraw %}",
        "{{ 'a + b' ~ \"c - d\" }}",
        // `do` and `call` need a call: rewriting would make an error valid.
        "{% do a + b %}",
        "{% do (a + b) %}",
        // Statements this rewrite does not know, and block sets.
        "{% filter upper %}{% endfilter %}",
        "{% set x %}{{ 1 }}{% endset %}",
        "{% test t(model, n=1 + 1) %}",
        // Syntax errors stay for minijinja to report.
        "{{ a + }}",
        "{{ a + + b }}",
        "{{ +a }}",
        "{% if a + b if c else d %}",
        "{{ a not b + c }}",
        "{% for x in a + b, c %}",
        // Operators that are not rewritten.
        "{{ a ~ b }}{{ a / b }}{{ a % b }}{{ a ** b }}{{ a // b }}{{ a < b }}",
    ]);
    // After an expression that cannot be read the rest of the file is left alone.
    assert_eq!(rw("{{ a ! b }}{{ c + d }}"), "{{ a ! b }}{{ c + d }}");
    // But other regions are rewritten when one region is only not understood.
    assert_eq!(
        rw("{{ a + }}{{ c + d }}"),
        "{{ a + }}{{ __mart_add(c , d) }}"
    );
}

#[test]
fn long_chains_are_left_to_minijinja() {
    let chain = (0..30)
        .map(|i| format!("x{i}"))
        .collect::<Vec<_>>()
        .join(" + ");
    let source = format!("{{{{ {chain} }}}}");
    assert_eq!(rw(&source), source);
    assert_eq!(
        rw("{{ a + b + c }}"),
        "{{ __mart_add(__mart_add(a , b) , c) }}"
    );
}

#[test]
fn line_breaks_are_kept_and_offsets_map_back() {
    let source = "{% set x = a\n + [b,\n c] %}\n{{ y }}";
    let out = rewrite_literals(source);
    assert_eq!(
        out.text,
        "{% set x = __mart_add(a\n , __mart_list(b,\n c)) %}\n{{ y }}"
    );
    let in_out = out.text.find("y }}").unwrap_or_default();
    assert_eq!(
        out.original_offset(in_out),
        source.find("y }}").unwrap_or_default()
    );
    // Inside an inserted name: where it was inserted.
    let a_at = source.find('a').unwrap_or_default();
    assert_eq!(out.original_offset(a_at + 3), a_at);
    assert_eq!(out.original_offset(a_at + "__mart_add(".len()), a_at);
}
