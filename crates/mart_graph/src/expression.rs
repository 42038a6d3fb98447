//! Selections built from set operations, as dbt's YAML selectors (`selectors.yml`) write
//! them: criteria in CLI syntax combined by union, intersection and exclusion.

use std::collections::BTreeSet;

use crate::bitset::NodeSet;
use crate::dag::Dag;
use crate::node::NodeId;
use crate::select::{
    add_indirect_tests, evaluate_union, parse_all, require_state, use_indexes, IndirectSelection,
};
use crate::selector::SelectorError;

/// One node of a selector definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SelectorExpr {
    /// A criterion in CLI syntax with its graph operators (`+tag:nightly+`, `@orders`).
    Criterion(String),
    /// Nodes any member selects, minus what its `Exclude` members select.
    Union(Vec<SelectorExpr>),
    /// Nodes every member selects, minus what its `Exclude` members select.
    Intersection(Vec<SelectorExpr>),
    /// Only inside a union or an intersection: what it takes away.
    Exclude(Vec<SelectorExpr>),
    /// A criterion with its own `indirect_selection`, which overrides the command's for
    /// the tests of the nodes it selects.
    WithIndirect(String, IndirectSelection),
}

impl SelectorExpr {
    /// Whether some criterion of `self` has its own indirect selection.
    fn has_own_indirect(&self) -> bool {
        match self {
            SelectorExpr::Criterion(_) => false,
            SelectorExpr::WithIndirect(..) => true,
            SelectorExpr::Union(members)
            | SelectorExpr::Intersection(members)
            | SelectorExpr::Exclude(members) => members.iter().any(Self::has_own_indirect),
        }
    }
}

/// The nodes `expr` selects; with `indirect`, tests follow the nodes they test as on the
/// command line (and tests of excluded nodes are excluded). When a criterion has its own
/// indirect selection, each criterion's tests are added to what it selects (with its
/// mode, else `indirect`) before the sets are combined, as dbt does.
pub fn select_expression(
    dag: &Dag,
    expr: &SelectorExpr,
    indirect: Option<IndirectSelection>,
) -> Result<BTreeSet<NodeId>, SelectorError> {
    let mut excluded = NodeSet::empty(dag.len());
    let per_criterion = indirect.is_some() && expr.has_own_indirect();
    let mode = Evaluation {
        per_criterion: per_criterion.then_some(indirect).flatten(),
    };
    let mut selected = evaluate(dag, expr, &mut excluded, mode)?;
    if let (Some(mode), false) = (indirect, per_criterion) {
        add_indirect_tests(dag, &mut selected, &excluded, mode);
    }
    Ok(dag.ids_of(&selected))
}

/// How criteria are evaluated: `per_criterion` is the mode of criteria without their
/// own when each criterion adds its tests itself.
#[derive(Clone, Copy)]
struct Evaluation {
    per_criterion: Option<IndirectSelection>,
}

/// The nodes one criterion selects, with its tests when `mode` says which.
fn criterion(
    dag: &Dag,
    text: &str,
    mode: Option<IndirectSelection>,
) -> Result<NodeSet, SelectorError> {
    let union = parse_all(std::slice::from_ref(&text.to_string()))?;
    require_state(dag, &union)?;
    let indexed = use_indexes(&union, &[]);
    let mut set = evaluate_union(dag, &union, indexed);
    if let Some(mode) = mode {
        add_indirect_tests(dag, &mut set, &NodeSet::empty(dag.len()), mode);
    }
    Ok(set)
}

