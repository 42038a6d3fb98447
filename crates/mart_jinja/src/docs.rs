//! `doc()` in descriptions: `{{ doc('name') }}` and `{{ doc('package', 'name') }}` give
//! a docs block's text, as in dbt's docs context.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use mart_diagnostics::{closest_name, Code, Diagnostic, SourceFile};
use minijinja::value::Value;
use minijinja::{Error, ErrorKind};

use crate::JinjaEnv;

/// The docs blocks `doc()` can name.
#[derive(Debug, Default)]
pub struct DocLookup {
    root: String,
    /// (package, name) -> the block's text.
    blocks: BTreeMap<(String, String), String>,
}

impl DocLookup {
    /// `root` is the root project's name; `blocks` are (package, name, contents).
    pub fn new<'a>(
        root: &str,
        blocks: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>,
    ) -> Self {
        DocLookup {
            root: root.to_string(),
            blocks: blocks
                .into_iter()
                .map(|(p, n, c)| ((p.to_string(), n.to_string()), c.to_string()))
                .collect(),
        }
    }

    /// dbt's search: the named package only; else the root project, then the package of
    /// the description, then any package.
    fn find(&self, package: Option<&str>, name: &str, own_package: &str) -> Option<&str> {
        let get = |p: &str| {
            self.blocks
                .get(&(p.to_string(), name.to_string()))
                .map(String::as_str)
        };
        match package {
            Some(p) => get(p),
            None => get(&self.root).or_else(|| get(own_package)).or_else(|| {
                self.blocks
                    .iter()
                    .find(|((_, n), _)| n == name)
                    .map(|(_, c)| c.as_str())
            }),
        }
    }

    /// The first package (by name) holding a block of this name.
    fn package_of(&self, name: &str) -> Option<&str> {
        self.blocks
            .keys()
            .find(|(_, n)| n == name)
            .map(|(p, _)| p.as_str())
    }

    fn names(&self) -> impl Iterator<Item = &str> {
        self.blocks.keys().map(|(_, n)| n.as_str())
    }
}

/// What a failed `doc()` call asked for, to build the diagnostic after the render.
struct Missing {
    package: Option<String>,
    name: String,
}

impl JinjaEnv {
    /// A description (of a node, column, source, exposure...) with its Jinja rendered and
    /// `doc()` available; `package` is the package the description belongs to. An unknown
    /// doc is an error at the call, with the closest known name.
    pub fn render_description(
        &self,
        file: &Arc<SourceFile>,
        text: &str,
        docs: &Arc<DocLookup>,
        package: &str,
    ) -> Result<String, Diagnostic> {
        if !text.contains("{{") && !text.contains("{%") {
            return Ok(text.to_string());
        }
        let missing: Arc<Mutex<Option<Missing>>> = Arc::default();
        let doc = {
            let (docs, missing, package) = (docs.clone(), missing.clone(), package.to_string());
            Value::from_function(move |args: &[Value]| -> Result<Value, Error> {
                let strings: Option<Vec<&str>> = args.iter().map(Value::as_str).collect();
                let (wanted_package, name) = match strings.as_deref() {
                    Some([name]) => (None, *name),
                    Some([p, name]) => (Some(*p), *name),
                    _ => {
                        return Err(Error::new(
                            ErrorKind::InvalidOperation,
                            "doc() takes a name, or a package and a name",
                        ))
                    }
                };
                match docs.find(wanted_package, name, &package) {
                    Some(text) => Ok(Value::from(text)),
                    None => {
                        if let Ok(mut slot) = missing.lock() {
                            *slot = Some(Missing {
                                package: wanted_package.map(str::to_string),
                                name: name.to_string(),
                            });
                        }
                        Err(Error::new(
                            ErrorKind::InvalidOperation,
                            format!("unknown doc '{name}'"),
                        ))
                    }
                }
            })
        };
        let name = crate::template_name(file);
        let source = crate::python::rewrite_literals(text).text;
        let ctx = minijinja::context! { doc => doc };
        self.env.render_named_str(&name, &source, ctx).map_err(|e| {
            let at = crate::property_error(&e, &self.files, file, text);
            let Some(missing) = missing.lock().ok().and_then(|mut m| m.take()) else {
                return at;
            };
            let wanted = match &missing.package {
                Some(p) => format!("{p}.{}", missing.name),
                None => missing.name.clone(),
            };
            let mut d = Diagnostic::error(Code::UnknownDoc, format!("unknown doc '{wanted}'"));
            d.span = at.span;
            d.path = at.path;
            // Named with a package that lacks it, while another package has it.
            let elsewhere = missing
                .package
                .as_ref()
                .and_then(|_| docs.package_of(&missing.name));
            if let Some(package) = elsewhere {
                return d.with_help(format!(
                    "the block is in package '{package}': write doc('{package}', '{}')",
                    missing.name
                ));
            }
            match closest_name(&missing.name, docs.names()) {
                Some(close) => d.with_help(format!("did you mean '{close}'?")),
                None => d.with_help(
                    "define it in a .md file of the docs paths: {% docs name %}...{% enddocs %}",
                ),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_looks_in_the_root_project_then_its_own_package_then_any() {
        let docs = DocLookup::new(
            "shop",
            [
                ("shop", "both", "root's"),
                ("pkg", "both", "pkg's"),
                ("pkg", "own", "pkg's own"),
                ("other", "own", "other's own"),
                ("other", "far", "other's far"),
            ],
        );
        assert_eq!(docs.find(None, "both", "pkg"), Some("root's"));
        assert_eq!(docs.find(None, "own", "pkg"), Some("pkg's own"));
        assert_eq!(docs.find(None, "own", "other"), Some("other's own"));
        assert_eq!(docs.find(None, "far", "shop"), Some("other's far"));
        assert_eq!(docs.find(Some("pkg"), "both", "shop"), Some("pkg's"));
        assert_eq!(docs.find(Some("shop"), "far", "shop"), None);
    }
}
