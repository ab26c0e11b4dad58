//! mimalloc for the process: parsing allocates and frees millions of small syntax-tree
//! nodes, and tree-sitter calls the C allocator for each. mimalloc made parse+chunk about
//! 12% faster than glibc's malloc here (bench/README.md). Binaries install it with
//! `#[global_allocator] static A: mimalloc::MiMalloc = mimalloc::MiMalloc;` and call
//! [`route_parser_allocations`] once at start-up.

/// Makes tree-sitter allocate with mimalloc. Call once, before any parse.
pub fn route_parser_allocations() {
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
