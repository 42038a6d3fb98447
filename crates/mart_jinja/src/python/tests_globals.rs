//! dbt's Python globals: JSON and YAML, zip, set, local_md5, dbt_version and `modules`.

use super::tests::render;

#[track_caller]
fn check(source: &str, expected: &str) {
    assert_eq!(render(source), expected, "template: {source}");
}

#[test]
fn json_both_ways() {
    check(
        r#"{% set d = fromjson('{"b": [1, 2], "a": null}') %}{% do d.b.append(3) %}{{ d }}"#,
        r#"{"b": [1, 2, 3], "a": None}"#,
    );
    check(
        "{{ fromjson('not json') }}|{{ fromjson('{', 'dflt') }}|{{ fromjson('[', default=[]) }}",
        "None|dflt|[]",
    );
    check(
        "{{ tojson({'b': 1, 'a': [1, 'é']}) }}",
        r#"{"b": 1, "a": [1, "\u00e9"]}"#,
    );
    check(
        "{{ tojson({'b': 1, 'a': 2}, sort_keys=true) }}",
        r#"{"a": 2, "b": 1}"#,
    );
    check(
        "{{ tojson(modules.re) }}|{{ tojson(modules.re, 'x') }}",
        "None|x",
    );
}

#[test]
fn yaml_both_ways() {
    check(
        "{% set d = fromyaml('b: [1, 2]\\na: x') %}{% do d.b.append(3) %}{{ d }}",
        r#"{"b": [1, 2, 3], "a": "x"}"#,
    );
    check("{{ fromyaml('a: [') }}|{{ fromyaml('a: [', 1) }}", "None|1");
    check(
        "{{ toyaml({'b': 1, 'a': [1, 2]}) }}",
        "b: 1\na:\n- 1\n- 2\n",
    );
    check(
        "{{ toyaml({'b': 1, 'a': 2}, sort_keys=true) }}",
        "a: 2\nb: 1\n",
    );
}

