//! The scheduler: ready nodes go to free connections; results release their children.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use mart_compiler::Manifest;
use mart_diagnostics::{Code, Diagnostic};
use mart_graph::{NodeId, ResourceType};
use mart_jinja::JinjaEnv;
use mart_postgres::{CancelHandle, Connection, ConnectionConfig};
use mart_project::Materialization;
use tokio::task::JoinSet;

use crate::catalog::RunCatalog;
use crate::heartbeat::{self, RunningNode};
use crate::microbatch::{self, BatchRun};
use crate::{
    custom_materialization, data_test, dependents, hooks, materialize, run_lock, seed, snapshot,
    unit_test, view_skip, BatchResults, Event, NodeResult, NodeStatus, Ran, Reporter, RunError,
    RunOptions,
};

/// What every node task needs.
pub struct RunContext {
    pub manifest: Arc<Manifest>,
    pub env: Arc<JinjaEnv>,
    pub connection: ConnectionConfig,
    /// The target's schema: with the connection's database, what the run lock is keyed by.
    pub target_schema: String,
    pub options: RunOptions,
    pub reporter: Arc<dyn Reporter>,
    /// Turns true on SIGINT, SIGTERM or SIGHUP: running queries are cancelled and nothing
    /// new starts.
    pub interrupt: tokio::sync::watch::Receiver<bool>,
    /// `mart retry`: the microbatch models that partly succeeded last time, with their
    /// batches; only the failed ones run again.
    pub retry_batches: HashMap<NodeId, BatchResults>,
    /// The variables on-run-end hooks get from the run's results (`results`, `schemas`,
    /// `database_schemas`); the artifacts crate knows their shape.
    pub run_end_context: Option<RunEndContext>,
    /// The relations of the run's schemas, as the run knows them (filled when it starts).
    pub catalog: RunCatalog,
    /// The static analysis of the selection: a node it found broken fails before any of
    /// its SQL is sent.
    pub analysis: mart_compiler::AnalysisReport,
}

/// Builds on-run-end's extra variables from the run's results.
pub type RunEndContext = fn(&Manifest, &[NodeResult]) -> serde_json::Map<String, serde_json::Value>;

impl RunContext {
    /// The manifest's node `id`; the runner is only ever handed ids of the manifest.
    pub(crate) fn node(&self, id: &NodeId) -> Result<&mart_compiler::Node, Diagnostic> {
        self.manifest.node(id).ok_or_else(|| {
            Diagnostic::error(Code::UnknownRef, format!("'{id}' is not in the manifest"))
        })
    }
}

/// Whether the runner has work for this node (ephemeral models and sources have none).
/// Every executable resource type is listed here and dispatched in [`run_node`].
fn executable(manifest: &Manifest, id: &NodeId) -> bool {
    manifest.node(id).is_some_and(|n| match n.resource_type {
        ResourceType::Model => n.config.materialized != Materialization::Ephemeral,
        ResourceType::Seed
        | ResourceType::Snapshot
        | ResourceType::Test
        | ResourceType::UnitTest => true,
        _ => false,
    })
}

