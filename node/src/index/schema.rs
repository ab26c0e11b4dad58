//! The partition index schema, and the mapping between chunks and tantivy documents.

use tantivy::schema::{
    Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
    Value,
};
use tantivy::{TantivyDocument, doc};

use super::tokenizer::CODE_ANALYZER;
use crate::chunk::{Chunk, ChunkKind};

pub const DOC_CHUNK: &str = "chunk";
pub const DOC_FILE: &str = "file";

/// Bumped whenever the documents made from the same chunks change (new keys or fields),
/// so that an index builds them again for the files it already holds.
pub const DOCUMENT_VERSION: u32 = 5;

/// Handles on every field of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// `chunk` or `file`.
    pub doc_type: Field,
    /// `repo \0 path`: deleting a file deletes its chunks and its file document.
    pub file_key: Field,
    /// The chunk's id, to find the chunks an embedding search names.
    pub chunk_id: Field,
    pub repo: Field,
    pub path: Field,
    pub kind: Field,
    /// The module, its enclosing modules and `also_modules`, for the module filter.
    pub module_scope: Field,
    /// Heads and specs (`def reserve(server, sku, quantity, opts \\ [])`), for queries that
    /// look like code.
    pub signature: Field,
    pub doc: Field,
    pub body: Field,
    /// Lowercased symbol keys (`mod.fun/2`, `mod.fun`, `fun/2`, `fun`, `mod`) for
    /// identifier queries, and the same keys as written behind [`EXACT_KEY`].
    pub symbol: Field,
    /// Exact `Mod.fun/arity` and `Mod.fun` of every definition.
    pub defines: Field,
    /// Exact `Mod.fun/arity` and `Mod.fun` of every call, and `fun/arity` and `fun` of
    /// every call without a module.
    pub calls: Field,
    pub content_hash: Field,
    pub chunk_count: Field,
    pub file_bytes: Field,
    /// The chunk as JSON with its content left empty, a NUL, then the content as
    /// written ([`chunk_from_document`] also reads chunks stored whole in JSON).
    pub chunk_json: Field,
}

pub fn build() -> Schema {
    let mut b = Schema::builder();
    let text = || {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(CODE_ANALYZER)
                .set_index_option(IndexRecordOption::WithFreqs),
        )
    };
    b.add_text_field("doc_type", STRING | STORED);
    b.add_text_field("file_key", STRING | STORED);
    b.add_text_field("chunk_id", STRING);
    b.add_text_field("repo", STRING | STORED);
    b.add_text_field("path", STRING | STORED);
    b.add_text_field("kind", STRING | STORED);
    b.add_text_field("module_scope", STRING);
    b.add_text_field("signature", text());
    b.add_text_field("doc", text());
    b.add_text_field("body", text());
    b.add_text_field("symbol", STRING);
    b.add_text_field("defines", STRING);
    b.add_text_field("calls", STRING);
    b.add_text_field("content_hash", STORED);
    b.add_u64_field("chunk_count", STORED | INDEXED);
    b.add_u64_field("file_bytes", STORED);
    b.add_text_field("chunk_json", STORED);
    b.build()
}

impl Fields {
    pub fn from_schema(schema: &Schema) -> Fields {
        let f = |name: &str| schema.get_field(name).expect("field is in the schema");
        Fields {
            doc_type: f("doc_type"),
            file_key: f("file_key"),
            chunk_id: f("chunk_id"),
            repo: f("repo"),
            path: f("path"),
            kind: f("kind"),
            module_scope: f("module_scope"),
            signature: f("signature"),
            doc: f("doc"),
            body: f("body"),
            symbol: f("symbol"),
            defines: f("defines"),
            calls: f("calls"),
            content_hash: f("content_hash"),
            chunk_count: f("chunk_count"),
            file_bytes: f("file_bytes"),
            chunk_json: f("chunk_json"),
        }
    }
}

