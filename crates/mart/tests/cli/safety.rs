//! Data safety of rebuilds: a failure anywhere in a node's build leaves the old relation as
//! it was; a rebuild keeps the views built on it; one run per target at a time; retry keeps
//! build's test gates.

use crate::harness::TestProject;

fn table_model(sql: &str, config: &str) -> String {
    format!("{{{{ config(materialized='table'{config}) }}}}\n{sql}")
}

/// The rows and columns of `relation`, to compare before and after a failed rebuild.
fn state(p: &TestProject, relation: &str) -> (Vec<String>, Vec<String>) {
    let s = &p.schema;
    (
        p.rows(&format!("select * from \"{s}\".{relation} order by 1")),
        p.rows(&format!(
            "select column_name from information_schema.columns where table_schema = '{s}' and table_name = '{relation}' order by ordinal_position"
        )),
    )
}

#[test]
fn a_failing_post_hook_or_index_keeps_the_old_table() {
    let p = TestProject::with_files(
        "safety_hooks",
        &[(
            "models/t3.sql",
            &table_model("select g as id from generate_series(1, 3) g", ""),
        )],
    );
    p.mart_expect(&["run"], 0);
    let before = state(&p, "t3");
    assert_eq!(before.0, ["1", "2", "3"]);
    let rebuilt =
        "select g as id, 'new' as extra from generate_series(1, 5) g union all select 1, 'dup'";
    for config in [
        ", post_hook='select 1/0'",
        ", indexes=[{'columns': ['id'], 'unique': true}]",
        ", grants={'select': ['no_such_role_anywhere']}",
    ] {
        p.write("models/t3.sql", &table_model(rebuilt, config));
        let out = p.mart_expect(&["run"], 1);
        assert!(out.stdout.contains("ERROR"), "{config}: {}", out.stdout);
        assert_eq!(
            state(&p, "t3"),
            before,
            "{config}: the old table is replaced"
        );
    }
    // Nothing of the failed builds is left behind.
    assert_eq!(
        p.relations()
            .into_iter()
            .map(|(_, n, _)| n)
            .collect::<Vec<_>>(),
        ["t3"]
    );
}

#[test]
fn hooks_outside_the_transaction_run_before_begin_and_after_commit() {
    let log = "{{ target.schema }}.hook_log";
    let p = TestProject::with_files(
        "safety_outside",
        &[(
            "models/t.sql",
            &table_model(
                "select 1 as id",
                &format!(
                    ", pre_hook=[before_begin(\"create table if not exists {log} (event text, xid bigint)\"), \
                     \"insert into {log} values ('pre', txid_current())\"], \
                     post_hook=[after_commit(\"insert into {log} values ('after commit', txid_current())\"), \
                     {{'sql': \"insert into {log} values ('post', txid_current())\", 'transaction': true}}]"
                ),
            ),
        )],
    );
    p.mart_expect(&["run"], 0);
    // The pre- and post-hook ran in the build's transaction, the other after it.
    assert_eq!(
        p.rows(&format!(
            "select event, xid = (select xid from \"{0}\".hook_log where event = 'pre') from \"{0}\".hook_log",
            p.schema
        )),
        ["pre|t", "post|t", "after commit|f"]
    );
    // A failing post-hook outside the transaction fails the node; the build committed.
    p.write(
        "models/t.sql",
        &table_model("select 2 as id", ", post_hook=[after_commit('select 1/0')]"),
    );
    p.mart_expect(&["run"], 1);
    assert_eq!(p.rows(&format!("select id from \"{}\".t", p.schema)), ["2"]);
}

