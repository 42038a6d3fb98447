//! Lineage graphs as inline SVG, laid out left to right by layer on the generating side,
//! so a page draws without running any layout code in the browser.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::html::escape;

const BOX_W: usize = 200;
const BOX_H: usize = 30;
const GAP_X: usize = 70;
const GAP_Y: usize = 12;
const PAD: usize = 10;
/// Characters of a label that fit a box.
const LABEL_CHARS: usize = 27;

/// One box of a graph.
pub(crate) struct GraphBox {
    pub label: String,
    /// CSS class: the resource kind, `group` or `more`.
    pub class: &'static str,
    /// Relative link, or empty for no link.
    pub href: String,
    /// Hover text.
    pub title: String,
    /// Layer: boxes of the same rank share a column; ranks need not be consecutive.
    pub rank: usize,
    pub focus: bool,
    /// `docs.node_color` (validated: a hex code or a colour name).
    pub color: Option<String>,
}

/// The SVG of boxes and edges (`(from, to)` indices into `boxes`).
pub(crate) fn svg(boxes: &[GraphBox], edges: &[(usize, usize)]) -> String {
    if boxes.is_empty() {
        return String::new();
    }
    let (x, y, width, height) = layout(boxes, edges);
    let mut out = String::with_capacity(boxes.len() * 260 + edges.len() * 90);
    let _ = write!(
        out,
        r#"<svg class="graph" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">"#
    );
    out.push_str(r#"<g class="edges">"#);
    for &(from, to) in edges {
        let (x1, y1) = (x[from] + BOX_W, y[from] + BOX_H / 2);
        let (x2, y2) = (x[to], y[to] + BOX_H / 2);
        let bend = GAP_X / 2 + x2.abs_diff(x1) / 6;
        let _ = write!(
            out,
            r#"<path d="M{x1} {y1}C{} {y1} {} {y2} {x2} {y2}"/>"#,
            x1 + bend,
            x2.saturating_sub(bend)
        );
    }
    out.push_str("</g>");
    for (i, b) in boxes.iter().enumerate() {
        let label = truncate(&b.label);
        let class = if b.focus {
            format!("n {} focus", b.class)
        } else {
            format!("n {}", b.class)
        };
        let open = if b.href.is_empty() {
            String::new()
        } else {
            format!(r#"<a href="{}">"#, escape(&b.href))
        };
        let _ = write!(
            out,
            r#"{open}<g class="{class}" data-name="{name}"><title>{title}</title><rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="5"{fill}/><text x="{tx}" y="{ty}">{label}</text></g>{close}"#,
            name = escape(&b.label.to_lowercase()),
            fill = b.color.as_ref().map_or(String::new(), |c| {
                format!(r#" style="fill:{}""#, escape(c))
            }),
            title = escape(&b.title),
            x = x[i],
            y = y[i],
            tx = x[i] + 8,
            ty = y[i] + BOX_H / 2 + 4,
            label = escape(&label),
            close = if b.href.is_empty() { "" } else { "</a>" },
        );
    }
    out.push_str("</svg>");
    out
}

/// Column per distinct rank; within a column, boxes ordered by the mean row of their
/// neighbours (sweeps left to right, right to left, left to right) so edges cross less;
/// columns centred vertically.
fn layout(boxes: &[GraphBox], edges: &[(usize, usize)]) -> (Vec<usize>, Vec<usize>, usize, usize) {
    let mut columns: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, b) in boxes.iter().enumerate() {
        columns.entry(b.rank).or_default().push(i);
    }
    let mut columns: Vec<Vec<usize>> = columns.into_values().collect();
    let mut parents: Vec<Vec<usize>> = vec![Vec::new(); boxes.len()];
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); boxes.len()];
    for &(from, to) in edges {
        parents[to].push(from);
        children[from].push(to);
    }
    let tallest = columns.iter().map(Vec::len).max().unwrap_or(0);
    let mut row = vec![0usize; boxes.len()];
    let mut column_of = vec![0usize; boxes.len()];
    let centre = |members: &[usize], row: &mut [usize]| {
        let offset = (tallest - members.len()) / 2;
        for (r, &i) in members.iter().enumerate() {
            row[i] = r + offset;
        }
    };
    for (c, members) in columns.iter().enumerate() {
        for &i in members {
            column_of[i] = c;
        }
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
    let count = columns.len();
    for members in columns.iter_mut().skip(1) {
        order(&parents, &mut row, members);
    }
    for members in columns.iter_mut().rev().skip(1) {
        order(&children, &mut row, members);
    }
    for members in columns.iter_mut().skip(1) {
        order(&parents, &mut row, members);
    }
    let x = column_of
        .iter()
        .map(|&c| PAD + c * (BOX_W + GAP_X))
        .collect();
    let y = row.iter().map(|&r| PAD + r * (BOX_H + GAP_Y)).collect();
    let width = 2 * PAD + count * BOX_W + count.saturating_sub(1) * GAP_X;
    let height = 2 * PAD + tallest * BOX_H + tallest.saturating_sub(1) * GAP_Y;
    (x, y, width, height)
}

fn truncate(label: &str) -> String {
    if label.chars().count() <= LABEL_CHARS {
        return label.to_string();
    }
    let mut cut: String = label.chars().take(LABEL_CHARS - 1).collect();
    cut.push('…');
    cut
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
        }
    }

    #[test]
    fn layers_go_left_to_right_and_columns_are_centred() {
        let boxes = [node("a", 0), node("b", 0), node("c", 3), node("d", 5)];
        let (x, y, width, height) = layout(&boxes, &[(0, 2), (2, 3)]);
        assert_eq!(x, [10, 10, 280, 550]);
        // c and d sit in the middle row of the two-row column height.
        assert_eq!(y, [10, 52, 10, 10]);
        assert_eq!((width, height), (760, 92));
    }

    #[test]
    fn children_follow_their_parents_rows() {
        let boxes = [node("a", 0), node("b", 0), node("x", 1), node("y", 1)];
        // x is fed by b (row 1), y by a (row 0): y goes first.
        let (_, y, _, _) = layout(&boxes, &[(1, 2), (0, 3)]);
        assert_eq!((y[3], y[2]), (10, 52));
    }

    #[test]
    fn labels_and_titles_are_escaped_and_cut() {
        let mut b = node("<script>alert(1)</script>_and_a_very_long_tail", 0);
        b.title = "\"quoted\"".to_string();
        let svg = svg(&[b], &[]);
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("<title>&quot;quoted&quot;</title>"));
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;_…</text>"));
    }
}
