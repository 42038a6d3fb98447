//! `mart docs generate`: compile every node (writing target/compiled and manifest.json as
//! `mart compile` does), read column types from the database when it answers, write the
//! static site under <target-path>/docs. `mart docs serve`: serve that
//! folder on 127.0.0.1 (see [`super::docs_serve`]).

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Instant;

use mart_adapter::quote_literal;
use mart_artifacts::{build_catalog, CatalogRow, CompiledNodes, Invocation};
use mart_diagnostics::{Code, Diagnostic, Diagnostics};
use mart_docs::{Catalog, CatalogColumn, DocsInput, MacroDoc};
use mart_graph::NodeId;
use mart_jinja::INTERNAL_PACKAGE;
use mart_postgres::Connection;

use crate::args::{DocsArgs, DocsCommand, DocsGenerateArgs, DocsServeArgs, GlobalArgs};
use crate::printer::Printer;
use crate::session::{load_project, Session};
use crate::Outcome;

pub fn run(global: &GlobalArgs, args: &DocsArgs) -> Result<Outcome, Diagnostics> {
    match &args.command {
        DocsCommand::Generate(args) => generate(global, args),
        DocsCommand::Serve(args) => serve(global, args),
    }
}

fn generate(global: &GlobalArgs, args: &DocsGenerateArgs) -> Result<Outcome, Diagnostics> {
    let started = Instant::now();
    let session = Session::load(global)?;
    let printer = session.printer;
    printer.info(&session.found_line());
    let ids: Vec<NodeId> = session
        .manifest
        .dag
        .topological_order()
        .into_iter()
        .filter(|id| session.manifest.node(id).is_some_and(|n| n.file.is_some()))
        .collect();
    let compiled = CompiledNodes {
        sql: super::compile::compile_and_write(&session, &ids)?
            .into_iter()
            .map(|c| (c.id, c.sql))
            .collect(),
        column_types: Default::default(),
    };
    let invocation = session.invocation.generated_now();
    super::write_manifest(&session, &compiled, &invocation)?;
    let rows = if args.empty_catalog {
        Ok(Vec::new())
    } else {
        read_catalog(&session)
    };
    let catalog = write_catalog(&session, rows, &invocation)?;
    let root = &session.manifest.root;
    let macros: Vec<MacroDoc> = session
        .env
        .macros()
        .filter(|(package, _, _)| *package != INTERNAL_PACKAGE)
        .map(|(package, name, file)| MacroDoc {
            description: session
                .manifest
                .macro_descriptions
                .get(&format!("macro.{package}.{name}"))
                .cloned()
                .unwrap_or_default(),
            name: name.to_string(),
            path: file
                .path
                .strip_prefix(root)
                .unwrap_or(&file.path)
                .to_string_lossy()
                .replace('\\', "/"),
            sql: file.text.to_string(),
        })
        .collect();
    let input = DocsInput {
        manifest: &session.manifest,
        compiled: &compiled.sql,
        catalog: &catalog,
        macros: &macros,
    };
    let site = mart_docs::Site::new(&input);
    let dir = docs_dir(&session.manifest.target_dir);
    let bytes = mart_docs::write_site(&dir, &site).map_err(|e| {
        Diagnostic::error(Code::Io, e.to_string())
            .with_help("check that the target directory is writable")
    })?;
    let shown = dir.strip_prefix(root).unwrap_or(&dir).display().to_string();
    printer.info(&format!(
        "Wrote {} files ({:.1} MB) to {shown} in {:.2}s",
        site.len(),
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    ));
    printer.info(&format!(
        "Open {shown}/index.html in a browser, or run `mart docs serve`"
    ));
    Ok(Outcome::Success)
}

fn docs_dir(target_dir: &Path) -> PathBuf {
    target_dir.join("docs")
}

