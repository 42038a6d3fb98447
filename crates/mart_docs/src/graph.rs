//! Lineage graphs as inline SVG, laid out left to right by layer on the generating side,
//! so a page draws without running any layout code in the browser.
//!
//! Boxes joined by an edge flow left to right in columns (one per rank, headed by the
//! layers its boxes belong to); boxes no edge touches sit apart in a grid below, so they
//! never stretch the flow into a tall column. Each column is as wide as its longest name
//! needs, up to a limit; longer names are cut in the middle and shown whole on hover.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::html::escape;
use crate::text_fit::{fit, text_width};

const BOX_H: usize = 30;
/// Height of a box with a second line (a folder's counts).
const TALL_BOX_H: usize = 44;
const MIN_BOX_W: usize = 120;
const MAX_BOX_W: usize = 320;
const GAP_X: usize = 70;
const GAP_Y: usize = 12;
const PAD: usize = 10;
/// Columns of a flow up to this tall are centred vertically; taller ones start at the top.
const CENTRED_UP_TO: usize = 15;
/// A column widens for its heading up to this; a longer heading is cut.
const HEADING_W: usize = 200;
/// Room above the columns for their layer headings.
const HEADER_H: usize = 24;
/// Room above the grid of unconnected boxes for its heading.
const APART_HEADER_H: usize = 30;
/// Space left of a label and right of a tag, inside a box.
const TEXT_PAD: usize = 8;
/// The grid of unconnected boxes grows at least this wide before it wraps.
const GRID_MIN_W: usize = 1100;
const LABEL_PX: f64 = 12.0;
const SMALL_PX: f64 = 10.0;

/// One box of a graph.
#[derive(Default)]
pub(crate) struct GraphBox {
    pub label: String,
    /// CSS class: the resource kind, `group` or `more`.
    pub class: &'static str,
    /// Relative link, or empty for no link.
    pub href: String,
    /// Hover text; the full label leads it when the box shows a shortened one.
    pub title: String,
    /// Layer: boxes of the same rank share a column; ranks need not be consecutive.
    pub rank: usize,
    pub focus: bool,
    /// `docs.node_color` (validated: a hex code or a colour name).
    pub color: Option<String>,
    /// A short word at the box's right end (a model's materialization, a node's kind).
    pub tag: String,
    /// A second line under the label (a folder's counts); empty for none.
    pub detail: String,
    /// The part of the project the box belongs to (`models/dim`, `seeds`): each column is
    /// headed by its boxes' layers. Empty for none.
    pub layer: String,
}

/// What an edge stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EdgeKind {
    /// A `ref()`, `source()` or a test's dependency.
    Reads,
    /// A seed builds the table a source is declared over.
    Loads,
}

/// An edge between two boxes, standing for `count` edges between the nodes they hold.
pub(crate) struct GraphEdge {
    pub from: usize,
    pub to: usize,
    pub count: usize,
    pub kind: EdgeKind,
}

impl GraphEdge {
    pub fn reads(from: usize, to: usize) -> Self {
        GraphEdge {
            from,
            to,
            count: 1,
            kind: EdgeKind::Reads,
        }
    }
}

/// Where a box is drawn.
#[derive(Clone, Copy, Default)]
struct Place {
    x: usize,
    y: usize,
    w: usize,
}

/// How boxes are arranged.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Arrange {
    /// Rows ordered so edges cross less; boxes no edge touches apart in a grid.
    Flow,
    /// Every box in its rank's column, in the order given.
    Columns,
}

/// The SVG of boxes and edges: rows ordered so edges cross less, unconnected boxes apart.
pub(crate) fn svg(boxes: &[GraphBox], edges: &[GraphEdge]) -> String {
    render(boxes, edges, Arrange::Flow)
}

/// The SVG of boxes and edges with every box in its rank's column, in the order given
/// (folders sorted by name stay findable).
pub(crate) fn svg_in_columns(boxes: &[GraphBox], edges: &[GraphEdge]) -> String {
    render(boxes, edges, Arrange::Columns)
}

