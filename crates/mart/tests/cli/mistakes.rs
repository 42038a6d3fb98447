//! Mistakes that used to pass silently: typos in keys, unknown materializations,
//! selectors that match nothing, and `--warn-error`.

use crate::harness::TestProject;

#[test]
fn typos_in_the_project_file_property_files_and_config_calls_warn_with_the_line() {
    let project = TestProject::with_files(
        "typos",
        &[
            (
                "dbt_project.yml",
                "name: fx\nprofile: fx\nmodle-paths: [models]\n",
            ),
            (
                "models/orders.sql",
                "select 1 as id\n{{ config(tags=['x'], materialised='table') }}\n",
            ),
            (
                "models/orders.yml",
                "version: 2\nmodels:\n  - name: orders\n    config: {alias: o, materialised: table}\n    colums:\n      - name: id\n        tests: [unique]\n",
            ),
        ],
    );
    let out = project.mart_expect(&["parse"], 0);
    insta::assert_snapshot!(out.stderr, @r"
    dbt_project.yml:3:1: warning[MART101]: unknown key 'modle-paths' in the project file; it is ignored
      |
    3 | modle-paths: [models]
      | ^^^^^^^^^^^
      = help: did you mean 'model-paths'?

    models/orders.yml:5:5: warning[MART103]: unknown property 'colums' of entry 'orders'; it is ignored
      |
    5 |     colums:
      |     ^^^^^^
      = help: did you mean 'columns'?

    models/orders.yml:4:24: warning[MART104]: unknown config 'materialised'; it is kept in the node's config but does nothing
      |
    4 |     config: {alias: o, materialised: table}
      |                        ^^^^^^^^^^^^
      = help: did you mean 'materialized'?

    models/orders.sql:2:23: warning[MART104]: unknown config 'materialised'; it is kept in the node's config but does nothing
      |
    2 | {{ config(tags=['x'], materialised='table') }}
      |                       ^^^^^^^^^^^^
      = help: did you mean 'materialized'?
    ");
    // The saved parse repeats the warnings of the parse it saved.
    let again = project.mart_expect(&["parse"], 0);
    assert_eq!(again.stderr, out.stderr);
}

#[test]
fn an_unknown_materialization_is_an_error_where_it_is_set() {
    let project = TestProject::with_files(
        "materialized",
        &[
            (
                "dbt_project.yml",
                "name: fx\nprofile: fx\nmodels:\n  fx:\n    +materialized: view\n    staging:\n      +materialized: tabel\n",
            ),
            ("models/staging/a.sql", "select 1 as id"),
            ("models/staging/b.sql", "select 2 as id"),
        ],
    );
    let out = project.mart_expect(&["parse"], 2);
    // Once, though two models have it.
    insta::assert_snapshot!(out.stderr, @r"
    dbt_project.yml:7:7: error[MART104]: unknown materialization 'tabel' for a model; valid names are: view, table, incremental, ephemeral, materialized_view
      |
    7 |       +materialized: tabel
      |       ^^^^^^^^^^^^^
      = help: did you mean 'table'?
    ");

    project.write(
        "dbt_project.yml",
        "name: fx\nprofile: fx\nmodels:\n  fx:\n    +materialized: tabel\n",
    );
    project.write(
        "models/staging/_props.yml",
        "models:\n  - name: b\n  - name: a\n    config:\n      materialized: 5\n",
    );
    project.write(
        "models/staging/b.sql",
        "{{ config(materialized='incremntal') }}\nselect 2 as id",
    );
    let out = project.mart_expect(&["compile"], 2);
    insta::assert_snapshot!(out.stderr, @r"
    models/staging/_props.yml:5:7: error[MART104]: unknown materialization number 5 for a model; valid names are: view, table, incremental, ephemeral, materialized_view
      |
    5 |       materialized: 5
      |       ^^^^^^^^^^^^
      = help: use one of the names above, or define the materialization with {% materialization name, default %} in a macro file

    models/staging/b.sql:1:11: error[MART104]: unknown materialization 'incremntal' for a model; valid names are: view, table, incremental, ephemeral, materialized_view
      |
    1 | {{ config(materialized='incremntal') }}
      |           ^^^^^^^^^^^^
      = help: did you mean 'incremental'?
    ");

    // A disabled model's materialization does not matter.
    project.write(
        "models/staging/_props.yml",
        "models:\n  - name: a\n    config: {enabled: false}\n  - name: b\n    config: {enabled: false}\n",
    );
    project.mart_expect(&["parse"], 0);
}

#[test]
fn selectors_that_match_nothing_warn_and_fail_with_warn_error() {
    let project = TestProject::with_files(
        "unmatched",
        &[
            ("models/orders.sql", "select 1 as id"),
            ("models/customers.sql", "select 1 as id"),
        ],
    );
    let out = project.mart_expect(
        &[
            "run",
            "-s",
            "nosuchmodel",
            "+ordrs,tag:daily",
            "--exclude",
            "customers",
            "tag:old",
        ],
        0,
    );
    insta::assert_snapshot!(out.stderr, @r"
    warning[MART405]: the selection criterion 'nosuchmodel' (--select) does not match any enabled nodes
      = help: check the name with `mart ls`

    warning[MART405]: the selection criterion '+ordrs' (--select) does not match any enabled nodes
      = help: did you mean 'orders'?

    warning[MART405]: the selection criterion 'tag:daily' (--select) does not match any enabled nodes
      = help: check the name with `mart ls`

    warning[MART405]: the selection criterion 'tag:old' (--exclude) does not match any enabled nodes
      = help: check the name with `mart ls`
    ");
    assert!(out.stdout.contains("Nothing to do"), "{}", out.stdout);

    let out = project.mart_expect(&["run", "-s", "nosuchmodel", "orders", "--warn-error"], 1);
    insta::assert_snapshot!(out.stderr, @r"
    error[MART405]: the selection criterion 'nosuchmodel' (--select) does not match any enabled nodes
      = help: check the name with `mart ls`

    error[MART601]: 1 warning treated as error (--warn-error / --warn-error-options)
      = help: fix what the warnings say, or run without --warn-error (or name them in --warn-error-options' `warn` or `silence`)
    ");
    // Nothing ran: the warning stopped the command before the database was touched.
    assert!(!out.stdout.contains("orders"), "{}", out.stdout);
    assert!(project.relations().is_empty());

    // ls and compile warn as well; a load warning fails the command with --warn-error.
    let out = project.mart_expect(&["ls", "-s", "ordrs"], 0);
    assert!(
        out.stderr.contains("did you mean 'orders'?"),
        "{}",
        out.stderr
    );
    project.write(
        "models/orders.sql",
        "{{ config(materialised='table') }}select 1 as id",
    );
    project.mart_expect(&["compile"], 0);
    let out = project.mart_expect(&["compile", "--warn-error"], 1);
    assert!(
        out.stderr
            .starts_with("models/orders.sql:1:11: error[MART104]: unknown config 'materialised'"),
        "{}",
        out.stderr
    );
}

#[cfg(unix)]
#[test]
fn symbolic_links_in_resource_folders_are_followed_and_loops_reported() {
    use std::os::unix::fs::symlink;
    let project = TestProject::with_files(
        "symlinks",
        &[
            ("models/own/orders.sql", "select 1 as id"),
            (
                "shared/models/customers.sql",
                "select * from {{ ref('orders') }}",
            ),
            ("shared/seeds/countries.csv", "code\nkr\n"),
            (
                "shared/macros/cents.sql",
                "{% macro cents(x) %}({{ x }} * 100){% endmacro %}",
            ),
            ("shared/one_model.sql", "select {{ cents(2) }} as price"),
        ],
    );
    let dir = &project.dir;
    symlink(dir.join("shared/models"), dir.join("models/shared")).unwrap();
    symlink("../shared/one_model.sql", dir.join("models/priced.sql")).unwrap();
    symlink(dir.join("shared/seeds"), dir.join("seeds")).unwrap();
    symlink(dir.join("shared/macros"), dir.join("macros")).unwrap();
    // A loop: models/own/back -> models.
    symlink("..", dir.join("models/own/back")).unwrap();
    let out = project.mart_expect(&["ls", "--output", "path"], 0);
    assert_eq!(
        out.stdout,
        "models/own/orders.sql\nmodels/priced.sql\nmodels/shared/customers.sql\nseeds/countries.csv\n"
    );
    insta::assert_snapshot!(out.stderr, @r"
    models/own/back: warning[MART100]: symbolic link models/own/back loops back to models; it is not followed
      = help: remove the link, or point it at a folder outside the one it is in
    ");
    project.mart_expect(&["compile", "-s", "priced"], 0);
    let compiled = dir.join("target/compiled/fx/models/priced.sql");
    assert_eq!(
        std::fs::read_to_string(&compiled).unwrap(),
        "select (2 * 100) as price"
    );
    // An edit behind a link is seen: the saved parse is not reused.
    project.write(
        "shared/one_model.sql",
        "select {{ cents(3) }} as price, 1 as n",
    );
    project.mart_expect(&["compile", "-s", "priced"], 0);
    assert_eq!(
        std::fs::read_to_string(&compiled).unwrap(),
        "select (3 * 100) as price, 1 as n"
    );
}
