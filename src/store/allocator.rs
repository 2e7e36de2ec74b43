//! SQLite's allocations go to mimalloc, as the program's own do (`lib.rs`), and without SQLite's
//! memory statistics.
//!
//! A request's statements allocate cursors, records and values in SQLite's own heap: under glibc
//! that was about 30,000 instructions a request (callgrind, the year bench's working day), and
//! SQLite's statistics take a mutex on every allocation to count bytes nobody reads (pimlab sets
//! no soft heap limit). SQLite takes its allocator only before it first initialises, so the store
//! installs it before it opens its first connection; when something else opened one earlier (a
//! test's bare `Connection`), SQLite keeps its default, which is only slower.

use std::ffi::{c_int, c_void};
use std::sync::Once;

use libmimalloc_sys as mi;
use rusqlite::ffi;

unsafe extern "C" fn malloc(n: c_int) -> *mut c_void {
    // SQLite never asks for a negative size; were it to, zero bytes is what it gets.
    unsafe { mi::mi_malloc(usize::try_from(n).unwrap_or(0)) }
}

unsafe extern "C" fn free(p: *mut c_void) {
    unsafe { mi::mi_free(p) }
}

unsafe extern "C" fn realloc(p: *mut c_void, n: c_int) -> *mut c_void {
    unsafe { mi::mi_realloc(p, usize::try_from(n).unwrap_or(0)) }
}

unsafe extern "C" fn size(p: *mut c_void) -> c_int {
    // SQLite allocates at most 2 GiB at once, and mimalloc rounds a size up by little.
    c_int::try_from(unsafe { mi::mi_usable_size(p) }).unwrap_or(c_int::MAX)
}

unsafe extern "C" fn roundup(n: c_int) -> c_int {
    let rounded = unsafe { mi::mi_good_size(usize::try_from(n).unwrap_or(0)) };
    c_int::try_from(rounded).unwrap_or(n)
}

unsafe extern "C" fn init(_: *mut c_void) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn shutdown(_: *mut c_void) {}

static INSTALL: Once = Once::new();

/// Installs the allocator, once, if SQLite has not initialised yet (it then refuses, harmlessly).
pub(super) fn install() {
    INSTALL.call_once(|| {
        let methods = ffi::sqlite3_mem_methods {
            xMalloc: Some(malloc),
            xFree: Some(free),
            xRealloc: Some(realloc),
            xSize: Some(size),
            xRoundup: Some(roundup),
            xInit: Some(init),
            xShutdown: Some(shutdown),
            pAppData: std::ptr::null_mut(),
        };
        // SAFETY: both calls are made before SQLite initialises (or refused with SQLITE_MISUSE
        // after), from inside a `Once`, so no other thread configures SQLite at the same time;
        // SQLite copies `methods`, whose functions are valid for the program's life.
        unsafe {
            ffi::sqlite3_config(ffi::SQLITE_CONFIG_MEMSTATUS, 0 as c_int);
            ffi::sqlite3_config(ffi::SQLITE_CONFIG_MALLOC, &raw const methods);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_opened_after_the_allocator_is_installed_reads_and_writes() {
        install();
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (x TEXT); INSERT INTO t VALUES (hex(randomblob(5000)));").unwrap();
        let n: i64 = conn.query_row("SELECT length(x) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 10_000);
    }
}
