//! `mart airflow` and the flags Airflow tooling (astronomer-cosmos) passes to mart.

// Test support: a failed setup step should fail the test loudly.
#![allow(clippy::unwrap_used)]

use crate::harness::TestProject;

/// The `TASKS = {...}` table of a written DAG file.
fn tasks_table(dag_file: &str) -> String {
    let start = dag_file.find("TASKS = {").unwrap();
    let end = start + dag_file[start..].find("\n}\n").unwrap();
    dag_file[start..end + 2].to_string()
}

#[test]
fn airflow_writes_one_task_per_node_with_the_tests_at_the_end() {
    let project = TestProject::example("airflow_dag");
    let out_dir = project.dir.join("dags");
    let out_dir = out_dir.to_str().unwrap();
    let out = project.mart_expect(
        &[
            "airflow",
            "--out",
            out_dir,
            "-s",
            "+dim_user",
            "--tests",
            "at-end",
            "--dag-id",
            "lecture",
            "--retries",
            "1",
            "--pool",
            "postgres",
        ],
        0,
    );
    assert!(
        out.stdout
            .contains("dags/lecture.py: 6 tasks, 5 dependencies"),
        "{}",
        out.stdout
    );
    let dag = std::fs::read_to_string(project.dir.join("dags/lecture.py")).unwrap();
    insta::assert_snapshot!(tasks_table(&dag), @r#"
    TASKS = {
        "user_metadata_seed": ("seed --select user_metadata", []),
        "dim_user_metadata_run": ("run --select dim_user_metadata", ["user_metadata_seed"]),
        "user_variant_seed": ("seed --select user_variant", []),
        "dim_user_variant_run": ("run --select dim_user_variant", ["user_variant_seed"]),
        "dim_user_run": ("run --select dim_user", ["dim_user_metadata_run", "dim_user_variant_run"]),
        "mart_test": ("test --select +dim_user", ["dim_user_run"]),
    }
    "#);
    let project_dir = format!("PROJECT_DIR = \"{}\"\n", project.dir.display());
    assert!(dag.contains(&project_dir), "{dag}");
    assert!(dag.contains("        \"retries\": 1,\n        \"retry_delay\": timedelta(minutes=5),\n        \"pool\": \"postgres\",\n"), "{dag}");
}

#[test]
fn airflow_rejects_a_bad_start_date() {
    let project = TestProject::example("airflow_bad_date");
    let out = project.mart_expect(&["airflow", "--out", "dags", "--start-date", "2024-8-1"], 2);
    assert!(
        out.stderr.contains("--start-date '2024-8-1' is not a date")
            || out.stdout.contains("--start-date '2024-8-1' is not a date"),
        "{}{}",
        out.stdout,
        out.stderr
    );
}

/// The command lines astronomer-cosmos runs: `fqn:` selectors, `--vars` as YAML text,
/// `--profile`, `--target` and `--indirect-selection`.
#[test]
fn cosmos_command_lines_run() {
    let project = TestProject::example("airflow_cosmos");
    let vars = "date_id: '2024-08-20'\n";
    let cosmos = |command: &str, select: &str, extra: &[&str]| {
        let mut args = vec![command, "--select", select, "--vars", vars];
        args.extend_from_slice(&["--profile", "mart_example", "--target", "test"]);
        args.extend_from_slice(extra);
        args.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    for seed in ["user_event", "user_metadata", "user_variant"] {
        let args = cosmos("seed", &format!("fqn:mart_example.{seed}"), &[]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        project.mart_expect(&args, 0);
    }
    let summary = |indirect: &str| {
        let args = cosmos("test", "user_variant", &["--indirect-selection", indirect]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = project.mart_expect(&args, 0);
        out.stdout
            .lines()
            .find(|l| l.contains("Done."))
            .map(|l| l[l.find("Done.").unwrap()..].to_string())
            .unwrap()
    };
    // Eager adds the relationships tests that point at user_variant from the other seeds.
    assert_eq!(
        summary("eager"),
        "Done. PASS=6 WARN=0 ERROR=0 SKIP=0 TOTAL=6"
    );
    assert_eq!(
        summary("cautious"),
        "Done. PASS=4 WARN=0 ERROR=0 SKIP=0 TOTAL=4"
    );
    let out = project.mart_expect(&["ls", "--profile", "nosuch"], 2);
    assert!(out.stdout.contains("nosuch") || out.stderr.contains("nosuch"));
}

#[test]
fn airflow_says_the_dag_does_not_run_unit_tests() {
    let project = TestProject::with_files(
        "airflow_unit",
        &[
            ("models/m.sql", "select 1 as id"),
            (
                "models/_m.yml",
                "unit_tests:\n  - name: t\n    model: m\n    given: []\n    expect:\n      rows: [{id: 1}]\n",
            ),
        ],
    );
    // Into the project's folder, not the test's working directory.
    let dags = project.dir.join("dags");
    let out = project.mart_expect(&["airflow", "--out", dags.to_str().unwrap()], 0);
    assert!(dags.join("fx.py").is_file());
    assert!(
        out.stderr
            .contains("the DAG has no tasks for the project's 1 unit test(s)"),
        "{}",
        out.stderr
    );
}
