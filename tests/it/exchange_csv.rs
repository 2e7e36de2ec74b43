//! `pimlab import` of CSV files, through the binary: each kind of file, names across files, a
//! folder, `--dry-run`, every class of error (exact texts snapshotted, store unchanged), a
//! 10,000-user file, no progress bar when piped; and random text through the parser.

use std::fmt::Write as _;

use proptest::prelude::*;

use crate::harness::cli::Lab;

const USERS: &str = "\
userPrincipalName,displayName,mail,accountEnabled
dana@contoso.example,Dana Doe,,
\"erik@contoso.example\",\"Erik, the Second\",erik@mail.example,false
";

const GROUPS: &str = "\
DisplayName,Description,isAssignableToRole
Night Shift,\"Covers nights,
weekends too\",true
Field Sales,,
";

const MEMBERSHIPS: &str = "\
group,member,relation
Night Shift,dana,
Night Shift,\"Erik, the Second\",owner
Field Sales,erik@contoso.example,member
";

const ASSIGNMENTS: &str = "\
principal,role,type,scope,group,duration,justification,ticket
dana,Helpdesk Administrator,eligible,,,P90D,Rota,ServiceNow:INC1
Night Shift,User Administrator,active,,,,Standing duty,
erik@contoso.example,User Administrator,eligible,Europe,,P30D,Regional,
dana,member,eligible,,Field Sales,P30D,On call,
dana,Reader,eligible,Contoso Development,,P30D,Azure reads,
";

/// The demonstration tenant with the four files written into its folder.
fn lab_with_files() -> Lab {
    let lab = Lab::demo();
    for (name, text) in [
        ("users.csv", USERS),
        ("groups.csv", GROUPS),
        ("memberships.csv", MEMBERSHIPS),
        ("assignments.csv", ASSIGNMENTS),
    ] {
        std::fs::write(lab.path(name), text).unwrap();
    }
    lab
}

const FILES: [&str; 4] = ["users.csv", "groups.csv", "memberships.csv", "assignments.csv"];

#[test]
fn each_kind_of_file_imports_with_names_across_files() {
    let lab = lab_with_files();
    let mut args = vec!["import"];
    args.extend(FILES);
    let run = lab.run(&args).ok();
    insta::assert_snapshot!("csv_import_summary", run.stdout);

    let erik = lab.run(&["--json", "user", "show", "erik@contoso.example"]).ok().json();
    assert_eq!(erik["displayName"], "Erik, the Second", "{erik}");
    assert_eq!(erik["accountEnabled"], false, "{erik}");
    assert_eq!(erik["mail"], "erik@mail.example", "{erik}");
    let night = lab.run(&["--json", "group", "show", "Night Shift"]).ok().json();
    assert_eq!(night["description"], "Covers nights,\nweekends too", "{night}");
    assert_eq!(night["isAssignableToRole"], true, "{night}");
    lab.run(&["group", "members", "Night Shift"]).ok().out_has("dana@contoso.example");
    lab.run(&["group", "members", "Field Sales"]).ok().out_has("erik@contoso.example");

    let dana = lab.run(&["eligible", "list", "--principal", "dana"]).ok();
    let dana = dana.out_has("Helpdesk Administrator").out_has("Contoso Development").out_has("Field Sales");
    assert!(dana.stdout.contains("2025-04-06T09:00:00Z"), "P90D from the demo clock{dana}");
    lab.run(&["eligible", "list", "--principal", "erik"]).ok().out_has("Europe (AU)");
    lab.run(&["active", "list", "--principal", "Night Shift"]).ok().out_has("User Administrator");
    // Real requests, with their audit rows and the ticket the row gave.
    let requests = lab.run(&["--json", "requests", "--principal", "dana"]).ok().listing();
    assert!(requests.iter().any(|r| r["ticketInfo"]["ticketNumber"] == "INC1"), "{requests:?}");
    lab.run(&["audit"]).ok().out_has("Add owner to group").out_has("Add member to role in PIM completed");
}

#[test]
fn a_folder_stands_for_its_files_applied_in_dependency_order_whatever_their_names() {
    let lab = Lab::demo();
    let folder = lab.path("tenant");
    std::fs::create_dir(&folder).unwrap();
    // Sorted by name, the assignments come first: the kinds, not the names, set the order.
    for (name, text) in [
        ("a-roles.csv", ASSIGNMENTS),
        ("b-members.csv", MEMBERSHIPS),
        ("c-groups.csv", GROUPS),
        ("d-users.csv", USERS),
    ] {
        std::fs::write(folder.join(name), text).unwrap();
    }
    std::fs::write(folder.join(".hidden.csv"), "not,a,header\n").unwrap();
    let folder_run = lab.run(&["import", "tenant"]).ok();
    let files = lab_with_files();
    let mut args = vec!["import"];
    args.extend(FILES);
    assert_eq!(folder_run.stdout, files.run(&args).ok().stdout);
    lab.run(&["eligible", "list", "--group", "Field Sales"]).ok().out_has("dana@contoso.example");
}

