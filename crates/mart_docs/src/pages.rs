//! The pages: index, one per folder, one per entry, the project lineage, and the search
//! shards the index loads when the reader searches.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use crate::catalog::{
    drawn_kind, kind_order, layer_of, ColumnFeeds, Docs, Entry, Group, NodeLineage,
};
use crate::graph::{svg, GraphBox};
use crate::html::{escape, file_name, page, Depth};
use crate::markdown;

/// Up to this many entries the project lineage draws every node; above it, one box per
/// folder (each folder page then draws its own nodes).
pub(crate) const FULL_GRAPH_LIMIT: usize = 400;
/// Boxes per column of a neighbourhood graph before the rest fold into "+N more".
const NEIGHBOURS_PER_COLUMN: usize = 25;
/// Steps upstream and downstream a node page draws.
const NEIGHBOURHOOD_DEPTH: usize = 2;
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

fn plural(n: usize, word: &str) -> String {
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
    group: &Group,
    group_of: &[usize],
    groups: &[Group],
) -> String {
    let mut body = String::new();
    let _ = write!(
        body,
        r#"<p class="crumbs">{}</p><h1>{}</h1>"#,
        escape(&section_title(group.kind)),
        escape(&group.name)
    );
    if drawn_kind(group.kind) && group.members.len() <= FULL_GRAPH_LIMIT {
        let members: BTreeSet<usize> = group.members.iter().copied().collect();
        let mut boxes = Vec::new();
        let mut slot: BTreeMap<Slot, usize> = BTreeMap::new();
        let mut edges = BTreeSet::new();
        let mut slot_of = |s: Slot, boxes: &mut Vec<GraphBox>| -> usize {
            *slot.entry(s).or_insert_with(|| {
                boxes.push(match s {
                    Slot::Entry(i) => entry_box(&docs.entries[i], false, Depth::Sub),
                    Slot::Group(g, side) => group_box(docs, &groups[g], Some(side), Depth::Sub),
                });
                boxes.len() - 1
            })
        };
        for &m in &group.members {
            slot_of(Slot::Entry(m), &mut boxes);
        }
        for &m in &group.members {
            let me = slot_of(Slot::Entry(m), &mut boxes);
            for &p in &docs.entries[m].parents {
                let from = if members.contains(&p) {
                    slot_of(Slot::Entry(p), &mut boxes)
                } else {
                    slot_of(Slot::Group(group_of[p], Side::Upstream), &mut boxes)
                };
                edges.insert((from, me));
            }
            for &c in &docs.entries[m].children {
                let to = if members.contains(&c) {
                    slot_of(Slot::Entry(c), &mut boxes)
                } else {
                    slot_of(Slot::Group(group_of[c], Side::Downstream), &mut boxes)
                };
                edges.insert((me, to));
            }
        }
        let edges: Vec<(usize, usize)> = edges.into_iter().collect();
        body.push_str(r#"<section><h2>Lineage</h2><div class="graph-wrap">"#);
        body.push_str(&svg(&boxes, &edges));
        body.push_str("</div></section>");
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

/// A box of a folder graph: one of the folder's entries, or a neighbouring folder.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Slot {
    Entry(usize),
    Group(usize, Side),
}

/// Where a neighbouring folder is drawn: left or right of the folder's own nodes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Side {
    Upstream,
    Downstream,
}

fn first_line(text: &str) -> &str {
    let line = text.trim().lines().next().unwrap_or("");
    match line.char_indices().nth(160) {
        Some((i, _)) => &line[..i],
        None => line,
    }
}

fn entry_box(e: &Entry<'_>, focus: bool, depth: Depth) -> GraphBox {
    GraphBox {
        label: e.name.to_string(),
        class: e.kind,
        href: format!("{}{}", depth.root(), node_href(e)),
        title: match &e.materialized {
            Some(m) => format!("{} ({}, {m})", e.id, e.kind),
            None => format!("{} ({})", e.id, e.kind),
        },
        rank: e.rank,
        focus,
        color: e.color.clone(),
    }
}

/// A folder as one box: at a side of a folder graph, or (`None`) in the column of its
/// members' mean rank.
fn group_box(docs: &Docs<'_>, group: &Group, side: Option<Side>, depth: Depth) -> GraphBox {
    GraphBox {
        label: format!("{} ({})", group.name, group.members.len()),
        class: "group",
        href: format!("{}{}", depth.root(), group_href(group.kind, &group.name)),
        title: format!(
            "{}: {}",
            group.name,
            plural(group.members.len(), group.kind)
        ),
        rank: match side {
            Some(Side::Upstream) => usize::MIN,
            Some(Side::Downstream) => usize::MAX,
            None => mean_rank(docs, &group.members),
        },
        focus: false,
        color: None,
    }
}

/// The project's lineage: every node when it is small; else one box per layer (the
/// first two levels of folders) and one box per folder.
pub(crate) fn lineage(docs: &Docs<'_>, groups: &[Group], group_of: &[usize]) -> String {
    let in_graph: Vec<usize> = (0..docs.entries.len())
        .filter(|&i| docs.entries[i].in_graph())
        .collect();
    let mut body = String::new();
    let _ = write!(
        body,
        r#"<h1>Lineage</h1><p class="filter"><input id="graph-filter" type="search" placeholder="Highlight boxes whose name contains…" autocomplete="off"> <span id="graph-count"></span></p>"#
    );
    if in_graph.len() <= FULL_GRAPH_LIMIT {
        let mut slot = vec![usize::MAX; docs.entries.len()];
        let mut boxes = Vec::new();
        let mut sorted = in_graph.clone();
        sorted.sort_by(|&a, &b| docs.entries[a].name.cmp(docs.entries[b].name));
        for &i in &sorted {
            slot[i] = boxes.len();
            boxes.push(entry_box(&docs.entries[i], false, Depth::Root));
        }
        let edges: Vec<(usize, usize)> = sorted
            .iter()
            .flat_map(|&i| docs.entries[i].children.iter().map(move |&c| (i, c)))
            .filter(|&(_, c)| slot[c] != usize::MAX)
            .map(|(i, c)| (slot[i], slot[c]))
            .collect();
        let _ = write!(
            body,
            r#"<p class="summary">{} nodes</p><div class="graph-wrap">{}</div>"#,
            in_graph.len(),
            svg(&boxes, &edges)
        );
        return page("Lineage", docs.project, Depth::Root, &body);
    }
    let shown: Vec<usize> = (0..groups.len())
        .filter(|&g| drawn_kind(groups[g].kind))
        .collect();
    // Layers: folders sharing their first two levels (`models/stg/g001` -> `models/stg`).
    let mut layers: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for &g in &shown {
        layers.entry(layer_of(&groups[g].name)).or_default().push(g);
    }
    let layer_of: BTreeMap<usize, usize> = layers
        .values()
        .enumerate()
        .flat_map(|(l, gs)| gs.iter().map(move |&g| (g, l)))
        .collect();
    let layer_boxes: Vec<GraphBox> = layers
        .iter()
        .map(|(name, gs)| {
            let members: Vec<usize> = gs
                .iter()
                .flat_map(|&g| groups[g].members.iter().copied())
                .collect();
            GraphBox {
                label: format!("{name} ({})", members.len()),
                class: "group",
                href: String::new(),
                title: format!("{name}: {} folders, {} nodes", gs.len(), members.len()),
                rank: mean_rank(docs, &members),
                focus: false,
                color: None,
            }
        })
        .collect();
    let mut slot = vec![usize::MAX; groups.len()];
    let folder_boxes: Vec<GraphBox> = shown
        .iter()
        .enumerate()
        .map(|(s, &g)| {
            slot[g] = s;
            group_box(docs, &groups[g], None, Depth::Root)
        })
        .collect();
    let group_edges: BTreeSet<(usize, usize)> = in_graph
        .iter()
        .flat_map(|&i| docs.entries[i].children.iter().map(move |&c| (i, c)))
        .map(|(i, c)| (group_of[i], group_of[c]))
        .filter(|(a, b)| a != b && slot[*a] != usize::MAX && slot[*b] != usize::MAX)
        .collect();
    let folder_edges: Vec<(usize, usize)> = group_edges
        .iter()
        .map(|&(a, b)| (slot[a], slot[b]))
        .collect();
    let layer_edges: Vec<(usize, usize)> = group_edges
        .iter()
        .map(|(a, b)| (layer_of[a], layer_of[b]))
        .filter(|(a, b)| a != b)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let _ = write!(
        body,
        r#"<p class="summary">{} nodes in {} folders: too many to draw one by one. Open a folder to see its nodes, a node to see its neighbourhood.</p><h2>Layers</h2><div class="graph-wrap">{}</div><h2>Folders</h2><div class="graph-wrap">{}</div>"#,
        in_graph.len(),
        shown.len(),
        svg(&layer_boxes, &layer_edges),
        svg(&folder_boxes, &folder_edges)
    );
    page("Lineage", docs.project, Depth::Root, &body)
}

/// The rounded mean rank of some entries: the column a box standing for them is drawn in.
fn mean_rank(docs: &Docs<'_>, members: &[usize]) -> usize {
    let total: usize = members.iter().map(|&m| docs.entries[m].rank).sum();
    (total as f64 / members.len().max(1) as f64).round() as usize
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
        body.push_str(r#"<section id="lineage"><h2>Lineage</h2><div class="graph-wrap">"#);
        body.push_str(&neighbourhood_svg(docs, index));
        body.push_str(
            r#"</div><p class="note"><a href="../lineage.html">Project lineage</a></p></section>"#,
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

/// The entry and its neighbours up to [`NEIGHBOURHOOD_DEPTH`] steps, nearest first when
/// a column has to fold.
fn neighbourhood_svg(docs: &Docs<'_>, start: usize) -> String {
    let near = docs.neighbourhood(start, NEIGHBOURHOOD_DEPTH);
    let mut by_rank: BTreeMap<usize, Vec<(usize, &str, usize)>> = BTreeMap::new();
    for (&i, &distance) in &near {
        by_rank
            .entry(docs.entries[i].rank)
            .or_default()
            .push((distance, docs.entries[i].name, i));
    }
    let mut boxes = Vec::new();
    let mut slot: BTreeMap<usize, usize> = BTreeMap::new();
    for (rank, mut members) in by_rank {
        members.sort();
        let shown = if members.len() > NEIGHBOURS_PER_COLUMN {
            NEIGHBOURS_PER_COLUMN - 1
        } else {
            members.len()
        };
        for &(_, _, i) in &members[..shown] {
            slot.insert(i, boxes.len());
            boxes.push(entry_box(&docs.entries[i], i == start, Depth::Sub));
        }
        if members.len() > shown {
            let more = members.len() - shown;
            boxes.push(GraphBox {
                label: format!("+{more} more"),
                class: "more",
                href: "#dependencies".to_string(),
                title: format!("{more} more nodes in this layer; see the lists below"),
                rank,
                focus: false,
                color: None,
            });
        }
    }
    let edges: Vec<(usize, usize)> = slot
        .iter()
        .flat_map(|(&i, &from)| {
            docs.entries[i]
                .children
                .iter()
                .filter_map(|c| slot.get(c))
                .map(move |&to| (from, to))
        })
        .collect();
    svg(&boxes, &edges)
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
