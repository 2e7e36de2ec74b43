//! The architecture invariants of ARCHITECTURE.md that can be checked by reading the source:
//! which layer may use which (model <- store <- engine <- api <- ops <- cli, the Lua host beside
//! them), who may print, parse with clap or touch mlua, that nothing reads the wall clock or a
//! global random source; and the rooms of issue 7: no file over 800 lines but catalog data, a
//! `//!` header on every file, no import circle between the modules of a layer (the engine's in
//! the order ARCHITECTURE.md gives), and no message of the engine, the model, the store or the
//! Graph surface that names a command-line flag or a `pimlab` command. A failure names the file
//! and the line.
//!
//! The older checks match text in code lines; the newer ones read tokens (`harness::source`),
//! so that a path is resolved from the crate root however it is written (`crate::x`, `super::x`,
//! a `use` tree) and a string literal is told apart from code.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use crate::harness::cli::command_line_advice;
use crate::harness::source::{File, Src, Tok};

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
    // Two exceptions, both the monotonic clock and neither deciding anything: the sandbox's
    // deadline, only to stop a runaway script (a run that ends in time never depends on it), and
    // the server's log line, which says how long a call took in real time.
    let bad: Vec<String> = bad
        .into_iter()
        .filter(|b| {
            !((b.contains("src/hooks/budget.rs:") || b.contains("src/serve/http.rs:"))
                && b.contains("`Instant::now`"))
        })
        .collect();
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

/// The longest a file of `src/` may be.
const MAX_LINES: usize = 800;

/// The files of `src/` that may be longer, each with the reason.
const LONG_FILES: &[(&str, &str)] = &[
    ("src/model/builtin_roles.rs", "catalog data: the built-in role definitions, one entry each"),
    ("src/model/azure_roles.rs", "catalog data: the built-in Azure role definitions, one entry each"),
];

#[test]
fn no_file_in_src_is_over_800_lines_but_catalog_data() {
    let mut long = Vec::new();
    let mut stack = vec![crate::harness::root().join("src")];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).expect("src is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path.strip_prefix(crate::harness::root()).unwrap().to_string_lossy().replace('\\', "/");
            let lines = fs::read_to_string(&path).map(|t| t.lines().count()).unwrap_or(0);
            if lines > MAX_LINES {
                long.push((rel, lines));
            }
        }
    }
    long.sort();
    let bad: Vec<String> = long
        .iter()
        .filter(|(rel, _)| !LONG_FILES.iter().any(|(f, _)| f == rel))
        .map(|(rel, n)| format!("{rel}: {n} lines"))
        .collect();
    assert!(bad.is_empty(), "files over {MAX_LINES} lines (split them by concern):\n{}", bad.join("\n"));
    let stale: Vec<&str> =
        LONG_FILES.iter().map(|(f, _)| *f).filter(|f| !long.iter().any(|(rel, _)| rel == f)).collect();
    assert!(stale.is_empty(), "no longer over {MAX_LINES} lines, drop them from LONG_FILES: {stale:?}");
}

#[test]
fn every_rust_file_in_src_starts_with_its_header() {
    let src = Src::read();
    let bad: Vec<&str> = src
        .files
        .iter()
        .filter(|f| !f.text.lines().next().is_some_and(|l| l.starts_with("//!")))
        .map(|f| f.path.as_str())
        .collect();
    assert!(bad.is_empty(), "files without a `//!` header saying what they are for:\n{}", bad.join("\n"));
}