#[test]
fn a_dry_run_prints_the_same_summary_and_changes_nothing() {
    let lab = lab_with_files();
    let mut args = vec!["import", "--dry-run"];
    args.extend(FILES);
    let before = lab.dump();
    let bytes = lab.bytes();
    let dry = lab.run(&args).ok();
    assert_eq!(lab.dump(), before, "a dry run changed the store{dry}");
    assert!(lab.bytes() == bytes, "a dry run changed the store's files{dry}");
    args.remove(1);
    let real = lab.run(&args).ok();
    let expected = real.stdout.replace(": imported", ": would import") + "(dry run: nothing was changed)\n";
    assert_eq!(dry.stdout, expected);
}

/// One refused import: the files it writes (name, text), and the code the refusal must carry.
struct Case {
    what: &'static str,
    files: &'static [(&'static str, &'static str)],
    code: &'static str,
}

const INVALID: &str = "PimlabImportInvalid";

const CASES: &[Case] = &[
    Case { what: "no kind", files: &[("x.csv", "name,upn\nDana,dana@contoso.example\n")], code: INVALID },
    Case {
        what: "unknown column",
        files: &[("u.csv", "userPrincipalName,displayName,manager\na@b,A,\n")],
        code: INVALID,
    },
    Case { what: "repeated column", files: &[("g.csv", "displayName,ID,id\nG,,\n")], code: INVALID },
    Case {
        what: "missing column",
        files: &[("r.csv", "principal,role\ndana,Helpdesk Administrator\n")],
        code: INVALID,
    },
    Case {
        what: "field count",
        files: &[("m.csv", "group,member\nNight Shift,dana,owner\n")],
        code: INVALID,
    },
    Case {
        what: "required value",
        files: &[("u.csv", "userPrincipalName,displayName\nnew@contoso.example, \n")],
        code: INVALID,
    },
    Case {
        what: "upn form",
        files: &[("u.csv", "userPrincipalName,displayName\nnobody,No Body\n")],
        code: INVALID,
    },
    Case {
        what: "too long",
        files: &[("u.csv", "userPrincipalName,displayName\nlong@contoso.example,LONG\n")],
        code: INVALID,
    },
    Case { what: "guid", files: &[("g.csv", "displayName,id\nG,12345\n")], code: INVALID },
    Case { what: "flag", files: &[("g.csv", "displayName,isAssignableToRole\nG,maybe\n")], code: INVALID },
    Case {
        what: "relation",
        files: &[("m.csv", "group,member,relation\nHelpdesk Tier 1,alice,boss\n")],
        code: INVALID,
    },
    Case {
        what: "type",
        files: &[("r.csv", "principal,role,type\nalice,Helpdesk Administrator,permanent\n")],
        code: INVALID,
    },
    Case {
        what: "duration",
        files: &[("r.csv", "principal,role,type,duration\nalice,Helpdesk Administrator,eligible,soon\n")],
        code: INVALID,
    },
    Case {
        what: "time",
        files: &[("r.csv", "principal,role,type,start\nalice,Helpdesk Administrator,eligible,tomorrow\n")],
        code: INVALID,
    },
    Case {
        what: "two ends",
        files: &[(
            "r.csv",
            "principal,role,type,end,duration\nalice,Helpdesk Administrator,eligible,2025-03-01T00:00:00Z,P1D\n",
        )],
        code: INVALID,
    },
    Case {
        what: "scope and group",
        files: &[("r.csv", "principal,role,type,scope,group\nalice,member,eligible,/,Helpdesk Tier 1\n")],
        code: INVALID,
    },
    Case {
        what: "duplicate upn in a file",
        files: &[(
            "u.csv",
            "userPrincipalName,displayName\nnew@contoso.example,New\nNEW@contoso.example,New Again\n",
        )],
        code: INVALID,
    },
    Case {
        what: "upn the tenant has",
        files: &[("u.csv", "userPrincipalName,displayName\nalice@contoso.example,Alice Again\n")],
        code: INVALID,
    },
    Case {
        what: "id in two files",
        files: &[
            (
                "u.csv",
                "userPrincipalName,displayName,id\nnew@contoso.example,New,00000000-0000-0000-0000-0000000000aa\n",
            ),
            ("g.csv", "displayName,id\nNew Group,00000000-0000-0000-0000-0000000000AA\n"),
        ],
        code: INVALID,
    },
    Case {
        what: "group nowhere",
        files: &[
            ("u.csv", "userPrincipalName,displayName\nnew@contoso.example,New\n"),
            ("m.csv", "group,member\nGhost Team,new@contoso.example\n"),
        ],
        code: INVALID,
    },
    Case {
        what: "ambiguous",
        files: &[
            ("g.csv", "displayName\nHelpdesk Tier 1\n"),
            ("m.csv", "group,member\nHelpdesk Tier 1,alice\n"),
        ],
        code: INVALID,
    },
    Case { what: "wrong kind", files: &[("m.csv", "group,member\nalice,ben\n")], code: INVALID },
    Case {
        what: "duplicate membership",
        files: &[("m.csv", "group,member\nHelpdesk Tier 1,ben\nhelpdesk tier 1,ben@contoso.example\n")],
        code: INVALID,
    },
    Case {
        what: "role nowhere",
        files: &[("r.csv", "principal,role,type,justification\nalice,Chief Fun Officer,eligible,x\n")],
        code: "RoleNotFound",
    },
    Case {
        what: "policy refuses",
        files: &[
            ("u.csv", "userPrincipalName,displayName\nnew@contoso.example,New\n"),
            ("r.csv", "principal,role,type\nnew@contoso.example,User Administrator,active\n"),
        ],
        code: "RoleAssignmentRequestPolicyValidationFailed",
    },
    Case {
        what: "membership the tenant has",
        files: &[("m.csv", "group,member\nTier-0 Admins,alice\n")],
        code: "Request_BadRequest",
    },
    Case {
        what: "group the engine refuses",
        files: &[("g.csv", "displayName,isAssignableToRole,securityEnabled\nLoose,true,false\n")],
        code: "BadRequest",
    },
];