/// Runs the executable nodes of `selected` and returns their results in the order they
/// finished. Fails only when no connection can be opened.
pub async fn execute(
    ctx: Arc<RunContext>,
    selected: &BTreeSet<NodeId>,
) -> Result<Vec<NodeResult>, RunError> {
    let manifest = ctx.manifest.clone();
    let order: Vec<NodeId> = manifest
        .dag
        .order_of(selected)
        .into_iter()
        .filter(|id| executable(&manifest, id))
        .collect();
    let total = order.len();
    if total == 0 {
        return Ok(Vec::new());
    }
    let mut parents = run_parents(&manifest, &order);
    unit_test::run_before_models(&manifest, &order, &mut parents);
    if ctx.options.tests_gate_children {
        add_test_gates(&manifest, &order, &mut parents);
    }
    let mut children: HashMap<NodeId, Vec<NodeId>> = HashMap::new();
    let mut waiting: HashMap<NodeId, usize> = HashMap::new();
    for id in &order {
        let p = &parents[id];
        waiting.insert(id.clone(), p.len());
        for parent in p {
            children.entry(parent.clone()).or_default().push(id.clone());
        }
    }
    let mut ready: VecDeque<NodeId> = order
        .iter()
        .filter(|id| waiting[*id] == 0)
        .cloned()
        .collect();

    // Held until the run ends: a second run on this target waits for it.
    let Some(lock) = run_lock::acquire(&ctx).await? else {
        // A signal came while waiting: nothing ran.
        return Ok(Vec::new());
    };
    let mut pool = open_connections(&ctx, ctx.options.threads.clamp(1, total)).await?;
    let own = run_relations(&ctx, &order);
    let schemas: BTreeSet<&str> = own.iter().map(|(schema, _)| *schema).collect();
    create_schemas(&mut pool[0], &schemas).await?;
    hooks::on_run_start(&ctx, &mut pool[0]).await?;
    // After on-run-start, which may change relations too.
    ctx.catalog
        .load(&pool[0], &schemas, &own)
        .await
        .map_err(|e| {
            RunError(
                Diagnostic::error(Code::Database, format!("cannot read the catalog: {e}"))
                    .with_help("check that the profile's user may read pg_catalog"),
            )
        })?;
    ctx.catalog.views.load(&manifest.target_dir);

    let mut results: Vec<NodeResult> = Vec::with_capacity(total);
    let mut done: BTreeSet<NodeId> = BTreeSet::new();
    let mut next_index = 0;
    let mut stopping = false;
    let mut interrupt = ctx.interrupt.clone();
    let mut listening = true;
    let mut running: HashMap<NodeId, (CancelHandle, RunningNode)> = HashMap::new();
    let mut heartbeat = tokio::time::interval_at(
        tokio::time::Instant::now() + heartbeat::INTERVAL,
        heartbeat::INTERVAL,
    );
    let mut tasks: JoinSet<(Connection, NodeResult)> = JoinSet::new();
    loop {
        while !stopping && !pool.is_empty() {
            let Some(id) = ready.pop_front() else { break };
            let Some(connection) = pool.pop() else { break };
            next_index += 1;
            ctx.reporter.report(&Event::Start {
                index: next_index,
                total,
                id: id.clone(),
            });
            let node = RunningNode {
                id: id.clone(),
                pid: connection.backend_pid(),
                started: Instant::now(),
            };
            running.insert(id.clone(), (connection.cancel_handle(), node));
            let task_ctx = ctx.clone();
            let index = next_index;
            tasks.spawn(async move {
                let (connection, result) = run_node(&task_ctx, id, connection).await;
                task_ctx.reporter.report(&Event::Finish {
                    index,
                    total,
                    result: result.clone(),
                });
                (connection, result)
            });
        }
        let joined = tokio::select! {
            joined = tasks.join_next() => joined,
            signal = interrupt.wait_for(|stop| *stop), if listening => {
                listening = false;
                if signal.is_ok() {
                    stopping = true;
                    for (handle, _) in running.values() {
                        // The node then fails with the cancel error; the rest is skipped.
                        let _ = handle.cancel().await;
                    }
                }
                continue;
            }
            _ = heartbeat.tick() => {
                heartbeat::report(&lock, running.values().map(|(_, n)| n), ctx.reporter.as_ref()).await;
                continue;
            }
        };
        let Some(joined) = joined else {
            break;
        };
        let (connection, result) = joined.map_err(|e| {
            RunError(Diagnostic::error(
                Code::Database,
                format!("a node task stopped unexpectedly: {e}"),
            ))
        })?;
        if connection.is_closed() {
            pool.push(
                Connection::connect(&ctx.connection)
                    .await
                    .map_err(connect_error)?,
            );
        } else {
            pool.push(connection);
        }
        running.remove(&result.id);
        done.insert(result.id.clone());
        let failed = !result.status.lets_children_run();
        let finished = result.id.clone();
        results.push(result);
        if failed {
            stopping |= ctx.options.fail_fast;
            let mut skipped = Vec::new();
            collect_descendants(&finished, &children, &done, &mut skipped);
            for id in skipped {
                done.insert(id.clone());
                next_index += 1;
                let result = skipped_result(&ctx.manifest, id, &finished);
                ctx.reporter.report(&Event::Finish {
                    index: next_index,
                    total,
                    result: result.clone(),
                });
                results.push(result);
            }
        } else {
            for child in children.get(&finished).into_iter().flatten() {
                let Some(count) = waiting.get_mut(child) else {
                    continue;
                };
                *count -= 1;
                if *count == 0 && !done.contains(child) {
                    ready.push_back(child.clone());
                }
            }
        }
    }
    // --fail-fast or Ctrl-C: what never started is skipped.
    let why = if *ctx.interrupt.borrow() {
        "skipped: the run was interrupted"
    } else {
        "skipped: the run stopped at the first failure (--fail-fast)"
    };
    for id in order.iter().filter(|id| !done.contains(*id)) {
        next_index += 1;
        let result = NodeResult {
            id: id.clone(),
            status: NodeStatus::Skipped,
            message: why.into(),
            ..NodeResult::skipped(id.clone())
        };
        ctx.reporter.report(&Event::Finish {
            index: next_index,
            total,
            result: result.clone(),
        });
        results.push(result);
    }
    if !*ctx.interrupt.borrow() {
        if let Some(connection) = pool.first_mut() {
            hooks::on_run_end(&ctx, connection, &results).await?;
        }
    }
    if let Err(error) = ctx.catalog.views.save(&manifest.target_dir) {
        ctx.reporter.report(&Event::Notice {
            message: format!(
                "{} (the next run re-creates the views built now)",
                error.message
            ),
        });
    }
    drop(lock);
    Ok(results)
}

