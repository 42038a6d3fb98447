//! Hooks, indexes, grants, persist_docs and unlogged tables, checked in pg_catalog.

use crate::harness::TestProject;

fn rows(project: &TestProject, sql: &str) -> Vec<String> {
    project
        .query(sql)
        .into_iter()
        .map(|r| {
            r.into_iter()
                .map(|v| v.unwrap_or_else(|| "-".into()))
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}

const PROJECT: &str = "name: fx\nprofile: fx\n\
on-run-start:\n  - \"create table if not exists {{ target.schema }}.run_log (id serial, event text)\"\n  - \"insert into {{ target.schema }}.run_log (event) values ('start')\"\n\
on-run-end: \"insert into {{ target.schema }}.run_log (event) values ('end')\"\n\
models:\n  fx:\n    +materialized: table\n    gold:\n      +pre-hook: \"insert into {{ target.schema }}.run_log (event) values ('pre {{ this.name }}')\"\n";

fn model(role: &str) -> String {
    format!(
        "{{{{ config(unlogged=true, indexes=[{{'columns': ['user_id'], 'unique': true}}, {{'columns': ['region'], 'type': 'hash'}}], \
         grants={{'select': ['{role}']}}, persist_docs={{'relation': true, 'columns': true}}, \
         post_hook=\"insert into {{{{ target.schema }}}}.run_log (event) values ('post {{{{ this.name }}}}')\") }}}}\n\
         select 1 as user_id, 'eu'::text as region, 'x'::text as undocumented\n"
    )
}

const PROPERTIES: &str = "models:\n  - name: dim_user\n    description: One row per user's account\n    columns:\n      - name: user_id\n        description: The key\n      - name: region\n        description: Where they live\n      - name: ghost\n        description: Not in the table\n  - name: v\n    description: A view\n    config:\n      persist_docs: {relation: true}\n      materialized: view\n";

#[test]
fn hooks_indexes_grants_persist_docs_and_unlogged() {
    let p = TestProject::with_files(
        "hooks",
        &[
            ("dbt_project.yml", PROJECT),
            ("models/gold/_gold.yml", PROPERTIES),
            ("models/v.sql", "select * from {{ ref('dim_user') }}"),
        ],
    );
    let (reader, writer) = (
        format!("{}_reader", p.schema),
        format!("{}_writer", p.schema),
    );
    p.execute(&format!(
        "drop role if exists \"{reader}\"; drop role if exists \"{writer}\"; create role \"{reader}\"; create role \"{writer}\""
    ));
    p.write("models/gold/dim_user.sql", &model(&reader));
    let s = p.schema.clone();
    let state = |p: &TestProject| {
        let mut out = rows(
            p,
            &format!("select indexname, indexdef from pg_indexes where schemaname = '{s}' and tablename = 'dim_user' order by 1"),
        );
        out.extend(rows(
            p,
            &format!(
                "select c.relname, c.relpersistence::text, coalesce(obj_description(c.oid, 'pg_class'), '-') from pg_class c \
                 join pg_namespace n on n.oid = c.relnamespace where n.nspname = '{s}' and c.relname in ('dim_user', 'v') order by 1"
            ),
        ));
        out.extend(rows(
            p,
            &format!(
                "select a.attname, coalesce(col_description(a.attrelid, a.attnum), '-') from pg_attribute a \
                 where a.attrelid = '\"{s}\".dim_user'::regclass and a.attnum > 0 order by a.attnum"
            ),
        ));
        out.extend(rows(
            p,
            &format!(
                "select grantee, privilege_type from information_schema.table_privileges \
                 where table_schema = '{s}' and table_name = 'dim_user' and grantee <> current_user order by 1, 2"
            ),
        ));
        out
    };
    let expected = |role: &str| {
        vec![
            format!("dim_user__region__hash__idx|CREATE INDEX dim_user__region__hash__idx ON {s}.dim_user USING hash (region)"),
            format!("dim_user__user_id__uidx|CREATE UNIQUE INDEX dim_user__user_id__uidx ON {s}.dim_user USING btree (user_id)"),
            "dim_user|u|One row per user's account".to_string(),
            "v|p|A view".to_string(),
            "user_id|The key".to_string(),
            "region|Where they live".to_string(),
            "undocumented|-".to_string(),
            format!("{role}|SELECT"),
        ]
    };
    p.mart_expect(&["run"], 0);
    assert_eq!(state(&p), expected(&reader));
    assert_eq!(
        rows(
            &p,
            &format!("select event from \"{s}\".run_log order by id")
        ),
        ["start", "pre dim_user", "post dim_user", "end"]
    );
    // A rebuild (table swap) gets the same indexes, grants and comments; a grant that the
    // config no longer names is revoked.
    p.write("models/gold/dim_user.sql", &model(&writer));
    p.mart_expect(&["run"], 0);
    assert_eq!(state(&p), expected(&writer));
    p.execute(&format!("grant select on \"{s}\".dim_user to \"{reader}\""));
    // (The rebuild drops the dependent view, as dbt's does: it is selected again.)
    p.mart_expect(&["run", "-s", "dim_user+"], 0);
    assert_eq!(state(&p), expected(&writer));

    // A failing post-hook fails the node; the error says where the hook comes from.
    p.write(
        "models/gold/dim_user.sql",
        "{{ config(post_hook='select * from no_such_table') }}\nselect 1 as user_id",
    );
    let out = p.mart_expect(&["run", "-s", "dim_user"], 1);
    assert!(
        out.stdout.contains("relation \"no_such_table\" does not exist")
            && out.stdout.contains("while applying the indexes, post-hooks, grants and docs of models/gold/dim_user.sql"),
        "{}",
        out.stdout
    );
    drop(p);
    crate::harness::TestProject::with_files("hooks_cleanup", &[]).execute(&format!(
        "drop role if exists \"{reader}\"; drop role if exists \"{writer}\""
    ));
}
