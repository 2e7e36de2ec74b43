//! The docs cannot drift: every command shown in README.md and docs/*.md runs, and where the docs
//! show its output, the output is compared (rules in `harness::docs`).
//!
//! Each ```` ```sh ```` block runs on a fresh store in a fresh workspace (a temporary working
//! directory where `scripts/` is the repository's, and `pimlab` uses `./pimlab.db`), unless it is
//! listed in [`CONTINUES`]. Commands that cannot run as written are listed below with the reason:
//! skipped, or run with a substitution. A command the runner does not know fails the test, so a
//! new kind of example has to be taught or listed here.
//!
//! Also compared: the REPL session of docs/scripting.md (a ```` ```text ```` block of
//! `pimlab ...>` prompts), and the output of a ```` ```lua ```` scenario where a ```` ```text ````
//! block follows it (with at most one line of prose between them). That every ```lua example
//! runs at all is checked by `scripts::every_lua_example_of_the_scripting_guide_runs`.

use std::collections::BTreeSet;

use crate::harness::cli::Run;
use crate::harness::docs::{self, Block, Example, Session, compare, printf};

/// Commands that do not run here, by how they start, and why.
const SKIPPED: &[(&str, &str)] = &[
    ("cargo test", "it runs this test"),
    (
        "cargo build --release && alias pimlab=",
        "builds the release binary and calls it pimlab; the tests run the binary cargo built for them",
    ),
    ("cargo build --release", "builds the release binary; the tests run the binary cargo built for them"),
    ("pimlab run SCRIPT.lua [", "a synopsis: its words are placeholders"),
    ("cargo install --locked --path .", "installs pimlab into the user's ~/.cargo/bin"),
    ("pimlab completions bash >", "writes into the user's shell setup (tests/it/cli.rs runs completions)"),
    ("pimlab man >", "writes into the user's manual pages (tests/it/cli.rs reads the page)"),
];

/// Programs the docs run pimlab as, by how the command starts; they run as `pimlab` (the binary
/// cargo built for the tests) with the rest of the words.
const PROGRAMS: &[(&str, &str)] = &[
    ("cargo run --release -- ", "cargo builds and runs pimlab"),
    ("target/release/pimlab ", "the release build of pimlab"),
];

/// Blocks (file, first command) that go on with the store of the ```sh block before them in
/// the same file, because they show what the store holds by then.
const CONTINUES: &[(&str, &str)] = &[
    // The hook commands after "Attach it, try it on a Saturday": the hook is there, it is Saturday.
    ("docs/scripting.md", "pimlab hook list"),
    // Policy hooks after "A tour": the demonstration tenant is there.
    (
        "README.md",
        "pimlab hook add weekend-freeze --file scripts/hooks/weekend-freeze.lua --role \"Global Administrator\"",
    ),
];

/// What became of one command.
enum Outcome {
    Skipped,
    Ran(Run),
}

/// Runs one example on `session`; `Err` says what is wrong with the example or the docs.
fn run_example(
    session: &Session,
    example: &Example,
    used: &mut BTreeSet<&'static str>,
) -> Result<Outcome, String> {
    let text = example.command.trim();
    if let Some((prefix, _)) = SKIPPED.iter().find(|(prefix, _)| text.starts_with(prefix)) {
        used.insert(prefix);
        if !example.shown.is_empty() {
            return Err("a skipped command shows output; it would never be compared".into());
        }
        return Ok(Outcome::Skipped);
    }
    let mut words = example.words.clone();
    if let Some((prefix, _)) = PROGRAMS.iter().find(|(prefix, _)| text.starts_with(prefix)) {
        used.insert(prefix);
        let program = shlex::split(prefix).expect("a plain prefix").len();
        words.splice(..program, ["pimlab".to_string()]);
    }
    // Placeholders.
    for word in words.iter_mut() {
        if word == "<id>" {
            *word = session.newest_request_id().ok_or("`<id>` but no request has been made yet")?;
        } else if word.starts_with('<') && word.ends_with('>') {
            return Err(format!("a placeholder the runner does not know: {word}"));
        }
    }
    let run = match words.iter().position(|w| w == "|") {
        None if words.first().is_some_and(|w| w == "pimlab") => session.run(&words[1..]),
        // `printf 'LINES' | pimlab ARGS`: the lines piped into pimlab.
        Some(2) if words[0] == "printf" && words.get(3).is_some_and(|w| w == "pimlab") => {
            session.pipe(&words[4..], &printf(&words[1]))
        }
        _ => return Err("a command the docs runner does not know: teach it, or list it in SKIPPED".into()),
    };
    Ok(Outcome::Ran(run))
}

