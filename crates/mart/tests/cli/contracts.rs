//! Model contracts and constraints end to end (dbt-postgres behaviour): the contract's
//! columns and types are checked before anything is replaced, tables are built with their
//! declared types and constraints, and PostgreSQL enforces the constraints.

// Test support: artifacts that are missing should fail the test loudly.
#![allow(clippy::unwrap_used)]

use crate::harness::TestProject;

const PROPERTIES: &str = "version: 2
models:
  - name: customers
    config:
      materialized: table
      contract: {enforced: true}
    columns:
      - name: id
        data_type: integer
        constraints:
          - type: not_null
          - type: primary_key
      - name: name
        data_type: string
        constraints: [{type: unique}]
  - name: orders
    config:
      materialized: table
      contract: {enforced: true}
    constraints:
      - type: primary_key
        name: PK_Orders
        columns: [order_id]
    columns:
      - name: order_id
        data_type: int
      - name: customer_id
        data_type: int4
        constraints:
          - type: foreign_key
            to: ref('customers')
            to_columns: [id]
      - name: amount
        data_type: numeric(10,2)
        constraints:
          - type: check
            name: amount_positive
            expression: amount >= 0
";

const CUSTOMERS: &str = "select 1 as id, 'ann'::text as name union all select 2, 'bob'";
const ORDERS: &str =
    "select 10 as order_id, 1 as customer_id, 5.5 as amount union all select 11, 2, 7";

fn project(tag: &str) -> TestProject {
    TestProject::with_files(
        tag,
        &[
            ("models/_models.yml", PROPERTIES),
            ("models/customers.sql", CUSTOMERS),
            ("models/orders.sql", ORDERS),
        ],
    )
}

/// `(contype, definition)` of every constraint of `table`, by kind then definition.
fn constraints(p: &TestProject, table: &str) -> Vec<String> {
    p.rows(&format!(
        "select contype::text || ' ' || pg_get_constraintdef(oid) from pg_catalog.pg_constraint \
         where conrelid = '\"{}\".{table}'::regclass order by 1",
        p.schema
    ))
}

fn column_types(p: &TestProject, table: &str) -> Vec<String> {
    p.rows(&format!(
        "select a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || \
         case when a.attnotnull then ' not null' else '' end \
         from pg_attribute a where a.attrelid = '\"{}\".{table}'::regclass \
         and a.attnum > 0 and not a.attisdropped order by a.attnum",
        p.schema
    ))
}