fn render(boxes: &[GraphBox], edges: &[GraphEdge], arrange: Arrange) -> String {
    if boxes.is_empty() {
        return String::new();
    }
    let mut linked = vec![arrange == Arrange::Columns; boxes.len()];
    for e in edges {
        linked[e.from] = true;
        linked[e.to] = true;
    }
    let flow: Vec<usize> = (0..boxes.len()).filter(|&i| linked[i]).collect();
    let mut apart: Vec<usize> = (0..boxes.len()).filter(|&i| !linked[i]).collect();
    apart.sort_by(|&a, &b| {
        (boxes[a].class, &boxes[a].label).cmp(&(boxes[b].class, &boxes[b].label))
    });
    let box_h = if boxes.iter().any(|b| !b.detail.is_empty()) {
        TALL_BOX_H
    } else {
        BOX_H
    };
    let mut place = vec![Place::default(); boxes.len()];
    let headed = !flow.is_empty() && boxes.iter().any(|b| !b.layer.is_empty());
    let flow_top = PAD + if headed { HEADER_H } else { 0 };
    let columns = layout_flow(boxes, &flow, edges, flow_top, box_h, arrange, &mut place);
    let flow_w = columns.last().map_or(0, |c| c.x + c.w + PAD);
    let flow_bottom = flow.iter().map(|&i| place[i].y + box_h).max().unwrap_or(0);
    let grid_top = if flow.is_empty() {
        PAD
    } else {
        flow_bottom + APART_HEADER_H
    };
    let grid_w = layout_grid(
        boxes,
        &apart,
        grid_top,
        flow_w.max(GRID_MIN_W),
        box_h,
        &mut place,
    );
    let width = flow_w.max(grid_w);
    let mut drawn_edges = String::with_capacity(edges.len() * 120);
    let edges_bottom = draw_edges(&mut drawn_edges, boxes, edges, &place, box_h, arrange);
    let height = (0..boxes.len())
        .map(|i| place[i].y + box_h)
        .chain([edges_bottom])
        .max()
        .unwrap_or(0)
        + PAD;

    let mut out = String::with_capacity(boxes.len() * 300 + drawn_edges.len());
    let _ = write!(
        out,
        r#"<svg class="graph" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">"#
    );
    if headed {
        for column in &columns {
            let _ = write!(
                out,
                r#"<text class="layer" x="{}" y="{}">{}</text>"#,
                column.x,
                PAD + 14,
                escape(&fit(
                    &column.heading,
                    (column.w + GAP_X - TEXT_PAD) as f64,
                    LABEL_PX
                ))
            );
        }
    }
    out.push_str(&drawn_edges);
    if !flow.is_empty() && !apart.is_empty() {
        let _ = write!(
            out,
            r#"<text class="layer" x="{PAD}" y="{}">Not connected to the boxes above ({})</text>"#,
            grid_top - 10,
            apart.len()
        );
    }
    for (i, b) in boxes.iter().enumerate() {
        draw_box(&mut out, b, place[i], box_h);
    }
    out.push_str("</svg>");
    out
}

/// A column of the flow: its heading, left edge and width.
struct Column {
    heading: String,
    x: usize,
    w: usize,
}

/// The layers of a column's boxes, the most common first: `models/dim · models/fact`.
fn heading(boxes: &[GraphBox], members: &[usize]) -> String {
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for &i in members {
        if !boxes[i].layer.is_empty() {
            *count.entry(&boxes[i].layer).or_default() += 1;
        }
    }
    let mut layers: Vec<(&str, usize)> = count.into_iter().collect();
    layers.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut text = layers
        .iter()
        .take(2)
        .map(|(l, _)| *l)
        .collect::<Vec<_>>()
        .join(" · ");
    if layers.len() > 2 {
        let _ = write!(text, " +{}", layers.len() - 2);
    }
    text
}