#[test]
fn zip_and_set() {
    check(
        "{% for a, b in zip([1, 2, 3], 'xy') %}{{ a }}{{ b }};{% endfor %}",
        "1x;2y;",
    );
    check("{{ zip([1], 5) }}|{{ zip([1], 5, default=[]) }}", "None|[]");
    check("{{ try_zip([1], 5) }}", "error: invalid operation: try_zip(): every argument must be a list or another iterable (in t.sql:1)");
    check("{% set s = set(['b', 'a', 'b']) %}{% do s.add('c') %}{% do s.add('a') %}{{ s }} {{ s|length }} {{ 'a' in s }}", r#"["a", "b", "c"] 3 True"#);
    check("{{ set(['a', 'b']) == set(['b', 'a']) }} {{ set([1]) != set([2]) }} {{ set(5) }} {{ set(5, default=[]) }}", "True True None []");
    check("{% set s = set([1, 2]) %}{{ s.union([3]) }} {{ s.intersection([2, 3]) }} {{ s.difference([2]) }} {{ s.issubset([1, 2, 3]) }}", "[1, 2, 3] [2] [1] True");
    check(
        "{% set s = set([1, 2]) %}{% do s.remove(1) %}{% do s.discard(7) %}{{ s }}",
        "[2]",
    );
}

#[test]
fn md5_and_version() {
    check(
        "{{ local_md5('hello world') }}",
        "5eb63bbbe01eeed093cb22bb8f5acdc3",
    );
    check("{{ dbt_version }}", "1.10.0");
}

#[test]
fn datetime_module() {
    check("{% set dt = modules.datetime.datetime(2024, 1, 2, 3, 4, 5) %}{{ dt }} {{ dt.isoformat() }} {{ dt.strftime('%Y%m%d_%H%M%S') }} {{ dt.year }}", "2024-01-02 03:04:05 2024-01-02T03:04:05 20240102_030405 2024");
    check(
        "{{ modules.datetime.datetime(2024, 1, 2, microsecond=5).strftime('%f|%z|%Z') }}",
        "000005||",
    );
    check("{{ modules.datetime.datetime.strptime('2024-03-04 05:06:07.25', '%Y-%m-%d %H:%M:%S.%f') }}", "2024-03-04 05:06:07.250000");
    check(
        "{{ modules.datetime.datetime.strptime('2024-03-04', '%Y-%m-%d') }}",
        "2024-03-04 00:00:00",
    );
    check("{{ modules.datetime.date(2024, 2, 29) }} {{ modules.datetime.date(2024, 2, 29).strftime('%d/%m') }} {{ modules.datetime.datetime(2024, 5, 6).date() }}", "2024-02-29 29/02 2024-05-06");
    check("{{ modules.datetime.timedelta(days=1, hours=2) }} {{ modules.datetime.timedelta(3) }} {{ modules.datetime.timedelta(minutes=-1) }} {{ modules.datetime.timedelta(seconds=90).total_seconds() }}", "1 day, 2:00:00 3 days, 0:00:00 -1 day, 23:59:00 90.0");
    check("{% set now = modules.datetime.datetime.now() %}{{ now.year >= 2024 }} {{ modules.datetime.datetime.utcnow().isoformat()|length >= 19 }}", "True True");
    check(
        "{{ modules.datetime.datetime.fromisoformat('2024-01-02T03:04:05+00:00') }}",
        "2024-01-02 03:04:05+00:00",
    );
}

#[test]
fn pytz_module() {
    check("{% set dt = modules.pytz.timezone('UTC').localize(modules.datetime.datetime(2024, 1, 2)) %}{{ dt }} {{ dt.strftime('%z %Z') }} {{ dt.tzinfo }}", "2024-01-02 00:00:00+00:00 +0000 UTC UTC");
    check("{{ modules.datetime.datetime.now(modules.pytz.utc).tzinfo.zone }} {{ modules.datetime.timezone.utc }}", "UTC UTC");
    // Named zones follow the tz database, daylight saving included.
    check("{% set tz = modules.pytz.timezone('America/Los_Angeles') %}{{ tz.localize(modules.datetime.datetime(2024, 1, 15, 12)) }} {{ tz.localize(modules.datetime.datetime(2024, 7, 15, 12)) }}", "2024-01-15 12:00:00-08:00 2024-07-15 12:00:00-07:00");
    check("{{ modules.pytz.utc.localize(modules.datetime.datetime(2024, 7, 1, 12)).astimezone(modules.pytz.timezone('Asia/Seoul')) }}", "2024-07-01 21:00:00+09:00");
    check(
        "{{ modules.datetime.datetime.now(modules.pytz.timezone('US/Eastern')).tzinfo.zone }}",
        "US/Eastern",
    );
    let out = render("{{ modules.pytz.timezone('Mars/Olympus') }}");
    assert!(out.contains("unknown timezone"), "{out}");
}

#[test]
fn re_braces_that_start_no_repetition_are_literal_as_in_python() {
    check(
        "{{ modules.re.findall('({{\\s*ref\\()', 'from {{ ref(x) }}') }} {{ modules.re.sub('a{2}', 'b', 'aaa') }} {{ modules.re.sub('x{,2}}', '-', 'xx}') }}",
        "[\"{{ ref(\"] ba -",
    );
}

#[test]
fn re_module() {
    check("{{ modules.re.sub('[ -]+', '_', 'a b-c') }} {{ modules.re.sub('(a)(b)', '\\\\2\\\\1', 'abab', 1) }} {{ modules.re.sub('(?P<x>b)', '<\\\\g<x>>', 'ab') }}", "a_b_c baab a<b>");
    check(
        "{{ modules.re.sub('^[0-9]', '_' ~ 'x', '1ab') }} {{ modules.re.sub('a', '$', 'a') }}",
        "_xab $",
    );
    check("{% set m = modules.re.search('(\\\\d+)-(\\\\d+)', 'x 12-34 y') %}{{ m.group(0) }} {{ m.group(1) }} {{ m.groups() }} {{ m.start() }} {{ m.span(2) }}", r#"12-34 12 ["12", "34"] 2 [5, 7]"#);
    check("{{ modules.re.match('b', 'ab') }}|{{ modules.re.match('a', 'ab') is not none }}|{{ modules.re.fullmatch('a', 'ab') }}|{{ modules.re.fullmatch('a.', 'ab').group() }}", "None|True|None|ab");
    check("{{ modules.re.match('A', 'a', modules.re.IGNORECASE).group() }} {{ modules.re.search('^b', 'a\\nb', flags=modules.re.M).group() }}", "a b");
    check("{{ modules.re.findall('\\\\d', 'a1b2') }} {{ modules.re.findall('(\\\\w)=(\\\\d)', 'a=1 b=2') }}", r#"["1", "2"] [["a", "1"], ["b", "2"]]"#);
    check("{{ modules.re.split(',\\\\s*', 'a, b,c') }} {{ modules.re.split('(,)', 'a,b') }} {{ modules.re.split(',', 'a,b,c', 1) }}", r#"["a", "b", "c"] ["a", ",", "b"] ["a", "b,c"]"#);
    check("{% set p = modules.re.compile('s3://[a-z0-9-_/]+', modules.re.I) %}{{ p.match('S3://x/y').group() }} {{ p.pattern }}", "S3://x/y s3://[a-z0-9-_/]+");
    check(
        "{{ modules.re.search('a\\\\Z', 'ba').group() }} {{ modules.re.escape('a.b') }}",
        "a a\\.b",
    );
    // Lookaround and backreferences, as Python's re has them.
    check(
        "{{ modules.re.search('a(?=b)', 'ab').group() }} {{ modules.re.findall('(?<!x)y', 'xy zy') }} {{ modules.re.search('(a)\\\\1', 'baa').span() }}",
        "a [\"y\"] [1, 3]",
    );
}

#[test]
fn itertools_module() {
    check(
        "{{ modules.itertools.product([1, 2], 'ab') }}",
        r#"[[1, "a"], [1, "b"], [2, "a"], [2, "b"]]"#,
    );
    check(
        "{{ modules.itertools.product([0, 1], repeat=2)|length }}",
        "4",
    );
    check("{{ modules.itertools.chain([1], [2, 3]) }} {{ modules.itertools.combinations([1, 2, 3], 2) }}", "[1, 2, 3] [[1, 2], [1, 3], [2, 3]]");
    check(
        "{{ modules.itertools.permutations([1, 2]) }}",
        "[[1, 2], [2, 1]]",
    );
}
