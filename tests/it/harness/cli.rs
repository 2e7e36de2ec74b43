//! The `pimlab` binary, run as a real process on a store file in a temporary directory.
//!
//! Every process gets its working directory set (a temporary one, so the default `./pimlab.db`
//! can never land in the repository), `PIMLAB_DB` removed, no backtraces and stdin closed.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};
use tempfile::TempDir;

use super::{AT, s, store};

pub const BIN: &str = env!("CARGO_BIN_EXE_pimlab");

/// One finished `pimlab` process.
pub struct Run {
    /// The command as a shell would show it (`$ pimlab --db t.db requests`), for messages.
    pub what: String,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "\n{}\n[exit {}]\n--- stdout ---\n{}--- stderr ---\n{}",
            self.what, self.code, self.stdout, self.stderr
        )
    }
}

impl Run {
    /// A finished process; `what` describes the command for messages.
    pub fn from_output(what: String, out: Output) -> Run {
        Run {
            what,
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
            stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
        }
    }

    /// Succeeded (exit 0) with nothing on stderr.
    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "expected success{self}");
        assert_eq!(self.stderr, "", "a successful command wrote to stderr{self}");
        self
    }

    /// The service refused: exit 1 and `error: <code> (HTTP <status>): ...` on stderr, nothing on stdout.
    #[track_caller]
    pub fn refused(self, code: &str, status: u16) -> Run {
        assert_eq!(self.code, 1, "expected a refusal (exit 1){self}");
        let head = format!("error: {code} (HTTP {status}): ");
        assert!(self.stderr.starts_with(&head), "stderr should start with {head:?}{self}");
        assert_eq!(self.stdout, "", "a refused command wrote to stdout{self}");
        self
    }

    /// A dry run reported that its request would be refused: exit 1, the report on stdout,
    /// nothing on stderr (scripts can tell a refusal from a pass by the status alone).
    #[track_caller]
    pub fn would_be_refused(self) -> Run {
        assert_eq!(self.code, 1, "expected exit 1 for a dry run whose request would be refused{self}");
        assert_eq!(self.stderr, "", "a dry run wrote to stderr{self}");
        self
    }

    /// The command line was wrong: exit 2, `error: ...` on stderr, nothing on stdout.
    #[track_caller]
    pub fn usage(self) -> Run {
        assert_eq!(self.code, 2, "expected a usage error (exit 2){self}");
        assert!(self.stderr.starts_with("error: "), "stderr should start with 'error: '{self}");
        assert_eq!(self.stdout, "", "a usage error wrote to stdout{self}");
        self
    }

    #[track_caller]
    pub fn out_has(self, needle: &str) -> Run {
        assert!(self.stdout.contains(needle), "stdout lacks {needle:?}{self}");
        self
    }

    #[track_caller]
    pub fn out_lacks(self, needle: &str) -> Run {
        assert!(!self.stdout.contains(needle), "stdout should not contain {needle:?}{self}");
        self
    }

    #[track_caller]
    pub fn err_has(self, needle: &str) -> Run {
        assert!(self.stderr.contains(needle), "stderr lacks {needle:?}{self}");
        self
    }

    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}){self}"))
    }

    /// The items of a `--json` listing on stdout (a Graph collection's `value`, or an array).
    #[track_caller]
    pub fn listing(&self) -> Vec<Value> {
        let v = self.json();
        match v.get("value").unwrap_or(&v) {
            Value::Array(items) => items.clone(),
            other => panic!("no list in {other}{self}"),
        }
    }

    /// The lines of stdout that mention `needle`.
    pub fn lines_with(&self, needle: &str) -> Vec<&str> {
        self.stdout.lines().filter(|l| l.contains(needle)).collect()
    }

    /// The stdout lines, in order.
    pub fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }
}

/// `pimlab` run in `dir`, with `PIMLAB_DB` and `PIMLAB_WIDTH` unset, no backtraces and stdin
/// closed.
pub fn pimlab_in(dir: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(dir)
        .env_remove("PIMLAB_DB")
        .env_remove("PIMLAB_WIDTH")
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null());
    c
}

/// Runs `c` with `args`, recording them for messages.
pub fn run_command(mut c: Command, args: &[String]) -> Run {
    let out = c.args(args).output().expect("run pimlab");
    Run::from_output(format!("$ pimlab {}", args.join(" ")), out)
}

