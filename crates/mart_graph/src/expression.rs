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
}

/// The nodes `expr` selects; with `indirect`, tests follow the nodes they test as on the
/// command line (and tests of excluded nodes are excluded).
pub fn select_expression(
    dag: &Dag,
    expr: &SelectorExpr,
    indirect: Option<IndirectSelection>,
) -> Result<BTreeSet<NodeId>, SelectorError> {
    let mut excluded = NodeSet::empty(dag.len());
    let mut selected = evaluate(dag, expr, &mut excluded)?;
    if let Some(mode) = indirect {
        add_indirect_tests(dag, &mut selected, &excluded, mode);
    }
    Ok(dag.ids_of(&selected))
}

/// `expr`'s nodes; everything any `Exclude` took away is added to `excluded`.
fn evaluate(
    dag: &Dag,
    expr: &SelectorExpr,
    excluded: &mut NodeSet,
) -> Result<NodeSet, SelectorError> {
    match expr {
        SelectorExpr::Criterion(text) => {
            let union = parse_all(std::slice::from_ref(text))?;
            require_state(dag, &union)?;
            let indexed = use_indexes(&union, &[]);
            Ok(evaluate_union(dag, &union, indexed))
        }
        SelectorExpr::Union(members) | SelectorExpr::Intersection(members) => {
            let union = matches!(expr, SelectorExpr::Union(_));
            let mut result: Option<NodeSet> = None;
            let mut removed = NodeSet::empty(dag.len());
            for member in members {
                if let SelectorExpr::Exclude(parts) = member {
                    for part in parts {
                        removed.union_with(&evaluate(dag, part, excluded)?);
                    }
                    continue;
                }
                let set = evaluate(dag, member, excluded)?;
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
                let set = evaluate(dag, part, excluded)?;
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
}
