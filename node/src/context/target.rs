//! What a context is about: a function, a module, a file or some lines of one, parsed
//! from what a person types (`Inventory.Stock.reserve/4`, `lib/inventory/stock.ex:83-90`).

use crate::error::{NodeError, Result};

/// Name endings that make a target a file rather than `Mod.fun`.
const FILE_EXTENSIONS: [&str; 14] = [
    "ex", "exs", "eex", "heex", "leex", "md", "txt", "json", "yml", "yaml", "toml", "lock", "js",
    "css",
];

/// A parsed target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `Mod.fun/arity` or `Mod.fun`.
    Function(String),
    Module(String),
    /// A file, or some lines of it.
    File {
        path: String,
        lines: Option<(u32, u32)>,
    },
}

impl Target {
    /// Reads `Mod.fun/2`, `Mod.fun`, `Mod.Sub`, `lib/a.ex`, `lib/a.ex:10-20` or `lib/a.ex:12`.
    pub fn parse(s: &str) -> Result<Target> {
        let s = s.trim();
        let bad = |reason: String| NodeError::InvalidArgument {
            field: "target",
            reason,
        };
        if s.is_empty() {
            return Err(bad(
                "is empty: name a file, `Module` or `Module.fun/arity`".into()
            ));
        }
        let is_ident = |p: &str| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '!' | '?'))
        };
        let (head, arity) = match s.rsplit_once('/') {
            Some((h, a)) if !a.is_empty() && a.chars().all(|c| c.is_ascii_digit()) => (h, Some(a)),
            _ => (s, None),
        };
        let parts: Vec<&str> = head.split('.').collect();
        // `README.md`, `Dockerfile.prod`: a file name, not `Mod.fun`.
        let file_like = arity.is_none()
            && (s.contains('/')
                || parts
                    .last()
                    .is_some_and(|ext| FILE_EXTENSIONS.contains(ext)));
        let module_part = |p: &&str| p.starts_with(|c: char| c.is_ascii_uppercase()) && is_ident(p);
        if parts.iter().all(module_part) && !file_like && arity.is_none() {
            return Ok(Target::Module(s.to_string()));
        }
        if parts.len() >= 2
            && !file_like
            && parts[..parts.len() - 1].iter().all(module_part)
            && is_ident(parts[parts.len() - 1])
            && parts[parts.len() - 1].starts_with(|c: char| c.is_lowercase() || c == '_')
        {
            return Ok(Target::Function(s.to_string()));
        }
        // `can?/2`: a function named without its module (the one it names is looked up).
        if let ([name], Some(_)) = (&parts[..], arity)
            && is_ident(name)
            && name.starts_with(|c: char| c.is_lowercase() || c == '_')
        {
            return Ok(Target::Function(s.to_string()));
        }
        // A path, maybe with lines.
        let (path, lines) = match s.rsplit_once(':') {
            Some((p, range)) if range.chars().all(|c| c.is_ascii_digit() || c == '-') => {
                let (a, b) = range.split_once('-').unwrap_or((range, range));
                let (a, b): (u32, u32) = match (a.parse(), b.parse()) {
                    (Ok(a), Ok(b)) if a >= 1 && a <= b => (a, b),
                    _ => {
                        return Err(bad(format!(
                            "`{range}` is not a line range: use START-END with 1 <= START <= END"
                        )));
                    }
                };
                (p, Some((a, b)))
            }
            _ => (s, None),
        };
        let path = path.trim_start_matches("./");
        if path.starts_with('/') {
            return Err(bad(format!(
                "`{s}` is an absolute path: name the file inside its repository (`lib/a.ex`, \
                 or `repo/lib/a.ex`), or index it offline and use --offline"
            )));
        }
        if path.is_empty() || path.split('/').any(|c| c == "..") {
            return Err(bad(format!(
                "`{s}` is neither `Module.fun/arity` nor a path inside a repository"
            )));
        }
        Ok(Target::File {
            path: path.to_string(),
            lines,
        })
    }
}
