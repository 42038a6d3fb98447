//! `mart debug`: is the project valid, is there a profile, does the connection work?

use mart_diagnostics::Diagnostics;
use mart_postgres::Connection;

use crate::args::GlobalArgs;
use crate::printer::Printer;
use crate::session::{connection_config, load_project, load_target_for, parse_vars};
use crate::Outcome;

pub fn run(global: &GlobalArgs) -> Result<Outcome, Diagnostics> {
    let printer = Printer::new(global);
    printer.info(&format!("mart version: {}", env!("CARGO_PKG_VERSION")));
    parse_vars(global.vars.as_deref())?;
    let project = load_project(global)?;
    printer.info(&format!(
        "project: {} ({}) [OK found and valid]",
        project.config.name,
        project.root.join(&project.config.file.path).display()
    ));
    let target = load_target_for(global, &project.root, &project.config)?;
    printer.info(&format!(
        "profile: {} from {} [OK found and valid]",
        target.profile_name,
        target.file.display()
    ));
    printer.info(&format!("target: {}", target.name));
    printer.info(&format!("  host: {}", target.host));
    printer.info(&format!("  port: {}", target.port));
    printer.info(&format!("  user: {}", target.user));
    printer.info(&format!("  database: {}", target.dbname));
    printer.info(&format!("  schema: {}", target.schema));
    printer.info(&format!("  threads: {}", target.threads));
    let config = connection_config(&target);
    let runtime = super::runtime(2)?;
    let checked = runtime.block_on(async {
        let connection = Connection::connect(&config).await?;
        connection.query("select version()").await
    });
    match checked {
        Ok(result) => {
            let version = result.rows.first().and_then(|r| r.first().cloned().flatten()).unwrap_or_default();
            printer.info(&format!("  server: {version}"));
            printer.info("Connection test: [OK connection ok]");
            printer.info("All checks passed!");
            Ok(Outcome::Success)
        }
        Err(e) => Err(Diagnostics::from(
            mart_diagnostics::Diagnostic::error(mart_diagnostics::Code::Connection, format!("connection test failed: {e}"))
                .with_path(&target.file)
                .with_help("check host, port, user, password and dbname of the target, and that PostgreSQL is running"),
        )),
    }
}
