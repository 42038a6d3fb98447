//! HTML text: escaping, the page frame and file names. Every string that comes from the
//! project (names, descriptions, SQL, paths, config values) goes through [`escape`].

use std::fmt::Write;

/// `text` safe as HTML element content and as a quoted attribute value.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    // Runs between special characters are copied whole (the characters are ASCII, and no
    // byte of a multi-byte UTF-8 character is ASCII, so byte offsets are char boundaries).
    let mut copied = 0;
    for (i, byte) in text.bytes().enumerate() {
        let entity = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&text[copied..i]);
        out.push_str(entity);
        copied = i + 1;
    }
    out.push_str(&text[copied..]);
    out
}

/// A file name for a unique id: letters, digits, `.`, `_` and `-` stay; anything else
/// becomes `~` and its code point in hex, so two ids never share a file.
pub fn file_name(id: &str) -> String {
    let mut out = String::with_capacity(id.len() + 5);
    for c in id.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
            out.push(c);
        } else {
            let _ = write!(out, "~{:x}", c as u32);
        }
    }
    out.push_str(".html");
    out
}

/// Where a page sits: the site root or one folder down (`nodes/`, `folders/`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Depth {
    Root,
    Sub,
}

impl Depth {
    /// The prefix that reaches the site root from the page.
    pub fn root(self) -> &'static str {
        match self {
            Depth::Root => "",
            Depth::Sub => "../",
        }
    }
}

/// A whole page: head, the top bar (index, lineage, search box) and `body`.
pub fn page(title: &str, project: &str, depth: Depth, body: &str) -> String {
    let root = depth.root();
    let title = escape(title);
    let project = escape(project);
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · {project}</title>
<script>window.onerror=function(m,s,l){{document.documentElement.setAttribute("data-js-error",String(m)+" at "+s+":"+l)}};</script>
<link rel="stylesheet" href="{root}assets/site.css">
</head>
<body data-root="{root}">
<header class="top"><a class="brand" href="{root}index.html">{project}</a><nav><a href="{root}index.html">Index</a><a href="{root}lineage.html">Lineage</a></nav><form class="search" action="{root}index.html"><input type="search" name="q" placeholder="Search models, sources, seeds, tests, macros" autocomplete="off"></form></header>
<main>
{body}
</main>
<script src="{root}assets/site.js"></script>
</body>
</html>
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        assert_eq!(escape("plain ünïcode"), "plain ünïcode");
        assert_eq!(escape("가<나>다&"), "가&lt;나&gt;다&amp;");
    }

    #[test]
    fn file_names_keep_ids_apart() {
        assert_eq!(file_name("model.shop.orders"), "model.shop.orders.html");
        assert_eq!(file_name("model.shop.a/b"), "model.shop.a~2fb.html");
        assert_eq!(file_name("model.shop.a b"), "model.shop.a~20b.html");
        assert_ne!(file_name("a~2fb"), file_name("a/b"));
    }

    #[test]
    fn the_page_frame_escapes_its_title() {
        let html = page("<b>x</b>", "p&q", Depth::Sub, "<p>body</p>");
        assert!(html.contains("<title>&lt;b&gt;x&lt;/b&gt; · p&amp;q</title>"));
        assert!(html.contains(r#"<link rel="stylesheet" href="../assets/site.css">"#));
        assert!(html.contains("<p>body</p>"));
    }
}