fn skipped_result(manifest: &Manifest, id: NodeId, failed: &NodeId) -> NodeResult {
    let name = manifest
        .node(failed)
        .map_or(failed.as_str(), |n| n.name.as_str());
    NodeResult {
        message: format!("skipped because '{name}' did not succeed"),
        ..NodeResult::skipped(id)
    }
}

impl NodeResult {
    fn skipped(id: NodeId) -> Self {
        NodeResult {
            id,
            status: NodeStatus::Skipped,
            message: String::new(),
            error: None,
            started_at: SystemTime::now(),
            duration: Duration::ZERO,
            rows_affected: None,
            failures: None,
            compiled_sql: None,
            batch_results: None,
        }
    }
}

/// `mart build`: the nodes that run after a node also wait for that node's tests (as in
/// dbt), so a failing test skips them. A test gates every running node whose parents
/// (direct, whether they run or not, as when `retry` re-runs a test and the children it
/// skipped; or nearest running) include a node the test tests, unless that node is an
/// ancestor of the test itself (a relationships test reads its child too), which would
/// make a cycle.
fn add_test_gates(
    manifest: &Manifest,
    order: &[NodeId],
    parents: &mut HashMap<NodeId, BTreeSet<NodeId>>,
) {
    // Unit tests gate their model instead (`unit_test::run_before_models`).
    let is_test = |id: &NodeId| {
        manifest
            .node(id)
            .is_some_and(|n| matches!(n.resource_type, ResourceType::Test | ResourceType::UnitTest))
    };
    let mut tests_of: HashMap<NodeId, Vec<NodeId>> = HashMap::new();
    let mut ancestors: HashMap<NodeId, BTreeSet<NodeId>> = HashMap::new();
    for test in order.iter().filter(|id| is_test(id)) {
        for tested in manifest.dag.parents(test) {
            tests_of.entry(tested).or_default().push(test.clone());
        }
        ancestors.insert(test.clone(), manifest.dag.ancestors(test, None));
    }
    for node in order.iter().filter(|id| !is_test(id)) {
        let Some(node_parents) = parents.get(node) else {
            continue;
        };
        let direct = manifest.dag.parents(node);
        let gates: Vec<NodeId> = node_parents
            .iter()
            .chain(direct.iter())
            .flat_map(|p| tests_of.get(p).into_iter().flatten())
            .filter(|test| ancestors.get(*test).is_none_or(|a| !a.contains(node)))
            .cloned()
            .collect();
        if let Some(set) = parents.get_mut(node) {
            set.extend(gates);
        }
    }
}

/// Every not-yet-finished node below `id` in the run graph.
fn collect_descendants(
    id: &NodeId,
    children: &HashMap<NodeId, Vec<NodeId>>,
    done: &BTreeSet<NodeId>,
    out: &mut Vec<NodeId>,
) {
    for child in children.get(id).into_iter().flatten() {
        if !done.contains(child) && !out.contains(child) {
            out.push(child.clone());
            collect_descendants(child, children, done, out);
        }
    }
}

