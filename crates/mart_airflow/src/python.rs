//! The DAG plan as one plain Python file for Airflow.

use std::fmt::Write;

use crate::plan::{DagPlan, TaskKind};

/// A folder the tasks pass to mart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathSetting {
    /// Written as it is.
    Absolute(String),
    /// Relative to the folder of the DAG file (forward slashes), resolved when Airflow
    /// loads the file, so a DAG kept in the project's repo works from any checkout.
    RelativeToDagFile(String),
}

/// Everything about the DAG that is not its tasks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DagSettings {
    pub dag_id: String,
    pub project_name: String,
    /// `@daily`, a cron expression, or `None` for a DAG that only runs when triggered.
    pub schedule: Option<String>,
    /// Year, month, day, in `timezone`.
    pub start_date: (i32, u32, u32),
    /// The IANA time zone whose calendar date of the logical date is passed to mart.
    pub timezone: String,
    /// The var that receives that date (`YYYY-MM-DD`).
    pub date_var: String,
    pub retries: u32,
    pub retry_delay_minutes: u32,
    pub max_active_tasks: usize,
    /// The Airflow pool of every task (`None`: Airflow's `default_pool`).
    pub pool: Option<String>,
    /// The mart executable the tasks call.
    pub mart_path: String,
    pub project_dir: PathSetting,
    pub profiles_dir: Option<PathSetting>,
    pub target: Option<String>,
    /// The arguments of the `mart` command that wrote the file, quoted in its docstring.
    pub generated_by: Vec<String>,
}

/// The DAG file: a table of tasks (id, mart command, upstream ids) and a loop that makes a
/// BashOperator of each, so the file stays short to review for any number of models.
pub fn write_python(plan: &DagPlan, settings: &DagSettings) -> String {
    let s = settings;
    let mut out = String::new();
    let example = plan
        .tasks
        .iter()
        .find(|t| t.kind == TaskKind::Run)
        .or(plan.tasks.first());
    let date_template = format!(
        "{{{{ logical_date.in_timezone(\"{}\").strftime(\"%Y-%m-%d\") }}}}",
        s.timezone
    );
    let _ = writeln!(
        out,
        "\"\"\"Airflow DAG `{}`: the mart project `{}`, one task per model, seed and snapshot.",
        s.dag_id, s.project_name
    );
    out.push_str("\nWritten by `mart airflow`; regenerate it instead of editing it:\n\n");
    let command: Vec<String> = s.generated_by.iter().map(|w| shell_word(w)).collect();
    let _ = writeln!(out, "    mart {}", command.join(" "));
    let _ = write!(
        out,
        "\nEvery task runs one mart command for one node with --vars '{{{}: <date>}}', <date>\n\
         being the logical date's calendar day in {} (YYYY-MM-DD). Dependencies are the\n\
         mart DAG; ephemeral models are inlined into their users and have no task.\n",
        s.date_var, s.timezone
    );
    if let Some(task) = example {
        let _ = write!(
            out,
            "\nTo run one task by hand for a date, exactly as Airflow runs it:\n\n    \
             airflow tasks test {} {} 2024-08-20\n\n\
             or, without Airflow, the same mart command (from the project folder):\n\n    \
             {} {}{} --vars '{{{}: 2024-08-20}}'\n",
            s.dag_id,
            task.id,
            s.mart_path,
            mart_arguments(task),
            target_flag(s),
            s.date_var,
        );
    }
    out.push_str("\"\"\"\n\n");
    out.push_str(
        "import os\nimport shlex\nfrom datetime import timedelta\n\nimport pendulum\n\
         try:  # Airflow 3: the task SDK and the standard provider\n    \
         from airflow.providers.standard.operators.bash import BashOperator\n    \
         from airflow.sdk import DAG\n\
         except ImportError:  # Airflow 2\n    \
         from airflow import DAG\n    \
         from airflow.operators.bash import BashOperator\n\n",
    );
    let _ = writeln!(out, "MART = {}", py_str(&s.mart_path));
    let _ = writeln!(out, "PROJECT_DIR = {}", py_path(&s.project_dir));
    if let Some(dir) = &s.profiles_dir {
        let _ = writeln!(out, "PROFILES_DIR = {}", py_path(dir));
    }
    out.push_str("# The flags every task passes: where the project is, the target, the date.\n");
    out.push_str("MART_FLAGS = \" \".join([\n    \"--project-dir\", shlex.quote(PROJECT_DIR),\n");
    if s.profiles_dir.is_some() {
        out.push_str("    \"--profiles-dir\", shlex.quote(PROFILES_DIR),\n");
    }
    if let Some(target) = &s.target {
        let _ = writeln!(out, "    \"--target\", {},", py_str(&shell_word(target)));
    }
    let vars = format!("--vars '{{{}: {date_template}}}'", s.date_var);
    let _ = writeln!(out, "    {},\n])\n", py_str(&vars));

    out.push_str("# task id: (mart command, upstream task ids)\nTASKS = {\n");
    for task in &plan.tasks {
        let upstream: Vec<String> = task.upstream.iter().map(|u| py_str(u)).collect();
        let _ = writeln!(
            out,
            "    {}: ({}, [{}]),",
            py_str(&task.id),
            py_str(&mart_arguments(task)),
            upstream.join(", ")
        );
    }
    out.push_str("}\n\n");

    let _ = writeln!(out, "with DAG(\n    dag_id={},", py_str(&s.dag_id));
    let schedule = s.schedule.as_deref().map_or("None".to_string(), py_str);
    let _ = writeln!(out, "    schedule={schedule},");
    let (year, month, day) = s.start_date;
    let _ = writeln!(
        out,
        "    start_date=pendulum.datetime({year}, {month}, {day}, tz={}),",
        py_str(&s.timezone)
    );
    out.push_str("    catchup=False,\n    max_active_runs=1,\n");
    let _ = writeln!(out, "    max_active_tasks={},", s.max_active_tasks);
    out.push_str("    default_args={\n        \"owner\": \"mart\",\n");
    let _ = writeln!(out, "        \"retries\": {},", s.retries);
    let _ = writeln!(
        out,
        "        \"retry_delay\": timedelta(minutes={}),",
        s.retry_delay_minutes
    );
    if let Some(pool) = &s.pool {
        let _ = writeln!(out, "        \"pool\": {},", py_str(pool));
    }
    out.push_str("    },\n    doc_md=__doc__,\n    tags=[\"mart\"],\n) as dag:\n");
    out.push_str(
        "    tasks = {\n        task_id: BashOperator(\n            task_id=task_id,\n            \
         bash_command=f\"{shlex.quote(MART)} {command} {MART_FLAGS}\",\n        )\n        \
         for task_id, (command, _) in TASKS.items()\n    }\n    \
         for task_id, (_, upstream) in TASKS.items():\n        \
         for upstream_id in upstream:\n            tasks[upstream_id] >> tasks[task_id]\n",
    );
    out
}

