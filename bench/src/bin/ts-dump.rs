//! Prints the tree-sitter-elixir syntax tree of a file (a debugging aid for the chunker).
fn main() -> anyhow::Result<()> {
    let path = std::env::args()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: ts-dump FILE"))?;
    let src = std::fs::read(&path)?;
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(&tree_sitter_elixir::LANGUAGE.into())?;
    let tree = parser
        .parse(&src, None)
        .ok_or_else(|| anyhow::anyhow!("parse failed"))?;
    let mut cursor = tree.walk();
    let mut depth = 0usize;
    loop {
        let node = cursor.node();
        let field = cursor
            .field_name()
            .map(|f| format!("{f}: "))
            .unwrap_or_default();
        let text = if node.child_count() == 0 {
            format!(" {:?}", node.utf8_text(&src).unwrap_or("?"))
        } else {
            String::new()
        };
        let kind = if node.is_named() {
            node.kind().to_string()
        } else {
            format!("'{}'", node.kind())
        };
        println!(
            "{}{}{} [{}-{}]{}",
            "  ".repeat(depth),
            field,
            kind,
            node.start_position().row + 1,
            node.end_position().row + 1,
            text
        );
        if cursor.goto_first_child() {
            depth += 1;
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return Ok(());
            }
            depth -= 1;
        }
    }
}
