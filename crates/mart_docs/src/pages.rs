//! The pages: index, one per folder, one per entry, the project lineage, and the search
//! shards the index loads when the reader searches.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::catalog::{kind_order, ColumnFeeds, Docs, Entry, Group, NodeLineage};
use crate::flow::Layers;
use crate::html::{escape, file_name, page, Depth};
use crate::{lineage, markdown};

/// Member names an index row shows inline.
const INDEX_NAMES: usize = 8;
/// Entries per search shard (about 35 kB): the first results show after the first small
/// file, and no single file the index loads grows with the project.
pub(crate) const SEARCH_SHARD: usize = 500;

pub(crate) fn node_href(entry: &Entry<'_>) -> String {
    format!("nodes/{}", file_name(&entry.id))
}

/// A folder's page; folders of different kinds can share a path (models and their tests).
pub(crate) fn group_href(kind: &str, group: &str) -> String {
    format!("folders/{kind}.{}", file_name(group))
}

pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else if word.ends_with('s') {
        format!("{n} {word}es")
    } else {
        format!("{n} {word}s")
    }
}

/// `6 models · 3 seeds · 1 macro`.
fn counts(docs: &Docs<'_>) -> String {
    let mut by_kind: BTreeMap<(usize, &str), usize> = BTreeMap::new();
    for e in &docs.entries {
        *by_kind.entry((kind_order(e.kind), e.kind)).or_default() += 1;
    }
    by_kind
        .iter()
        .map(|((_, kind), n)| plural(*n, kind))
        .collect::<Vec<_>>()
        .join(" · ")
}

pub(crate) fn index(docs: &Docs<'_>, groups: &[Group], shards: usize) -> String {
    let mut body = String::new();
    let _ = write!(
        body,
        r#"<h1>{}</h1><p class="summary">{}</p>
<section class="overview description">{}</section>
<section id="search" hidden><h2>Search results</h2><p id="search-status"></p><ul id="search-results" class="results" data-shards="{shards}"></ul></section>
<section id="folders"><h2>By folder and layer</h2>"#,
        escape(docs.project),
        escape(&counts(docs)),
        markdown::to_html(docs.overview),
    );
    let mut kind = "";
    for group in groups {
        if group.kind != kind {
            if !kind.is_empty() {
                body.push_str("</ul>");
            }
            kind = group.kind;
            let _ = write!(
                body,
                r#"<h3 class="kind {kind}">{}</h3><ul class="groups">"#,
                escape(&section_title(kind))
            );
        }
        let _ = write!(
            body,
            r#"<li><a class="group" href="{}">{}</a> <span class="count">{}</span><span class="names">"#,
            escape(&group_href(group.kind, &group.name)),
            escape(&group.name),
            group.members.len()
        );
        for &m in group.members.iter().take(INDEX_NAMES) {
            let e = &docs.entries[m];
            let _ = write!(
                body,
                r#" <a href="{}">{}</a>"#,
                escape(&node_href(e)),
                escape(e.name)
            );
        }
        if group.members.len() > INDEX_NAMES {
            let _ = write!(
                body,
                r#" <a class="more" href="{}">and {} more</a>"#,
                escape(&group_href(group.kind, &group.name)),
                group.members.len() - INDEX_NAMES
            );
        }
        body.push_str("</span></li>");
    }
    if !kind.is_empty() {
        body.push_str("</ul>");
    }
    body.push_str("</section>");
    page("Index", docs.project, Depth::Root, &body)
}

fn section_title(kind: &str) -> String {
    match kind {
        "analysis" => "Analyses".to_string(),
        kind => {
            let mut title: String = kind[..1].to_uppercase() + &kind[1..];
            title.push('s');
            title
        }
    }
}

