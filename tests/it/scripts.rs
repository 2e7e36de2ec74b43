//! The scenario scripts under `scripts/` and the examples of `docs/scripting.md`, run through the
//! real binary.
//!
//! Every `scripts/*.lua` starts with the command that runs it, as a comment:
//! `-- pimlab run scripts/NAME.lua [FLAGS]`. The test reads those flags, runs the script with them
//! (twice), and requires exit code 0, nothing on stderr, no `FAIL -` line, a last line
//! `N passed, 0 failed` with N > 0, and byte-identical output both times (the clock is simulated
//! and ids are seeded, so a scenario's output must never vary). The hooks shipped under
//! `scripts/hooks/` must be accepted by `pimlab hook add` and appear verbatim in a scenario
//! that exercises them. Every ```lua block of the scripting guide must run: hook files (a block
//! that returns its handlers with a top-level `return {` and, like any hook, never uses the `pim`
//! API) are added with `hook add`; the others run with `pimlab run --demo`.
//!
//! Each process runs in its own temporary directory, with `PIMLAB_DB` removed from its
//! environment, so nothing can land in the repository.

use std::fs;
use std::path::{Path, PathBuf};
use std::thread;

use tempfile::TempDir;

use crate::harness::cli::{Run, run_in};
use crate::harness::docs::code_blocks;
use crate::harness::root;

/// The scripts every checkout must have: the README's quickstart and the six core lessons.
const REQUIRED: [&str; 7] = [
    "quickstart.lua",
    "01-activation.lua",
    "02-approval.lua",
    "03-expiry-renewal.lua",
    "04-last-global-admin.lua",
    "05-weekend-freeze.lua",
    "06-separation-of-duties.lua",
];

/// The `.lua` files directly in `dir`, sorted.
fn lua_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "lua"))
        .collect();
    files.sort();
    files
}

fn scripts() -> Vec<PathBuf> {
    lua_files(&root().join("scripts"))
}

fn shipped_hooks() -> Vec<PathBuf> {
    lua_files(&root().join("scripts").join("hooks"))
}

/// The flags a script's first line asks for: `-- pimlab run scripts/NAME.lua --demo` gives
/// `["--demo"]`. Errors when the line is missing or names another file.
fn flags_of(script: &Path) -> Result<Vec<String>, String> {
    let name = script.file_name().unwrap().to_string_lossy().to_string();
    let text = fs::read_to_string(script).map_err(|e| format!("{name}: {e}"))?;
    let first = text.lines().next().unwrap_or_default();
    let words: Vec<&str> = first.split_whitespace().collect();
    let expected = format!("scripts/{name}");
    match words.as_slice() {
        ["--", "pimlab", "run", path, flags @ ..] if *path == expected => {
            Ok(flags.iter().map(|f| f.to_string()).collect())
        }
        _ => Err(format!(
            "{name}: the first line must be the command that runs it, `-- pimlab run {expected} [FLAGS]`; it is `{first}`"
        )),
    }
}

/// Checks one finished scenario run (that it checked something, too, when `checks` is set);
/// returns its stdout.
fn check_run(out: &Run, checks: bool) -> Result<String, String> {
    if out.code != 0 {
        return Err(format!("the script failed{out}"));
    }
    if !out.stderr.is_empty() {
        return Err(format!("the script wrote to stderr{out}"));
    }
    if out.stdout.lines().any(|l| l.starts_with("FAIL -")) {
        return Err(format!("an expectation failed{out}"));
    }
    let last = out.stdout.lines().last().unwrap_or_default();
    let passed = last
        .strip_suffix(" passed, 0 failed")
        .and_then(|n| n.parse::<u32>().ok())
        .ok_or_else(|| format!("the last line is not `N passed, 0 failed`{out}"))?;
    if checks && passed == 0 {
        return Err(format!("the script checks nothing (0 passed){out}"));
    }
    Ok(out.stdout.clone())
}

/// Runs one scenario twice with its own flags and checks both runs.
fn run_scenario(script: &Path) -> Result<(), String> {
    let flags = flags_of(script)?;
    let dir = TempDir::new().map_err(|e| e.to_string())?;
    let path = script.to_string_lossy().to_string();
    let mut args = vec!["run", path.as_str()];
    args.extend(flags.iter().map(String::as_str));
    let first = check_run(&run_in(dir.path(), &args), true)?;
    let second = check_run(&run_in(dir.path(), &args), true)?;
    if first != second {
        let line = first.lines().zip(second.lines()).position(|(a, b)| a != b).map_or(0, |i| i + 1);
        return Err(format!(
            "{}: two runs printed different output (first difference at line {line}); scenarios must be reproducible\n--- first ---\n{first}--- second ---\n{second}",
            script.display()
        ));
    }
    Ok(())
}

/// Runs `check` on every item on its own thread; panics listing every failure.
fn all_of<T: Send + 'static>(items: Vec<T>, check: fn(&T) -> Result<(), String>) {
    let handles: Vec<_> = items.into_iter().map(|item| thread::spawn(move || check(&item))).collect();
    let failures: Vec<String> = handles
        .into_iter()
        .filter_map(|h| match h.join() {
            Ok(result) => result.err(),
            Err(_) => Some("a check panicked".to_string()),
        })
        .collect();
    assert!(failures.is_empty(), "{} failure(s):\n\n{}", failures.len(), failures.join("\n\n"));
}

