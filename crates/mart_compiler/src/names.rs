//! What a `ref()` names, as dbt resolves it: `ref('pkg', 'x')` is the node `x` of package
//! `pkg`; a bare `ref('x')` is the node of the caller's own package, else the root
//! project's, else the one other package that has it.

use std::collections::HashMap;

/// Ref-able names (models, seeds, snapshots) -> the packages that define them, with a
/// value each (a node id, a position in the node store).
pub(crate) struct NameIndex<T> {
    root: String,
    by_name: HashMap<String, Vec<(String, T)>>,
}

impl<T: Clone> NameIndex<T> {
    pub fn new<'a>(root: &str, entries: impl IntoIterator<Item = (&'a str, &'a str, T)>) -> Self {
        let mut by_name: HashMap<String, Vec<(String, T)>> = HashMap::new();
        for (name, package, value) in entries {
            by_name
                .entry(name.to_string())
                .or_default()
                .push((package.to_string(), value));
        }
        Self {
            root: root.to_string(),
            by_name,
        }
    }

    /// The node `name` (of `package` when given) for a caller in `from_package`.
    pub fn find(&self, package: Option<&str>, name: &str, from_package: &str) -> Option<&T> {
        let candidates = self.by_name.get(name)?;
        let in_package = |p: &str| candidates.iter().find(|(c, _)| c == p).map(|(_, v)| v);
        match package {
            Some(p) => in_package(p),
            None => in_package(from_package)
                .or_else(|| in_package(&self.root))
                .or(match candidates.as_slice() {
                    [(_, only)] => Some(only),
                    _ => None,
                }),
        }
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_resolve_in_the_callers_package_then_the_root_then_a_single_other() {
        let index = NameIndex::new(
            "root",
            [
                ("a", "root", 1),
                ("a", "pkg", 2),
                ("b", "pkg", 3),
                ("c", "pkg", 4),
                ("c", "other", 5),
            ],
        );
        assert_eq!(index.find(None, "a", "root"), Some(&1));
        assert_eq!(index.find(None, "a", "pkg"), Some(&2));
        assert_eq!(index.find(None, "a", "other"), Some(&1));
        assert_eq!(index.find(Some("pkg"), "a", "root"), Some(&2));
        assert_eq!(index.find(None, "b", "root"), Some(&3));
        // Two packages other than the caller's define it: ambiguous without a package.
        assert_eq!(index.find(None, "c", "root"), None);
        assert_eq!(index.find(Some("other"), "c", "root"), Some(&5));
        assert_eq!(index.find(Some("nope"), "a", "root"), None);
        assert_eq!(index.find(None, "zzz", "root"), None);
    }
}