/// `expr`'s nodes; everything any `Exclude` took away is added to `excluded`.
fn evaluate(
    dag: &Dag,
    expr: &SelectorExpr,
    excluded: &mut NodeSet,
    how: Evaluation,
) -> Result<NodeSet, SelectorError> {
    match expr {
        SelectorExpr::Criterion(text) => criterion(dag, text, how.per_criterion),
        // Outside per-criterion evaluation (no command mode: `mart run`), its mode has
        // nothing to apply to.
        SelectorExpr::WithIndirect(text, mode) => {
            criterion(dag, text, how.per_criterion.map(|_| *mode))
        }
        SelectorExpr::Union(members) | SelectorExpr::Intersection(members) => {
            let union = matches!(expr, SelectorExpr::Union(_));
            let mut result: Option<NodeSet> = None;
            let mut removed = NodeSet::empty(dag.len());
            for member in members {
                if let SelectorExpr::Exclude(parts) = member {
                    for part in parts {
                        removed.union_with(&evaluate(dag, part, excluded, how)?);
                    }
                    continue;
                }
                let set = evaluate(dag, member, excluded, how)?;
                match &mut result {
                    None => result = Some(set),
                    Some(acc) if union => acc.union_with(&set),
                    Some(acc) => acc.intersect_with(&set),
                }
            }
            let mut result = result.unwrap_or_else(|| NodeSet::empty(dag.len()));
            result.difference_with(&removed);
            excluded.union_with(&removed);
            Ok(result)
        }
        // A bare exclusion selects nothing and takes away what it names.
        SelectorExpr::Exclude(parts) => {
            for part in parts {
                let set = evaluate(dag, part, excluded, how)?;
                excluded.union_with(&set);
            }
            Ok(NodeSet::empty(dag.len()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::example_project;

    fn names(dag: &Dag, expr: &SelectorExpr, indirect: Option<IndirectSelection>) -> Vec<String> {
        select_expression(dag, expr, indirect)
            .unwrap()
            .into_iter()
            .map(|id| {
                id.to_string()
                    .rsplit('.')
                    .next()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    }

    fn c(s: &str) -> SelectorExpr {
        SelectorExpr::Criterion(s.to_string())
    }

    #[test]
    fn unions_intersections_and_exclusions() {
        let dag = Dag::build(example_project()).unwrap();
        // The daily-tagged nodes and what dim_user feeds, minus the incremental model.
        let expr = SelectorExpr::Union(vec![
            c("tag:daily"),
            c("dim_user+1"),
            SelectorExpr::Exclude(vec![c("config.materialized:incremental")]),
        ]);
        insta::assert_snapshot!(names(&dag, &expr, None).join(" "), @"analytics_variant_user_daily dim_user relationships_fact_user_event_user_id__dim_user unique_dim_user_user_id");
        let both = SelectorExpr::Intersection(vec![c("tag:daily"), c("resource_type:model")]);
        insta::assert_snapshot!(names(&dag, &both, None).join(" "), @"analytics_variant_user_daily wv_server_log_base");
        // With indirect selection, the tests of the selected model follow it, except
        // those of excluded nodes.
        let with_tests = SelectorExpr::Union(vec![
            c("dim_user"),
            SelectorExpr::Exclude(vec![c("fact_user_event")]),
        ]);
        insta::assert_snapshot!(names(&dag, &with_tests, Some(IndirectSelection::Eager)).join(" "), @"dim_user unique_dim_user_user_id");
    }

    #[test]
    fn a_criterion_s_own_indirect_selection_overrides_the_command_s() {
        let dag = Dag::build(example_project()).unwrap();
        let own = |mode| SelectorExpr::WithIndirect("dim_user".into(), mode);
        let eager = names(
            &dag,
            &own(IndirectSelection::Eager),
            Some(IndirectSelection::Empty),
        );
        let empty = names(
            &dag,
            &own(IndirectSelection::Empty),
            Some(IndirectSelection::Eager),
        );
        assert_eq!(
            eager.join(" "),
            "dim_user relationships_fact_user_event_user_id__dim_user unique_dim_user_user_id"
        );
        assert_eq!(empty.join(" "), "dim_user");
        // Cautious: the relationships test also reads fact_user_event, which is unselected.
        let cautious = names(
            &dag,
            &own(IndirectSelection::Cautious),
            Some(IndirectSelection::Eager),
        );
        assert_eq!(cautious.join(" "), "dim_user unique_dim_user_user_id");
        // The other criteria keep the command's mode.
        let mixed = SelectorExpr::Union(vec![own(IndirectSelection::Empty), c("fact_user_event")]);
        let mixed = names(&dag, &mixed, Some(IndirectSelection::Eager));
        assert!(
            mixed.contains(&"relationships_fact_user_event_user_id__dim_user".to_string()),
            "{mixed:?}"
        );
        assert!(
            !mixed.contains(&"unique_dim_user_user_id".to_string()),
            "{mixed:?}"
        );
        // Without a command mode (run, seed) there are no tests to add.
        assert_eq!(
            names(&dag, &own(IndirectSelection::Eager), None).join(" "),
            "dim_user"
        );
    }
}
