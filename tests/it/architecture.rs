//! The architecture invariants of ARCHITECTURE.md that can be checked by reading the source:
//! which layer may use which, who may print, and that nothing reads the wall clock or a global
//! random source. A failure names the file and the line.

use std::fs;
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Lines of code outside `#[cfg(test)]` modules and comments, with their numbers.
fn code_lines(path: &Path) -> Vec<(usize, String)> {
    let text = fs::read_to_string(path).expect("source is readable");
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break; // test modules sit at the end of each file
        }
        let code = line.split("//").next().unwrap_or_default();
        out.push((i + 1, code.to_string()));
    }
    out
}

fn layer_files(layer: &str) -> Vec<PathBuf> {
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(layer))
}

/// Every line in `files` containing one of `forbidden`, as "file:line: text".
fn offenders(files: &[PathBuf], forbidden: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for f in files {
        for (n, line) in code_lines(f) {
            if let Some(word) = forbidden.iter().find(|w| line.contains(*w)) {
                out.push(format!("{}:{n}: `{word}` in: {}", f.display(), line.trim()));
            }
        }
    }
    out
}

#[test]
fn the_model_uses_nothing_of_ours_and_no_io_crate() {
    let bad = offenders(
        &layer_files("model"),
        &[
            "crate::store",
            "crate::engine",
            "crate::api",
            "crate::cli",
            "rusqlite",
            "clap",
            "mlua",
            "rustyline",
        ],
    );
    assert!(bad.is_empty(), "model must stay plain data:\n{}", bad.join("\n"));
}

#[test]
fn the_store_knows_no_business_rules_or_surfaces() {
    let bad =
        offenders(&layer_files("store"), &["crate::engine", "crate::api", "crate::cli", "clap", "mlua"]);
    assert!(bad.is_empty(), "store may use only the model:\n{}", bad.join("\n"));
}

#[test]
fn only_the_store_speaks_sql() {
    let mut files = layer_files("engine");
    files.extend(layer_files("api"));
    files.extend(layer_files("cli"));
    files.extend(layer_files("model"));
    let bad = offenders(
        &files,
        &["prepare_cached", ".execute(", "execute_batch", "\"SELECT ", "\"INSERT ", "\"UPDATE ", "\"DELETE "],
    );
    assert!(bad.is_empty(), "SQL outside the store:\n{}", bad.join("\n"));
}

#[test]
fn only_the_hooks_layer_touches_lua() {
    let mut files = Vec::new();
    for layer in ["model", "store", "engine", "api", "cli"] {
        files.extend(layer_files(layer));
    }
    let bad = offenders(&files, &["mlua"]);
    assert!(bad.is_empty(), "mlua outside src/hooks:\n{}", bad.join("\n"));
}

#[test]
fn hooks_see_values_not_the_store() {
    // Lua never holds a database handle: the hooks layer knows no store type and no SQL.
    let bad = offenders(&layer_files("hooks"), &["crate::store", "rusqlite", "crate::cli", "Tx<"]);
    assert!(bad.is_empty(), "hooks reach past the engine:\n{}", bad.join("\n"));
}

#[test]
fn the_engine_never_sees_a_surface_or_the_terminal() {
    let bad = offenders(
        &layer_files("engine"),
        &["crate::api", "crate::cli", "crate::hooks", "clap", "rustyline", "comfy_table"],
    );
    assert!(bad.is_empty(), "engine must not depend on a surface:\n{}", bad.join("\n"));
}

#[test]
fn the_graph_surface_does_not_reach_past_the_engine() {
    let bad = offenders(&layer_files("api"), &["crate::cli", "crate::store::Tx", "rusqlite", "clap"]);
    assert!(bad.is_empty(), "api may use the engine and the model only:\n{}", bad.join("\n"));
}

#[test]
fn only_the_command_line_prints() {
    let mut files = Vec::new();
    for layer in ["model", "store", "engine", "api"] {
        files.extend(layer_files(layer));
    }
    let bad = offenders(
        &files,
        &["println!", "print!(", "eprintln!", "eprint!(", "std::io::stdout", "std::io::stderr", "dbg!("],
    );
    assert!(bad.is_empty(), "printing outside cli:\n{}", bad.join("\n"));
}

#[test]
fn nothing_reads_the_wall_clock_or_a_global_random_source() {
    let files = rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let bad = offenders(
        &files,
        &[
            "Utc::now",
            "Local::now",
            "SystemTime::now",
            "Instant::now",
            "thread_rng",
            "rand::random",
            "Uuid::new_v4",
        ],
    );
    assert!(
        bad.is_empty(),
        "time comes from the simulated clock, ids from the seeded generator:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_wire_format_is_written_in_one_place() {
    // `@odata.context` and the error envelope are built by api/views.rs and the router only.
    let mut files = layer_files("engine");
    files.extend(layer_files("cli"));
    files.extend(layer_files("store"));
    let bad = offenders(&files, &["@odata.context", "\"innerError\""]);
    assert!(bad.is_empty(), "wire format outside api:\n{}", bad.join("\n"));
}
