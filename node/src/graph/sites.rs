//! Where a caller calls: the lines of a calling definition (or test, or script) that call
//! a function, or for a module any of its functions.
//!
//! The symbol graph knows which definitions call what, not where: calls carry no
//! position. The lines are found at answer time in the caller's own text, by the callee's
//! name where Elixir code calls it (`name(`, `Mod.name`, `|> name`, `&name/2`, a statement
//! `name arg`), outside strings, heredocs, comments and typespecs. A caller whose call
//! the scan does not see (a name an `alias …, as:` renames, a call a macro writes) keeps
//! its definition's line.

use crate::chunk::Chunk;

/// At most this many call lines are reported per caller.
pub const MAX_CALL_LINES: usize = 50;

/// The longest call text reported, in characters.
const MAX_CALL_TEXT: usize = 160;

/// What a caller calls: a function by name, or any function (or the struct) of a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Callee {
    /// `Mod.fun/arity`, `Mod.fun`: calls of `fun`.
    Function(String),
    /// `Ecto.Changeset`: `Changeset.f(…)`, `Ecto.Changeset.f(…)`, `%Changeset{…}`.
    Module(String),
    /// A server callback, called through the function that sends its message:
    /// `handle_call/3` through `GenServer.call(server, msg)`.
    /// (A direct call by its name counts too.)
    Message(String, &'static [&'static str]),
    /// `MyAppWeb.__using__/1`, `Mod.__before_compile__/1`: `use MyAppWeb, :controller`,
    /// `@before_compile Mod` (by the module's last segment).
    Use(String),
}

impl Callee {
    /// The callee a `callers` symbol names: `Mod.fun/arity` and `Mod.fun` a function,
    /// `Mod` (a capitalised last segment, no arity) a module. `None` for an operator.
    pub fn of(symbol: &str) -> Option<Callee> {
        let head = symbol.rsplit_once('/').map_or(symbol, |(h, _)| h);
        let last = head.rsplit_once('.').map_or(head, |(_, last)| last);
        if !symbol.contains('/') && last.starts_with(|c: char| c.is_ascii_uppercase()) {
            return Some(Callee::Module(last.to_string()));
        }
        if matches!(last, "__using__" | "__before_compile__") {
            let module = head.rsplit_once('.')?.0;
            let module_last = module.rsplit_once('.').map_or(module, |(_, l)| l);
            return Some(Callee::Use(module_last.to_string()));
        }
        let through: &'static [&'static str] = match last {
            "handle_call" => &["GenServer.call", "GenServer.multi_call", ":gen_server.call"],
            "handle_cast" => &["GenServer.cast", "GenServer.abcast", ":gen_server.cast"],
            "handle_info" => &[
                "send",
                "Process.send",
                "Process.send_after",
                ":erlang.send_after",
            ],
            "init" => &[
                "GenServer.start_link",
                "GenServer.start",
                "Supervisor.start_link",
            ],
            _ => &[],
        };
        if !through.is_empty() {
            return Some(Callee::Message(last.to_string(), through));
        }
        let named = last.starts_with(|c: char| c.is_alphabetic() || c == '_')
            && (last.chars()).all(|c| c.is_alphanumeric() || matches!(c, '_' | '?' | '!'));
        named.then(|| Callee::Function(last.to_string()))
    }
}

/// Where one caller calls: the lines (1-based, in its file) and the first one's code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallPlace {
    pub lines: Vec<u32>,
    /// The first call line, trimmed, at most 160 characters.
    pub text: String,
}

/// The lines of `chunks` (one file's, any order) from `from` to `to` (inclusive) that
/// call `callee`, in file order, at most [`MAX_CALL_LINES`].
pub fn call_place(chunks: &[Chunk], from: u32, to: u32, callee: &Callee) -> CallPlace {
    let mut found: Vec<(u32, &str)> = Vec::new();
    let mut ordered: Vec<&Chunk> = (chunks.iter())
        .filter(|c| c.start_line <= to && c.end_line >= from)
        .collect();
    ordered.sort_by_key(|c| c.start_line);
    for chunk in ordered {
        for (line, text) in call_lines(&chunk.content, chunk.start_line, callee) {
            if (from..=to).contains(&line) && found.last().is_none_or(|(l, _)| *l < line) {
                found.push((line, text));
            }
        }
    }
    found.truncate(MAX_CALL_LINES);
    CallPlace {
        text: found
            .first()
            .map(|(_, t)| shorten(t.trim()))
            .unwrap_or_default(),
        lines: found.into_iter().map(|(l, _)| l).collect(),
    }
}