/// For each node to run, its nearest ancestors that also run (looking through ephemeral
/// models and unselected nodes), so order holds across the gaps.
fn run_parents(manifest: &Manifest, order: &[NodeId]) -> HashMap<NodeId, BTreeSet<NodeId>> {
    let running: BTreeSet<&NodeId> = order.iter().collect();
    let mut memo: HashMap<NodeId, BTreeSet<NodeId>> = HashMap::new();
    fn nearest(
        id: &NodeId,
        manifest: &Manifest,
        running: &BTreeSet<&NodeId>,
        memo: &mut HashMap<NodeId, BTreeSet<NodeId>>,
    ) -> BTreeSet<NodeId> {
        if let Some(found) = memo.get(id) {
            return found.clone();
        }
        let mut found = BTreeSet::new();
        for parent in manifest.dag.parents(id) {
            if running.contains(&parent) {
                found.insert(parent);
            } else {
                found.extend(nearest(&parent, manifest, running, memo));
            }
        }
        memo.insert(id.clone(), found.clone());
        found
    }
    order
        .iter()
        .map(|id| (id.clone(), nearest(id, manifest, &running, &mut memo)))
        .collect()
}

/// Opens `count` connections at once: each costs the server a process start and a few
/// round trips, which overlap.
async fn open_connections(ctx: &RunContext, count: usize) -> Result<Vec<Connection>, RunError> {
    let mut opening = JoinSet::new();
    for _ in 0..count {
        let config = ctx.connection.clone();
        opening.spawn(async move { Connection::connect(&config).await });
    }
    let mut pool = Vec::with_capacity(count);
    while let Some(opened) = opening.join_next().await {
        let connection = opened
            .map_err(|e| {
                RunError(Diagnostic::error(
                    Code::Connection,
                    format!("opening a connection stopped unexpectedly: {e}"),
                ))
            })?
            .map_err(connect_error)?;
        pool.push(connection);
    }
    Ok(pool)
}

pub(crate) fn connect_error(e: mart_postgres::PgError) -> RunError {
    RunError(
        Diagnostic::error(Code::Connection, e.to_string())
            .with_help("check the profile's host, port, user and dbname, and that PostgreSQL is running (mart debug tests the connection)"),
    )
}

/// Every relation the run writes, as (schema, name).
fn run_relations<'a>(ctx: &'a RunContext, order: &[NodeId]) -> BTreeSet<(&'a str, &'a str)> {
    // Tests write nothing, except with store_failures, which makes its own audit schema.
    order
        .iter()
        .filter_map(|id| ctx.manifest.node(id))
        .filter(|n| !matches!(n.resource_type, ResourceType::Test | ResourceType::UnitTest))
        .map(|n| (n.relation.schema.as_str(), n.relation.identifier.as_str()))
        .collect()
}

/// Creates every schema the run writes to, once, before nodes start in parallel.
async fn create_schemas(
    connection: &mut Connection,
    schemas: &BTreeSet<&str>,
) -> Result<(), RunError> {
    for &schema in schemas {
        connection
            .execute(&mart_adapter::create_schema(schema))
            .await
            .map_err(|e| {
                RunError(
                    Diagnostic::error(
                        Code::Database,
                        format!("cannot create schema '{schema}': {e}"),
                    )
                    .with_help("check that the profile's user may create schemas in the database"),
                )
            })?;
    }
    Ok(())
}

/// A data test; or a node's build in ONE transaction: its pre-hooks, its materialization
/// (by resource type), the views the build dropped, then indexes, post-hooks, grants and
/// comments. Any failure rolls everything back and leaves the old relation as it was;
/// hooks marked `transaction: false` run before `begin` and after `commit`.
async fn build_node(
    ctx: &RunContext,
    id: &NodeId,
    connection: &mut Connection,
) -> Result<Ran, Diagnostic> {
    let node = ctx.node(id)?;
    // Data tests only read: dbt runs no hooks around them.
    if node.resource_type == ResourceType::Test {
        return data_test::run(ctx, id, connection).await;
    }
    if node.resource_type == ResourceType::UnitTest {
        return unit_test::run(ctx, id, connection).await;
    }
    // A materialization block runs the node's hooks itself (run_hooks), as in dbt.
    if node.resource_type == ResourceType::Model {
        if let Some(block) = custom_materialization::block_for(ctx, node)? {
            let built = custom_materialization::build(ctx, node, block, connection).await;
            // Its template may have changed any relation.
            ctx.catalog.forget_all();
            return built;
        }
    }
    if node.resource_type == ResourceType::Model && node.config.is_microbatch() {
        return microbatch::run(ctx, node, connection).await;
    }
    if let Some(ran) = view_skip::unchanged(ctx, node, connection).await? {
        return Ok(ran);
    }
    build_with_hooks(ctx, node, connection, None).await
}