/// Writes catalog.json from the catalog query's rows (with the error instead when the
/// database did not answer: the site is still built, its column types from the property
/// files) and returns the site's view of the same rows.
fn write_catalog(
    session: &Session,
    rows: Result<Vec<CatalogRow>, String>,
    invocation: &Invocation,
) -> Result<Catalog, Diagnostic> {
    let (rows, errors) = match rows {
        Ok(rows) => (rows, None),
        Err(why) => {
            session.printer.info(&format!(
                "No catalog: {why}; column types come from the property files"
            ));
            (Vec::new(), Some(vec![why]))
        }
    };
    let database = session.connection_config().dbname;
    let artifact = build_catalog(&session.manifest, &rows, &database, invocation, errors);
    let path = session.manifest.target_dir.join("catalog.json");
    mart_artifacts::write_json(&path, &artifact).map_err(|e| {
        Diagnostic::error(Code::Io, format!("cannot write {}: {e}", path.display()))
            .with_help("check that the target directory is writable")
    })?;
    let mut catalog = Catalog::default();
    for row in rows {
        catalog.insert(
            &row.schema,
            &row.table,
            CatalogColumn {
                name: row.column,
                data_type: row.column_type,
            },
        );
    }
    Ok(catalog)
}

/// Every column of every relation in the project's schemas, with its relation's type,
/// owner and comment, as the database reports them (pg_catalog's `format_type` keeps
/// lengths: `character varying(32)`), in the shape of dbt-postgres's catalog query.
fn read_catalog(session: &Session) -> Result<Vec<CatalogRow>, String> {
    let manifest = &session.manifest;
    let schemas: BTreeSet<&str> = manifest
        .nodes
        .values()
        .map(|n| n.relation.schema.as_str())
        .chain(
            manifest
                .sources
                .values()
                .map(|s| s.relation.schema.as_str()),
        )
        .collect();
    if schemas.is_empty() {
        return Ok(Vec::new());
    }
    let list: Vec<String> = schemas.iter().map(|s| quote_literal(s)).collect();
    let sql = format!(
        "select current_database(), n.nspname, c.relname, \
         case c.relkind when 'v' then 'VIEW' when 'm' then 'MATERIALIZED VIEW' else 'BASE TABLE' end, \
         pg_catalog.obj_description(c.oid, 'pg_class'), pg_catalog.pg_get_userbyid(c.relowner), \
         a.attname, a.attnum, format_type(a.atttypid, a.atttypmod), \
         pg_catalog.col_description(c.oid, a.attnum) \
         from pg_catalog.pg_attribute a \
         join pg_catalog.pg_class c on c.oid = a.attrelid \
         join pg_catalog.pg_namespace n on n.oid = c.relnamespace \
         where a.attnum > 0 and not a.attisdropped and c.relkind in ('r', 'p', 'v', 'm', 'f') \
         and n.nspname in ({}) order by n.nspname, c.relname, a.attnum",
        list.join(", ")
    );
    let config = session.connection_config();
    let runtime = super::runtime(2).map_err(|d| d.message)?;
    let result = runtime
        .block_on(async {
            let connection = Connection::connect(&config).await?;
            connection.query(&sql).await
        })
        .map_err(|e| format!("the database did not answer ({e})"))?;
    Ok(result.rows.into_iter().filter_map(catalog_row).collect())
}

fn catalog_row(row: Vec<Option<String>>) -> Option<CatalogRow> {
    let [database, schema, table, table_type, table_comment, owner, column, index, column_type, column_comment]: [Option<String>; 10] =
        row.try_into().ok()?;
    Some(CatalogRow {
        database: database?,
        schema: schema?,
        table: table?,
        table_type: table_type?,
        table_comment,
        owner,
        column: column?,
        index: index?.parse().ok()?,
        column_type: column_type?,
        column_comment,
    })
}

fn serve(global: &GlobalArgs, args: &DocsServeArgs) -> Result<Outcome, Diagnostics> {
    let printer = Printer::new(global);
    let project = load_project(global)?;
    let dir = docs_dir(&project.root.join(&project.config.target_path));
    if !dir.join("index.html").is_file() {
        return Err(
            Diagnostic::error(Code::Io, format!("no docs site in {}", dir.display()))
                .with_help("run `mart docs generate` first")
                .into(),
        );
    }
    let listener = TcpListener::bind(("127.0.0.1", args.port)).map_err(|e| {
        Diagnostic::error(
            Code::Io,
            format!("cannot listen on 127.0.0.1:{}: {e}", args.port),
        )
        .with_help("pick another port with --port")
    })?;
    let address = listener
        .local_addr()
        .map_err(|e| Diagnostic::error(Code::Io, format!("cannot read the local address: {e}")))?;
    printer.info(&format!(
        "Serving {} at http://{address}/ (Ctrl-C to stop)",
        dir.display()
    ));
    super::docs_serve::serve(&listener, &dir);
    Ok(Outcome::Success)
}