#[test]
fn a_table_rebuild_keeps_the_views_built_on_it() {
    let p = TestProject::with_files(
        "safety_views",
        &[
            (
                "models/dim_user.sql",
                &table_model(
                    "select g as user_id, 'a' as name from generate_series(1, 3) g",
                    "",
                ),
            ),
            (
                "models/user_daily.sql",
                "select user_id, name from {{ ref('dim_user') }}",
            ),
            (
                "models/user_names.sql",
                "select name from {{ ref('user_daily') }}",
            ),
        ],
    );
    p.mart_expect(&["run"], 0);
    let s = p.schema.clone();
    let role = format!("{s}_reader");
    p.execute(&format!(
        "drop role if exists \"{role}\"; create role \"{role}\"; \
         create view \"{s}\".outside as select count(*) as n from \"{s}\".user_daily; \
         grant select on \"{s}\".outside to \"{role}\"; \
         comment on view \"{s}\".outside is 'Not a model'; \
         comment on column \"{s}\".outside.n is 'How many'"
    ));
    // The README's one-task recipe: rebuild only the table.
    p.write(
        "models/dim_user.sql",
        &table_model(
            "select g as user_id, 'b' as name, 0 as extra from generate_series(1, 4) g",
            "",
        ),
    );
    let out = p.mart_expect(&["run", "-s", "dim_user"], 0);
    assert!(
        out.stdout.contains(&format!(
            "recreated 3 dependent views dropped by the rebuild of \"postgres\".\"{s}\".\"dim_user\": \"{s}\".\"user_daily\", \"{s}\".\"outside\", \"{s}\".\"user_names\""
        )),
        "{}",
        out.stdout
    );
    assert_eq!(p.count(&format!("\"{s}\".user_names")), 4);
    assert_eq!(p.rows(&format!("select n from \"{s}\".outside")), ["4"]);
    assert_eq!(
        p.rows(&format!(
            "select obj_description('\"{s}\".outside'::regclass, 'pg_class'), col_description('\"{s}\".outside'::regclass, 1), \
             has_table_privilege('{role}', '\"{s}\".outside', 'select')"
        )),
        ["Not a model|How many|t"]
    );
    // A view that cannot be recreated (it reads a column the new table lacks) fails the
    // rebuild, which rolls back: the old table and every view stay.
    p.write(
        "models/dim_user.sql",
        &table_model("select 1 as user_id", ""),
    );
    let out = p.mart_expect(&["run", "-s", "dim_user"], 1);
    assert!(
        out.stdout.contains(&format!(
            "while recreating view \"{s}\".\"user_daily\", which depends on \"postgres\".\"{s}\".\"dim_user\" and was dropped with it"
        )),
        "{}",
        out.stdout
    );
    assert_eq!(p.count(&format!("\"{s}\".dim_user")), 4);
    assert_eq!(p.relations().len(), 4);
    p.execute(&format!("drop owned by \"{role}\"; drop role \"{role}\""));
}

