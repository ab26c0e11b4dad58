use aiex_node::chunk::*;

fn dump(path: &str, src: &str) {
    match chunk_file("t", path, src.as_bytes(), &ChunkerConfig::default()) {
        FileChunks::Skipped(r) => println!("SKIPPED {r:?}"),
        FileChunks::Chunked(cs) => {
            println!("==== {path}");
            for c in cs {
                println!(
                    "{:?} mod={:?} name={:?} ar={:?} L{}-{} B{}-{} vis={:?} tags={:?} doc={:?} specs={:?} impl={:?} err={} part={:?} also={:?} parents={:?}",
                    c.kind,
                    c.module,
                    c.name,
                    c.arities,
                    c.start_line,
                    c.end_line,
                    c.start_byte,
                    c.end_byte,
                    c.visibility,
                    c.tags,
                    c.doc,
                    c.specs,
                    c.impl_,
                    c.has_error,
                    c.part,
                    c.also_modules,
                    c.parents
                );
                println!(
                    "   defines={:?}",
                    c.defines
                        .iter()
                        .flat_map(|d| d.symbols())
                        .collect::<Vec<_>>()
                );
                println!(
                    "   calls={:?} aliases={:?} imports={:?} uses={:?} sig={:?}",
                    c.calls, c.aliases, c.imports, c.uses, c.signature
                );
                if !c.header.is_empty() {
                    println!("   header={:?}", c.header);
                }
            }
        }
    }
}

#[test]
fn dump_all() {
    let dir = std::env::var("SNIP").unwrap();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        let src = std::fs::read_to_string(&p).unwrap();
        dump(p.file_name().unwrap().to_str().unwrap(), &src);
    }
}