pub fn chunk_document(f: &Fields, file_key: &str, mut chunk: Chunk) -> TantivyDocument {
    let content = std::mem::take(&mut chunk.content);
    let stored = stored_chunk(&chunk, &content);
    let chunk = &chunk;
    let mut d = doc!(
        f.doc_type => DOC_CHUNK,
        f.file_key => file_key,
        f.chunk_id => chunk.id.as_str(),
        f.repo => chunk.repo.as_str(),
        f.path => chunk.path.as_str(),
        f.kind => chunk.kind.as_str(),
        f.body => content,
        f.content_hash => chunk.content_hash.as_str(),
        f.chunk_json => stored,
    );
    let mut scopes: Vec<&str> = Vec::new();
    for m in std::iter::once(&chunk.module).chain(chunk.also_modules.iter()) {
        if m.is_empty() {
            continue;
        }
        let mut end = 0;
        while let Some(i) = m[end..].find('.') {
            scopes.push(&m[..end + i]);
            end += i + 1;
        }
        scopes.push(m);
    }
    scopes.sort_unstable();
    scopes.dedup();
    for s in scopes {
        d.add_text(f.module_scope, s);
    }
    if let Some(doc) = &chunk.doc {
        d.add_text(f.doc, doc);
    }
    if chunk.kind != ChunkKind::Text && !chunk.signature.is_empty() {
        d.add_text(f.signature, &chunk.signature);
    }
    // A text file (a template, SQL, a doc) is found by its name too
    // (`query_stream_events_forward.sql.eex`): it has no signature.
    if chunk.kind == ChunkKind::Text
        && let Some(name) = chunk.path.rsplit('/').next().filter(|n| !n.is_empty())
    {
        d.add_text(f.signature, name);
    }
    // A test is named under its `describe` too (`recording finalization stages …`): its
    // signature is its own title only.
    if chunk.kind == ChunkKind::Test && !chunk.signature.contains(chunk.name.as_str()) {
        d.add_text(f.signature, &chunk.name);
    }
    for spec in &chunk.specs {
        d.add_text(f.signature, spec);
    }
    let mut keys: Vec<String> = Vec::new();
    let mut defines: Vec<String> = Vec::new();
    for def in &chunk.defines {
        symbol_keys(
            &def.module.to_lowercase(),
            &def.name.to_lowercase(),
            def,
            "",
            &mut keys,
        );
        // As written too, marked: `sigil_R` and `sigil_r` share their lowercased keys.
        symbol_keys(&def.module, &def.name, def, EXACT_KEY, &mut keys);
        if def.kind == ChunkKind::ModuleHeader {
            defines.push(def.module.clone());
            continue;
        }
        let qual = if def.module.is_empty() {
            def.name.clone()
        } else {
            format!("{}.{}", def.module, def.name)
        };
        defines.push(qual.clone());
        for a in &def.arities {
            defines.push(format!("{qual}/{a}"));
        }
        // The functions its quote defines in the modules that use it (a case template's
        // `open_rabbit/1`, gen_rmq's test helpers) are found here by name too: the code
        // that writes them, as the symbol graph shows them at each using module.
        for q in (def.quoted_defs.iter())
            .filter(|q| q.kind.is_callable() && !crate::chunk::is_placeholder(&q.name))
        {
            for name in [q.name.to_lowercase(), format!("{EXACT_KEY}{}", q.name)] {
                keys.extend(q.arities.iter().map(|a| format!("{name}/{a}")));
                keys.push(name);
            }
        }
    }
    keys.sort_unstable();
    keys.dedup();
    for k in keys {
        d.add_text(f.symbol, k);
    }
    defines.sort_unstable();
    defines.dedup();
    for k in defines {
        d.add_text(f.defines, k);
    }
    // With and without the arity; calls without a module too (`helper/1`, `helper`),
    // which the symbol graph resolves through the imports: the chunk is found by them.
    let mut calls: Vec<&str> = Vec::new();
    for c in chunk.calls_in_text() {
        calls.push(c);
        if let Some((without_arity, _)) = c.rsplit_once('/') {
            calls.push(without_arity);
        }
    }
    calls.sort_unstable();
    calls.dedup();
    for c in calls {
        d.add_text(f.calls, c);
    }
    d
}

/// A chunk as stored: its JSON with the content left empty, a NUL, then the content as
/// written. JSON writes every control character escaped, so the first NUL ends it, and the
/// content (most of a chunk) is copied rather than escaped character by character. Chunks
/// stored whole in JSON (before this) read back as they are; a build from before this
/// cannot read chunks stored this way (going back to one means indexing again).
fn stored_chunk(chunk: &Chunk, content: &str) -> String {
    debug_assert!(
        chunk.content.is_empty(),
        "the content is stored after the JSON"
    );
    let mut stored = serde_json::to_string(chunk).expect("chunks serialise");
    stored.reserve(1 + content.len());
    stored.push('\0');
    stored.push_str(content);
    stored
}

/// Marks a symbol key kept as written (`\u{1}Kernel.sigil_R/2`) beside the lowercased
/// ones: a byte no symbol starts with (`=` would make `==`'s exact key `===`'s).
pub const EXACT_KEY: &str = "\u{1}";

