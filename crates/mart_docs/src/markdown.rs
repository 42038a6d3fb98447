//! Descriptions as Markdown (tables, lists, links, code, emphasis), as dbt's docs site
//! shows them, without giving up the site's escaping: raw HTML in the Markdown is shown
//! as text, and a link or image whose URL could run script is shown as its text only.

use pulldown_cmark::{html, Event, Options, Parser, Tag, TagEnd};

use crate::html::escape;

/// `text` (Markdown) as HTML safe to put into a page.
pub fn to_html(text: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    // For each open link or image, whether its tags are dropped (an unsafe URL).
    let mut dropped: Vec<bool> = Vec::new();
    let events = Parser::new_ext(text, options).filter_map(|event| match event {
        // Text and raw HTML alike go through the site's own escaping.
        Event::Text(text) | Event::Html(text) | Event::InlineHtml(text) => {
            Some(Event::InlineHtml(escape(&text).into()))
        }
        Event::Start(Tag::Link { ref dest_url, .. })
        | Event::Start(Tag::Image { ref dest_url, .. }) => {
            let unsafe_url = !is_safe_url(dest_url);
            dropped.push(unsafe_url);
            (!unsafe_url).then_some(event)
        }
        Event::End(TagEnd::Link) | Event::End(TagEnd::Image) => {
            let drop = dropped.pop().unwrap_or(false);
            (!drop).then_some(event)
        }
        other => Some(other),
    });
    let mut out = String::with_capacity(text.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

/// [`to_html`] without the paragraph around a text of one paragraph: for table cells.
pub fn to_inline_html(text: &str) -> String {
    let html = to_html(text);
    match html
        .strip_prefix("<p>")
        .and_then(|h| h.strip_suffix("</p>\n"))
    {
        Some(inner) if !inner.contains("<p>") => inner.to_string(),
        _ => html,
    }
}

/// Relative URLs, fragments and http(s)/mailto links; nothing with another scheme
/// (`javascript:`, `data:`, `vbscript:`...), however it is spelled.
pub(crate) fn is_safe_url(url: &str) -> bool {
    // Browsers ignore control characters and whitespace inside a scheme.
    let squeezed: String = url
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase();
    let scheme_end = squeezed.find(':');
    let path_start = squeezed.find(['/', '?', '#']);
    match (scheme_end, path_start) {
        // No scheme: a relative URL (or `a/b:c`, where the colon is after a slash).
        (None, _) => true,
        (Some(colon), Some(slash)) if slash < colon => true,
        (Some(colon), _) => matches!(&squeezed[..colon], "http" | "https" | "mailto"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_tables_lists_links_code_and_emphasis() {
        let html = to_html(
            "# Orders\n\nOne row per *order*, see [shop](https://shop.example/a?b=1&c=2).\n\n- `id`: **key**\n- ~~old~~\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```sql\nselect 1 < 2\n```\n",
        );
        insta::assert_snapshot!(html, @r#"
        <h1>Orders</h1>
        <p>One row per <em>order</em>, see <a href="https://shop.example/a?b=1&amp;c=2">shop</a>.</p>
        <ul>
        <li><code>id</code>: <strong>key</strong></li>
        <li><del>old</del></li>
        </ul>
        <table><thead><tr><th>a</th><th>b</th></tr></thead><tbody>
        <tr><td>1</td><td>2</td></tr>
        </tbody></table>
        <pre><code class="language-sql">select 1 &lt; 2
        </code></pre>
        "#);
    }

    #[test]
    fn raw_html_is_text() {
        let html = to_html("<script>alert(1)</script>\n\nHi <b onclick=\"x()\">there</b>");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<b "), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(html.contains("&lt;b onclick=&quot;x()&quot;&gt;"), "{html}");
        assert_eq!(
            to_inline_html("It's *one* line"),
            "It&#39;s <em>one</em> line"
        );
        assert_eq!(to_inline_html("a\n\nb"), "<p>a</p>\n<p>b</p>\n");
    }

    #[test]
    fn script_urls_are_not_links() {
        for url in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "java\tscript:alert(1)",
            "data:text/html,x",
            "vbscript:x",
        ] {
            let html = to_html(&format!("[click]({url}) ![img]({url})"));
            assert!(!html.contains("<a "), "{url}: {html}");
            assert!(!html.contains("<img"), "{url}: {html}");
            assert!(html.contains("click"), "{url}: {html}");
        }
        for url in [
            "https://x.org",
            "mailto:a@b.c",
            "../nodes/a.html",
            "#top",
            "a/b:c",
        ] {
            let html = to_html(&format!("[go]({url})"));
            assert!(html.contains("<a href="), "{url}: {html}");
        }
    }
}
