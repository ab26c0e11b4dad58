//! Checks generated Elixir with tree-sitter-elixir before it is returned: where the
//! first syntax error is, so the model can be asked to repair it.

use tree_sitter::{Node, Parser};

/// The first syntax error of a piece of Elixir (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

/// The code of an answer: the first fenced block (```elixir or ```), else the whole text.
pub fn extract_code(answer: &str) -> String {
    let mut lines = answer.lines();
    let mut code = Vec::new();
    let mut inside = false;
    for line in lines.by_ref() {
        let trimmed = line.trim_start();
        if !inside {
            if trimmed.starts_with("```") {
                inside = true;
            }
            continue;
        }
        if trimmed.starts_with("```") {
            return code.join("\n") + "\n";
        }
        code.push(line);
    }
    if inside {
        // An unterminated block: what there is.
        return code.join("\n") + "\n";
    }
    answer.to_string()
}

/// `None` when `code` parses; otherwise its first error.
pub fn syntax_error(code: &str) -> Option<SyntaxError> {
    let mut parser = Parser::new();
    if parser
        .set_language(&tree_sitter_elixir::LANGUAGE.into())
        .is_err()
    {
        return Some(SyntaxError {
            line: 1,
            column: 1,
            message: "the Elixir grammar could not be loaded".into(),
        });
    }
    let Some(tree) = parser.parse(code, None) else {
        return Some(SyntaxError {
            line: 1,
            column: 1,
            message: "the parser gave up".into(),
        });
    };
    let root = tree.root_node();
    if !root.has_error() {
        return None;
    }
    let node = first_error(root).unwrap_or(root);
    let at = node.start_position();
    let message = if node.is_missing() {
        format!("missing `{}`", node.kind())
    } else {
        let text = code
            .get(node.start_byte()..node.end_byte())
            .unwrap_or("")
            .lines()
            .next()
            .unwrap_or("");
        let text: String = text.chars().take(60).collect();
        format!("unexpected `{text}`")
    };
    Some(SyntaxError {
        line: at.row + 1,
        column: at.column + 1,
        message,
    })
}

/// The first ERROR or MISSING node, depth first.
fn first_error(node: Node<'_>) -> Option<Node<'_>> {
    if node.is_error() || node.is_missing() {
        return Some(node);
    }
    if !node.has_error() {
        return None;
    }
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        if let Some(found) = first_error(child) {
            return Some(found);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_fenced_block() {
        let answer = "Here:\n```elixir\ndefmodule A do\nend\n```\nDone.";
        assert_eq!(extract_code(answer), "defmodule A do\nend\n");
        assert_eq!(extract_code("defmodule A do\nend"), "defmodule A do\nend");
    }

    #[test]
    fn reports_an_error_with_its_location() {
        assert_eq!(syntax_error("defmodule A do\n  def f, do: 1\nend\n"), None);
        let err = syntax_error("defmodule A do\n  def f(x do\n    x\nend\n").expect("an error");
        assert!(err.line >= 1 && !err.message.is_empty(), "{err}");
        let err = syntax_error("x = 1\ny = (2\n").expect("an error");
        assert!(err.line >= 1, "{err}");
    }
}
