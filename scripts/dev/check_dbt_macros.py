"""Checks crates/mart_jinja/tests/fixtures/dbt_macros.yml against PostgreSQL, independently of
mart: renders the builtin dbt macros with Python's jinja2 (the engine dbt uses), a stand-in for
dbt's adapter.dispatch/return/statement, and runs each case's query with psql -At.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install jinja2 psycopg2-binary pyyaml
    /tmp/venv/bin/python scripts/dev/check_dbt_macros.py   # PGHOST etc. as for psql; default 127.0.0.1/postgres
"""
import datetime
import glob
import os
import re
import subprocess
import sys

import jinja2
import psycopg2
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MACRO_DIR = os.path.join(ROOT, 'crates/mart_jinja/src/builtin/dbt')
FIXTURE = os.path.join(ROOT, 'crates/mart_jinja/tests/fixtures/dbt_macros.yml')
DB = dict(host=os.environ.get('PGHOST', '127.0.0.1'), user=os.environ.get('PGUSER', 'postgres'),
          dbname=os.environ.get('PGDATABASE', 'postgres'))
MACRO_RE = re.compile(r'\{%-?\s*macro\s+(\w+)\s*\(.*?\{%-?\s*endmacro\s*-?%\}', re.S)

conn = psycopg2.connect(**DB)
conn.autocommit = True
macros = {}
results = {}


class Return(Exception):
    """dbt's return(): ends the macro with a value."""
    def __init__(self, value):
        self.value = value


class CompilerError(Exception):
    pass


def do_return(value):
    raise Return(value)


def raise_compiler_error(message):
    raise CompilerError(message)


class Obj:
    def __init__(self, **attrs):
        self.__dict__.update(attrs)


class Relation:
    def __init__(self, database=None, schema=None, identifier=None, type=None):
        self.database, self.schema, self.identifier, self.type = database, schema, identifier, type

    def render(self):
        return '.'.join('"%s"' % p for p in (self.database, self.schema, self.identifier) if p is not None)

    __str__ = render

    def incorporate(self, path=None, type=None):
        parts = dict(database=self.database, schema=self.schema, identifier=self.identifier)
        parts.update(path or {})
        return Relation(type=type if type is not None else self.type, **parts)

    def include(self, database=True, schema=True, identifier=True):
        return Relation(self.database if database else None, self.schema if schema else None,
                        self.identifier if identifier else None, self.type)


class Table:
    """The agate-like result of run_query and load_result(...).table."""
    def __init__(self, cur):
        self.column_names = [d.name for d in cur.description] if cur.description else []
        self.rows = cur.fetchall() if cur.description else []
        self.columns = [Obj(name=n, values=(lambda i=i: [r[i] for r in self.rows]))
                        for i, n in enumerate(self.column_names)]