fn shorten(text: &str) -> String {
    match text.char_indices().nth(MAX_CALL_TEXT) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// The lines of `content` (whose first line is `first_line` of its file) that call
/// `callee`, each with its text.
pub fn call_lines<'a>(content: &'a str, first_line: u32, callee: &Callee) -> Vec<(u32, &'a str)> {
    let mut out = Vec::new();
    let mut lexer = Lexer::default();
    let mut code = String::new();
    for (i, line) in content.lines().enumerate() {
        lexer.code_of(line, &mut code);
        let trimmed = code.trim_start();
        // Typespecs name types, not calls: `@spec f(Changeset.t()) :: …`.
        let typespec = [
            "@spec",
            "@type",
            "@typep",
            "@opaque",
            "@callback",
            "@macrocallback",
        ]
        .iter()
        .any(|a| {
            trimmed
                .strip_prefix(a)
                .is_some_and(|rest| rest.starts_with([' ', '(']))
        });
        if !typespec && calls_on(&code, callee) {
            out.push((first_line + i as u32, line));
        }
    }
    out
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// Whether the line's code (strings and comments blanked) calls `callee`.
fn calls_on(code: &str, callee: &Callee) -> bool {
    match callee {
        Callee::Function(name) => calls_name(code, name, false),
        Callee::Module(last) => calls_name(code, last, true),
        Callee::Use(last) => uses(code, last),
        Callee::Message(name, through) => {
            through.iter().any(|f| sends(code, f)) || calls_name(code, name, false)
        }
    }
}

/// Whether the line's code calls the function `name`, or with `module` a function of the
/// module whose last segment is `name`.
fn calls_name(code: &str, name: &str, module: bool) -> bool {
    let bytes = code.as_bytes();
    let mut from = 0;
    while let Some(found) = code[from..].find(name) {
        let at = from + found;
        let end = at + name.len();
        from = at + 1;
        let prev = at.checked_sub(1).map(|i| bytes[i]);
        let next = bytes.get(end).copied();
        if prev.is_some_and(|p| is_ident(p) || p == b'@')
            || next
                .is_some_and(|n| is_ident(n) || (!name.ends_with(['?', '!']) && b"?!".contains(&n)))
        {
            continue;
        }
        if module {
            // `Changeset.cast(…)`, `%Changeset{…}`.
            if next == Some(b'.') && bytes.get(end + 1).is_some_and(|b| !b.is_ascii_uppercase())
                || next == Some(b'{') && prev == Some(b'%')
            {
                return true;
            }
            continue;
        }
        let before = code[..at].trim_end();
        let after = code[end..].trim_start();
        if prev == Some(b':') {
            // An atom: a call only as a plug (`plug :auth`, `pipe_through :browser`).
            let plug = before.trim_start();
            if before.ends_with("::")
                || !(plug.starts_with("plug ") || plug.starts_with("pipe_through "))
            {
                continue;
            }
            return true;
        }
        // `name: value` is a keyword key.
        if next == Some(b':') && bytes.get(end + 1) != Some(&b':') {
            continue;
        }
        if prev == Some(b'.') || prev == Some(b'&') || before.ends_with("|>") {
            return true;
        }
        if after.starts_with('(') {
            let defines = crate::chunk::calls::DEF_KEYWORDS.iter().any(|d| {
                before.strip_suffix(d).is_some_and(|rest| {
                    rest.is_empty() || rest.ends_with(|c: char| !(c.is_alphanumeric() || c == '_'))
                })
            });
            if defines {
                continue;
            }
            return true;
        }
        // A call without parentheses: `name arg` as a statement or an assignment's value.
        let assignment = before.ends_with('=')
            && !["==", "<=", ">=", "!=", "~="]
                .iter()
                .any(|op| before.ends_with(op));
        let statement =
            before.is_empty() || assignment || before.ends_with("do:") || before.ends_with("->");
        let argument = next == Some(b' ')
            && after.starts_with(|c: char| {
                c.is_alphanumeric()
                    || matches!(
                        c,
                        '_' | ':' | '"' | '\'' | '%' | '{' | '[' | '@' | '&' | '^' | '~'
                    )
            })
            && !["do", "when", "and", "or", "in", "not"].iter().any(|w| {
                after
                    .strip_prefix(w)
                    .is_some_and(|r| r.is_empty() || r.starts_with([' ', ':']))
            });
        if statement && argument {
            return true;
        }
    }
    false
}

/// Whether the line's code calls `fun` (`GenServer.call`, `send`) by that name.
fn sends(code: &str, fun: &str) -> bool {
    let bytes = code.as_bytes();
    code.match_indices(fun).any(|(at, _)| {
        let end = at + fun.len();
        let before_ok = at == 0 || !(is_ident(bytes[at - 1]) || b".:@".contains(&bytes[at - 1]));
        before_ok && matches!(bytes.get(end), Some(b'(' | b' '))
    })
}

/// Whether the line's code is `use Mod…` or `@before_compile Mod…`, `Mod` ending in the
/// segment `last`.
fn uses(code: &str, last: &str) -> bool {
    let code = code.trim_start();
    let Some(rest) = (code.strip_prefix("use "))
        .or_else(|| code.strip_prefix("@before_compile "))
        .or_else(|| code.strip_prefix("@before_compile("))
    else {
        return false;
    };
    let module: &str = rest
        .trim_start()
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
        .next()
        .unwrap_or_default();
    module.rsplit('.').next() == Some(last)
}

/// Blanks strings and sigils (but not their interpolations), heredocs and comments, line
/// by line; a string, sigil or heredoc may run over several lines.
#[derive(Default)]
struct Lexer {
    /// Inside a heredoc (`"""` or `'''`) begun on an earlier line.
    heredoc: Option<&'static str>,
    /// Inside a string or sigil: the byte that closes it.
    string: Option<u8>,
    /// The interpolations open inside that string, each with its braces open.
    braces: Vec<usize>,
}

/// Where the interpolation whose code `text` starts with ends: the offset of its closing
/// brace, when it closes on this line.
fn interpolation_end(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'{' => depth += 1,
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
    }
    None
}