/// `run --select dim_user`, shell-quoted.
fn mart_arguments(task: &crate::Task) -> String {
    let mut words = vec![task.kind.subcommand().to_string()];
    if !task.select.is_empty() {
        words.push("--select".into());
        words.extend(task.select.iter().map(|w| shell_word(w)));
    }
    if !task.exclude.is_empty() {
        words.push("--exclude".into());
        words.extend(task.exclude.iter().map(|w| shell_word(w)));
    }
    if let Some(mode) = task.indirect {
        words.push("--indirect-selection".into());
        words.push(mode.as_str().into());
    }
    words.join(" ")
}

fn target_flag(s: &DagSettings) -> String {
    s.target
        .as_ref()
        .map(|t| format!(" --target {}", shell_word(t)))
        .unwrap_or_default()
}

/// A word for bash: as it is when it holds only safe characters, else single-quoted.
fn shell_word(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.,:/@%+=".contains(c));
    if safe {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// A Python string literal.
fn py_str(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn py_path(path: &PathSetting) -> String {
    match path {
        PathSetting::Absolute(p) => py_str(p),
        PathSetting::RelativeToDagFile(p) => format!(
            "os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), {}))",
            py_str(p)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::TestPlacement;

    fn settings() -> DagSettings {
        DagSettings {
            dag_id: "mart_example".into(),
            project_name: "mart_example".into(),
            schedule: Some("@daily".into()),
            start_date: (2024, 1, 1),
            timezone: "Asia/Seoul".into(),
            date_var: "date_id".into(),
            retries: 2,
            retry_delay_minutes: 5,
            max_active_tasks: 4,
            pool: None,
            mart_path: "mart".into(),
            project_dir: PathSetting::RelativeToDagFile("../..".into()),
            profiles_dir: None,
            target: None,
            generated_by: ["airflow", "--out", "airflow/dags"]
                .map(String::from)
                .to_vec(),
        }
    }

    #[test]
    fn lecture_project_dag_file() {
        let dag = crate::plan::tests::lecture_dag();
        let plan = crate::plan::tests::plan_all(&dag, TestPlacement::AfterEach);
        insta::assert_snapshot!(write_python(&plan, &settings()));
    }

    #[test]
    fn absolute_paths_target_pool_and_no_schedule() {
        let dag = crate::plan::tests::lecture_dag();
        let plan = crate::plan::tests::plan_all(&dag, TestPlacement::AtEnd);
        let settings = DagSettings {
            schedule: None,
            pool: Some("postgres".into()),
            mart_path: "/opt/mart/bin/mart".into(),
            project_dir: PathSetting::Absolute("/srv/my project".into()),
            profiles_dir: Some(PathSetting::Absolute("/etc/mart".into())),
            target: Some("prod".into()),
            ..settings()
        };
        insta::assert_snapshot!(write_python(&plan, &settings));
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_word("dim_user"), "dim_user");
        assert_eq!(shell_word("+tag:x y"), "'+tag:x y'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        assert_eq!(py_str("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
    }
}