/// What each part of `src/` may name of the crate besides itself (the first rule whose prefix a
/// file's path starts with applies). The layer order: model <- store <- engine <- api <- ops <-
/// cli; the engine reaches the Lua host only through its `HookRunner` trait, which the hook
/// runner (`runner.rs`, `sandbox.rs`, `decision.rs`) implements; the scenario runner is a
/// surface over the operations.
const LAYERS: &[(&str, &[&str])] = &[
    ("src/model/", &[]),
    ("src/store/", &["model"]),
    ("src/engine/", &["model", "store"]),
    ("src/api/", &["model", "engine", "report"]),
    ("src/report/", &["model", "engine"]),
    ("src/ops/", &["model", "engine", "api", "report"]),
    ("src/hooks/scenario.rs", &["model", "engine", "api", "ops"]),
    ("src/hooks/operations.rs", &["model", "engine", "api", "ops"]),
    ("src/hooks/", &["model", "engine"]),
    ("src/serve/", &["model", "engine", "api", "hooks"]),
    ("src/exchange/", &["model", "engine", "api", "ops"]),
    ("src/cli/", &["model", "store", "engine", "api", "ops", "hooks", "serve", "exchange", "report"]),
    (
        "src/lib.rs",
        &["model", "store", "engine", "api", "ops", "hooks", "serve", "exchange", "cli", "report"],
    ),
    ("src/main.rs", &["cli"]),
];

/// The part of `src/` a file belongs to (its first path segment below `src/`).
fn part_of(f: &File) -> &str {
    f.module.first().map(String::as_str).unwrap_or("")
}

#[test]
fn each_layer_names_only_the_layers_below_it() {
    let src = Src::read();
    let mut bad = Vec::new();
    for f in &src.files {
        let Some((_, allowed)) = LAYERS.iter().find(|(prefix, _)| f.path.starts_with(prefix)) else {
            bad.push(format!("{}: in no layer; give it a place in LAYERS", f.path));
            continue;
        };
        for n in src.named(f) {
            let target = n.path.first().map(String::as_str).unwrap_or("");
            if !target.is_empty() && target != part_of(f) && !allowed.contains(&target) {
                bad.push(format!(
                    "{}:{}: names {} in: {}",
                    f.path,
                    n.line,
                    n.path.join("::"),
                    f.line(n.line)
                ));
            }
        }
    }
    assert!(bad.is_empty(), "a layer reaches up or sideways:\n{}", bad.join("\n"));
}

/// The types the store defines (`pub struct`/`enum`/`type`/`trait` in `src/store/`).
fn store_types(src: &Src) -> BTreeSet<String> {
    let mut types = BTreeSet::new();
    for f in src.layer("store") {
        let idents: Vec<(&str, usize)> = f.idents().collect();
        for w in idents.windows(3) {
            if w[0].0 == "pub" && matches!(w[1].0, "struct" | "enum" | "type" | "trait") {
                types.insert(w[2].0.to_string());
            }
        }
    }
    types
}

/// Every use of one of `words` as an identifier in `files`, as "file:line: `word` in: text".
fn ident_offenders(files: &[&File], words: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for f in files {
        for (word, line) in f.idents() {
            if words.contains(&word) {
                out.push(format!("{}:{line}: `{word}` in: {}", f.path, f.line(line)));
            }
        }
    }
    out
}

#[test]
fn the_graph_surface_never_names_the_store_nor_the_engine_rusqlite() {
    let src = Src::read();
    let types = store_types(&src);
    assert!(types.contains("Tx") && types.contains("Store"), "the store's types were not found: {types:?}");
    let api = src.layer("api");
    let mut bad = Vec::new();
    for f in &api {
        for n in src.named(f) {
            if n.path.first().is_some_and(|p| p == "store") {
                bad.push(format!(
                    "{}:{}: names {} in: {}",
                    f.path,
                    n.line,
                    n.path.join("::"),
                    f.line(n.line)
                ));
            }
        }
    }
    let words: Vec<&str> = types.iter().map(String::as_str).chain(["rusqlite"]).collect();
    bad.extend(ident_offenders(&api, &words));
    assert!(
        bad.is_empty(),
        "api names the store (it sees only the engine and the model):\n{}",
        bad.join("\n")
    );
    let bad = ident_offenders(&src.layer("engine"), &["rusqlite"]);
    assert!(bad.is_empty(), "the engine names rusqlite (only the store speaks SQLite):\n{}", bad.join("\n"));
}