/// A node's build (or one batch of a microbatch model) in its transaction, with the
/// hooks that run outside it before and after.
pub(crate) async fn build_with_hooks(
    ctx: &RunContext,
    node: &mart_compiler::Node,
    connection: &mut Connection,
    batch: Option<&BatchRun<'_>>,
) -> Result<Ran, Diagnostic> {
    let id = &node.id;
    hooks::before(ctx, node, connection, false).await?;
    let mut attempt = 1;
    let ran = loop {
        match build_once(ctx, node, connection, batch).await {
            // Two nodes rebuilding relations that share dependent views can deadlock; the
            // server rolled this one back whole, so it runs again.
            Err(error) if materialize::is_deadlock(&error) && attempt < DEADLOCK_ATTEMPTS => {
                attempt += 1;
                ctx.reporter.report(&Event::Log {
                    id: id.clone(),
                    message: format!(
                        "{} deadlocked with another node and was rolled back; running it again (attempt {attempt} of {DEADLOCK_ATTEMPTS})",
                        node.name
                    ),
                });
            }
            other => break other?,
        }
    };
    hooks::after_commit(ctx, node, connection).await?;
    Ok(ran)
}

/// How many times a node's transaction runs when the server keeps choosing it as a
/// deadlock's victim.
const DEADLOCK_ATTEMPTS: u32 = 3;

/// `begin`, the build, `commit`; `rollback` on any failure.
async fn build_once(
    ctx: &RunContext,
    node: &mart_compiler::Node,
    connection: &mut Connection,
    batch: Option<&BatchRun<'_>>,
) -> Result<Ran, Diagnostic> {
    connection
        .begin()
        .await
        .map_err(|e| materialize::db_error(&e, None))?;
    match build_in_transaction(ctx, node, connection, batch).await {
        Ok(mut ran) => {
            connection
                .commit()
                .await
                .map_err(|e| materialize::db_error(&e, None))?;
            if let Some((key, record)) = ran.view_record.take() {
                ctx.catalog.views.record(key, record);
            }
            Ok(ran)
        }
        Err(error) => {
            // The error matters more than a failed rollback (the connection may be gone).
            let _ = connection.rollback().await;
            Err(error)
        }
    }
}

async fn build_in_transaction(
    ctx: &RunContext,
    node: &mart_compiler::Node,
    connection: &mut Connection,
    batch: Option<&BatchRun<'_>>,
) -> Result<Ran, Diagnostic> {
    let id = &node.id;
    hooks::before(ctx, node, connection, true).await?;
    let dependents = dependents::capture(node, connection).await?;
    let ran = match node.resource_type {
        ResourceType::Seed => seed::load(ctx, id, connection)
            .await
            .map(|(message, rows)| Ran::success(message, rows, None)),
        ResourceType::Snapshot => snapshot::run(ctx, id, connection).await,
        _ => materialize::model(ctx, node, connection, batch).await,
    }?;
    if ran.unchanged {
        return Ok(ran);
    }
    dependents::restore(ctx, node, connection, &dependents).await?;
    hooks::after(ctx, node, connection).await?;
    let mut ran = ran;
    if let (Some(sql), None) = (&ran.compiled_sql, batch) {
        ran.view_record = view_skip::record_after_build(ctx, node, sql, connection).await?;
    }
    Ok(ran)
}

/// What a node may have changed is asked of the database again: its own relation, and
/// every relation after hooks (they run any SQL).
fn forget_what_ran(ctx: &RunContext, id: &NodeId) {
    let Some(node) = ctx.manifest.node(id) else {
        return;
    };
    if node.config.pre_hook.is_empty() && node.config.post_hook.is_empty() {
        ctx.catalog
            .forget(&node.relation.schema, &node.relation.identifier);
    } else {
        ctx.catalog.forget_all();
    }
}

async fn run_node(
    ctx: &RunContext,
    id: NodeId,
    mut connection: Connection,
) -> (Connection, NodeResult) {
    let started_at = SystemTime::now();
    let started = Instant::now();
    let outcome = build_node(ctx, &id, &mut connection).await;
    let duration = started.elapsed();
    forget_what_ran(ctx, &id);
    let result = match outcome {
        Ok(ran) => NodeResult {
            id,
            status: ran.status,
            message: ran.message,
            error: ran.error,
            started_at,
            duration,
            rows_affected: ran.rows_affected,
            failures: ran.failures,
            compiled_sql: ran.compiled_sql,
            batch_results: ran.batch_results,
        },
        Err(error) => NodeResult {
            message: error.message.clone(),
            status: NodeStatus::Error,
            error: Some(Box::new(error)),
            started_at,
            duration,
            ..NodeResult::skipped(id)
        },
    };
    (connection, result)
}
