//! mimalloc for the process: parsing allocates and frees millions of small syntax-tree
//! nodes, and tree-sitter calls the C allocator for each. mimalloc made parse+chunk about
//! 12% faster than glibc's malloc here (bench/README.md). Binaries install it with
//! `#[global_allocator] static A: mimalloc::MiMalloc = mimalloc::MiMalloc;` and call
//! [`init`] once at start-up.

/// Tunes mimalloc for a process with many threads (each partition's index writer has
/// its own) and makes tree-sitter allocate with it. Call once at start-up, before any
/// thread or parse.
///
/// mimalloc commits the memory of its arenas eagerly on Linux by default, which showed
/// as about 17 MB of resident memory per open partition writer (1.75 GB for 64 partitions
/// of the Elixir source against 210 MB for 4); committing on demand brings that to a
/// third. `MIMALLOC_ARENA_EAGER_COMMIT` in the environment still wins. mimalloc is built
/// without transparent huge pages (`no_thp` in the workspace `Cargo.toml`; bench/README.md,
/// "After the allocator fix").
pub fn init() {
    if std::env::var_os("MIMALLOC_ARENA_EAGER_COMMIT").is_none() {
        // SAFETY: sets an option before any arena beyond the first is reserved; mimalloc
        // reads options when it needs them.
        unsafe {
            libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0);
        }
    }
    route_parser_allocations();
}

/// `mi_option_arena_eager_commit` in mimalloc.h's `mi_option_e` (the crate names only
/// some options).
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;

/// Makes tree-sitter allocate with mimalloc. Call once, before any parse.
fn route_parser_allocations() {
    if std::env::var_os("AIEX_LIBC_PARSER_ALLOC").is_some() {
        return;
    }
    // SAFETY: called at start-up before any tree exists; mimalloc's functions have the C
    // allocator signatures tree-sitter expects, and memory is never freed across them.
    unsafe {
        tree_sitter::set_allocator(Some(tree_sitter::Allocator {
            malloc: libmimalloc_sys::mi_malloc,
            calloc: mi_calloc,
            realloc: libmimalloc_sys::mi_realloc,
            free: libmimalloc_sys::mi_free,
        }));
    }
}

unsafe extern "C" fn mi_calloc(count: usize, size: usize) -> *mut std::ffi::c_void {
    match count.checked_mul(size) {
        // SAFETY: mi_zalloc returns zeroed memory of the given size, or null.
        Some(total) => unsafe { libmimalloc_sys::mi_zalloc(total) },
        None => std::ptr::null_mut(),
    }
}