#[test]
fn two_runs_on_one_target_take_turns() {
    let models: Vec<(String, String)> = (1..=6)
        .map(|i| {
            let parent = if i == 1 {
                "select 1 as n from pg_sleep(0.3)".to_string()
            } else {
                format!("select * from {{{{ ref('t{}') }}}}", i - 1)
            };
            (format!("models/t{i}.sql"), table_model(&parent, ""))
        })
        .collect();
    let files: Vec<(&str, &str)> = models
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let p = TestProject::with_files("safety_lock", &files);
    let spawn = |extra: &[&str]| {
        let args: Vec<&str> = ["run", "--threads", "2"]
            .iter()
            .chain(extra)
            .copied()
            .collect();
        p.spawn(&args)
    };
    for round in 0..3 {
        p.execute(&format!("drop schema if exists \"{}\" cascade", p.schema));
        let (a, b) = (spawn(&[]), spawn(&[]));
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        let text = |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).into_owned();
        assert_eq!(a.status.code(), Some(0), "round {round}: {}", text(&a));
        assert_eq!(b.status.code(), Some(0), "round {round}: {}", text(&b));
        let waited = [&a, &b]
            .iter()
            .filter(|o| {
                text(o).contains(&format!(
                    "waiting for the run lock of target postgres.{}: held by 'mart pid",
                    p.schema
                ))
            })
            .count();
        assert_eq!(waited, 1, "round {round}: one run waits for the other");
        assert_eq!(p.relations().len(), 6, "round {round}");
    }
    // With --lock-timeout, the second run gives up and names the holder.
    let holder = spawn(&[]);
    let started = std::time::Instant::now();
    // Other tests run mart too: wait for this holder's own lock session.
    let holding = format!(
        "select 1 from pg_stat_activity a join pg_locks l on l.pid = a.pid \
         where a.application_name like 'mart pid {} %' and l.locktype = 'advisory' and l.granted",
        holder.id()
    );
    while p.query(&holding).is_empty() {
        assert!(
            started.elapsed().as_secs() < 20,
            "the first run never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = p.mart_expect(&["run", "--lock-timeout", "0"], 2);
    assert!(
        out.stderr.contains(&format!(
            "another run holds the run lock of target postgres.{} ('mart pid {} on",
            p.schema,
            holder.id()
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("gave up after 0 s (--lock-timeout)"),
        "{}",
        out.stderr
    );
    assert_eq!(holder.wait_with_output().unwrap().status.code(), Some(0));
    // Airflow stopping a task that waits for the lock: it stops waiting, exit 143.
    p.write(
        "models/t1.sql",
        &table_model("select 1 as n from pg_sleep(3)", ""),
    );
    let holder = spawn(&[]);
    let holding = format!(
        "select 1 from pg_stat_activity a join pg_locks l on l.pid = a.pid \
         where a.application_name like 'mart pid {} %' and l.locktype = 'advisory' and l.granted",
        holder.id()
    );
    let started = std::time::Instant::now();
    while p.query(&holding).is_empty() {
        assert!(
            started.elapsed().as_secs() < 20,
            "the slow run never took the lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let waiter = spawn(&[]);
    std::thread::sleep(std::time::Duration::from_millis(500));
    std::process::Command::new("kill")
        .args(["-TERM", &waiter.id().to_string()])
        .status()
        .unwrap();
    let waited = waiter.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&waited.stdout);
    assert_eq!(waited.status.code(), Some(143), "{text}");
    assert!(
        text.contains("stopped waiting for the run lock of target"),
        "{text}"
    );
    assert_eq!(holder.wait_with_output().unwrap().status.code(), Some(0));
}

#[test]
fn retry_after_a_failed_build_gates_children_on_the_re_run_tests() {
    let p = TestProject::with_files(
        "safety_retry",
        &[
            ("models/parent.sql", "select id from {{ target.schema }}.raw"),
            ("models/child.sql", "select * from {{ ref('parent') }}"),
            (
                "models/_p.yml",
                "models:\n  - name: parent\n    columns:\n      - name: id\n        data_tests: [unique]\n",
            ),
        ],
    );
    p.execute(&format!(
        "create schema \"{0}\"; create table \"{0}\".raw as select 1 as id union all select 1",
        p.schema
    ));
    let out = p.mart_expect(&["build"], 1);
    assert!(out.stdout.contains("SKIP"), "{}", out.stdout);
    // Still failing: retry runs the test again, and the child still waits for it.
    let out = p.mart_expect(&["retry"], 1);
    let lines: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.contains(" of 2 "))
        .collect();
    assert_eq!(lines.len(), 3, "{}", out.stdout);
    assert!(
        lines[0].contains("START test unique_parent_id"),
        "{}",
        out.stdout
    );
    assert!(
        lines[1].contains("FAIL 1 unique_parent_id"),
        "{}",
        out.stdout
    );
    assert!(lines[2].contains("SKIP relation"), "{}", out.stdout);
    assert!(p
        .query(&format!(
            "select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = '{}' and c.relname = 'child'",
            p.schema
        ))
        .is_empty());
    // Fixed data: the test passes, then the child builds.
    p.execute(&format!(
        "delete from \"{}\".raw where ctid = (select min(ctid) from \"{0}\".raw)",
        p.schema
    ));
    p.mart_expect(&["retry"], 0);
    assert_eq!(p.count(&format!("\"{}\".child", p.schema)), 1);
}

/// Waits until a session other than the test's runs a query containing `marker`.
fn wait_for_query(p: &TestProject, marker: &str) {
    let started = std::time::Instant::now();
    while p
        .query(&format!(
            "select 1 from pg_stat_activity where query like '%{marker}%' and pid <> pg_backend_pid()"
        ))
        .is_empty()
    {
        assert!(started.elapsed().as_secs() < 20, "'{marker}' never ran");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn a_killed_run_leaves_no_query_running_on_the_server() {
    let p = TestProject::with_files(
        "safety_kill",
        &[(
            "models/t.sql",
            &table_model("select 1 as n from pg_sleep(30.5)", ""),
        )],
    );
    let mut child = p.spawn(&["run"]);
    wait_for_query(&p, "pg_sleep(30.5)");
    child.kill().unwrap();
    let _ = child.wait();
    let killed = std::time::Instant::now();
    // The server checks every second that the client is there.
    while !p
        .query("select 1 from pg_stat_activity where query like '%pg_sleep(30.5)%' and pid <> pg_backend_pid()")
        .is_empty()
    {
        assert!(killed.elapsed().as_secs() < 10, "the dead run's query still runs");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn a_node_waiting_on_a_lock_says_on_what_and_who_holds_it() {
    let p = TestProject::with_files(
        "safety_wait",
        &[("models/t.sql", &table_model("select 1 as n", ""))],
    );
    p.mart_expect(&["run"], 0);
    let s = p.schema.clone();
    let holder = std::process::Command::new("psql")
        .args([
            "-X",
            "-q",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-c",
        ])
        .arg(format!(
            "lock table \"{s}\".t in access exclusive mode; select pg_sleep(6.5)"
        ))
        .env("PGAPPNAME", "the lock holder")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for_query(&p, "pg_sleep(6.5)");
    let out = p.mart_expect(&["run"], 0);
    let waits: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.contains("has waited"))
        .collect();
    assert_eq!(waits.len(), 1, "told once off a terminal: {}", out.stdout);
    assert!(
        waits[0].contains(&format!("sql table model {s}.t has waited "))
            && waits[0].contains(&format!(" s for a lock on {s}.t held by server process "))
            && waits[0].contains("(the lock holder, since "),
        "{}",
        out.stdout
    );
    let _ = holder.wait_with_output();
}

#[test]
fn parallel_tests_storing_failures_create_their_audit_schema_once() {
    let columns: String = (1..=8)
        .map(|i| format!("      - name: c{i}\n        data_tests: [not_null]\n"))
        .collect();
    let select: String = (1..=8)
        .map(|i| format!("null::int as c{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let p = TestProject::with_files(
        "safety_audit",
        &[
            (
                "dbt_project.yml",
                "name: fx\nprofile: fx\ndata_tests:\n  +store_failures: true\n",
            ),
            ("models/m.sql", &format!("select {select}")),
            (
                "models/_m.yml",
                &format!("models:\n  - name: m\n    columns:\n{columns}"),
            ),
        ],
    );
    p.mart_expect(&["run"], 0);
    let audit = format!("{}_dbt_test__audit", p.schema);
    for round in 0..5 {
        p.execute(&format!("drop schema if exists \"{audit}\" cascade"));
        let out = p.mart(&["test", "--threads", "8"]);
        assert_eq!(out.code, 1, "round {round}: {}", out.stdout);
        assert_eq!(
            out.stdout.matches("FAIL 1 not_null_m_c").count(),
            8,
            "round {round}: {}",
            out.stdout
        );
    }
    p.execute(&format!("drop schema if exists \"{audit}\" cascade"));
}

/// A hook's adapter calls and run_query() run in the node's own session and transaction,
/// as in dbt: here a post-hook drops what the build created (dbt-utils' test project does
/// this to a seed).
#[test]
fn a_hooks_adapter_calls_run_in_the_nodes_transaction() {
    let p = TestProject::with_files(
        "safety_hook_session",
        &[
            ("seeds/dropped.csv", "field\na\nb\n"),
            (
                "dbt_project.yml",
                "name: fx\nprofile: fx\nseeds:\n  fx:\n    dropped:\n      +post-hook: \"{% do adapter.drop_relation(this.incorporate(type='table')) %}\"\n",
            ),
            (
                "models/counted.sql",
                "{{ config(materialized='table', post_hook=\"insert into {{ this }} select {{ run_query('select count(*) from ' ~ this).columns[0].values()[0] }} + 10\") }}select 1 as n",
            ),
        ],
    );
    p.mart_expect(&["seed"], 0);
    assert!(p.relations().is_empty(), "{:?}", p.relations());
    p.mart_expect(&["run"], 0);
    // run_query() in the post-hook saw the row the build just inserted (uncommitted).
    assert_eq!(
        p.rows(&format!(
            "select n from \"{}\".counted order by n",
            p.schema
        )),
        ["1", "11"]
    );
}