/// Runs `pimlab ARGS` in `dir`.
pub fn run_in(dir: &Path, args: &[&str]) -> Run {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    run_command(pimlab_in(dir), &args)
}

/// Runs `pimlab --db DB ARGS` in `dir`.
pub fn run_on(dir: &Path, db: &Path, args: &[&str]) -> Run {
    let mut all = vec!["--db".to_string(), db.display().to_string()];
    all.extend(args.iter().map(|a| a.to_string()));
    run_command(pimlab_in(dir), &all)
}

/// A temporary directory holding one store, `t.db`, driven through the binary.
pub struct Lab {
    pub dir: TempDir,
    pub db: PathBuf,
}

impl Lab {
    /// A directory with no store yet.
    pub fn empty() -> Lab {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("t.db");
        Lab { dir, db }
    }

    /// A store as a pimlab that wrote schema version 9 left it (`tests/it/fixtures/v9`: the
    /// demonstration tenant with the pinned seed and clock, then `scenario.lua`), not yet opened
    /// by this pimlab.
    pub fn v9() -> Lab {
        let lab = Lab::empty();
        let mut out = std::fs::File::create(&lab.db).expect("the store file");
        std::io::copy(&mut gunzip("v9/store.db.gz"), &mut out).expect("the v9 store");
        lab
    }

    /// The demonstration tenant with the pinned seed (7) and clock.
    pub fn demo() -> Lab {
        Lab::demo_seeded("7")
    }

    /// The demonstration tenant with this seed and the pinned clock.
    pub fn demo_seeded(seed: &str) -> Lab {
        let lab = Lab::empty();
        lab.run(&["init", "--demo", "--seed", seed, "--at", AT]).ok();
        lab
    }

    /// A file in the lab's directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `pimlab` with no `--db`, run in the lab's directory, `PIMLAB_DB` unset.
    pub fn command(&self) -> Command {
        pimlab_in(self.dir.path())
    }

    /// Runs `pimlab --db <lab>/t.db ARGS`.
    pub fn run(&self, args: &[&str]) -> Run {
        run_on(self.dir.path(), &self.db, args)
    }

    /// Runs `pimlab --db DB ARGS` with tables fitted to `columns` (`PIMLAB_WIDTH`).
    pub fn run_at_width(&self, columns: &str, args: &[&str]) -> Run {
        let mut c = pimlab_in(self.dir.path());
        c.env("PIMLAB_WIDTH", columns).arg("--db").arg(&self.db);
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        run_command(c, &args)
    }

    /// Runs the command as given, recording `args` for messages.
    pub fn run_raw(&self, c: Command, args: &[String]) -> Run {
        run_command(c, args)
    }

    /// Writes `source` to `NAME.lua` in the lab's directory and returns its path.
    pub fn file(&self, name: &str, source: &str) -> String {
        let path = self.path(&format!("{name}.lua"));
        std::fs::write(&path, source).unwrap();
        path.display().to_string()
    }

    /// The store's files, byte for byte.
    pub fn bytes(&self) -> StoreBytes {
        bytes_of(&self.db)
    }

    /// Every row of the store but the refusals' audit rows ([`store::logical_dump`]).
    pub fn dump(&self) -> String {
        store::logical_dump(&self.db)
    }

    /// How many refused requests the audit trail records.
    pub fn failures(&self) -> i64 {
        store::failure_audits(&self.db)
    }

    /// Runs a command that must fail and leave the store as it was: byte-for-byte, or, when the
    /// service refused a request, with nothing but that refusal's audit row added (invariant 3).
    #[track_caller]
    pub fn fails_unchanged(&self, args: &[&str]) -> Run {
        // Reading the store first (which may tidy its WAL files), then its bytes.
        let logical = self.dump();
        let failures = self.failures();
        let before = self.bytes();
        let run = self.run(args);
        assert_ne!(run.code, 0, "expected a failure{run}");
        if self.bytes() != before {
            assert_eq!(self.dump(), logical, "the store changed although the command failed{run}");
            let added = self.failures() - failures;
            assert!(added <= 1, "only the refusal's own audit row may be added, not {added}{run}");
        }
        run
    }

    /// Runs a command that must fail and change nothing at all, not even an audit row (a refused
    /// approval decision is not a request).
    #[track_caller]
    pub fn fails_untouched(&self, args: &[&str]) -> Run {
        let before = self.dump();
        let failures = self.failures();
        let run = self.run(args);
        assert_ne!(run.code, 0, "expected a failure{run}");
        assert_eq!(self.dump(), before, "a refused decision changed the store{run}");
        assert_eq!(self.failures(), failures, "a decision is not a request{run}");
        run
    }