#[test]
fn the_course_is_complete() {
    let names: Vec<String> =
        scripts().iter().map(|p| p.file_name().unwrap().to_string_lossy().to_string()).collect();
    for required in REQUIRED {
        assert!(names.iter().any(|n| n == required), "scripts/{required} is missing (have: {names:?})");
    }
    for script in scripts() {
        let text = fs::read_to_string(&script).unwrap();
        // The header: the command line, then a comment that explains the lesson.
        let header = text.lines().take_while(|l| l.starts_with("--")).count();
        assert!(header >= 5, "{} needs a header comment explaining its lesson", script.display());
    }
}

#[test]
fn every_script_passes_twice_with_identical_output() {
    all_of(scripts(), |s| run_scenario(s));
}

#[test]
fn a_script_that_fails_an_expectation_exits_non_zero() {
    // The harness above relies on the runner reporting failures; make sure it does.
    let dir = TempDir::new().unwrap();
    let script = dir.path().join("fails.lua");
    fs::write(&script, "pim.expect(true, 'fine')\npim.expect_eq(1, 2, 'one is two')\n").unwrap();
    let args = ["run", "fails.lua"];
    let out = run_in(dir.path(), &args);
    assert_eq!(out.code, 1, "{out}");
    assert!(out.stdout.contains("FAIL - one is two: expected 2, got 1 (fails.lua:2)"), "{out}");
    assert!(out.stdout.ends_with("1 passed, 1 failed\n"), "{out}");
    assert!(check_run(&out, true).is_err());
}

#[test]
fn run_with_db_shapes_a_new_store_and_refuses_to_reshape_an_existing_one() {
    let dir = TempDir::new().unwrap();
    fs::write(
        dir.path().join("who.lua"),
        "print(pim.clock.now())\npim.expect(pim.principal('alice') ~= nil, 'alice is here')\n",
    )
    .unwrap();
    let first = ["--db", "lab.db", "run", "who.lua", "--demo", "--at", "2025-03-01T08:00:00Z"];
    let out = run_in(dir.path(), &first);
    assert_eq!(out.code, 0, "{out}");
    assert!(out.stdout.starts_with("2025-03-01T08:00:00Z"), "{out}");
    // The store now exists: asking again for a demo tenant would silently mean another tenant.
    let out = run_in(dir.path(), &first);
    assert_eq!(out.code, 2, "{out}");
    assert!(out.stderr.contains("lab.db already holds one"), "{out}");
    // Without the flags it runs on what is there.
    let again = ["--db", "lab.db", "run", "who.lua"];
    let out = run_in(dir.path(), &again);
    assert_eq!(out.code, 0, "{out}");
}

#[test]
fn shipped_hooks_are_accepted_and_exercised_by_a_scenario() {
    let hooks = shipped_hooks();
    assert!(!hooks.is_empty(), "scripts/hooks/ holds no hook");
    let scenarios: Vec<(PathBuf, String)> =
        scripts().into_iter().map(|p| (p.clone(), fs::read_to_string(&p).unwrap())).collect();
    for hook in &hooks {
        let source = fs::read_to_string(hook).unwrap();
        assert!(
            scenarios.iter().any(|(_, text)| text.contains(&source)),
            "{} is not embedded verbatim in any scripts/*.lua; keep the file and the scenario's copy identical",
            hook.display()
        );
    }
    all_of(hooks, |hook| {
        let dir = TempDir::new().map_err(|e| e.to_string())?;
        let name = hook.file_stem().unwrap().to_string_lossy().to_string();
        let path = hook.to_string_lossy().to_string();
        let init = ["--db", "t.db", "init", "--demo"];
        let out = run_in(dir.path(), &init);
        if out.code != 0 {
            return Err(format!("init failed{out}"));
        }
        let add = ["--db", "t.db", "hook", "add", name.as_str(), "--file", path.as_str()];
        let out = run_in(dir.path(), &add);
        if out.code != 0 || !out.stdout.contains(&format!("Added hook {name}")) {
            return Err(format!("hook add refused a shipped hook{out}"));
        }
        Ok(())
    });
}

fn check_doc_block(block: &(usize, String)) -> Result<(), String> {
    let (line, text) = block;
    let dir = TempDir::new().map_err(|e| e.to_string())?;
    let file = dir.path().join("example.lua");
    fs::write(&file, text).map_err(|e| e.to_string())?;
    let place = format!("docs/scripting.md, the ```lua block at line {line}");
    // A hook file cannot use the `pim` API (only scripts have it), and returns its handlers.
    let is_hook = !text.contains("pim.") && text.lines().any(|l| l.starts_with("return {"));
    if is_hook {
        let init = ["--db", "t.db", "init", "--demo"];
        let out = run_in(dir.path(), &init);
        if out.code != 0 {
            return Err(format!("{place}: init failed{out}"));
        }
        let add = ["--db", "t.db", "hook", "add", "example", "--file", "example.lua"];
        let out = run_in(dir.path(), &add);
        if out.code != 0 {
            return Err(format!("{place}: `hook add` refused it{out}"));
        }
        return Ok(());
    }
    let args = ["run", "example.lua", "--demo"];
    check_run(&run_in(dir.path(), &args), false).map(|_| ()).map_err(|e| format!("{place}: {e}"))
}

#[test]
fn every_lua_example_of_the_scripting_guide_runs() {
    let guide =
        fs::read_to_string(root().join("docs").join("scripting.md")).expect("docs/scripting.md exists");
    let blocks = code_blocks(&guide, "lua");
    assert!(blocks.len() >= 10, "the guide has only {} ```lua examples", blocks.len());
    all_of(blocks, check_doc_block);
}