/// The error output from the contract's message on, the relation-independent part.
fn failure(out: &crate::harness::Output, from: &str) -> String {
    let all = format!("{}\n{}", out.stable_stdout(), out.stderr);
    let start = all
        .find(from)
        .unwrap_or_else(|| panic!("{from:?} not in:\n{all}"));
    all[start..]
        .lines()
        .take_while(|l| !l.trim().is_empty() || l.is_empty())
        .take(8)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn passing_contract_builds_declared_types_and_constraints() {
    let p = project("contract_ok");
    p.mart_expect(&["run"], 0);
    assert_eq!(
        column_types(&p, "customers"),
        ["id integer not null", "name text"]
    );
    assert_eq!(
        column_types(&p, "orders"),
        [
            "order_id integer not null",
            "customer_id integer",
            "amount numeric(10,2)"
        ]
    );
    assert_eq!(
        constraints(&p, "customers"),
        ["p PRIMARY KEY (id)", "u UNIQUE (name)"]
    );
    let orders = constraints(&p, "orders");
    assert_eq!(
        orders,
        [
            "c CHECK ((amount >= (0)::numeric))".to_string(),
            format!(
                "f FOREIGN KEY (customer_id) REFERENCES {}.customers(id)",
                p.schema
            ),
            "p PRIMARY KEY (order_id)".to_string(),
        ]
    );
    assert_eq!(
        p.rows(&format!(
            "select conname from pg_constraint where conrelid = '\"{}\".orders'::regclass and contype = 'c'",
            p.schema
        )),
        ["amount_positive"]
    );
    assert_eq!(
        p.rows(&format!("select * from \"{}\".orders order by 1", p.schema)),
        ["10|1|5.50", "11|2|7.00"]
    );
    // A rebuild of both replaces them (the parent's rebuild drops the child's foreign key,
    // the child's rebuild creates it again, as in dbt-postgres).
    p.mart_expect(&["run"], 0);
    assert_eq!(constraints(&p, "orders").len(), 3);
    // A named primary key is an index named in the schema: each rebuild takes the name over.
    p.mart_expect(&["run", "--select", "orders"], 0);
    assert_eq!(
        p.rows(&format!(
            "select conname from pg_constraint where conrelid = '\"{}\".orders'::regclass and contype = 'p'",
            p.schema
        )),
        ["pk_orders"]
    );

    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.dir.join("target/manifest.json")).unwrap())
            .unwrap();
    let orders = &manifest["nodes"]["model.fx.orders"];
    assert_eq!(
        orders["config"]["contract"],
        serde_json::json!({"enforced": true, "alias_types": true})
    );
    assert_eq!(
        manifest["nodes"]["model.fx.customers"]["columns"]["id"]["constraints"][1]["type"],
        "primary_key"
    );
    assert_eq!(orders["contract"]["enforced"], true);
    assert_eq!(orders["contract"]["alias_types"], true);
    assert_eq!(
        orders["contract"]["checksum"].as_str().map(str::len),
        Some(64)
    );
    assert_eq!(
        orders["constraints"],
        serde_json::json!([{"type": "primary_key", "name": "PK_Orders", "expression": null,
            "warn_unenforced": true, "warn_unsupported": true, "to": null, "to_columns": [],
            "columns": ["order_id"]}])
    );
    assert_eq!(
        orders["columns"]["customer_id"]["constraints"],
        serde_json::json!([{"type": "foreign_key", "name": null, "expression": null,
            "warn_unenforced": true, "warn_unsupported": true, "to": "ref('customers')",
            "to_columns": ["id"]}])
    );
    assert_eq!(
        orders["depends_on"]["nodes"],
        serde_json::json!(["model.fx.customers"])
    );
}

#[test]
fn type_mismatch_fails_with_the_differences_and_keeps_the_old_table() {
    let p = project("contract_mismatch");
    p.mart_expect(&["run", "--select", "customers"], 0);
    p.write(
        "models/customers.sql",
        // `varchar(3)` under a `text` contract is no difference, as in dbt-postgres.
        "select 'x'::text as id, 'ann'::varchar(3) as name, 1 as extra",
    );
    // The static analysis knows every column and type of this SQL: the same table of
    // differences, before anything runs.
    let out = p.mart_expect(&["run", "--select", "customers"], 1);
    insta::assert_snapshot!(failure(&out, "error[MART307]"), @r"
    error[MART307]: customers: the model's SQL does not give the columns its enforced contract declares (the run would fail dbt's contract check):

    | column_name | definition_type | contract_type | mismatch_reason     |
    | ----------- | --------------- | ------------- | ------------------- |
    | id          | TEXT            | INTEGER       | data type mismatch  |
    | extra       | INTEGER         |               | missing in contract |
      = help: make the SQL's columns and types match the columns declared in the model's property file, or change the contract ('?' is a type the analysis cannot tell)
    ");
    // Without it, PostgreSQL's types say the same in the run.
    let out = p.mart_expect(
        &["run", "--select", "customers", "--static-analysis", "off"],
        1,
    );
    insta::assert_snapshot!(failure(&out, "error[MART501]: model 'customers'"), @r"
    error[MART501]: model 'customers' has an enforced contract that failed.
    Please ensure the name, data_type, and number of columns in your contract match the columns in your model's definition.

    | column_name | definition_type | contract_type | mismatch_reason     |
    | ----------- | --------------- | ------------- | ------------------- |
    | id          | TEXT            | INTEGER       | data type mismatch  |
    | extra       | INTEGER         |               | missing in contract |
      = help: change the model's SQL or its declared columns; the existing relation was left as it was
    ");
    assert_eq!(
        p.rows(&format!(
            "select * from \"{}\".customers order by 1",
            p.schema
        )),
        ["1|ann", "2|bob"]
    );
}

#[test]
fn constraint_violations_fail_and_roll_back() {
    let p = project("contract_violation");
    p.mart_expect(&["run"], 0);
    p.write(
        "models/customers.sql",
        "select null::int as id, 'ann'::text as name",
    );
    let out = p.mart_expect(&["run", "--select", "customers"], 1);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains("null value in column \"id\"") && all.contains("violates not-null constraint"),
        "{all}"
    );
    p.write("models/customers.sql", CUSTOMERS);
    p.write(
        "models/orders.sql",
        "select 10 as order_id, 1 as customer_id, -1.0 as amount",
    );
    let out = p.mart_expect(&["run", "--select", "orders"], 1);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains("violates check constraint \"amount_positive\""),
        "{all}"
    );
    p.write(
        "models/orders.sql",
        "select 10 as order_id, 99 as customer_id, 1.0 as amount",
    );
    let out = p.mart_expect(&["run", "--select", "orders"], 1);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(all.contains("violates foreign key constraint"), "{all}");
    p.write(
        "models/orders.sql",
        "select 10 as order_id, 1 as customer_id, 1.0 as amount union all select 10, 2, 2",
    );
    let out = p.mart_expect(&["run", "--select", "orders"], 1);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains("duplicate key value violates unique constraint"),
        "{all}"
    );
    // Every failed build rolled back: the first build's rows are still there.
    assert_eq!(
        p.rows(&format!(
            "select id, name from \"{}\".customers order by 1",
            p.schema
        )),
        ["1|ann", "2|bob"]
    );
    assert_eq!(
        p.rows(&format!(
            "select order_id, amount from \"{}\".orders order by 1",
            p.schema
        )),
        ["10|5.50", "11|7.00"]
    );
}

