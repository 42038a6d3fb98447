//! `mart airflow`: write the Airflow DAG file, one task per model, seed and snapshot.

use std::path::{Component, Path};

use mart_airflow::{plan, write_python, DagSettings, PathSetting, TestPlacement};
use mart_diagnostics::{Code, Diagnostic, Diagnostics};

use crate::args::{AirflowArgs, AirflowTests, GlobalArgs};
use crate::session::Session;
use crate::Outcome;

pub fn run(global: &GlobalArgs, args: &AirflowArgs) -> Result<Outcome, Diagnostics> {
    let start_date = parse_date(&args.start_date)?;
    check_word("--timezone", &args.timezone, "/+-")?;
    check_word("--date-var", &args.date_var, "")?;
    let session = Session::load(global)?;
    let selected = session.select(&args.selection)?;
    let placement = match args.tests {
        AirflowTests::AfterEach => TestPlacement::AfterEach,
        AirflowTests::AtEnd => TestPlacement::AtEnd,
        AirflowTests::None => TestPlacement::None,
    };
    let dag_plan = plan(
        &session.manifest.dag,
        &selected,
        &session.manifest.seeds_of_sources(),
        placement,
        &args.selection.select,
        &args.selection.exclude,
    );
    let dag_id = args
        .dag_id
        .clone()
        .unwrap_or_else(|| session.manifest.project_name.clone());
    check_word("--dag-id", &dag_id, "-.")?;

    std::fs::create_dir_all(&args.out).map_err(|e| io_error(&args.out, &e))?;
    let out_dir = std::fs::canonicalize(&args.out).map_err(|e| io_error(&args.out, &e))?;
    let project_dir = task_path(global.project_dir.as_deref(), &session.root, &out_dir);
    let profiles_dir = match &global.profiles_dir {
        Some(dir) => {
            let absolute = std::fs::canonicalize(dir).map_err(|e| io_error(dir, &e))?;
            Some(task_path(Some(dir), &absolute, &out_dir))
        }
        None => None,
    };
    let settings = DagSettings {
        dag_id: dag_id.clone(),
        project_name: session.manifest.project_name.clone(),
        schedule: (args.schedule != "none").then(|| args.schedule.clone()),
        start_date,
        timezone: args.timezone.clone(),
        date_var: args.date_var.clone(),
        retries: args.retries,
        retry_delay_minutes: args.retry_delay_minutes,
        max_active_tasks: args
            .max_active_tasks
            .unwrap_or(session.target.threads)
            .max(1),
        pool: args.pool.clone(),
        mart_path: args.mart_path.clone(),
        project_dir,
        profiles_dir,
        target: global.target.clone(),
        generated_by: std::env::args().skip(1).collect(),
    };
    let path = args.out.join(format!("{dag_id}.py"));
    let python = write_python(&dag_plan, &settings);
    std::fs::write(&path, mart_project::secrets::scrub(&python).as_bytes())
        .map_err(|e| io_error(&path, &e))?;
    session.printer.info(&format!(
        "Wrote {}: {} tasks, {} dependencies",
        path.display(),
        dag_plan.tasks.len(),
        dag_plan.edge_count()
    ));
    // Not silently: the DAG's tasks do not run unit tests yet.
    let unit_tests = session
        .manifest
        .dag
        .nodes()
        .filter(|n| n.resource_type == mart_graph::ResourceType::UnitTest)
        .count();
    if unit_tests > 0 {
        session.printer.diagnostic(
            &mart_diagnostics::Diagnostic::warning(
                mart_diagnostics::Code::Usage,
                format!("the DAG has no tasks for the project's {unit_tests} unit test(s): mart airflow does not schedule unit tests yet"),
            )
            .with_help("run them before the DAG, e.g. in CI: mart test -s test_type:unit"),
        );
    }
    Ok(Outcome::Success)
}

/// How the DAG file names a folder: as given when absolute, else relative to the DAG
/// file's own folder, so a DAG kept in the repo works from any checkout.
fn task_path(given: Option<&Path>, absolute: &Path, out_dir: &Path) -> PathSetting {
    match given {
        Some(p) if p.is_absolute() => PathSetting::Absolute(p.to_string_lossy().into_owned()),
        _ => PathSetting::RelativeToDagFile(relative_path(out_dir, absolute)),
    }
}

/// `to` relative to `from` (both absolute and canonical), with forward slashes.
fn relative_path(from: &Path, to: &Path) -> String {
    let from: Vec<Component> = from.components().collect();
    let to: Vec<Component> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let ups = std::iter::repeat_n("..".to_string(), from.len() - common);
    let downs = to[common..]
        .iter()
        .map(|c| c.as_os_str().to_string_lossy().into_owned());
    let parts: Vec<String> = ups.chain(downs).collect();
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

fn parse_date(text: &str) -> Result<(i32, u32, u32), Diagnostic> {
    let parts: Vec<&str> = text.split('-').collect();
    let parsed = match parts.as_slice() {
        [y, m, d] if y.len() == 4 && m.len() == 2 && d.len() == 2 => {
            match (y.parse(), m.parse(), d.parse()) {
                (Ok(y), Ok(m @ 1..=12), Ok(d @ 1..=31)) => Some((y, m, d)),
                _ => None,
            }
        }
        _ => None,
    };
    parsed.ok_or_else(|| {
        Diagnostic::error(Code::Usage, format!("--start-date '{text}' is not a date"))
            .with_help("write it as YYYY-MM-DD, e.g. --start-date 2024-08-20")
    })
}

/// Values written into the DAG's Python and shell text keep to letters, digits, `_` and
/// `extra`, so they need no quoting there.
fn check_word(flag: &str, value: &str, extra: &str) -> Result<(), Diagnostic> {
    let ok = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || extra.contains(c));
    if ok {
        return Ok(());
    }
    let allowed = if extra.is_empty() {
        "letters, digits and _".to_string()
    } else {
        format!("letters, digits, _ and {extra}")
    };
    Err(
        Diagnostic::error(Code::Usage, format!("{flag} '{value}' is not usable here"))
            .with_help(format!("use only {allowed}")),
    )
}

fn io_error(path: &Path, e: &std::io::Error) -> Diagnostic {
    Diagnostic::error(Code::Io, format!("cannot write {}: {e}", path.display()))
        .with_help("pass a writable folder with --out")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        let rel = |a: &str, b: &str| relative_path(Path::new(a), Path::new(b));
        assert_eq!(rel("/repo/airflow/dags", "/repo"), "../..");
        assert_eq!(rel("/repo", "/repo"), ".");
        assert_eq!(rel("/srv/dags", "/repo/x"), "../../repo/x");
        assert_eq!(rel("/repo", "/repo/profiles"), "profiles");
    }

    #[test]
    fn dates_and_words() {
        assert_eq!(parse_date("2024-08-20").unwrap(), (2024, 8, 20));
        assert!(parse_date("2024-8-20").is_err());
        assert!(parse_date("2024-13-01").is_err());
        assert!(check_word("--timezone", "Asia/Seoul", "/+-").is_ok());
        assert!(check_word("--date-var", "date id", "").is_err());
    }
}
