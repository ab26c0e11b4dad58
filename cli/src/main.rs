fn main() -> anyhow::Result<()> {
    let path = std::env::args().nth(1).unwrap();
    let bytes = std::fs::read(&path)?;
    match aiex_node::chunk::chunk_file("local", &path, &bytes, &Default::default()) {
        aiex_node::chunk::FileChunks::Chunked(chunks) => {
            for c in chunks {
                println!("{} {} {:?} {}-{} defs={:?} doc={:?} specs={:?} calls={:?} tags={:?} sig={:?} vis={:?} err={}",
                    c.kind, c.display_symbol(), c.arities, c.start_line, c.end_line,
                    c.defines.iter().flat_map(|d| d.symbols()).collect::<Vec<_>>(), c.doc, c.specs, c.calls, c.tags, c.signature, c.visibility, c.has_error);
            }
        }
        aiex_node::chunk::FileChunks::Skipped(r) => println!("skipped: {r}"),
    }
    Ok(())
}