#[test]
fn views_and_incremental_models_check_the_contract() {
    let p = TestProject::with_files(
        "contract_view_inc",
        &[
            (
                "models/_models.yml",
                "models:\n  - name: v\n    config: {contract: {enforced: true}}\n    columns:\n      - name: id\n        data_type: int\n        constraints: [{type: not_null}]\n  - name: inc\n    config:\n      materialized: incremental\n      on_schema_change: fail\n      contract: {enforced: true}\n    columns:\n      - name: id\n        data_type: bigint\n        constraints: [{type: not_null}]\n",
            ),
            ("models/v.sql", "select 1 as id"),
            ("models/inc.sql", "select 1::bigint as id"),
        ],
    );
    let out = p.mart_expect(&["run"], 0);
    assert!(
        out.stdout
            .contains("the constraints of view model 'v' are not enforced"),
        "{}",
        out.stdout
    );
    assert_eq!(column_types(&p, "inc"), ["id bigint not null"]);
    p.write("models/inc.sql", "select 2 as id");
    p.write("models/v.sql", "select 'a' as id");
    let out = p.mart_expect(&["run"], 1);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains("| id          | INTEGER         | LONGINTEGER   | data type mismatch |"),
        "{all}"
    );
    assert!(
        all.contains("| id          | TEXT            | INTEGER       | data type mismatch |"),
        "{all}"
    );
    assert_eq!(
        p.rows(&format!("select id from \"{}\".inc", p.schema)),
        ["1"]
    );
    assert_eq!(p.rows(&format!("select id from \"{}\".v", p.schema)), ["1"]);
    // A later incremental run that keeps the contract appends; the table's not-null
    // constraint still holds on what it inserts.
    p.write("models/inc.sql", "select 2::bigint as id");
    p.mart_expect(&["run", "--select", "inc"], 0);
    p.write("models/inc.sql", "select null::bigint as id");
    let out = p.mart_expect(&["run", "--select", "inc"], 1);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(all.contains("violates not-null constraint"), "{all}");
    assert_eq!(
        p.rows(&format!("select id from \"{}\".inc order by 1", p.schema)),
        ["1", "2"]
    );
}

