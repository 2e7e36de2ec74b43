//! The REPL driven through a pipe: with standard input not a terminal, `pimlab` (or `pimlab
//! repl`) reads commands line by line.
//!
//! Each lab is a temporary directory (also the working directory of every process) with the
//! store `t.db`, named relatively so that messages naming it are the same in every directory,
//! `PIMLAB_DB` removed and `PIMLAB_HISTORY` pointed into the directory.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;
use tempfile::TempDir;

use super::cli::{BIN, Run};
use super::s;

/// A temporary directory for one store, `t.db`.
pub struct Lab {
    dir: TempDir,
}

impl Lab {
    pub fn new() -> Lab {
        Lab { dir: tempfile::tempdir().expect("temp dir") }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `pimlab --db t.db ARGS` in the lab.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.current_dir(self.path())
            .env_remove("PIMLAB_DB")
            .env("PIMLAB_HISTORY", self.path().join("history"))
            .env("RUST_BACKTRACE", "0")
            .arg("--db")
            .arg("t.db")
            .args(args);
        c
    }

    /// `pimlab --db t.db ARGS` with `input` on standard input (a pipe, so not a terminal).
    pub fn session_with(&self, args: &[&str], input: &str) -> Run {
        let what = format!("$ pimlab --db t.db {} <<EOF\n{input}EOF", args.join(" "));
        pipe(self.command(args), what, input)
    }

    /// A REPL session reading `lines`.
    pub fn session(&self, lines: &[&str]) -> Run {
        self.session_with(&[], &script(lines))
    }

    /// One command-line run: `pimlab --db t.db WORDS`, the words split as a shell (and the
    /// REPL) splits them.
    pub fn cli(&self, line: &str) -> Run {
        let words = shlex::split(line).expect("a line that splits");
        let out = self
            .command(&words.iter().map(String::as_str).collect::<Vec<_>>())
            .stdin(Stdio::null())
            .output()
            .expect("run pimlab");
        Run::from_output(format!("$ pimlab --db t.db {line}"), out)
    }

    /// The store's requests as Graph JSON, read with the command line.
    pub fn requests_json(&self) -> Vec<Value> {
        self.cli("requests --json").listing()
    }

    /// The id of the user with this user principal name, read with the command line.
    pub fn user_id(&self, upn: &str) -> String {
        s(&self.cli(&format!("user show {upn} --json")).json()["id"])
    }
}

/// Runs `c` with `input` on its standard input, a pipe.
pub fn pipe(mut c: Command, what: String, input: &str) -> Run {
    let mut child =
        c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start pimlab");
    let mut stdin = child.stdin.take().expect("stdin");
    let text = input.to_string();
    // Written from a thread so a long session can never block on full output pipes. The
    // session may end (`exit`) before reading everything: a broken pipe is fine then.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(text.as_bytes());
    });
    let out = child.wait_with_output().expect("wait for pimlab");
    writer.join().expect("writer thread");
    Run::from_output(what, out)
}

/// The lines, each ended by a newline.
pub fn script(lines: &[&str]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

impl Run {
    /// The session ran to its end: errors of single lines do not end it, but a piped session's
    /// exit code says whether every line succeeded (0), or the worst line's code (1 refused, 2
    /// usage).
    #[track_caller]
    pub fn ended(self) -> Run {
        let failed = self.stderr.lines().any(|l| l.starts_with("error:"));
        match failed {
            false => assert_eq!(self.code, 0, "a session whose every line succeeded exits 0{self}"),
            true => assert!(matches!(self.code, 1 | 2), "a session with a failing line exits 1 or 2{self}"),
        }
        self
    }
}
