//! The lineage graphs of the pages: the project's (every node when it is small; its
//! layers and folders when it is large), a folder's (expanded into its nodes, among the
//! folders they read from and feed) and a node's neighbourhood; each with a legend.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::catalog::{drawn_kind, kind_order, Docs, Entry, Group};
use crate::flow::Layers;
use crate::graph::{svg, svg_in_columns, EdgeKind, GraphBox, GraphEdge};
use crate::html::{escape, Depth};
use crate::pages::{group_href, node_href, plural};

/// Up to this many entries the project lineage draws every node; above it, its layers
/// and one box per folder (each folder page then draws its own nodes).
pub(crate) const FULL_GRAPH_LIMIT: usize = 400;
/// Up to this many edges between folders the folder overview draws them; above it, each
/// folder's box gives its counts and its own page draws its edges.
const FOLDER_EDGES_DRAWN: usize = 300;
/// Boxes per column of a neighbourhood graph before the rest fold into "+N more".
const NEIGHBOURS_PER_COLUMN: usize = 25;
/// Steps upstream and downstream a node page draws.
const NEIGHBOURHOOD_DEPTH: usize = 2;
/// Ranks a layer spans in a folder graph: its neighbouring folders first, then the
/// folder's own nodes in their order, then its same-layer downstream folders.
const LAYER_SPAN: usize = 1_000;

/// The box of an entry: its name, and its materialization (a model) or kind as a tag.
pub(crate) fn entry_box(e: &Entry<'_>, focus: bool, depth: Depth) -> GraphBox {
    let tag = match (&e.materialized, e.kind) {
        (Some(m), "model") => m.clone(),
        (_, kind) => kind.to_string(),
    };
    GraphBox {
        label: e.name.to_string(),
        class: e.kind,
        href: format!("{}{}", depth.root(), node_href(e)),
        // The graph puts the full name first when it shortens the label.
        title: match &e.materialized {
            Some(m) => format!("{} ({}, {m})", e.id, e.kind),
            None => format!("{} ({})", e.id, e.kind),
        },
        rank: e.rank,
        focus,
        color: e.color.clone(),
        tag,
        layer: crate::flow::node_layer(e),
        ..GraphBox::default()
    }
}

fn edge_kind(docs: &Docs<'_>, from: usize, to: usize) -> EdgeKind {
    if docs.loads.contains(&(from, to)) {
        EdgeKind::Loads
    } else {
        EdgeKind::Reads
    }
}