#[test]
fn every_class_of_error_names_the_line_and_column_and_imports_nothing() {
    let mut texts = String::new();
    for case in CASES {
        let lab = Lab::demo();
        let mut args = vec!["import".to_string()];
        for (name, text) in case.files {
            let text = text.replace("LONG", &"x".repeat(300));
            std::fs::write(lab.path(name), text).unwrap();
            args.push(name.to_string());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = lab.fails_unchanged(&args);
        assert_eq!(run.stdout, "", "{}: a refused import printed a summary{run}", case.what);
        assert!(run.stderr.starts_with(&format!("error: {} ", case.code)), "{}: wrong code{run}", case.what);
        assert!(run.stderr.contains(".csv: line "), "{}: no file and line{run}", case.what);
        writeln!(texts, "# {}\n{}", case.what, run.stderr).unwrap();
    }
    insta::assert_snapshot!("csv_import_errors", texts);
}

#[test]
fn a_header_without_rows_imports_nothing_and_says_so() {
    let lab = Lab::demo();
    std::fs::write(lab.path("empty.csv"), "\u{feff}principal,role,type\r\n").unwrap();
    let before = lab.dump();
    let run = lab.run(&["import", "empty.csv"]).ok();
    assert_eq!(run.stdout, "1 file(s): imported\n  nothing\n");
    assert_eq!(lab.dump(), before);
}

#[test]
fn ten_thousand_users_import() {
    let lab = Lab::demo();
    let mut users = String::from("userPrincipalName,displayName\n");
    for i in 0..10_000 {
        writeln!(users, "user{i:05}@contoso.example,User {i:05}").unwrap();
    }
    std::fs::write(lab.path("users.csv"), users).unwrap();
    let before = lab.run(&["--json", "user", "list"]).ok().listing().len();
    lab.run(&["import", "users.csv"]).ok().out_has("users  10000");
    let after = lab.run(&["--json", "user", "list"]).ok().listing();
    assert_eq!(after.len(), before + 10_000);
    assert!(after.iter().any(|u| u["userPrincipalName"] == "user09999@contoso.example"));
}

#[test]
fn piped_output_has_no_progress_bar() {
    let lab = lab_with_files();
    let mut args = vec!["import"];
    args.extend(FILES);
    // `ok` requires an empty stderr: no bar, no escape sequences, nothing but the summary.
    let run = lab.run(&args).ok();
    assert!(!run.stdout.contains('\u{1b}'), "control sequences on a pipe{run}");
}

/// On a terminal (a pseudo-terminal made by util-linux's `script`), the bar is drawn on standard
/// error, phase by phase, and cleared; the summary still follows.
#[test]
fn a_terminal_gets_a_progress_bar() {
    let lab = lab_with_files();
    let command =
        format!("{} --db {} import {}", crate::harness::cli::BIN, lab.db.display(), FILES.join(" "));
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(lab.dir.path())
        .env_remove("PIMLAB_DB")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("util-linux's script runs");
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{screen}");
    for phase in ["users [", "groups [", "memberships [", "role assignments ["] {
        assert!(screen.contains(phase), "no bar for {phase:?} in {screen:?}");
    }
    assert!(screen.contains("\u{1b}[2K"), "the bar is never cleared: {screen:?}");
    assert!(screen.contains("4 file(s): imported"), "{screen:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any text at all: read, or refused as an invalid import naming the file; never a panic.
    #[test]
    fn random_text_is_read_or_refused_never_a_panic(text in "[a-zA-Z0-9 ,\"\n\r@:.\u{feff}é-]{0,200}") {
        check(&text);
    }

    /// A real header with random cells: the checks of every column meet arbitrary values.
    #[test]
    fn random_cells_under_real_headers_are_read_or_refused(
        header in prop::sample::select(vec![
            "userPrincipalName,displayName,id,mail,accountEnabled",
            "displayName,id,description,isAssignableToRole,securityEnabled,mailEnabled",
            "group,member,relation",
            "principal,role,type,scope,group,start,duration,end,permanent,justification,ticket",
        ]),
        rows in prop::collection::vec(
            prop::collection::vec("[a-zA-Z0-9@:.\\-/ ]{0,12}|true|P1D|eligible|owner|2025-01-01T00:00:00Z", 1..12),
            0..5,
        ),
    ) {
        let mut text = format!("{header}\n");
        for row in rows {
            text.push_str(&row.join(","));
            text.push('\n');
        }
        check(&text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Random rows naming the demonstration tenant's objects and roles, through the whole import
    /// (a dry run on an in-memory store): it succeeds, or refuses with an error a user caused
    /// (below 500) that names the file and line; never a panic, never an internal error.
    #[test]
    fn random_rows_import_or_are_refused_with_their_line(
        kind in 0usize..4,
        rows in prop::collection::vec(
            prop::collection::vec(
                prop::sample::select(vec![
                    "alice", "ben", "Helpdesk Tier 1", "Tier-0 Admins", "Europe", "Global Administrator",
                    "User Administrator", "member", "owner", "eligible", "active", "P1D", "PT8H", "true",
                    "new@contoso.example", "New", "/", "Contoso Development", "", "x@y", "00000000-0000-0000-0000-0000000000ab",
                ]),
                2..7,
            ),
            0..6,
        ),
    ) {
        let headers = [
            "userPrincipalName,displayName,accountEnabled",
            "displayName,isAssignableToRole",
            "group,member,relation",
            "principal,role,type,scope,duration,justification",
        ];
        let width = headers[kind].split(',').count();
        let mut text = format!("{}\n", headers[kind]);
        for row in rows {
            let cells: Vec<&str> = (0..width).map(|i| row.get(i).copied().unwrap_or("")).collect();
            text.push_str(&cells.join(","));
            text.push('\n');
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("random.csv");
        std::fs::write(&path, &text).unwrap();
        let mut engine = pimlab::engine::Engine::in_memory().unwrap();
        engine.init(&pimlab::engine::InitOptions { demo: true, ..Default::default() }).unwrap();
        let admin = pimlab::engine::Session::new(engine.default_caller().unwrap());
        let paths = vec![path.clone()];
        let options = pimlab::exchange::import::ImportOptions {
            paths: &paths,
            dry_run: true,
            progress: &pimlab::exchange::NoProgress,
        };
        let mut out = Vec::new();
        if let Err(e) = pimlab::exchange::import::run(&mut engine, &admin, &options, &mut out) {
            prop_assert!(e.status < 500, "{e}\n{text}");
            let head = format!("{}: line ", path.display());
            prop_assert!(e.message.starts_with(&head), "{e}\n{text}");
        }
    }
}

fn check(text: &str) {
    let path = std::path::Path::new("random.csv");
    match pimlab::exchange::import::csv::parse(path, text) {
        Ok(_) => {}
        Err(e) => {
            assert_eq!(e.code, pimlab::model::ErrorCode::PimlabImportInvalid, "{e}");
            assert!(e.message.starts_with("random.csv: line "), "{e}");
        }
    }
}

/// A CSV import is the first command of a new store: the store gets its tenant as any new store
/// does, then the rows (it used to fail with `StoreNotInitialized`, the tenant never made).
#[test]
fn a_csv_import_into_a_new_store_makes_its_tenant_first() {
    let lab = Lab::empty();
    let users = lab.path("users.csv");
    std::fs::write(&users, "userPrincipalName,displayName\nerik@contoso.example,Erik Eriksen\n").unwrap();
    let roles = lab.path("roles.csv");
    std::fs::write(&roles, "principal,role,type,duration\nerik,User Administrator,eligible,P30D\n").unwrap();
    let run = lab.run(&["import", users.to_str().unwrap(), roles.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("2 file(s): imported"), "{run}");
    lab.run(&["eligible", "list", "--principal", "erik"]).ok().out_has("User Administrator");
    lab.run(&["user", "show", "breakglass"]).ok();
}
