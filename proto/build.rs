//! Compiles `aiex/v1/*.proto` with protox (pure Rust), so no system `protoc` is needed.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "aiex/v1/common.proto",
        "aiex/v1/repositories.proto",
        "aiex/v1/search.proto",
        "aiex/v1/cluster.proto",
        "aiex/v1/health.proto",
        "aiex/v1/assist.proto",
        "aiex/mesh/v1/node.proto",
    ];
    for file in files {
        println!("cargo:rerun-if-changed={file}");
    }
    let fds = protox::compile(files, ["."])?;
    // The descriptor set of the public API, for the gateway's gRPC server reflection
    // (the mesh-internal `aiex.mesh.v1` is not served to clients, so not advertised).
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    let mut public = fds.clone();
    public
        .file
        .retain(|f| f.name.as_deref().is_some_and(|n| n.starts_with("aiex/v1/")));
    std::fs::write(
        out.join("aiex_descriptor.bin"),
        prost::Message::encode_to_vec(&public),
    )?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(fds)?;
    Ok(())
}
