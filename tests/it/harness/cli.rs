//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::path::Path;

/// Every row of every table of a store, except the audit rows of refused requests: what
/// "unchanged" means for a refusal (ARCHITECTURE.md, invariant 3: a refused request leaves only
/// its own audit record). Read-only, through plain SQLite.
pub fn logical_dump(db: &Path) -> String {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open the store read-only");
    let mut tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    tables.retain(|t| !t.starts_with("sqlite_"));
    let mut out = String::new();
    for table in tables {
        let filter = if table == "audit" { " WHERE result <> 'failure'" } else { "" };
        // WITHOUT ROWID tables come in primary-key order already.
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {table}{filter} ORDER BY rowid"))
            .or_else(|_| conn.prepare(&format!("SELECT * FROM {table}{filter}")))
            .unwrap();
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        out.push_str(&format!("== {table}\n"));
        while let Some(row) = rows.next().unwrap() {
            let values: Vec<String> =
                (0..columns).map(|i| format!("{:?}", row.get_ref(i).unwrap())).collect();
            out.push_str(&values.join(" | "));
            out.push('\n');
        }
    }
    out
}

/// How many refused requests the audit trail records.
pub fn failure_audits(db: &Path) -> i64 {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open the store read-only");
    conn.query_row("SELECT count(*) FROM audit WHERE result = 'failure'", [], |r| r.get(0)).unwrap()
}

// ---------------------------------------------------------------------------------------------
// The binary
// ---------------------------------------------------------------------------------------------

pub const BIN: &str = env!("CARGO_BIN_EXE_pimlab");

/// One finished `pimlab` process.
pub struct Run {
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "\n$ pimlab {}\n[exit {}]\n--- stdout ---\n{}--- stderr ---\n{}",
            self.args.join(" "),
            self.code,
            self.stdout,
            self.stderr
        )
    }
}

impl Run {
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
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}){self}"))
    }

    /// The lines of stdout that mention `needle`.
    pub fn lines_with(&self, needle: &str) -> Vec<&str> {
        self.stdout.lines().filter(|l| l.contains(needle)).collect()
    }
}

/// `pimlab` run in `dir`, with `PIMLAB_DB` unset, no backtraces and stdin closed.
pub fn pimlab_in(dir: &Path) -> std::process::Command {
    let mut c = std::process::Command::new(BIN);
    c.current_dir(dir).env_remove("PIMLAB_DB").env("RUST_BACKTRACE", "0").stdin(std::process::Stdio::null());
    c
}

/// Runs `c` with `args`, recording them for messages.
pub fn run_command(mut c: std::process::Command, args: &[String]) -> Run {
    let out = c.args(args).output().expect("run pimlab");
    Run {
        args: args.to_vec(),
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
    }
}

/// Runs `pimlab --db DB ARGS` in `dir`.
pub fn run_on(dir: &Path, db: &Path, args: &[&str]) -> Run {
    let mut all = vec!["--db".to_string(), db.display().to_string()];
    all.extend(args.iter().map(|a| a.to_string()));
    run_command(pimlab_in(dir), &all)
}