    /// The id of the object `name` (user, group, sp, au), from `--json KIND show NAME`.
    pub fn object_id(&self, kind: &str, name: &str) -> String {
        s(&self.run(&["--json", kind, "show", name]).ok().json()["id"])
    }

    /// The id of the user `name`.
    pub fn user_id(&self, name: &str) -> String {
        self.object_id("user", name)
    }

    /// The role management policy of `role`, as Graph JSON.
    pub fn policy(&self, role: &str) -> Value {
        self.run(&["--json", "policy", "show", role]).ok().json()
    }

    /// PATCHes one rule of `role`'s policy through the Graph router (independent of `policy set`).
    pub fn patch_rule(&self, role: &str, rule_id: &str, body: &Value) {
        let policy = s(&self.policy(role)["id"]);
        let path = format!("/policies/roleManagementPolicies/{policy}/rules/{rule_id}");
        let run = self.run(&["graph", "PATCH", &path, "--body", &body.to_string()]);
        assert_eq!((run.code, run.stderr.as_str()), (0, "HTTP 204\n"), "{run}");
    }

    /// One rule of `role`'s policy, as Graph JSON.
    pub fn rule(&self, role: &str, rule_id: &str) -> Value {
        let policy = self.policy(role);
        policy["rules"].as_array().unwrap().iter().find(|r| r["id"] == rule_id).cloned().unwrap()
    }

    /// Turns on approval for activations of `role` (default approvers).
    pub fn require_approval(&self, role: &str) {
        let mut rule = self.rule(role, "Approval_EndUser_Assignment");
        rule["setting"]["isApprovalRequired"] = json!(true);
        self.patch_rule(role, "Approval_EndUser_Assignment", &rule);
    }
}

/// A store's files, for byte-for-byte comparison.
///
/// Why bytes, and why this is robust under WAL: every pimlab command is one process with one
/// connection. When that connection closes, SQLite checkpoints the write-ahead log into the main
/// file and deletes `-wal` and `-shm`, so between two commands the whole store is the `.db` file.
/// We still capture `-wal` (present or not, and its bytes) in case a checkpoint was ever skipped;
/// `-shm` is only a shared-memory index that readers may rebuild, so it is left out. A refused
/// command must roll back before commit, so nothing reaches the log and the `.db` is untouched.
/// This is stricter than comparing listings: it also catches audit rows, a consumed id, the
/// clock, or a policy change that no listing shows. (Read-only commands leave the bytes alone as
/// well, which `cli::reading_commands_leave_the_store_byte_for_byte_unchanged` checks, so a
/// failure here is never noise from merely opening the store.)
#[derive(PartialEq)]
pub struct StoreBytes {
    db: Option<Vec<u8>>,
    wal: Option<Vec<u8>>,
}

impl fmt::Debug for StoreBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let len = |b: &Option<Vec<u8>>| b.as_ref().map(|b| format!("{} bytes", b.len()));
        write!(f, "db: {:?}, wal: {:?}", len(&self.db), len(&self.wal))
    }
}

/// The files of the store `db`.
pub fn bytes_of(db: &Path) -> StoreBytes {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    StoreBytes { db: std::fs::read(db).ok(), wal: std::fs::read(PathBuf::from(wal)).ok() }
}

/// A temporary working directory in which `scripts/` is the repository's (a symbolic link), for
/// commands written as a user types them: `pimlab` with no `--db` uses `./pimlab.db` there, and
/// `--file scripts/hooks/...` finds the shipped hooks.
pub struct Workspace {
    dir: TempDir,
}