/// Column per distinct rank; within a column, boxes ordered by the mean row of their
/// neighbours (sweeps left to right, right to left, left to right) so edges cross less;
/// columns centred vertically.
fn layout_flow(
    boxes: &[GraphBox],
    flow: &[usize],
    edges: &[GraphEdge],
    top: usize,
    box_h: usize,
    arrange: Arrange,
    place: &mut [Place],
) -> Vec<Column> {
    let mut by_rank: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for &i in flow {
        by_rank.entry(boxes[i].rank).or_default().push(i);
    }
    let mut columns: Vec<Vec<usize>> = by_rank.into_values().collect();
    let mut parents: Vec<Vec<usize>> = vec![Vec::new(); boxes.len()];
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); boxes.len()];
    for e in edges {
        parents[e.to].push(e.from);
        children[e.from].push(e.to);
    }
    let tallest = columns.iter().map(Vec::len).max().unwrap_or(0);
    let mut row = vec![0usize; boxes.len()];
    // Short columns sit in the middle of a small flow; in a tall one, at the top, where
    // the reader starts.
    let centred = arrange == Arrange::Flow && tallest <= CENTRED_UP_TO;
    let centre = |members: &[usize], row: &mut [usize]| {
        let offset = if centred {
            (tallest - members.len()) / 2
        } else {
            0
        };
        for (r, &i) in members.iter().enumerate() {
            row[i] = r + offset;
        }
    };
    for members in &columns {
        centre(members, &mut row);
    }
    let order = |neighbours: &[Vec<usize>], row: &mut Vec<usize>, members: &mut Vec<usize>| {
        let key = |i: usize| {
            let near = &neighbours[i];
            if near.is_empty() {
                row[i] as f64
            } else {
                near.iter().map(|&n| row[n]).sum::<usize>() as f64 / near.len() as f64
            }
        };
        let mut keyed: Vec<(f64, usize)> = members.iter().map(|&i| (key(i), i)).collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(row[a.1].cmp(&row[b.1])));
        *members = keyed.into_iter().map(|(_, i)| i).collect();
        centre(members, row);
    };
    if arrange == Arrange::Flow {
        for members in columns.iter_mut().skip(1) {
            order(&parents, &mut row, members);
        }
        for members in columns.iter_mut().rev().skip(1) {
            order(&children, &mut row, members);
        }
        for members in columns.iter_mut().skip(1) {
            order(&parents, &mut row, members);
        }
    }
    let mut x = PAD;
    columns
        .into_iter()
        .map(|members| {
            let heading = heading(boxes, &members);
            // A column is as wide as its widest box, or its heading (within the limit).
            let w = members
                .iter()
                .map(|&i| box_width(&boxes[i]))
                .chain([(text_width(&heading, LABEL_PX).ceil() as usize).min(HEADING_W)])
                .max()
                .unwrap_or(MIN_BOX_W);
            for &i in &members {
                place[i] = Place {
                    x,
                    y: top + row[i] * (box_h + GAP_Y),
                    w,
                };
            }
            let column = Column { heading, x, w };
            x += w + GAP_X;
            column
        })
        .collect()
}

/// Rows of equal cells, as many per row as fit `width`; returns the width used.
fn layout_grid(
    boxes: &[GraphBox],
    members: &[usize],
    top: usize,
    width: usize,
    box_h: usize,
    place: &mut [Place],
) -> usize {
    let Some(w) = members.iter().map(|&i| box_width(&boxes[i])).max() else {
        return 0;
    };
    let per_row = ((width.saturating_sub(2 * PAD) + GAP_Y) / (w + GAP_Y)).max(1);
    for (n, &i) in members.iter().enumerate() {
        place[i] = Place {
            x: PAD + (n % per_row) * (w + GAP_Y),
            y: top + (n / per_row) * (box_h + GAP_Y),
            w,
        };
    }
    let used = per_row.min(members.len());
    2 * PAD + used * w + used.saturating_sub(1) * GAP_Y
}

/// A coordinate as whole pixels (integer formatting: formatting floats is slow).
fn px(v: f64) -> i64 {
    v.round() as i64
}