#[test]
fn the_engine_reaches_the_lua_host_only_through_its_hook_runner_trait() {
    let src = Src::read();
    let mut bad = Vec::new();
    for f in src.layer("engine") {
        for n in src.named(f) {
            if n.path.first().is_some_and(|p| p == "hooks") {
                bad.push(format!(
                    "{}:{}: names {} in: {}",
                    f.path,
                    n.line,
                    n.path.join("::"),
                    f.line(n.line)
                ));
            }
        }
    }
    bad.extend(ident_offenders(&src.layer("engine"), &["mlua", "LuaHooks"]));
    assert!(bad.is_empty(), "the engine names the Lua host:\n{}", bad.join("\n"));
    // And the host is plugged in through the trait: the runner implements it.
    let runner = src.files.iter().find(|f| f.path == "src/hooks/runner.rs").expect("src/hooks/runner.rs");
    let idents: Vec<&str> = runner.idents().map(|(i, _)| i).collect();
    assert!(
        idents.windows(3).any(|w| w == ["HookRunner", "for", "LuaHooks"]),
        "src/hooks/runner.rs no longer implements the engine's HookRunner for LuaHooks"
    );
}

/// What of clap the operations may use: derives of their argument structs (`#[derive(Args)]`),
/// never a parser.
const CLAP_DERIVES: &[&str] = &["Args", "Subcommand", "ValueEnum"];

#[test]
fn only_the_command_line_and_the_lua_host_parse_with_clap() {
    let src = Src::read();
    let mut bad = Vec::new();
    for layer in ["model", "store", "engine", "api"] {
        bad.extend(ident_offenders(&src.layer(layer), &["clap"]));
    }
    let ops = src.layer("ops");
    for f in &ops {
        let toks = &f.tokens;
        for (i, t) in toks.iter().enumerate() {
            if t.tok != Tok::Ident("clap".into()) {
                continue;
            }
            // `clap::X` or `clap::{X, Y}`: every X must be a derive.
            let mut named = Vec::new();
            for u in &toks[i + 1..] {
                match &u.tok {
                    Tok::Ident(x) => named.push(x.clone()),
                    Tok::Punct("::") | Tok::Punct("{") | Tok::Punct(",") => {}
                    _ => break,
                }
            }
            for x in named.iter().filter(|x| !CLAP_DERIVES.contains(&x.as_str())) {
                bad.push(format!("{}:{}: clap::{x} in: {}", f.path, t.line, f.line(t.line)));
            }
        }
    }
    bad.extend(ident_offenders(
        &ops,
        &[
            "Parser",
            "CommandFactory",
            "FromArgMatches",
            "ArgMatches",
            "parse_from",
            "try_parse_from",
            "get_matches",
            "try_get_matches_from",
            "augment_args",
        ],
    ));
    assert!(
        bad.is_empty(),
        "clap outside the command line and the Lua host (ops may only derive {CLAP_DERIVES:?}):\n{}",
        bad.join("\n")
    );
}

#[test]
fn only_the_hooks_layer_touches_lua() {
    let src = Src::read();
    let files: Vec<&File> = src.files.iter().filter(|f| !f.in_dir("hooks")).collect();
    let bad = ident_offenders(&files, &["mlua"]);
    assert!(bad.is_empty(), "mlua outside src/hooks:\n{}", bad.join("\n"));
}

