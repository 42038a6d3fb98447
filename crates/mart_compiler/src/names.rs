//! What a `ref()` names, as dbt resolves it: `ref('pkg', 'x')` is the node `x` of package
//! `pkg`; a bare `ref('x')` is the node of the caller's own package, else the root
//! project's, else the one other package that has it.

use std::collections::HashMap;

/// Ref-able names (models, seeds, snapshots) -> the packages that define them, with a
/// value each (a node id, a position in the node store).
pub(crate) struct NameIndex<T> {
    root: String,
    by_name: HashMap<String, Vec<Entry<T>>>,
}

struct Entry<T> {
    package: String,
    /// A versioned model's version, and whether it is the latest.
    version: Option<(String, bool)>,
    value: T,
}

/// One ref-able node for [`NameIndex::new`]: its name, package, version (with whether it
/// is the latest one) and value.
pub(crate) type Named<'a, T> = (&'a str, &'a str, Option<(&'a str, bool)>, T);

impl<T: Clone> NameIndex<T> {
    pub fn new<'a>(root: &str, entries: impl IntoIterator<Item = Named<'a, T>>) -> Self {
        let mut by_name: HashMap<String, Vec<Entry<T>>> = HashMap::new();
        for (name, package, version, value) in entries {
            by_name.entry(name.to_string()).or_default().push(Entry {
                package: package.to_string(),
                version: version.map(|(v, latest)| (v.to_string(), latest)),
                value,
            });
        }
        Self {
            root: root.to_string(),
            by_name,
        }
    }

    /// The node `name` (of `package` when given) for a caller in `from_package`: the
    /// given version of a versioned model, else its latest version.
    pub fn find(
        &self,
        package: Option<&str>,
        name: &str,
        version: Option<&str>,
        from_package: &str,
    ) -> Option<&T> {
        let package = self.package_of(package, name, from_package)?;
        self.by_name
            .get(name)?
            .iter()
            .filter(|e| e.package == package)
            .find(|e| match (&e.version, version) {
                (Some((v, _)), Some(wanted)) => v == wanted,
                (Some((_, latest)), None) => *latest,
                (None, None) => true,
                (None, Some(_)) => false,
            })
            .map(|e| &e.value)
    }

    /// The package whose `name` a ref means: the given one, else the caller's own, the
    /// root project's, or the one other package that has it.
    fn package_of<'a>(
        &'a self,
        package: Option<&'a str>,
        name: &str,
        from_package: &'a str,
    ) -> Option<&'a str> {
        let candidates = self.by_name.get(name)?;
        let has = |p: &str| candidates.iter().any(|e| e.package == p);
        match package {
            Some(p) => has(p).then_some(p),
            None if has(from_package) => Some(from_package),
            None if has(&self.root) => Some(&self.root),
            None => {
                let first = &candidates.first()?.package;
                candidates
                    .iter()
                    .all(|e| e.package == *first)
                    .then_some(first.as_str())
            }
        }
    }

    /// The versions of the versioned model a ref names (empty for other nodes), in
    /// dbt's version order.
    pub fn versions(&self, package: Option<&str>, name: &str, from_package: &str) -> Vec<&str> {
        let Some(package) = self.package_of(package, name, from_package) else {
            return Vec::new();
        };
        let mut versions: Vec<&str> = self.by_name[name]
            .iter()
            .filter(|e| e.package == package)
            .filter_map(|e| e.version.as_ref().map(|(v, _)| v.as_str()))
            .collect();
        versions.sort_by(|a, b| mart_project::compare_versions(a, b));
        versions
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
                ("a", "root", None, 1),
                ("a", "pkg", None, 2),
                ("b", "pkg", None, 3),
                ("c", "pkg", None, 4),
                ("c", "other", None, 5),
            ],
        );
        let find = |package, name, from| index.find(package, name, None, from);
        assert_eq!(find(None, "a", "root"), Some(&1));
        assert_eq!(find(None, "a", "pkg"), Some(&2));
        assert_eq!(find(None, "a", "other"), Some(&1));
        assert_eq!(find(Some("pkg"), "a", "root"), Some(&2));
        assert_eq!(find(None, "b", "root"), Some(&3));
        // Two packages other than the caller's define it: ambiguous without a package.
        assert_eq!(find(None, "c", "root"), None);
        assert_eq!(find(Some("other"), "c", "root"), Some(&5));
        assert_eq!(find(Some("nope"), "a", "root"), None);
        assert_eq!(find(None, "zzz", "root"), None);
    }

    #[test]
    fn versioned_refs_resolve_to_the_version_or_the_latest() {
        let index = NameIndex::new(
            "root",
            [
                ("m", "root", Some(("1", false)), 1),
                ("m", "root", Some(("2", true)), 2),
                ("m", "root", Some(("10", false)), 10),
                ("m", "pkg", Some(("1", true)), 11),
                ("plain", "root", None, 20),
            ],
        );
        assert_eq!(index.find(None, "m", None, "root"), Some(&2));
        assert_eq!(index.find(None, "m", Some("1"), "root"), Some(&1));
        assert_eq!(index.find(None, "m", Some("10"), "root"), Some(&10));
        assert_eq!(index.find(None, "m", Some("3"), "root"), None);
        assert_eq!(index.find(Some("pkg"), "m", Some("1"), "root"), Some(&11));
        assert_eq!(index.find(None, "plain", Some("1"), "root"), None);
        assert_eq!(index.versions(None, "m", "root"), ["1", "2", "10"]);
        assert!(index.versions(None, "plain", "root").is_empty());
    }
}