/// A folder: its members with descriptions, and their lineage with the neighbouring
/// folders as one box each.
pub(crate) fn folder(
    docs: &Docs<'_>,
    g: usize,
    groups: &[Group],
    group_of: &[usize],
    layers: &Layers,
) -> String {
    let group = &groups[g];
    let mut body = String::new();
    let _ = write!(
        body,
        r#"<p class="crumbs">{}</p><h1>{}</h1>"#,
        escape(&section_title(group.kind)),
        escape(&group.name)
    );
    if lineage::folder_is_drawn(group) {
        body.push_str(&lineage::folder(docs, g, groups, group_of, layers));
    }
    body.push_str(r#"<section><h2>Members</h2><table class="members"><thead><tr><th>name</th><th>type</th><th>materialized</th><th>description</th></tr></thead><tbody>"#);
    for &m in &group.members {
        let e = &docs.entries[m];
        let _ = write!(
            body,
            r#"<tr><td><a href="../{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
            escape(&node_href(e)),
            escape(e.name),
            e.kind,
            escape(e.materialized.as_deref().unwrap_or("")),
            escape(first_line(e.description))
        );
    }
    body.push_str("</tbody></table></section>");
    page(&group.name, docs.project, Depth::Sub, &body)
}

fn first_line(text: &str) -> &str {
    let line = text.trim().lines().next().unwrap_or("");
    match line.char_indices().nth(160) {
        Some((i, _)) => &line[..i],
        None => line,
    }
}

/// The project's lineage page.
pub(crate) fn lineage(
    docs: &Docs<'_>,
    groups: &[Group],
    group_of: &[usize],
    layers: &Layers,
) -> String {
    let body = format!(
        r#"<h1>Lineage</h1><p class="filter"><input id="graph-filter" type="search" placeholder="Highlight boxes whose name contains…" autocomplete="off"> <span id="graph-count"></span></p>{}"#,
        lineage::project(docs, groups, group_of, layers)
    );
    page("Lineage", docs.project, Depth::Root, &body)
}

/// One entry's page.
pub(crate) fn node(docs: &Docs<'_>, index: usize) -> String {
    let e = &docs.entries[index];
    let mut body = String::new();
    let _ = write!(
        body,
        r#"<p class="crumbs"><span class="kind {kind}">{kind}</span> <a href="../{}">{}</a></p><h1>{}</h1><dl class="facts">"#,
        escape(&group_href(e.kind, &e.group)),
        escape(&e.group),
        escape(e.name),
        kind = e.kind,
    );
    let fact = |body: &mut String, name: &str, value: &str| {
        if !value.is_empty() {
            let _ = write!(body, "<dt>{name}</dt><dd>{}</dd>", escape(value));
        }
    };
    fact(
        &mut body,
        "materialized",
        e.materialized.as_deref().unwrap_or(""),
    );
    fact(
        &mut body,
        "relation",
        &e.relation_text().unwrap_or_default(),
    );
    for (name, value) in &e.facts {
        if *name == "url" && markdown::is_safe_url(value) {
            let _ = write!(
                body,
                r#"<dt>url</dt><dd><a href="{url}" rel="noopener">{url}</a></dd>"#,
                url = escape(value)
            );
        } else {
            fact(&mut body, name, value);
        }
    }
    fact(&mut body, "file", e.path);
    fact(&mut body, "tags", &e.tags.join(", "));
    fact(&mut body, "unique id", &e.id);
    body.push_str("</dl>");
    if e.description.trim().is_empty() {
        body.push_str(r#"<p class="description none">No description.</p>"#);
    } else {
        let _ = write!(
            body,
            r#"<div class="description">{}</div>"#,
            markdown::to_html(e.description.trim())
        );
    }
    if e.in_graph() {
        body.push_str(r#"<section id="lineage"><h2>Lineage</h2>"#);
        body.push_str(&lineage::neighbourhood(docs, index));
        body.push_str(
            r#"<p class="note"><a href="../lineage.html">Project lineage</a></p></section>"#,
        );
    }
    columns_section(docs, e, &mut body);
    body.push_str(r#"<section id="dependencies" class="two"><div><h2>Upstream</h2>"#);
    entry_list(docs, &e.parents, &mut body);
    body.push_str("</div><div><h2>Downstream</h2>");
    entry_list(docs, &e.children, &mut body);
    body.push_str("</div></section>");
    body.push_str(r#"<section id="tests"><h2>Tests</h2>"#);
    if e.tests.is_empty() {
        body.push_str(r#"<p class="none">No tests.</p>"#);
    } else {
        body.push_str(r#"<table><thead><tr><th>test</th><th>column</th><th>arguments</th><th>name</th></tr></thead><tbody>"#);
        for t in &e.tests {
            let test = &docs.entries[t.entry];
            let _ = write!(
                body,
                r#"<tr><td>{}</td><td>{}</td><td>{}</td><td><a href="../{}">{}</a></td></tr>"#,
                escape(&t.label()),
                escape(t.column.as_deref().unwrap_or("")),
                escape(&t.args),
                escape(&node_href(test)),
                escape(test.name)
            );
        }
        body.push_str("</tbody></table>");
    }
    body.push_str("</section>");
    if e.raw_sql.is_some() || e.compiled_sql.is_some() {
        body.push_str(r#"<section id="sql"><h2>SQL</h2>"#);
        if let Some(sql) = e.raw_sql {
            let _ = write!(
                body,
                r#"<details open><summary>Source</summary><pre><code>{}</code></pre></details>"#,
                escape(sql)
            );
        }
        if let Some(sql) = e.compiled_sql {
            let _ = write!(
                body,
                r#"<details open><summary>Compiled</summary><pre><code>{}</code></pre></details>"#,
                escape(sql.trim_end())
            );
        }
        body.push_str("</section>");
    }
    page(e.name, docs.project, Depth::Sub, &body)
}

fn entry_list(docs: &Docs<'_>, list: &[usize], body: &mut String) {
    if list.is_empty() {
        body.push_str(r#"<p class="none">None.</p>"#);
        return;
    }
    let mut sorted = list.to_vec();
    sorted.sort_by(|&a, &b| docs.entries[a].name.cmp(docs.entries[b].name));
    body.push_str(r#"<ul class="deps">"#);
    for i in sorted {
        let e = &docs.entries[i];
        let _ = write!(
            body,
            r#"<li><span class="kind {kind}">{kind}</span> <a href="../{}">{}</a></li>"#,
            escape(&node_href(e)),
            escape(e.name),
            kind = e.kind
        );
    }
    body.push_str("</ul>");
}

/// Columns: documented ones first, then those only the SQL or the catalog knows; each
/// with its type (catalog, else declared, else derived from the SQL), description, tests and upstream columns.
fn columns_section(docs: &Docs<'_>, e: &Entry<'_>, body: &mut String) {
    let catalog = match e.relation {
        Some((_, schema, table)) => docs.catalog.columns(schema, table),
        None => &[],
    };
    let lineage = docs.lineage(e);
    let lineage_columns: &[ColumnFeeds] = match &lineage {
        NodeLineage::Columns(columns) => columns,
        _ => &[],
    };
    let mut names: Vec<&str> = e.properties.iter().map(|c| c.name.as_str()).collect();
    for name in lineage_columns
        .iter()
        .map(|c| c.name.as_str())
        .chain(catalog.iter().map(|c| c.name.as_str()))
    {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    if names.is_empty() && e.kind == "macro" {
        return;
    }
    body.push_str(r#"<section id="columns"><h2>Columns</h2>"#);
    if let NodeLineage::Failed(why) = &lineage {
        let _ = write!(
            body,
            r#"<p class="note">Column lineage: unknown ({}).</p>"#,
            escape(why)
        );
    }
    if names.is_empty() {
        body.push_str(r#"<p class="none">No columns documented.</p></section>"#);
        return;
    }
    let with_lineage = !matches!(lineage, NodeLineage::None);
    let _ = write!(
        body,
        "<table class=\"columns\"><thead><tr><th>column</th><th>type</th><th>description</th><th>tests</th>{}</tr></thead><tbody>",
        if with_lineage { "<th>fed by</th>" } else { "" }
    );
    for name in names {
        let documented = e.properties.iter().find(|c| c.name == name);
        let data_type = catalog
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.data_type.as_str())
            .or_else(|| documented.and_then(|c| c.data_type.as_deref()))
            .or_else(|| {
                lineage_columns
                    .iter()
                    .find(|c| c.name == name)
                    .and_then(|c| c.data_type.as_deref())
            })
            .unwrap_or("");
        // The tests declared on this column, each a link to its page.
        let tests: Vec<String> = e
            .tests
            .iter()
            .filter(|t| t.declared_here && t.column.as_deref() == Some(name))
            .map(|t| {
                format!(
                    r#"<a href="../{}">{}</a>"#,
                    escape(&node_href(&docs.entries[t.entry])),
                    escape(&t.label())
                )
            })
            .collect();
        let _ = write!(
            body,
            "<tr><td class=\"name\">{}</td><td>{}</td><td>{}</td><td>{}</td>",
            escape(name),
            escape(data_type),
            markdown::to_inline_html(documented.map_or("", |c| c.description.as_str())),
            tests.join(", ")
        );
        if with_lineage {
            body.push_str("<td class=\"fed\">");
            feeds_cell(docs, lineage_columns, name, body);
            body.push_str("</td>");
        }
        body.push_str("</tr>");
    }
    body.push_str("</tbody></table></section>");
}

fn feeds_cell(docs: &Docs<'_>, lineage: &[ColumnFeeds], name: &str, body: &mut String) {
    let found = lineage.iter().find(|c| c.name == name).or_else(|| {
        // A documented column not listed by name comes through a `*`.
        lineage.iter().find(|c| c.name == "*")
    });
    match found.map(|c| &c.feeds) {
        None => body.push_str(r#"<span class="unknown">unknown (not in the compiled SQL)</span>"#),
        Some(Err(why)) => {
            let _ = write!(
                body,
                r#"<span class="unknown">unknown ({})</span>"#,
                escape(why)
            );
        }
        Some(Ok(feeds)) if feeds.is_empty() => {
            body.push_str(r#"<span class="none">no column (a constant)</span>"#)
        }
        Some(Ok(feeds)) => {
            let items: Vec<String> = feeds
                .iter()
                .map(|f| {
                    let column = if f.column == "*" && name != "*" {
                        name
                    } else {
                        f.column.as_str()
                    };
                    match f.entry {
                        Some(i) => format!(
                            r#"<a href="../{}">{}</a>.{}"#,
                            escape(&node_href(&docs.entries[i])),
                            escape(docs.entries[i].name),
                            escape(column)
                        ),
                        None => format!("{}.{}", escape(&f.relation), escape(column)),
                    }
                })
                .collect();
            body.push_str(&items.join(", "));
        }
    }
}

/// The search shards: `name \t kind \t folder \t link` lines, one JS string per shard,
/// loaded through script tags so they work from the file system.
pub(crate) fn search_shards(docs: &Docs<'_>) -> Vec<String> {
    let clean = |s: &str| s.replace(['\t', '\n', '\r'], " ");
    let mut lines: Vec<String> = Vec::new();
    for e in &docs.entries {
        let href = node_href(e);
        lines.push(format!(
            "{}\t{}\t{}\t{href}",
            clean(e.name),
            e.kind,
            clean(&e.group)
        ));
    }
    lines.sort();
    shard_lines(&lines)
}

/// `lines` in shards of [`SEARCH_SHARD`], each one `martSearch.add("...")` script.
pub(crate) fn shard_lines(lines: &[String]) -> Vec<String> {
    lines
        .chunks(SEARCH_SHARD)
        .map(|chunk| {
            let text = serde_json::Value::String(chunk.join("\n")).to_string();
            format!("martSearch.add({text});\n")
        })
        .collect()
}