/// Draws the edges and their count labels; returns the lowest point an edge reaches.
fn draw_edges(
    out: &mut String,
    boxes: &[GraphBox],
    edges: &[GraphEdge],
    place: &[Place],
    box_h: usize,
    arrange: Arrange,
) -> usize {
    out.push_str(r#"<g class="edges">"#);
    let mut labels = String::new();
    let mut bottom = 0.0f64;
    for e in edges {
        let (from, to) = (place[e.from], place[e.to]);
        let (x1, y1) = ((from.x + from.w) as f64, (from.y + box_h / 2) as f64);
        let y2 = (to.y + box_h / 2) as f64;
        let skipped = to.x.saturating_sub(from.x + from.w) / (GAP_X + MIN_BOX_W);
        let (x1, y1, x2, y2, c1, c2, cy) =
            if arrange == Arrange::Columns && from.y == to.y && skipped > 0 {
                // Boxes in one row with columns between: an arc under the boxes it passes,
                // from the bottom of one box to the bottom of the other, deeper the further.
                let (x1, x2) = ((from.x + from.w / 2) as f64, (to.x + to.w / 2) as f64);
                let y = (from.y + box_h) as f64;
                let depth = (12 + 14 * skipped) as f64;
                (x1, y, x2, y, x1, x2, y + depth * 4.0 / 3.0)
            } else if to.x > from.x {
                let x2 = to.x as f64;
                let bend = (GAP_X / 2) as f64 + (x2 - x1) / 6.0;
                (x1, y1, x2, y2, x1 + bend, x2 - bend, f64::NAN)
            } else {
                // An edge into the same column or one further left leaves and enters on the right.
                let x2 = (to.x + to.w) as f64;
                let reach = x1.max(x2) + (GAP_X / 2) as f64 + (y2 - y1).abs() / 8.0;
                (x1, y1, x2, y2, reach, reach, f64::NAN)
            };
        // The control points' heights: level with the ends, or (an arc) below them.
        let (cy1, cy2) = if cy.is_nan() { (y1, y2) } else { (cy, cy) };
        bottom = bottom.max(y1.max(y2)).max(if cy.is_nan() {
            0.0
        } else {
            (y1 + 3.0 * cy) / 4.0
        });
        let class = match e.kind {
            EdgeKind::Reads => "",
            EdgeKind::Loads => r#" class="loads""#,
        };
        let width = if e.count > 1 {
            format!(
                r#" style="stroke-width:{:.1}""#,
                (1.2 + (e.count as f64).log2() * 0.6).min(6.0)
            )
        } else {
            String::new()
        };
        let verb = match e.kind {
            EdgeKind::Reads => "feeds",
            EdgeKind::Loads => "loads the table of",
        };
        let count = if e.count > 1 {
            format!(" ({} edges)", e.count)
        } else {
            String::new()
        };
        let _ = write!(
            out,
            r#"<path d="M{} {}C{} {} {} {} {} {}"{class}{width}><title>{} {verb} {}{count}</title></path>"#,
            px(x1),
            px(y1),
            px(c1),
            px(cy1),
            px(c2),
            px(cy2),
            px(x2),
            px(y2),
            escape(&boxes[e.from].label),
            escape(&boxes[e.to].label),
        );
        if e.count > 1 {
            // On the curve (a cubic Bézier), nearer the start when it goes down and nearer
            // the end when it goes up, so the labels of two crossing edges stay apart.
            let t: f64 = if y2 > y1 {
                0.35
            } else if y2 < y1 {
                0.65
            } else {
                0.5
            };
            let point = |a: f64, b: f64, c: f64, d: f64| {
                let s = 1.0 - t;
                s * s * s * a + 3.0 * s * s * t * b + 3.0 * s * t * t * c + t * t * t * d
            };
            let _ = write!(
                labels,
                r#"<text class="count" x="{}" y="{}">{}</text>"#,
                px(point(x1, c1, c2, x2)),
                px(point(y1, cy1, cy2, y2) + 4.0),
                e.count
            );
        }
    }
    out.push_str("</g>");
    out.push_str(&labels);
    bottom.ceil() as usize
}

fn draw_box(out: &mut String, b: &GraphBox, at: Place, box_h: usize) {
    let tag_w = tag_width(&b.tag);
    let room = at.w.saturating_sub(2 * TEXT_PAD + tag_w) as f64;
    let label = fit(&b.label, room, label_px(b));
    let title = if label == b.label || b.title.starts_with(&b.label) {
        b.title.clone()
    } else {
        format!("{}\n{}", b.label, b.title)
    };
    let class = if b.focus {
        format!("n {} focus", b.class)
    } else {
        format!("n {}", b.class)
    };
    if !b.href.is_empty() {
        let _ = write!(out, r#"<a href="{}">"#, escape(&b.href));
    }
    let fill = b
        .color
        .as_ref()
        .map_or(String::new(), |c| format!(r#" style="fill:{}""#, escape(c)));
    let label_y = if b.detail.is_empty() {
        at.y + box_h / 2 + 4
    } else {
        at.y + 18
    };
    let _ = write!(
        out,
        r#"<g class="{class}" data-name="{name}"><title>{title}</title><rect x="{x}" y="{y}" width="{w}" height="{box_h}" rx="5"{fill}/><text x="{tx}" y="{label_y}">{label}</text>"#,
        name = escape(&b.label.to_lowercase()),
        title = escape(&title),
        x = at.x,
        y = at.y,
        w = at.w,
        tx = at.x + TEXT_PAD,
        label = escape(&label),
    );
    if !b.tag.is_empty() {
        let _ = write!(
            out,
            r#"<text class="tag" x="{}" y="{label_y}">{}</text>"#,
            at.x + at.w - TEXT_PAD,
            escape(&b.tag)
        );
    }
    if !b.detail.is_empty() {
        let _ = write!(
            out,
            r#"<text class="detail" x="{}" y="{}">{}</text>"#,
            at.x + TEXT_PAD,
            at.y + 34,
            escape(&fit(
                &b.detail,
                at.w.saturating_sub(2 * TEXT_PAD) as f64,
                SMALL_PX
            ))
        );
    }
    out.push_str("</g>");
    if !b.href.is_empty() {
        out.push_str("</a>");
    }
}

/// The size a box's label is measured at: a focused box's is bold, about an eighth wider.
fn label_px(b: &GraphBox) -> f64 {
    if b.focus {
        LABEL_PX * 1.125
    } else {
        LABEL_PX
    }
}

/// The width a box needs for its label, tag and detail, within the limits.
fn box_width(b: &GraphBox) -> usize {
    let label = text_width(&b.label, label_px(b)).ceil() as usize + tag_width(&b.tag);
    let detail = text_width(&b.detail, SMALL_PX).ceil() as usize;
    (2 * TEXT_PAD + label.max(detail)).clamp(MIN_BOX_W, MAX_BOX_W)
}

fn tag_width(tag: &str) -> usize {
    if tag.is_empty() {
        0
    } else {
        TEXT_PAD + text_width(tag, SMALL_PX).ceil() as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(label: &str, rank: usize) -> GraphBox {
        GraphBox {
            label: label.to_string(),
            class: "model",
            href: format!("{label}.html"),
            title: label.to_string(),
            rank,
            color: None,
            focus: false,
            tag: String::new(),
            detail: String::new(),
            layer: String::new(),
        }
    }

    fn places(boxes: &[GraphBox], edges: &[GraphEdge]) -> Vec<(usize, usize, usize)> {
        let flow: Vec<usize> = (0..boxes.len()).collect();
        let mut place = vec![Place::default(); boxes.len()];
        layout_flow(boxes, &flow, edges, PAD, BOX_H, Arrange::Flow, &mut place);
        place.iter().map(|p| (p.x, p.y, p.w)).collect()
    }

    #[test]
    fn layers_go_left_to_right_and_columns_are_centred() {
        let boxes = [node("a", 0), node("b", 0), node("c", 3), node("d", 5)];
        let edges = [GraphEdge::reads(0, 2), GraphEdge::reads(2, 3)];
        // Short names: every column at its narrowest; c and d in the middle of two rows.
        assert_eq!(
            places(&boxes, &edges),
            [(10, 10, 120), (10, 52, 120), (200, 10, 120), (390, 10, 120)]
        );
    }

    #[test]
    fn children_follow_their_parents_rows() {
        let boxes = [node("a", 0), node("b", 0), node("x", 1), node("y", 1)];
        // x is fed by b (row 1), y by a (row 0): y goes first.
        let p = places(&boxes, &[GraphEdge::reads(1, 2), GraphEdge::reads(0, 3)]);
        assert_eq!((p[3].1, p[2].1), (10, 52));
    }

    #[test]
    fn a_column_is_as_wide_as_its_longest_name_needs() {
        let boxes = [node("a", 0), node("fact_user_event_daily", 1), node("b", 1)];
        let p = places(&boxes, &[GraphEdge::reads(0, 1), GraphEdge::reads(0, 2)]);
        // The estimated width of the name plus the padding; both boxes of the column share it.
        let expected = 2 * TEXT_PAD + text_width("fact_user_event_daily", LABEL_PX).ceil() as usize;
        assert_eq!((p[1].2, p[2].2), (expected, expected));
        assert!(expected > MIN_BOX_W && expected < MAX_BOX_W);
        // A focused box's bold name needs more room.
        let mut focused = node("fact_user_event_daily", 1);
        focused.focus = true;
        assert!(box_width(&focused) > expected);
    }

    #[test]
    fn long_names_are_cut_in_the_middle_and_whole_on_hover() {
        let long = "wv_server_log_base_with_a_very_long_name_that_goes_on_and_ends_here";
        let svg = svg(&[node(long, 0)], &[]);
        let shown = svg.split("<text x=\"18\" y=\"29\">").nth(1).unwrap_or("");
        let shown = &shown[..shown.find("</text>").unwrap_or(0)];
        // Twice as much of the start as of the end.
        assert_eq!(shown, "wv_server_log_base_with_a_v…and_ends_here");
        assert!(text_width(shown, LABEL_PX) <= (MAX_BOX_W - 2 * TEXT_PAD) as f64);
        assert!(svg.contains(&format!("<title>{long}</title>")));
    }

    #[test]
    fn unconnected_boxes_sit_apart_in_a_grid_below_the_flow() {
        let boxes = [
            node("a", 0),
            node("b", 1),
            node("s1", 0),
            node("s2", 0),
            node("s3", 0),
        ];
        let svg = svg(&boxes, &[GraphEdge::reads(0, 1)]);
        assert!(svg.contains("Not connected to the boxes above (3)"));
        // The flow is one row (y 10); the three unconnected boxes share the grid's first
        // row below it, side by side.
        for (name, x, y) in [("s1", 10, 70), ("s2", 142, 70), ("s3", 274, 70)] {
            assert!(
                svg.contains(&format!(
                    r#"data-name="{name}"><title>{name}</title><rect x="{x}" y="{y}""#
                )),
                "{name} not at {x},{y}: {svg}"
            );
        }
    }

    #[test]
    fn counted_edges_are_labelled_and_backward_edges_loop_on_the_right() {
        let boxes = [node("a", 0), node("b", 0)];
        let edges = [GraphEdge {
            from: 0,
            to: 1,
            count: 12,
            kind: EdgeKind::Loads,
        }];
        let svg = svg(&boxes, &edges);
        assert!(svg.contains(r#"class="loads" style="stroke-width:3.4"><title>a loads the table of b (12 edges)</title>"#), "{svg}");
        assert!(svg.contains(r#"<text class="count""#) && svg.contains(">12</text>"));
        // Both boxes end at x 130; the loop reaches out to the right of them.
        assert!(
            svg.contains(r#"<path d="M130 25C170 25 170 67 130 67""#),
            "{svg}"
        );
    }

    #[test]
    fn in_columns_an_edge_over_a_column_arcs_under_the_row() {
        let boxes = [node("a", 0), node("b", 1), node("c", 2)];
        let edges = [
            GraphEdge::reads(0, 1),
            GraphEdge::reads(1, 2),
            GraphEdge::reads(0, 2),
        ];
        let svg = svg_in_columns(&boxes, &edges);
        // From the bottom middle of a (70, 40) to that of c (450, 40), 26 px deep; the
        // picture grows to hold it.
        assert!(
            svg.contains(r#"<path d="M70 40C70 75 450 75 450 40"><title>a feeds c</title>"#),
            "{svg}"
        );
        assert!(svg.contains(r#"height="76""#), "{svg}");
        // Neighbouring columns keep the straight edge.
        assert!(svg.contains(r#"<path d="M130 25C"#));
    }

    #[test]
    fn columns_are_headed_by_their_layers() {
        let mut boxes = [
            node("a", 0),
            node("b", 1),
            node("c", 1),
            node("d", 1),
            node("e", 1),
        ];
        for (b, layer) in
            boxes
                .iter_mut()
                .zip(["seeds", "models/dim", "models/fact", "models/fact", "x"])
        {
            b.layer = layer.to_string();
        }
        let edges: Vec<GraphEdge> = (1..5).map(|i| GraphEdge::reads(0, i)).collect();
        let svg = svg(&boxes, &edges);
        assert!(
            svg.contains(r#"<text class="layer" x="10" y="24">seeds</text>"#),
            "{svg}"
        );
        assert!(svg.contains(">models/fact · models/dim +1</text>"), "{svg}");
    }

    #[test]
    fn labels_and_titles_are_escaped() {
        let mut b = node("<script>alert(1)</script>", 0);
        b.title = "\"quoted\"".to_string();
        b.tag = "<b>".to_string();
        let svg = svg(&[b], &[]);
        assert!(!svg.contains("<script>") && !svg.contains("<b>"));
        assert!(svg.contains("&quot;quoted&quot;</title>"));
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;</text>"));
    }
}
