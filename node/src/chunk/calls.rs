//! Call sites: one iterative pass over the whole syntax tree records every remote call
//! (`Mod.fun(...)`, pipes, captures) and every local call, with its byte offset. Each
//! chunk later takes the calls inside its span and resolves them with its module's
//! aliases, so the symbol graph is keyed by `Mod.fun/arity`, never by bare names.

use std::collections::HashSet;
use tree_sitter::Node;

/// A call as written, before alias expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RawCall {
    /// `Mod.fun/arity`; `module` as written (`Foo.Bar`, `__MODULE__.X`, `:ets`).
    Remote {
        module: String,
        fun: String,
        arity: u32,
    },
    /// `fun/arity` called without a module.
    Local { fun: String, arity: u32 },
}

/// Definition keywords whose first argument is a head, not a call.
pub(crate) const DEF_KEYWORDS: [&str; 7] = [
    "def",
    "defp",
    "defmacro",
    "defmacrop",
    "defguard",
    "defguardp",
    "defdelegate",
];

/// Calls whose arguments name modules rather than call anything.
const MODULE_DIRECTIVES: [&str; 4] = ["alias", "import", "require", "use"];

/// The first child of `node` with the given kind (named or not).
pub(crate) fn child_of_kind<'t>(node: Node<'t>, kind: &str) -> Option<Node<'t>> {
    let mut cursor = node.walk();
    node.children(&mut cursor).find(|c| c.kind() == kind)
}

/// Number of arguments of a call node: named children of `arguments` (a trailing keyword
/// list counts as one) plus one for a `do` block.
pub(crate) fn call_arity(call: Node<'_>) -> u32 {
    let mut arity = 0u32;
    let mut cursor = call.walk();
    for child in call.children(&mut cursor) {
        match child.kind() {
            "arguments" => {
                let mut c2 = child.walk();
                arity += child
                    .named_children(&mut c2)
                    .filter(|a| a.kind() != "comment")
                    .count() as u32;
            }
            "do_block" => arity += 1,
            _ => {}
        }
    }
    arity
}

fn text<'s>(node: Node<'_>, src: &'s [u8]) -> &'s str {
    std::str::from_utf8(&src[node.start_byte()..node.end_byte()]).unwrap_or("")
}

/// The module expression of a remote call target, if it is static.
fn static_module(left: Node<'_>, src: &[u8]) -> Option<String> {
    match left.kind() {
        "alias" | "atom" => Some(text(left, src).to_string()),
        "identifier" if text(left, src) == "__MODULE__" => Some("__MODULE__".to_string()),
        "dot" => {
            // `__MODULE__.Sub.fun()`: the left side is itself a dot of __MODULE__ and an alias.
            let t = text(left, src);
            t.starts_with("__MODULE__.").then(|| t.to_string())
        }
        _ => None,
    }
}

/// Every call site in the tree, in byte order.
pub(crate) fn collect(root: Node<'_>, src: &[u8]) -> Vec<(usize, RawCall)> {
    let mut calls = Vec::new();
    let mut not_calls: HashSet<usize> = HashSet::new();
    let mut piped: HashSet<usize> = HashSet::new();
    let mut cursor = root.walk();
    loop {
        let node = cursor.node();
        let mut descend = true;
        match node.kind() {
            "unary_operator" => {
                let op = node.child_by_field_name("operator").map(|o| o.kind());
                if op == Some("@") {
                    // Attributes (@spec, @type, @doc ...) describe, they do not call.
                    descend = false;
                } else if op == Some("&")
                    && let Some((call, id)) = capture(node, src)
                {
                    calls.push((node.start_byte(), call));
                    if let Some(id) = id {
                        not_calls.insert(id);
                    }
                }
            }
            "binary_operator" => {
                if node.child_by_field_name("operator").map(|o| o.kind()) == Some("|>")
                    && let Some(right) = node.child_by_field_name("right")
                {
                    piped.insert(right.id());
                }
            }
            "call" if !not_calls.contains(&node.id()) => {
                if let Some(target) = node.child_by_field_name("target") {
                    let extra = u32::from(piped.contains(&node.id()));
                    match target.kind() {
                        "identifier" => {
                            let name = text(target, src);
                            if DEF_KEYWORDS.contains(&name) {
                                if let Some(head) = def_head(node) {
                                    not_calls.insert(head.id());
                                }
                            } else if MODULE_DIRECTIVES.contains(&name) {
                                descend = false;
                            } else if !name.is_empty() {
                                calls.push((
                                    node.start_byte(),
                                    RawCall::Local {
                                        fun: name.to_string(),
                                        arity: call_arity(node) + extra,
                                    },
                                ));
                            }
                        }
                        "dot" => {
                            let left = target.child_by_field_name("left");
                            let right = target.child_by_field_name("right");
                            if let (Some(left), Some(right)) = (left, right)
                                && right.kind() == "identifier"
                                && let Some(module) = static_module(left, src)
                            {
                                calls.push((
                                    node.start_byte(),
                                    RawCall::Remote {
                                        module,
                                        fun: text(right, src).to_string(),
                                        arity: call_arity(node) + extra,
                                    },
                                ));
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        if descend && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return calls;
            }
        }
    }
}

/// The head of a definition call: the first argument, inside a `when` if guarded.
pub(crate) fn def_head(def: Node<'_>) -> Option<Node<'_>> {
    let args = child_of_kind(def, "arguments")?;
    let mut head = args.named_child(0)?;
    if head.kind() == "binary_operator"
        && head.child_by_field_name("operator").map(|o| o.kind()) == Some("when")
    {
        head = head.child_by_field_name("left")?;
    }
    Some(head)
}

/// `&Mod.fun/2` or `&fun/2`: the call, and the id of the inner node that must not be
/// counted again as a zero-arity call.
fn capture(node: Node<'_>, src: &[u8]) -> Option<(RawCall, Option<usize>)> {
    let operand = node.child_by_field_name("operand")?;
    if operand.kind() != "binary_operator"
        || operand.child_by_field_name("operator").map(|o| o.kind()) != Some("/")
    {
        return None;
    }
    let right = operand.child_by_field_name("right")?;
    let arity: u32 = text(right, src).parse().ok()?;
    let left = operand.child_by_field_name("left")?;
    match left.kind() {
        "identifier" => Some((
            RawCall::Local {
                fun: text(left, src).to_string(),
                arity,
            },
            None,
        )),
        "call" => {
            let target = left.child_by_field_name("target")?;
            if target.kind() != "dot" || child_of_kind(left, "arguments").is_some() {
                return None;
            }
            let module = static_module(target.child_by_field_name("left")?, src)?;
            let fun = target.child_by_field_name("right")?;
            Some((
                RawCall::Remote {
                    module,
                    fun: text(fun, src).to_string(),
                    arity,
                },
                Some(left.id()),
            ))
        }
        _ => None,
    }
}
