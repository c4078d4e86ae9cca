//! The job summary as GitHub renders it: GitHub Flavored Markdown parsed by comrak (tables,
//! extended autolinks, strikethrough, task lists, footnotes, math), reduced to what a reader
//! sees: tables of cell texts, link targets, images, raw HTML and fenced code blocks.

use comrak::nodes::{AstNode, NodeValue};
use comrak::{parse_document, Arena, Options};

/// A table: its header's number of columns, and the text of each cell of each row (header first).
#[derive(Debug)]
pub struct Table {
    pub columns: usize,
    pub rows: Vec<Vec<String>>,
}

/// What a rendered document holds.
#[derive(Debug, Default)]
pub struct Rendered {
    pub tables: Vec<Table>,
    /// Link targets, autolinks (bare addresses GitHub links) included.
    pub links: Vec<String>,
    pub images: Vec<String>,
    /// Raw HTML, blocks and inline.
    pub html: Vec<String>,
    /// Fenced or indented code blocks: (info string, content).
    pub code_blocks: Vec<(String, String)>,
}

/// Parses `markdown` as GitHub does.
pub fn render(markdown: &str) -> Rendered {
    let mut options = Options::default();
    options.extension.table = true;
    options.extension.autolink = true;
    options.extension.strikethrough = true;
    options.extension.tasklist = true;
    options.extension.footnotes = true;
    options.extension.math_dollars = true;
    let arena = Arena::new();
    let root = parse_document(&arena, markdown, &options);
    let mut rendered = Rendered::default();
    for node in root.descendants() {
        match &node.data().value {
            NodeValue::Table(table) => rendered.tables.push(Table {
                columns: table.num_columns,
                rows: node
                    .children()
                    .map(|row| row.children().map(text_of).collect())
                    .collect(),
            }),
            NodeValue::Link(link) => rendered.links.push(link.url.clone()),
            NodeValue::Image(image) => rendered.images.push(image.url.clone()),
            NodeValue::HtmlBlock(block) => rendered.html.push(block.literal.clone()),
            NodeValue::HtmlInline(html) => rendered.html.push(html.clone()),
            NodeValue::CodeBlock(block) => rendered
                .code_blocks
                .push((block.info.clone(), block.literal.clone())),
            _ => {}
        }
    }
    rendered
}

/// The text a reader sees in a node (code spans verbatim, breaks as spaces).
fn text_of<'a>(node: &'a AstNode<'a>) -> String {
    let mut text = String::new();
    for part in node.descendants() {
        match &part.data().value {
            NodeValue::Text(literal) => text.push_str(literal),
            NodeValue::Code(code) => text.push_str(&code.literal),
            NodeValue::HtmlInline(html) => text.push_str(html),
            NodeValue::SoftBreak | NodeValue::LineBreak => text.push(' '),
            _ => {}
        }
    }
    text
}

/// The only HTML the summary writes itself: folds of long lists.
const OWN_HTML: [&str; 4] = ["<details>", "</details>", "<summary>", "</summary>"];

/// Panics unless the summary renders safely: every table row has its header's number of cells,
/// no image, no HTML but the folds, and every link an `https` link to the GitHub web host `web`
/// (such as `https://github.com`). Returns the rendering for further checks.
pub fn assert_renders_safely(summary: &str, web: &str) -> Rendered {
    let rendered = render(summary);
    for table in &rendered.tables {
        for row in &table.rows {
            assert_eq!(
                row.len(),
                table.columns,
                "a row with another number of cells: {row:?}\n{summary}"
            );
        }
    }
    assert!(
        rendered.images.is_empty(),
        "images: {:?}\n{summary}",
        rendered.images
    );
    for html in &rendered.html {
        let rest = OWN_HTML
            .iter()
            .fold(html.clone(), |rest, tag| rest.replace(tag, ""));
        assert!(!rest.contains('<'), "raw HTML {html:?}\n{summary}");
    }
    let prefix = format!("{}/", web.trim_end_matches('/'));
    assert!(
        prefix.starts_with("https://"),
        "the web host {web} is not https"
    );
    for link in &rendered.links {
        assert!(
            link.starts_with(&prefix),
            "a link off {web}: {link:?}\n{summary}"
        );
    }
    rendered
}
