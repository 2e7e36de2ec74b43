//! Every statement the lessons make the store run reads the growing tables through an index
//! (`store::statement_log`; ARCHITECTURE.md, invariant 13).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::store::statement_log::{collect, unindexed_reads};

/// The lessons' scripts with the flags their first line asks for
/// (`-- pimlab run scripts/NAME.lua FLAGS`).
fn lessons() -> Vec<(PathBuf, Vec<String>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts");
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("the scripts directory")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "lua"))
        .collect();
    scripts.sort();
    scripts
        .into_iter()
        .map(|p| {
            let source = std::fs::read_to_string(&p).expect("a script");
            let first = source.lines().next().unwrap_or_default().to_string();
            let flags = first.split_whitespace().skip(4).map(str::to_string).collect();
            (p, flags)
        })
        .collect()
}

#[test]
fn no_statement_the_lessons_run_reads_a_growing_table_without_an_index() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut ran = 0;
    let statements = collect(|| {
        for (i, (script, flags)) in lessons().into_iter().enumerate() {
            let db = dir.path().join(format!("lesson-{i}.db"));
            let mut args: Vec<OsString> =
                vec!["pimlab".into(), "--db".into(), db.into(), "run".into(), script.clone().into()];
            args.extend(flags.into_iter().map(OsString::from));
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let code = super::run(args, &mut out, &mut err);
            assert_eq!(code, 0, "{}: {}", script.display(), String::from_utf8_lossy(&err));
            ran += 1;
        }
    });
    assert!(ran >= 20, "the lessons ran ({ran})");
    assert!(statements.len() > 100, "the store ran {} statements", statements.len());
    let found = unindexed_reads(&statements);
    assert!(found.is_empty(), "statements reading a growing table without an index:\n{}", found.join("\n"));
}