/// What the colours and lines of a graph mean: the kinds of `entries` with their counts,
/// folder boxes when there are, and the kinds of edge among `edges`.
fn legend(
    docs: &Docs<'_>,
    entries: impl Iterator<Item = usize>,
    edges: &[GraphEdge],
    folders: bool,
) -> String {
    let mut kinds: BTreeMap<(usize, &str), usize> = BTreeMap::new();
    for i in entries {
        let kind = docs.entries[i].kind;
        *kinds.entry((kind_order(kind), kind)).or_default() += 1;
    }
    let mut out = String::from(r#"<ul class="legend">"#);
    if folders {
        out.push_str(r#"<li><span class="swatch group"></span>folder or layer</li>"#);
    }
    for ((_, kind), n) in &kinds {
        let _ = write!(
            out,
            r#"<li><span class="swatch {kind}"></span>{}</li>"#,
            plural(*n, kind)
        );
    }
    out.push_str(r#"<li><span class="line"></span>feeds (ref, source)</li>"#);
    if edges.iter().any(|e| e.kind == EdgeKind::Loads) {
        out.push_str(
            r#"<li><span class="line loads"></span>a seed loads the table a source reads</li>"#,
        );
    }
    if edges.iter().any(|e| e.count > 1) {
        out.push_str(
            r#"<li><span class="line thick"></span>many edges: the number says how many</li>"#,
        );
    }
    out.push_str("</ul>");
    out
}

/// The project lineage page's body below its heading and filter.
pub(crate) fn project(
    docs: &Docs<'_>,
    groups: &[Group],
    group_of: &[usize],
    layers: &Layers,
) -> String {
    let in_graph: Vec<usize> = (0..docs.entries.len())
        .filter(|&i| docs.entries[i].in_graph())
        .collect();
    if in_graph.len() <= FULL_GRAPH_LIMIT {
        every_node(docs, &in_graph)
    } else {
        by_folder(docs, &in_graph, groups, group_of, layers)
    }
}

/// Every node, in columns from raw data to marts; unconnected ones apart.
fn every_node(docs: &Docs<'_>, in_graph: &[usize]) -> String {
    let mut slot = vec![usize::MAX; docs.entries.len()];
    let mut sorted = in_graph.to_vec();
    sorted.sort_by(|&a, &b| docs.entries[a].name.cmp(docs.entries[b].name));
    let mut boxes = Vec::new();
    for &i in &sorted {
        slot[i] = boxes.len();
        boxes.push(entry_box(&docs.entries[i], false, Depth::Root));
    }
    let edges: Vec<GraphEdge> = sorted
        .iter()
        .flat_map(|&i| docs.entries[i].children.iter().map(move |&c| (i, c)))
        .filter(|&(_, c)| slot[c] != usize::MAX)
        .map(|(i, c)| GraphEdge {
            kind: edge_kind(docs, i, c),
            ..GraphEdge::reads(slot[i], slot[c])
        })
        .collect();
    format!(
        r#"<p class="summary">{} nodes, from raw data on the left to marts on the right; each column is headed by the layers it holds.</p>{}<div class="graph-wrap">{}</div>"#,
        in_graph.len(),
        legend(docs, in_graph.iter().copied(), &edges, false),
        svg(&boxes, &edges)
    )
}

/// Edges between boxes, each counting the node edges it stands for: a "loads" edge when
/// every one of them is a seed loading a source's table.
#[derive(Default)]
struct EdgeCounts(BTreeMap<(usize, usize), (usize, bool)>);

impl EdgeCounts {
    fn add(&mut self, from: usize, to: usize, loads: bool) {
        let count = self.0.entry((from, to)).or_insert((0, true));
        count.0 += 1;
        count.1 &= loads;
    }

    fn edges(self) -> Vec<GraphEdge> {
        self.0
            .into_iter()
            .map(|((from, to), (count, all_loads))| GraphEdge {
                from,
                to,
                count,
                kind: if all_loads {
                    EdgeKind::Loads
                } else {
                    EdgeKind::Reads
                },
            })
            .collect()
    }
}

/// Edges between the boxes that hold their ends, counted; `box_of` maps an entry to its
/// box (`None`: not drawn), and edges inside one box are left out.
fn counted_edges(
    docs: &Docs<'_>,
    entries: &[usize],
    box_of: impl Fn(usize) -> Option<usize>,
) -> Vec<GraphEdge> {
    let mut counts = EdgeCounts::default();
    for &i in entries {
        let Some(from) = box_of(i) else { continue };
        for &c in &docs.entries[i].children {
            let Some(to) = box_of(c).filter(|&to| to != from) else {
                continue;
            };
            counts.add(from, to, docs.loads.contains(&(i, c)));
        }
    }
    counts.edges()
}

/// A large project: its layers with the edges between them counted, then its folders in
/// one column per layer, sorted by name, each linking to its expanded graph.
fn by_folder(
    docs: &Docs<'_>,
    in_graph: &[usize],
    groups: &[Group],
    group_of: &[usize],
    layers: &Layers,
) -> String {
    let layer_of_entry = |i: usize| layers.of_group[group_of[i]];
    let mut layer_members: Vec<(usize, usize)> = vec![(0, 0); layers.names.len()];
    for (g, layer) in layers.of_group.iter().enumerate() {
        if let Some(l) = *layer {
            layer_members[l].0 += 1;
            layer_members[l].1 += groups[g].members.len();
        }
    }
    let layer_boxes: Vec<GraphBox> = layers
        .names
        .iter()
        .enumerate()
        .map(|(l, name)| {
            let (folders, nodes) = layer_members[l];
            let detail = format!("{} · {}", plural(nodes, "node"), plural(folders, "folder"));
            GraphBox {
                label: name.clone(),
                class: "group",
                title: format!("{name}: {detail}"),
                rank: l,
                detail,
                ..GraphBox::default()
            }
        })
        .collect();
    let layer_edges = counted_edges(docs, in_graph, layer_of_entry);

    let mut shown: Vec<usize> = (0..groups.len())
        .filter(|&g| layers.of_group[g].is_some())
        .collect();
    shown.sort_by(|&a, &b| {
        (layers.of_group[a], &groups[a].name).cmp(&(layers.of_group[b], &groups[b].name))
    });
    let mut slot = vec![None; groups.len()];
    for (s, &g) in shown.iter().enumerate() {
        slot[g] = Some(s);
    }
    let folder_edges = counted_edges(docs, in_graph, |i| slot[group_of[i]]);
    let mut ins = vec![0; shown.len()];
    let mut outs = vec![0; shown.len()];
    for e in &folder_edges {
        outs[e.from] += e.count;
        ins[e.to] += e.count;
    }
    let folder_boxes: Vec<GraphBox> = shown
        .iter()
        .enumerate()
        .map(|(s, &g)| {
            let group = &groups[g];
            GraphBox {
                label: group.name.clone(),
                class: "group",
                href: format!("{}#lineage", group_href(group.kind, &group.name)),
                title: format!(
                    "{}: {}; {} in from other folders, {} out; open to see its nodes",
                    group.name,
                    plural(group.members.len(), group.kind),
                    ins[s],
                    outs[s]
                ),
                rank: layers.of_group[g].unwrap_or(0),
                detail: format!(
                    "{} · {} in · {} out",
                    plural(group.members.len(), group.kind),
                    ins[s],
                    outs[s]
                ),
                layer: layers.names[layers.of_group[g].unwrap_or(0)].clone(),
                ..GraphBox::default()
            }
        })
        .collect();
    let drawn = folder_edges.len() <= FOLDER_EDGES_DRAWN;
    let note = if drawn {
        "Open a folder to expand it into its nodes.".to_string()
    } else {
        format!(
            "{} edges join these folders, too many to draw at once: each box counts the edges into and out of its folder, and opening a folder expands it into its nodes with the folders they read from and feed.",
            folder_edges.len()
        )
    };
    format!(
        r#"<p class="summary">{} nodes in {}: too many to draw one by one.</p>{}<h2>Layers</h2><div class="graph-wrap">{}</div><h2>Folders, by layer</h2><p class="note">{note}</p><div class="graph-wrap">{}</div>"#,
        in_graph.len(),
        plural(shown.len(), "folder"),
        legend(docs, in_graph.iter().copied(), &layer_edges, true),
        svg_in_columns(&layer_boxes, &layer_edges),
        svg_in_columns(&folder_boxes, if drawn { &folder_edges } else { &[] }),
    )
}

/// A folder expanded into its nodes, with each folder they read from or feed as one box
/// in its layer's column, and the edges to those folders counted.
pub(crate) fn folder(
    docs: &Docs<'_>,
    g: usize,
    groups: &[Group],
    group_of: &[usize],
    layers: &Layers,
) -> String {
    let group = &groups[g];
    let own_layer = layers.of_group[g].unwrap_or(0);
    let first_rank = group
        .members
        .iter()
        .map(|&m| docs.entries[m].rank)
        .min()
        .unwrap_or(0);
    let member_box: BTreeMap<usize, usize> = group
        .members
        .iter()
        .enumerate()
        .map(|(b, &m)| (m, b))
        .collect();
    let mut boxes: Vec<GraphBox> = group
        .members
        .iter()
        .map(|&m| {
            let mut b = entry_box(&docs.entries[m], false, Depth::Sub);
            b.rank = own_layer * LAYER_SPAN + 1 + (b.rank - first_rank).min(LAYER_SPAN - 3);
            b
        })
        .collect();
    // A neighbouring folder's box: upstream ones and those of other layers in their layer's
    // column, downstream ones of the same layer right of the folder's nodes.
    let mut neighbour: BTreeMap<(usize, bool), usize> = BTreeMap::new();
    let mut box_of = |entry: usize, downstream: bool, boxes: &mut Vec<GraphBox>| -> usize {
        if let Some(&b) = member_box.get(&entry) {
            return b;
        }
        let h = group_of[entry];
        let layer = layers.of_group[h].unwrap_or(own_layer);
        let after = downstream && layer <= own_layer;
        *neighbour.entry((h, after)).or_insert_with(|| {
            let other = &groups[h];
            boxes.push(GraphBox {
                label: other.name.clone(),
                class: "group",
                href: format!("../{}#lineage", group_href(other.kind, &other.name)),
                title: format!(
                    "{}: {}",
                    other.name,
                    plural(other.members.len(), other.kind)
                ),
                rank: if after {
                    own_layer * LAYER_SPAN + LAYER_SPAN - 1
                } else {
                    layer * LAYER_SPAN
                },
                tag: "folder".to_string(),
                layer: layers.names.get(layer).cloned().unwrap_or_default(),
                ..GraphBox::default()
            });
            boxes.len() - 1
        })
    };
    let mut counts = EdgeCounts::default();
    for &m in &group.members {
        let me = box_of(m, false, &mut boxes);
        for &p in &docs.entries[m].parents {
            let from = box_of(p, false, &mut boxes);
            counts.add(from, me, docs.loads.contains(&(p, m)));
        }
        for &c in &docs.entries[m].children {
            if member_box.contains_key(&c) {
                continue; // drawn as the child's parent edge
            }
            let to = box_of(c, true, &mut boxes);
            counts.add(me, to, docs.loads.contains(&(m, c)));
        }
    }
    let edges = counts.edges();
    // A folder downstream in the same layer can have a box on each side: counted once.
    let neighbours = neighbour
        .keys()
        .map(|&(h, _)| h)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    format!(
        r#"<section id="lineage"><h2>Lineage</h2><p class="note">{} expanded into its {}, among the {} {} read from and feed. <a href="../lineage.html">Project lineage</a></p>{}<div class="graph-wrap">{}</div></section>"#,
        escape(&group.name),
        plural(group.members.len(), group.kind),
        neighbours,
        if neighbours == 1 {
            "folder they"
        } else {
            "folders they"
        },
        legend(docs, group.members.iter().copied(), &edges, neighbours > 0),
        svg(&boxes, &edges)
    )
}

/// The entry and its neighbours up to [`NEIGHBOURHOOD_DEPTH`] steps, nearest first when
/// a column has to fold.
pub(crate) fn neighbourhood(docs: &Docs<'_>, start: usize) -> String {
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
                ..GraphBox::default()
            });
        }
    }
    let slot = &slot;
    let edges: Vec<GraphEdge> = slot
        .iter()
        .flat_map(|(&i, &from)| {
            docs.entries[i].children.iter().filter_map(move |&c| {
                slot.get(&c).map(|&to| GraphEdge {
                    kind: edge_kind(docs, i, c),
                    ..GraphEdge::reads(from, to)
                })
            })
        })
        .collect();
    let drawn: Vec<usize> = slot.keys().copied().collect();
    format!(
        "{}<div class=\"graph-wrap\">{}</div>",
        legend(docs, drawn.into_iter(), &edges, false),
        svg(&boxes, &edges)
    )
}

/// Whether a folder's page draws its graph.
pub(crate) fn folder_is_drawn(group: &Group) -> bool {
    drawn_kind(group.kind) && group.members.len() <= FULL_GRAPH_LIMIT
}