/// Checks what one command printed against what the docs show.
fn check(example: &Example, run: &Run) -> Result<(), String> {
    // A command must succeed unless the docs show it failing.
    let shows_error = example.shown.iter().any(|l| l.starts_with("error:"));
    if !shows_error && run.code != 0 {
        return Err(format!("it failed{run}"));
    }
    if example.shown.is_empty() {
        return Ok(());
    }
    compare(&example.shown, &format!("{}{}", run.stdout, run.stderr)).map_err(|e| format!("{e}{run}"))
}

#[test]
fn every_shell_example_of_the_docs_runs_and_prints_what_it_shows() {
    let mut failures = Vec::new();
    let mut used = BTreeSet::new();
    let mut continued = BTreeSet::new();
    let mut ran = 0;
    for file in docs::markdown_files() {
        let mut session: Option<Session> = None;
        for block in docs::blocks(&docs::read(&file)).iter().filter(|b| b.lang == "sh") {
            let examples = docs::examples(block);
            let first = examples.first().map(|e| e.command.as_str()).unwrap_or_default();
            let key = CONTINUES.iter().find(|(f, c)| *f == file && first.starts_with(c));
            if let Some((_, first)) = key {
                continued.insert(*first);
            }
            if key.is_none() || session.is_none() {
                session = Some(Session::new());
            }
            let session = session.as_ref().unwrap();
            for example in &examples {
                let place = format!("{file}:{}: `{}`", example.line, example.command);
                match run_example(session, example, &mut used) {
                    Err(e) => failures.push(format!("{place}: {e}")),
                    Ok(Outcome::Skipped) => {}
                    Ok(Outcome::Ran(run)) => {
                        ran += 1;
                        if let Err(e) = check(example, &run) {
                            failures.push(format!("{place}: {e}"));
                        }
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} doc example(s) wrong:\n\n{}", failures.len(), failures.join("\n\n"));
    assert!(ran >= 15, "only {ran} commands of the docs ran");
    for (prefix, reason) in SKIPPED.iter().chain(PROGRAMS) {
        assert!(used.contains(prefix), "no doc shows `{prefix}` any more ({reason}): drop it from the list");
    }
    for (file, first) in CONTINUES {
        assert!(continued.contains(first), "{file} has no ```sh block starting with `{first}` any more");
    }
}

/// The REPL sessions the docs show: ```text blocks of `pimlab TIME CALLER> LINE` prompts, each
/// followed by what the line printed. They run piped into `pimlab` on the demonstration tenant.
#[test]
fn every_repl_session_of_the_docs_prints_what_it_shows() {
    let mut sessions = 0;
    for file in docs::markdown_files() {
        for block in docs::blocks(&docs::read(&file)).iter().filter(|b| b.lang == "text") {
            let Some(lines) = repl_lines(block) else { continue };
            sessions += 1;
            let session = Session::new();
            session.run(&["init".to_string(), "--demo".to_string()]).ok();
            let input: String = lines.iter().map(|(line, _)| format!("{line}\n")).collect();
            let shown: Vec<String> = lines.into_iter().flat_map(|(_, output)| output).collect();
            let run = session.pipe(&[], &input);
            assert_eq!(run.code, 0, "{file}:{}: the session failed{run}", block.line);
            if let Err(e) = compare(&shown, &format!("{}{}", run.stdout, run.stderr)) {
                panic!("{file}:{}: the REPL session differs: {e}{run}", block.line);
            }
        }
    }
    assert!(sessions >= 1, "the docs show no REPL session any more");
}

/// The lines typed at the prompts of a REPL session, each with the lines it printed; `None` when
/// the block is not a REPL session.
fn repl_lines(block: &Block) -> Option<Vec<(String, Vec<String>)>> {
    let prompt = |line: &str| -> Option<String> {
        let rest = line.strip_prefix("pimlab ")?;
        let (head, typed) = rest.split_once("> ")?;
        (head.split_whitespace().count() == 2).then(|| typed.to_string())
    };
    let mut lines: Vec<(String, Vec<String>)> = Vec::new();
    for line in block.text.lines() {
        match (prompt(line), lines.last_mut()) {
            (Some(typed), _) => lines.push((typed, Vec::new())),
            (None, Some((_, output))) => output.push(line.to_string()),
            (None, None) => return None,
        }
    }
    (!lines.is_empty()).then_some(lines)
}

/// The output the docs show for a ```lua scenario: a ```text block right after it (at most one
/// line of prose between them, such as "prints").
#[test]
fn every_scenario_output_shown_in_the_docs_is_what_the_scenario_prints() {
    let mut shown_outputs = 0;
    for file in docs::markdown_files() {
        let blocks = docs::blocks(&docs::read(&file));
        for pair in blocks.windows(2) {
            let (script, output) = (&pair[0], &pair[1]);
            let is_scenario = script.lang == "lua" && script.text.contains("pim.");
            if !(is_scenario && output.lang == "text" && output.prose_before.len() <= 1) {
                continue;
            }
            shown_outputs += 1;
            let session = Session::new();
            session.workspace.write("example.lua", &script.text);
            let run = session.run(&["run".to_string(), "example.lua".to_string(), "--demo".to_string()]);
            let shown: Vec<String> = output.text.lines().map(str::to_string).collect();
            if let Err(e) = compare(&shown, &format!("{}{}", run.stdout, run.stderr)) {
                panic!(
                    "{file}:{}: the output shown at line {} is not what the scenario prints: {e}{run}",
                    script.line, output.line
                );
            }
        }
    }
    assert!(shown_outputs >= 2, "the docs show the output of only {shown_outputs} scenario(s)");
}

/// `scripts/demo.sh` shows each command before running it; a line copied from its output must run
/// as shown, so arguments with spaces or quotes are shown quoted. Every `run` line of the script,
/// shown by its own `quoted` and read back by bash, gives the arguments the script passed.
#[test]
fn the_demo_shows_each_command_as_a_shell_reads_it_back() {
    let script = docs::read("scripts/demo.sh");
    let start = script.find("quoted() {").expect("demo.sh defines quoted()");
    let end = start + script[start..].find("\n}\n").expect("the end of quoted()") + 3;
    let quoted = &script[start..end];
    let mut runs: Vec<&str> = script.lines().filter_map(|l| l.trim_start().strip_prefix("run ")).collect();
    runs.push(r#"--as chloe approve x --justification "I'd like \"this\" & \$HOME""#);
    assert!(runs.len() > 10, "the demo's run lines: {runs:?}");
    for args in runs {
        // The same arguments printed one per line directly, and after a round trip through the
        // shown text.
        let program = format!(
            "{quoted}\nset -- {args}\nprintf '%s\\n' \"$@\"\necho ---\neval \"set -- $(quoted \"$@\")\"\nprintf '%s\\n' \"$@\""
        );
        let out = std::process::Command::new("bash")
            .args(["-c", &program])
            .env("approval", "0f8fad5b")
            .output()
            .expect("bash runs");
        let text = String::from_utf8_lossy(&out.stdout);
        let (direct, round_trip) = text.split_once("---\n").expect("both halves");
        assert!(
            out.status.success() && !direct.is_empty(),
            "{args}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(direct, round_trip, "the shown line of `run {args}` reads back differently");
    }
}