/// The modules of `src/LAYER/` (its direct children; a folder is one module) and which of them
/// each names, with where: `user -> (used -> "file:line")`. `mod.rs` is the layer's hub (the
/// types every module shares, the entry points) and stays out; a name it re-exports counts as
/// the module it comes from.
fn module_graph(src: &Src, layer: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let files = src.layer(layer);
    let children: BTreeSet<String> = files.iter().filter_map(|f| f.module.get(1).cloned()).collect();
    let mut reexports: BTreeMap<String, String> = BTreeMap::new();
    for hub in files.iter().filter(|f| f.module.len() == 1) {
        for n in src.named(hub) {
            if n.path.len() >= 3 && n.path[0] == layer && children.contains(&n.path[1]) {
                reexports.insert(n.path.last().unwrap().clone(), n.path[1].clone());
            }
        }
    }
    let mut graph: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for f in files.iter().filter(|f| f.module.len() >= 2) {
        let user = &f.module[1];
        let edges = graph.entry(user.clone()).or_default();
        for n in src.named(f) {
            if n.path.len() < 2 || n.path[0] != layer {
                continue;
            }
            let used = if children.contains(&n.path[1]) {
                n.path[1].clone()
            } else if let Some(m) = reexports.get(&n.path[1]) {
                m.clone()
            } else {
                continue; // an item of the hub
            };
            if &used != user {
                edges.entry(used).or_insert_with(|| format!("{}:{}", f.path, n.line));
            }
        }
    }
    graph
}

/// The circles of a module graph: each set of two or more modules that all reach one another,
/// with the uses that close it.
fn circles(graph: &BTreeMap<String, BTreeMap<String, String>>) -> Vec<(BTreeSet<String>, Vec<String>)> {
    let reach = |from: &str| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_string()];
        while let Some(m) = todo.pop() {
            for next in graph.get(&m).into_iter().flat_map(|e| e.keys()) {
                if seen.insert(next.clone()) {
                    todo.push(next.clone());
                }
            }
        }
        seen
    };
    let mut out: Vec<(BTreeSet<String>, Vec<String>)> = Vec::new();
    for m in graph.keys() {
        let members: BTreeSet<String> =
            reach(m).into_iter().filter(|other| other == m || reach(other).contains(m)).collect();
        if members.len() < 2 || out.iter().any(|(c, _)| c == &members) {
            continue;
        }
        let mut uses = Vec::new();
        for a in &members {
            for (b, at) in &graph[a] {
                if members.contains(b) {
                    uses.push(format!("{a} -> {b} ({at})"));
                }
            }
        }
        out.push((members, uses));
    }
    out
}

/// The engine's modules in the order they may use one another (ARCHITECTURE.md, the engine's
/// entry): each uses only modules of the groups before its own.
const ENGINE_ORDER: &[&[&str]] = &[
    &["fidelity"],
    &["audit", "notify", "validate", "lockout"],
    &["directory"],
    &["calling"],
    &["records", "azure_scopes"],
    &["azure_access", "group_access"],
    &["hook_context"],
    &["extension"],
    &["target"],
    &["provision"],
    &["approvals"],
    &[
        "lifecycle",
        "clock",
        "direct",
        "queries",
        "history",
        "policies",
        "roles",
        "hook_admin",
        "profile",
        "alerts",
    ],
    &["azure_policies", "azure_roles", "group_policies"],
    &["seed"],
    &["marks", "import", "rewind"],
];

#[test]
fn the_engine_modules_use_only_those_before_them() {
    let src = Src::read();
    let graph = module_graph(&src, "engine");
    let rank = |m: &str| ENGINE_ORDER.iter().position(|group| group.contains(&m));
    let unplaced: Vec<&String> = graph.keys().filter(|m| rank(m).is_none()).collect();
    assert!(unplaced.is_empty(), "engine modules missing from ENGINE_ORDER: {unplaced:?}");
    let gone: Vec<&str> =
        ENGINE_ORDER.iter().flat_map(|g| g.iter()).copied().filter(|m| !graph.contains_key(*m)).collect();
    assert!(gone.is_empty(), "ENGINE_ORDER names modules the engine no longer has: {gone:?}");
    let mut bad = Vec::new();
    for (user, uses) in &graph {
        for (used, at) in uses {
            if rank(used) >= rank(user) {
                bad.push(format!("{user} uses {used} ({at}), which does not come before it"));
            }
        }
    }
    let found = circles(&graph);
    for (_, uses) in &found {
        bad.push(format!("an import circle: {}", uses.join(", ")));
    }
    assert!(bad.is_empty(), "the engine's module order is broken:\n{}", bad.join("\n"));
}