/// The symbol keys of one definition (`mod.fun/2`, `mod.fun`, `fun/2`, `fun`, and the
/// module's keys for a header) from its module and name, each behind `prefix`.
/// `Inventory.Stock.reserve` is also found as `Stock.reserve`: people leave out the
/// application prefix, so every module suffix is a key.
fn symbol_keys(
    module: &str,
    name: &str,
    def: &crate::chunk::Definition,
    prefix: &str,
    keys: &mut Vec<String>,
) {
    let suffixes: Vec<&str> = std::iter::once(module)
        .chain(module.match_indices('.').map(|(i, _)| &module[i + 1..]))
        .filter(|m| !m.is_empty())
        .collect();
    // Concatenated rather than `format!`ted: a definition has a dozen keys or more, and
    // every chunk of an index build goes through here.
    let key = |parts: &[&str]| {
        let mut k = String::with_capacity(parts.iter().map(|p| p.len()).sum());
        parts.iter().for_each(|p| k.push_str(p));
        k
    };
    if def.kind == ChunkKind::ModuleHeader {
        keys.extend(suffixes.iter().map(|m| key(&[prefix, m])));
        return;
    }
    let arities: Vec<String> = def.arities.iter().map(|a| format!("/{a}")).collect();
    // What `defexception` implies is found by its module (`OutOfStock.message/1`): every
    // exception has a `message/1`, and the bare name is for the ones written out.
    if !def.implied {
        keys.push(key(&[prefix, name]));
        for a in &arities {
            keys.push(key(&[prefix, name, a]));
        }
    }
    for m in &suffixes {
        keys.push(key(&[prefix, m, ".", name]));
        for a in &arities {
            keys.push(key(&[prefix, m, ".", name, a]));
        }
    }
    // A definition named at compile time (`def unquote(name)(tensor)` in a `for`) is
    // found by its module and `unquote` too (`Nx.unquote`, `Nx.unquote/1`): a search for
    // a function no chunk defines looks for them, to know the module may define it
    // ([`crate::search::generated`]).
    if crate::chunk::is_placeholder(name) {
        for m in &suffixes {
            keys.push(key(&[prefix, m, ".", PLACEHOLDER_NAME]));
            for a in &arities {
                keys.push(key(&[prefix, m, ".", PLACEHOLDER_NAME, a]));
            }
        }
    }
}

/// The name a placeholder definition ([`crate::chunk::is_placeholder`]) is found by,
/// with its module.
pub const PLACEHOLDER_NAME: &str = "unquote";

pub fn file_document(
    f: &Fields,
    file_key: &str,
    repo: &str,
    path: &str,
    content_hash: &str,
    bytes: u64,
    chunks: u64,
) -> TantivyDocument {
    doc!(
        f.doc_type => DOC_FILE,
        f.file_key => file_key,
        f.repo => repo,
        f.path => path,
        f.content_hash => content_hash,
        f.chunk_count => chunks,
        f.file_bytes => bytes,
    )
}