#[test]
fn malformed_contracts_are_errors_with_file_and_line() {
    let p = TestProject::with_files(
        "contract_errors",
        &[
            (
                "models/_models.yml",
                "models:\n  - name: m\n    config: {materialized: table, contract: {enforced: true}}\n    columns:\n      - name: id\n        data_type: int\n      - name: name\n",
            ),
            ("models/m.sql", "select 1 as id, 'a' as name"),
        ],
    );
    let out = p.mart_expect(&["compile"], 2);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(all.contains("models/_models.yml:7:"), "{all}");
    assert!(
        all.contains("columns with no data_type are not allowed on contracted models; model 'm' lacks it on: name"),
        "{all}"
    );
    p.write(
        "models/_models.yml",
        "models:\n  - name: m\n    columns:\n      - name: id\n        constraints:\n          - type: primary_ky\n",
    );
    let out = p.mart_expect(&["compile"], 2);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(all.contains("models/_models.yml:5:"), "{all}");
    assert!(
        all.contains("unknown constraint type 'primary_ky' in constraint 1"),
        "{all}"
    );
    assert!(all.contains("did you mean 'primary_key'?"), "{all}");
}

#[test]
fn contract_configs_merge_from_folder_property_file_and_config_call() {
    let p = TestProject::with_files(
        "contract_layers",
        &[
            (
                "dbt_project.yml",
                "name: fx\nprofile: fx\nmodels:\n  fx:\n    +materialized: table\n    +contract: {enforced: true}\n",
            ),
            (
                "models/_models.yml",
                "models:\n  - name: a\n    columns:\n      - name: id\n        data_type: integer\n  - name: c\n    columns:\n      - name: s\n        data_type: string\n",
            ),
            ("models/a.sql", "select 1 as id"),
            // config() turns the folder's contract off, key by key.
            ("models/b.sql", "{{ config(contract={'enforced': false}) }} select 'x' as anything"),
            // Without dbt's aliases, `string` is not a PostgreSQL type.
            ("models/c.sql", "{{ config(contract={'alias_types': false}) }} select 'x'::text as s"),
        ],
    );
    let out = p.mart_expect(&["run"], 1);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains("the contract of model 'c' declares a data type PostgreSQL does not know: type \"string\" does not exist"),
        "{all}"
    );
    assert!(all.contains("PASS=2 WARN=0 ERROR=1"), "{all}");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.dir.join("target/manifest.json")).unwrap())
            .unwrap();
    let contract =
        |m: &str| manifest["nodes"][format!("model.fx.{m}")]["config"]["contract"].clone();
    assert_eq!(
        contract("a"),
        serde_json::json!({"enforced": true, "alias_types": true})
    );
    assert_eq!(
        contract("b"),
        serde_json::json!({"enforced": false, "alias_types": true})
    );
    assert_eq!(
        contract("c"),
        serde_json::json!({"enforced": true, "alias_types": false})
    );
    // With the aliases (the default) `string` is `text`.
    p.write("models/c.sql", "select 'x'::text as s");
    p.mart_expect(&["run", "--select", "c"], 0);
    assert_eq!(column_types(&p, "c"), ["s text"]);
}

#[test]
fn contracts_on_materializations_that_cannot_keep_them_are_errors() {
    let columns = "    columns:\n      - name: id\n        data_type: int\n";
    let p = TestProject::with_files(
        "contract_materializations",
        &[
            (
                "models/_models.yml",
                &format!("models:\n  - name: m\n    config: {{materialized: incremental, contract: {{enforced: true}}}}\n{columns}"),
            ),
            ("models/m.sql", "select 1 as id"),
        ],
    );
    let out = p.mart_expect(&["compile"], 2);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(all.contains("models/_models.yml:2:"), "{all}");
    assert!(
        all.contains(
            "incremental model 'm' has an enforced contract but on_schema_change is 'ignore'"
        ),
        "{all}"
    );
    p.write(
        "models/_models.yml",
        &format!("models:\n  - name: m\n    config: {{materialized: ephemeral, contract: {{enforced: true}}}}\n{columns}"),
    );
    let out = p.mart_expect(&["compile"], 2);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains(
            "model 'm' has an enforced contract, which materialized='ephemeral' does not support"
        ),
        "{all}"
    );
    p.write(
        "models/_models.yml",
        "models:\n  - name: m\n    config: {contract: {enforced: true}}\n",
    );
    let out = p.mart_expect(&["compile"], 2);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains("model 'm' has an enforced contract but declares no columns"),
        "{all}"
    );
}