/// Import circles that are known and reported, each with its modules and why it stays for now.
/// A circle that goes away must leave this list, so that it cannot come back unnoticed.
const KNOWN_CIRCLES: &[(&str, &[&str], &str)] = &[];

#[test]
fn no_layer_has_an_import_circle_between_its_modules() {
    let src = Src::read();
    let mut bad = Vec::new();
    let mut still_known = Vec::new();
    for layer in ["model", "store", "engine", "api", "ops", "hooks", "cli"] {
        for (members, uses) in circles(&module_graph(&src, layer)) {
            let known = KNOWN_CIRCLES.iter().find(|(l, ms, _)| {
                *l == layer
                    && ms.iter().copied().collect::<BTreeSet<&str>>()
                        == members.iter().map(String::as_str).collect()
            });
            match known {
                Some(k) => still_known.push(k),
                None => bad.push(format!("{layer}: {}", uses.join(", "))),
            }
        }
    }
    assert!(bad.is_empty(), "import circles (modules that use each other both ways):\n{}", bad.join("\n"));
    let gone: Vec<String> = KNOWN_CIRCLES
        .iter()
        .filter(|k| !still_known.contains(k))
        .map(|(l, ms, _)| format!("{l}: {}", ms.join(" <-> ")))
        .collect();
    assert!(gone.is_empty(), "these circles are broken now; drop them from KNOWN_CIRCLES: {gone:?}");
}

/// The layers whose messages every surface shows (a Graph client, a script, the command line):
/// their string literals name no flag and no `pimlab` command. A fix is a typed `Hint` that each
/// surface words itself, in the hint renderers, which are therefore not scanned.
const SURFACE_NEUTRAL: &[&str] = &["engine", "model", "store", "api"];
const HINT_RENDERERS: &[&str] = &["src/cli/render/hints.rs", "src/hooks/hints.rs"];

/// Literals of those layers that do name command-line advice: (file, the advice, why).
const ADVICE_ALLOWED: &[(&str, &str, &str)] = &[];

#[test]
fn no_engine_model_store_or_api_message_names_a_flag_or_a_command() {
    // The detector itself: flags and the binary's own commands, not every "pimlab" word.
    assert_eq!(
        command_line_advice("give --justification \"why\"; `pimlab role list` shows them (a pimlab rule)"),
        ["--justification", "pimlab role"]
    );
    let src = Src::read();
    for r in HINT_RENDERERS {
        assert!(src.files.iter().any(|f| f.path == *r), "the hint renderer {r} moved; update HINT_RENDERERS");
    }
    let mut bad = Vec::new();
    let mut allowed_seen = BTreeSet::new();
    for layer in SURFACE_NEUTRAL {
        for f in src.layer(layer).into_iter().filter(|f| !HINT_RENDERERS.contains(&f.path.as_str())) {
            for (text, line) in f.strings() {
                for advice in command_line_advice(text) {
                    match ADVICE_ALLOWED.iter().position(|(p, a, _)| *p == f.path && *a == advice) {
                        Some(i) => {
                            allowed_seen.insert(i);
                        }
                        None => bad.push(format!("{}:{line}: `{advice}` in {text:?}", f.path)),
                    }
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "messages that every surface shows name command-line advice (give a typed Hint instead):\n{}",
        bad.join("\n")
    );
    let stale: Vec<String> = (0..ADVICE_ALLOWED.len())
        .filter(|i| !allowed_seen.contains(i))
        .map(|i| format!("{} {}", ADVICE_ALLOWED[i].0, ADVICE_ALLOWED[i].1))
        .collect();
    assert!(stale.is_empty(), "no longer found, drop them from ADVICE_ALLOWED: {stale:?}");
}