/// The chunk a document stores; without its text (content, header and doc), when the
/// caller needs only its metadata.
pub fn chunk_from_document(
    f: &Fields,
    doc: &TantivyDocument,
    with_text: bool,
) -> Result<Chunk, String> {
    let stored = doc
        .get_first(f.chunk_json)
        .and_then(|v| v.as_str())
        .ok_or("chunk document without its stored chunk")?;
    let (json, content) = stored.split_once('\0').unwrap_or((stored, ""));
    let mut chunk: Chunk =
        serde_json::from_str(json).map_err(|e| format!("stored chunk does not parse: {e}"))?;
    if !with_text {
        chunk.content = String::new();
        chunk.header = String::new();
        chunk.doc = None;
    } else if !content.is_empty() {
        chunk.content = content.to_string();
    }
    Ok(chunk)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::Definition;

    fn definition(kind: &str, module: &str, name: &str, arities: &[u32]) -> Definition {
        serde_json::from_value(serde_json::json!({
            "kind": kind,
            "module": module,
            "name": name,
            "arities": arities,
            "visibility": "public",
            "line": 1,
        }))
        .expect("a definition")
    }

    #[test]
    fn symbol_keys_cover_name_arity_and_every_module_suffix() {
        let mut keys = Vec::new();
        let def = definition("function", "Inventory.Stock", "reserve", &[2, 3]);
        symbol_keys(&def.module, &def.name, &def, "", &mut keys);
        assert_eq!(
            keys,
            [
                "reserve",
                "reserve/2",
                "reserve/3",
                "Inventory.Stock.reserve",
                "Inventory.Stock.reserve/2",
                "Inventory.Stock.reserve/3",
                "Stock.reserve",
                "Stock.reserve/2",
                "Stock.reserve/3",
            ]
        );
        let mut exact = Vec::new();
        let header = definition("module_header", "Inventory.Stock", "Inventory.Stock", &[]);
        symbol_keys(&header.module, &header.name, &header, EXACT_KEY, &mut exact);
        assert_eq!(exact, ["\u{1}Inventory.Stock", "\u{1}Stock"]);
        // A function `defexception` implies is found by its module only.
        let mut implied = definition("function", "Shop.OutOfStock", "message", &[1]);
        implied.implied = true;
        let mut keys = Vec::new();
        symbol_keys(&implied.module, &implied.name, &implied, "", &mut keys);
        assert_eq!(
            keys,
            [
                "Shop.OutOfStock.message",
                "Shop.OutOfStock.message/1",
                "OutOfStock.message",
                "OutOfStock.message/1"
            ]
        );
        // A definition named at compile time is found by its module and `unquote` too.
        let placeholder = definition("function", "Nx.Backend", "unquote(name)", &[1]);
        let mut keys = Vec::new();
        symbol_keys(
            &placeholder.module,
            &placeholder.name,
            &placeholder,
            "",
            &mut keys,
        );
        assert_eq!(
            keys,
            [
                "unquote(name)",
                "unquote(name)/1",
                "Nx.Backend.unquote(name)",
                "Nx.Backend.unquote(name)/1",
                "Backend.unquote(name)",
                "Backend.unquote(name)/1",
                "Nx.Backend.unquote",
                "Nx.Backend.unquote/1",
                "Backend.unquote",
                "Backend.unquote/1",
            ]
        );
    }
    /// The chunks of a file whose text JSON would escape: quotes, backslashes, control
    /// characters (a NUL past the binary sniff, a tab, CR) and non-ASCII.
    fn awkward_chunks() -> Vec<Chunk> {
        let mut src = String::from(
            "defmodule Quote do\n  @doc \"Says \\\"hi\\\" \\\\ ünï\"\n  def hi(x),\t\r\n    do: \"\\t#{x}\"\nend\n",
        );
        src.push_str(&format!("# {}\n", "x".repeat(9000)));
        src.push_str("def tail, do: \"a\u{0}b\"\n");
        match crate::chunk::chunk_file("r", "lib/quote.ex", src.as_bytes(), &Default::default()) {
            crate::chunk::FileChunks::Chunked(chunks) => chunks,
            crate::chunk::FileChunks::Skipped(reason) => panic!("skipped: {reason}"),
        }
    }

    #[test]
    fn a_stored_chunk_reads_back_as_it_was_content_included() {
        let f = Fields::from_schema(&build());
        let chunks = awkward_chunks();
        assert!(chunks.iter().any(|c| c.content.contains('\u{0}')));
        assert!(chunks.iter().any(|c| c.content.contains("ünï")));
        for chunk in chunks {
            let doc = chunk_document(&f, "r\0lib/quote.ex", chunk.clone());
            assert_eq!(chunk_from_document(&f, &doc, true), Ok(chunk.clone()));
            // The content follows the JSON as written; the JSON leaves it empty.
            let stored = doc
                .get_first(f.chunk_json)
                .and_then(|v| v.as_str())
                .unwrap();
            let (json, content) = stored.split_once('\0').expect("a NUL after the JSON");
            assert_eq!(content, chunk.content);
            assert!(json.contains(r#""content":"""#), "{json}");
            let bare = chunk_from_document(&f, &doc, false).unwrap();
            assert!(bare.content.is_empty() && bare.header.is_empty() && bare.doc.is_none());
            assert_eq!(bare.defines, chunk.defines);
            // The body field holds the content, as search matches it.
            let body = doc.get_first(f.body).and_then(|v| v.as_str());
            assert_eq!(body, Some(chunk.content.as_str()));
        }
    }

    #[test]
    fn a_chunk_stored_whole_in_json_still_reads_back() {
        let f = Fields::from_schema(&build());
        for chunk in awkward_chunks() {
            // As indexes written before the content moved out of the JSON hold it.
            let whole = serde_json::to_string(&chunk).expect("serialises");
            let doc = doc!(f.doc_type => DOC_CHUNK, f.chunk_json => whole);
            assert_eq!(chunk_from_document(&f, &doc, true), Ok(chunk));
        }
    }
}