const HEREDOC: &str = "\"\"\"";
const CHARLIST_HEREDOC: &str = "'''";

impl Lexer {
    fn code_of(&mut self, line: &str, code: &mut String) {
        code.clear();
        let mut rest = line;
        if let Some(close) = self.heredoc {
            // Blanks but its interpolations (one line each), to its end.
            let end = line.find(close);
            let text = &line[..end.unwrap_or(line.len())];
            let mut at = 0;
            while let Some(open) = text[at..].find("#{").map(|o| at + o) {
                code.extend(std::iter::repeat_n(' ', open - at));
                let inner =
                    interpolation_end(&text[open + 2..]).map_or(text.len(), |e| open + 2 + e);
                code.push_str(&text[open..inner]);
                at = inner;
            }
            code.extend(std::iter::repeat_n(' ', text.len() - at));
            match end {
                Some(end) => {
                    self.heredoc = None;
                    code.push_str(&line[end..end + 3]);
                    rest = &line[end + 3..];
                }
                None => return,
            }
        }
        let bytes = rest.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if let Some(close) = self.string.filter(|_| self.braces.is_empty()) {
                // In a string: blanks, up to its end or an interpolation.
                if b == b'\\' {
                    let width = rest[i..].chars().nth(1).map_or(1, |c| 1 + c.len_utf8());
                    code.extend(std::iter::repeat_n(' ', width));
                    i += width;
                    continue;
                }
                if b == close {
                    self.string = None;
                    code.push(b as char);
                } else if b == b'#' && bytes.get(i + 1) == Some(&b'{') {
                    self.braces.push(0);
                    code.push_str("#{");
                    i += 2;
                    continue;
                } else {
                    code.push(' ');
                }
                i += 1;
                continue;
            }
            let char_literal = i > 0 && bytes[i - 1] == b'?';
            if let Some(depth) = self.braces.last_mut() {
                // In an interpolation: code, to its closing brace.
                match b {
                    b'{' => *depth += 1,
                    b'}' if *depth == 0 => {
                        self.braces.pop();
                    }
                    b'}' => *depth -= 1,
                    _ => {}
                }
            } else if b == b'#' && !char_literal {
                break; // a comment
            } else if (b == b'"' || b == b'\'') && !char_literal {
                let triple = if b == b'"' { HEREDOC } else { CHARLIST_HEREDOC };
                if rest[i..].starts_with(triple) {
                    // A heredoc: the rest of the line and the lines to its end.
                    self.heredoc = Some(triple);
                    break;
                }
                self.string = Some(b);
            } else if b == b'~' && !char_literal {
                // A sigil: `~r/…/`, `~w(…)`, `~s"…"`, `~S"""…"""`.
                let letters = (bytes[i + 1..].iter())
                    .take_while(|c| c.is_ascii_alphabetic())
                    .count();
                let start = i + 1 + letters;
                let close = match bytes.get(start) {
                    Some(b'(') => Some(b')'),
                    Some(b'[') => Some(b']'),
                    Some(b'{') => Some(b'}'),
                    Some(b'<') => Some(b'>'),
                    Some(&c @ (b'/' | b'|' | b'"' | b'\'')) => Some(c),
                    _ => None,
                };
                if let (true, Some(close)) = (letters > 0, close) {
                    for triple in [HEREDOC, CHARLIST_HEREDOC] {
                        if rest[start..].starts_with(triple) {
                            self.heredoc = Some(triple);
                            return;
                        }
                    }
                    code.push_str(&rest[i..=start]);
                    self.string = Some(close);
                    i = start + 1;
                    continue;
                }
            }
            // Multi-byte characters stay whole, so the code keeps the line's width.
            let width = rest[i..].chars().next().map_or(1, char::len_utf8);
            code.push_str(&rest[i..i + width]);
            i += width;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(src: &str, symbol: &str) -> Vec<u32> {
        let callee = Callee::of(symbol).unwrap();
        call_lines(src, 10, &callee)
            .into_iter()
            .map(|(l, _)| l)
            .collect()
    }

    #[test]
    fn calls_are_found_by_every_form_elixir_writes() {
        let src = r#"def run(message, opts) do
  x = Message.failed(message, :oops)
  y = message |> failed(:oops)
  z = message |> failed
  Enum.map(list, &failed/1)
  Enum.map(list, &Message.failed(&1, :x))
  failed message, :reason
  w = failed message
end"#;
        assert_eq!(
            lines(src, "Broadway.Message.failed/2"),
            vec![11, 12, 13, 14, 15, 16, 17]
        );
    }

    #[test]
    fn strings_comments_heredocs_keys_atoms_and_specs_are_not_calls() {
        let src = r#"@doc """
Calls failed(message) when it fails.
"""
@spec failed(Message.t(), term) :: Message.t()
def failed(message, reason) do
  # failed(message) is called here
  Logger.info("failed(#{inspect(message)})")
  opts = [failed: true, mode: :failed]
  message.failed_reason
  failed_count(message)
  unfailed(message)
  failed?(message)
end"#;
        assert!(
            lines(src, "M.failed/2").is_empty(),
            "{:?}",
            lines(src, "M.failed/2")
        );
        // The interpolation is code.
        assert_eq!(lines(src, "Kernel.inspect/1"), vec![16]);
    }

    #[test]
    fn a_recursive_call_counts_and_its_own_head_does_not() {
        let src =
            "def walk([h | t], acc) do\n  walk(t, [h | acc])\nend\ndefp walk(x), do: walk(x, [])\n";
        assert_eq!(lines(src, "M.walk/2"), vec![11, 13]);
    }

    #[test]
    fn a_module_is_called_by_its_functions_and_its_struct() {
        let src = "alias Ecto.Changeset\n@spec f(Changeset.t()) :: term\ndef f(x) do\n  %Changeset{} = Changeset.cast(x, %{}, [])\n  Ecto.Changeset.apply_changes(x)\n  ChangesetX.go(x)\nend\n";
        assert_eq!(lines(src, "Ecto.Changeset"), vec![13, 14]);
    }

    #[test]
    fn plugs_and_multi_byte_text_are_read() {
        let src = "plug :auth\n  \"héllo wörld\" <> auth(conn)\n  x = \"é\" # auth(conn)\n";
        assert_eq!(lines(src, "MyWeb.Router.auth/2"), vec![10, 11]);
    }

    #[test]
    fn strings_sigils_and_interpolations_over_several_lines() {
        let src = "Logger.info(\"first line\n  #{SafeLog.safe_inspect(opts)} safe_inspect(x)\n  done\")\nx = ~r/\"safe_inspect(/\nsafe_inspect(y)\ny = ~w(a safe_inspect(b)\n  c)\nz = ~S\"\"\"\nsafe_inspect(q)\n\"\"\"\n";
        assert_eq!(lines(src, "Glific.SafeLog.safe_inspect/1"), vec![11, 14]);
    }

    #[test]
    fn interpolations_in_heredocs_are_code() {
        let src = "body = \"\"\"\nsee #{Glific.base_domain()} and base_domain(x)\n#{base_domain(1)}\"\"\" <> base_domain(2)\n";
        assert_eq!(lines(src, "Glific.base_domain/0"), vec![11, 12]);
        let src = "@doc \"\"\"\n    iex> base_domain(1)\n\"\"\"\n";
        assert!(lines(src, "Glific.base_domain/1").is_empty());
    }

    #[test]
    fn a_server_callback_is_called_where_its_message_is_sent() {
        let src = "def available(server, sku) do\n  GenServer.call(server, {:available, sku})\nend\ndefp tick(t), do: Process.send_after(self(), :tick, t)\ndef go(pid), do: send(pid, :go)\ndef x(m), do: m.send(1)\n";
        assert_eq!(lines(src, "Inventory.Stock.handle_call/3"), vec![11]);
        assert_eq!(lines(src, "Inventory.Stock.handle_info/2"), vec![13, 14]);
        assert!(lines(src, "Inventory.Stock.handle_cast/2").is_empty());
        let test = "test \"direct\" do\n  assert {:noreply, _} = Stock.handle_cast(:x, %{})\nend\n";
        assert_eq!(lines(test, "Inventory.Stock.handle_cast/2"), vec![11]);
    }

    #[test]
    fn a_use_calls_the_used_modules_using_macro() {
        let src = "defmodule MyAppWeb.PageController do\n  use MyAppWeb, :controller\n  @before_compile MyAppWeb.Hooks\n  use MyAppWeb.Other\nend\n";
        assert_eq!(lines(src, "MyAppWeb.__using__/1"), vec![11]);
        assert_eq!(lines(src, "MyAppWeb.Hooks.__before_compile__/1"), vec![12]);
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_scanned_without_a_panic(text in "[a-z(){}\\[\\]~\"'#?\\\\/|<>.&: \n\u{e9}]{0,200}") {
            for symbol in ["M.a/1", "M.__using__/1", "Mod.A"] {
                let callee = Callee::of(symbol).unwrap();
                for (line, text) in call_lines(&text, 1, &callee) {
                    proptest::prop_assert!(line >= 1 && text.lines().count() <= 1);
                }
            }
        }
    }

    #[test]
    fn operators_name_no_callee() {
        assert_eq!(Callee::of("Kernel.+/2"), None);
        assert_eq!(Callee::of("Kernel.|>/2"), None);
        assert_eq!(
            Callee::of("M.valid?/1"),
            Some(Callee::Function("valid?".into()))
        );
        assert_eq!(
            Callee::of("Ecto.Changeset"),
            Some(Callee::Module("Changeset".into()))
        );
    }
}