impl Workspace {
    pub fn new() -> Workspace {
        let dir = tempfile::tempdir().expect("temp dir");
        // The scripts and the docs' example files, at the paths the docs give them.
        for folder in ["scripts", "docs"] {
            let target = super::root().join(folder);
            #[cfg(unix)]
            std::os::unix::fs::symlink(&target, dir.path().join(folder)).expect("link a folder");
            #[cfg(windows)]
            std::os::windows::fs::symlink_dir(&target, dir.path().join(folder)).expect("link a folder");
        }
        Workspace { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file into the workspace.
    pub fn write(&self, name: &str, contents: &str) {
        std::fs::write(self.path().join(name), contents).expect("write a workspace file");
    }

    /// `pimlab ARGS` in the workspace.
    pub fn run(&self, args: &[String]) -> Run {
        let out = pimlab_in(self.path()).args(args).output().expect("run pimlab");
        Run::from_output(format!("$ pimlab {}", shell_words(args)), out)
    }

    /// `pimlab ARGS` in the workspace, with `input` on its standard input (a pipe).
    pub fn pipe(&self, args: &[String], input: &str) -> Run {
        let mut c = pimlab_in(self.path());
        c.args(args);
        let what = format!("$ pimlab {} <<EOF\n{input}EOF", shell_words(args));
        super::repl::pipe(c, what, input)
    }
}

/// A command-line session in a [`Workspace`], written down as a terminal shows it: each command
/// after `$ `, its standard output, its standard error after a `[stderr]` line, and its exit
/// code when it is not 0. For snapshots of what users read.
pub struct Transcript {
    pub workspace: Workspace,
    text: String,
}

impl Transcript {
    pub fn new() -> Transcript {
        Transcript { workspace: Workspace::new(), text: String::new() }
    }

    /// Runs `pimlab ARGS` and writes it down.
    pub fn run(&mut self, args: &[&str]) -> Run {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let run = self.workspace.run(&args);
        if !self.text.is_empty() {
            self.text.push('\n');
        }
        self.text.push_str(&format!("$ pimlab {}\n", shell_words(&args)));
        self.text.push_str(&run.stdout);
        if !run.stderr.is_empty() {
            self.text.push_str("[stderr]\n");
            self.text.push_str(&run.stderr);
        }
        if run.code != 0 {
            self.text.push_str(&format!("[exit {}]\n", run.code));
        }
        run
    }

    /// Everything written down so far.
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// The words as a shell user would type them: as they are when they hold nothing but letters,
/// digits and `-_./:@=,+`; else in double quotes, or in single quotes when double quotes would
/// change them (`"`, `$`, `` ` ``, `\`, `!`).
pub fn shell_words(args: &[String]) -> String {
    let plain =
        |a: &str| !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:@=,+".contains(c));
    args.iter()
        .map(|a| {
            if plain(a) {
                a.clone()
            } else if !a.contains(['"', '$', '`', '\\', '!']) {
                format!("\"{a}\"")
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The command-line advice in a text: every flag it names (`--justification`) and every `pimlab
/// <command>` (the commands are the binary's own, read from its grammar). A Graph client or a
/// script author cannot act on either.
pub fn command_line_advice(text: &str) -> Vec<String> {
    use clap::CommandFactory;
    static COMMANDS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let commands = COMMANDS.get_or_init(|| {
        pimlab::cli::Cli::command().get_subcommands().map(|c| c.get_name().to_string()).collect()
    });
    let mut found = Vec::new();
    for (i, _) in text.match_indices("--") {
        let flag: String =
            text[i + 2..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
        if flag.starts_with(|c: char| c.is_ascii_lowercase()) {
            found.push(format!("--{flag}"));
        }
    }
    for (i, _) in text.match_indices("pimlab ") {
        let word: String =
            text[i + 7..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
        if commands.contains(&word) {
            found.push(format!("pimlab {word}"));
        }
    }
    found
}

/// A gzipped file under tests/it/fixtures, being read.
fn gunzip(name: &str) -> flate2::read::GzDecoder<std::fs::File> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/fixtures").join(name);
    flate2::read::GzDecoder::new(
        std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
}

/// What the pimlab that made the v9 store ([`Lab::v9`]) printed, command by command
/// (`tests/it/fixtures/v9/make.sh`): each command's line (`$ pimlab ARGS`) and what it printed.
pub fn v9_transcript() -> Vec<(String, String)> {
    let mut text = String::new();
    std::io::Read::read_to_string(&mut gunzip("v9/transcript.txt.gz"), &mut text).expect("the transcript");
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.split_inclusive('\n') {
        match line.strip_prefix("$ pimlab ") {
            Some(command) => out.push((command.trim_end().to_string(), String::new())),
            None => out.last_mut().expect("a command first").1.push_str(line),
        }
    }
    out
}

/// What the v9 transcript shows for `command` (its line after `$ pimlab `).
pub fn v9_output(command: &str) -> String {
    v9_transcript()
        .into_iter()
        .find(|(c, _)| c == command)
        .unwrap_or_else(|| panic!("{command} is not in the transcript"))
        .1
}