def run_query(sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        return Table(cur)


def statement(name=None, fetch_result=False, auto_begin=True, language='sql', caller=None):
    table = run_query(caller())
    if name is not None:
        results[name] = {'data': table.rows, 'table': table}
    return ''


def dispatch(name, macro_namespace=None):
    for key in ('postgres__' + name, 'default__' + name):
        if key in macros:
            return macros[key]
    raise CompilerError('no implementation of %s' % name)


def get_relation(database=None, schema=None, identifier=None):
    with conn.cursor() as cur:
        cur.execute('select c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace '
                    'where n.nspname = %s and c.relname = %s', (schema, identifier))
        row = cur.fetchone()
    kinds = {'r': 'table', 'p': 'table', 'v': 'view', 'm': 'materialized_view'}
    return None if row is None else Relation(database, schema, identifier, kinds[row[0]])


def get_columns_in_relation(relation):
    with conn.cursor() as cur:
        cur.execute('select column_name, data_type from information_schema.columns where table_schema = %s '
                    'and table_name = %s order by ordinal_position', (relation.schema, relation.identifier))
        return [Obj(name=n, column=n, dtype=t, data_type=t, quoted='"%s"' % n) for n, t in cur.fetchall()]


class Config:
    def get(self, key, default=None):
        return default


class LazyMacro:
    """Looks the macro up when called, as dbt's context does, so any macro may call any other."""
    def __init__(self, name):
        self.name = name

    def __call__(self, *args, **kwargs):
        return macros[self.name](*args, **kwargs)


def returning(macro):
    def call(*args, **kwargs):
        try:
            return macro(*args, **kwargs)
        except Return as r:
            return r.value
    return call


env = jinja2.Environment(extensions=['jinja2.ext.do'])
env.globals.update({
    'return': do_return,
    'adapter': Obj(dispatch=dispatch, quote=lambda s: '"%s"' % s, get_relation=get_relation,
                   get_columns_in_relation=get_columns_in_relation),
    'api': Obj(Relation=Obj(create=Relation)),
    'exceptions': Obj(raise_compiler_error=raise_compiler_error),
    'statement': statement,
    'load_result': results.get,
    'run_query': run_query,
    'config': Config(),
    'flags': Obj(FULL_REFRESH=False, STORE_FAILURES=False),
    'model': {},
    'execute': True,
    'target': Obj(database=DB['dbname'], schema='public', type='postgres'),
    'modules': Obj(datetime=datetime),
    'log': lambda *a, **k: '',
    'dbt': Obj(),
})


def load_macros():
    """Compiles each macro on its own, as dbt does; the folder must hold nothing but macros."""
    sources = {}
    for path in sorted(glob.glob(os.path.join(MACRO_DIR, '*.sql'))):
        text = open(path).read()
        for m in MACRO_RE.finditer(text):
            if m.group(1) in sources:
                sys.exit('%s: macro %s is defined twice' % (path, m.group(1)))
            sources[m.group(1)] = m.group(0)
        rest = re.sub(r'\{#.*?#\}', '', MACRO_RE.sub('', text), flags=re.S)
        if rest.strip():
            sys.exit('%s: text outside macros: %r' % (path, rest.strip()[:80]))
    env.globals.update({n: LazyMacro(n) for n in sources})
    for n, src in sources.items():
        template = env.from_string(src)
        ctx = template.new_context()
        ''.join(template.root_render_func(ctx))  # defines the macro; ctx.vars keeps _private ones too
        macros[n] = returning(ctx.vars[n])
    env.globals['dbt'].__dict__.update(macros)


def psql(sql):
    p = subprocess.run(['psql', '-h', DB['host'], '-U', DB['user'], '-d', DB['dbname'], '-At',
                        '-v', 'ON_ERROR_STOP=1', '-c', sql], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(p.stderr.strip())
    return p.stdout.rstrip('\n')


def main():
    load_macros()
    passed = failed = 0
    called = set()
    for case in yaml.safe_load(open(FIXTURE)):
        src = case['sql'] if 'sql' in case else 'select {{ %s }} as v' % case['call']
        try:
            got = psql(env.from_string(src).render())
        except Exception as e:  # every failing case is reported, not only the first
            got = 'ERROR %s: %s' % (type(e).__name__, e)
        if 'error' in case:
            ok = got.startswith('ERROR CompilerError') and case['error'] in got
        else:
            ok = got == str(case['expect'])
        passed, failed = passed + ok, failed + (not ok)
        if not ok:
            print('FAILED %s\n  got:  %r\n  want: %r' % (src, got, case.get('expect', case.get('error'))))
        called.update(n for n in macros if 'dbt.%s(' % n in src)
    public = sorted(n for n in macros if '__' not in n and not n.startswith('_'))
    uncalled = [n for n in public if n not in called]
    if uncalled:
        print('public macros no case calls:', ', '.join(uncalled))
    print('%d passed, %d failed' % (passed, failed))
    sys.exit(1 if failed or uncalled else 0)


main()
