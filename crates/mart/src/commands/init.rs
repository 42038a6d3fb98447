//! `mart init NAME`: a new project folder in dbt's starter shape (dbt_project.yml, the
//! resource folders, two example models with tests) and, unless `--skip-profile-setup`, a
//! profiles.yml beside it whose connection comes from environment variables, so it holds
//! no secret and runs as it is against a local PostgreSQL.

use std::path::Path;

use mart_diagnostics::{Code, Diagnostic, Diagnostics};

use crate::args::{GlobalArgs, InitArgs};
use crate::printer::Printer;
use crate::Outcome;

pub fn run(global: &GlobalArgs, args: &InitArgs) -> Result<Outcome, Diagnostics> {
    let printer = Printer::new(global);
    let name = &args.project_name;
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        return Err(Diagnostic::error(
            Code::Usage,
            format!("'{name}' is not a valid project name"),
        )
        .with_help("use lower-case letters, digits and underscores, starting with a letter (as dbt requires)")
        .into());
    }
    let base = global.project_dir.clone().unwrap_or_else(|| ".".into());
    let root = base.join(name);
    if root.exists() {
        return Err(
            Diagnostic::error(Code::Usage, format!("{} already exists", root.display()))
                .with_help("choose another name, or remove the folder first")
                .into(),
        );
    }
    let mut files = vec![
        ("dbt_project.yml".to_string(), project_file(name)),
        ("models/example/my_first_model.sql".into(), FIRST_MODEL.into()),
        ("models/example/my_second_model.sql".into(), SECOND_MODEL.into()),
        ("models/example/schema.yml".into(), SCHEMA.into()),
        ("README.md".into(), format!("# {name}\n\nA mart project. Try:\n\n- `mart run`\n- `mart test`\n- `mart docs generate`\n")),
        (".gitignore".into(), "target/\ndbt_packages/\nlogs/\n".into()),
    ];
    for folder in ["analyses", "macros", "seeds", "snapshots", "tests"] {
        files.push((format!("{folder}/.gitkeep"), String::new()));
    }
    if !args.skip_profile_setup {
        files.push(("profiles.yml".into(), profile(name)));
    }
    for (path, text) in &files {
        write(&root.join(path), text)?;
    }
    printer.info(&format!("Created project {name} in {}", root.display()));
    if args.skip_profile_setup {
        printer.info("No profiles.yml was written (--skip-profile-setup): add a profile named after the project.");
    } else {
        printer.info("Its profiles.yml connects with MART_PG_HOST, MART_PG_PORT, MART_PG_USER, MART_PG_DBNAME and DBT_ENV_SECRET_PG_PASSWORD (defaults: localhost:5432, postgres).");
    }
    printer.info(&format!("Next: cd {} && mart run", root.display()));
    Ok(Outcome::Success)
}

fn write(path: &Path, text: &str) -> Result<(), Diagnostic> {
    let io = |e: std::io::Error| {
        Diagnostic::error(Code::Io, format!("cannot write {}: {e}", path.display()))
            .with_help("check that the folder is writable")
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    std::fs::write(path, text).map_err(io)
}

fn project_file(name: &str) -> String {
    format!(
        "name: {name}\nversion: '1.0.0'\nprofile: {name}\n\nmodel-paths: [models]\nanalysis-paths: [analyses]\ntest-paths: [tests]\nseed-paths: [seeds]\nmacro-paths: [macros]\nsnapshot-paths: [snapshots]\n\nclean-targets: [target, dbt_packages]\n\nmodels:\n  {name}:\n    example:\n      +materialized: view\n"
    )
}

fn profile(name: &str) -> String {
    format!(
        "{name}:\n  target: dev\n  outputs:\n    dev:\n      type: postgres\n      host: \"{{{{ env_var('MART_PG_HOST', 'localhost') }}}}\"\n      port: \"{{{{ env_var('MART_PG_PORT', '5432') | int }}}}\"\n      user: \"{{{{ env_var('MART_PG_USER', 'postgres') }}}}\"\n      password: \"{{{{ env_var('DBT_ENV_SECRET_PG_PASSWORD', '') }}}}\"\n      dbname: \"{{{{ env_var('MART_PG_DBNAME', 'postgres') }}}}\"\n      schema: {name}\n      threads: 4\n"
    )
}

const FIRST_MODEL: &str = "-- A table built from a query: change `table` to `view` to build a view.\n{{ config(materialized='table') }}\n\nwith source_data as (\n    select 1 as id\n    union all\n    select null as id\n)\n\nselect *\nfrom source_data\n";

const SECOND_MODEL: &str = "-- ref() builds after its parent and names its relation.\nselect *\nfrom {{ ref('my_first_model') }}\nwhere id = 1\n";

const SCHEMA: &str = "version: 2\n\nmodels:\n  - name: my_first_model\n    description: A starter model\n    columns:\n      - name: id\n        description: The primary key for this table\n        data_tests:\n          - unique\n          - not_null:\n              config:\n                severity: warn\n\n  - name: my_second_model\n    description: A starter model that reads the first\n    columns:\n      - name: id\n        description: The primary key for this table\n        data_tests:\n          - unique\n          - not_null\n";
