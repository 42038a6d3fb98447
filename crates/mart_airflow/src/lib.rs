//! The Airflow side of a mart project: one task per model, seed and snapshot.
//!
//! What it does:
//! - [`plan`] turns the project's [`mart_graph::Dag`] and a selection into a [`DagPlan`]:
//!   tasks with readable unique ids, the mart command each runs, and the upstream tasks
//!   of each, exactly the mart DAG with ephemeral and unselected nodes folded away (edges
//!   pass through them) and the data tests placed after their node or at the end.
//! - [`write_python`] writes that plan as one plain Airflow DAG file (BashOperators, no
//!   dependency beyond Airflow itself).
//!
//! What it does not do: it reads no files, loads no project and runs nothing; the caller
//! supplies the graph, the selection and where the tasks find mart and the project.

mod plan;
mod python;

pub use plan::{plan, DagPlan, Task, TaskKind, TestPlacement};
pub use python::{write_python, DagSettings, PathSetting};
