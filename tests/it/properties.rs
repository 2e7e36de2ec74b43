//! `check` and `fuzz`: properties over time. `check` on a scenario with a known answer (a fifth
//! Global Administrator appears two hours in, through a role-assignable group), a property that
//! holds, one that errors, one that never ends; `fuzz` finding a planted violation with a fixed
//! seed, shrinking it to a short script that `pimlab run` replays on a copy of the store, the same
//! output for the same seed, and the original store untouched.

use crate::harness::cli::Lab;

/// At most four people may hold Global Administrator; the break-glass account always does.
const GA_PROPS: &str = r#"
property("at most 4 Global Administrators", function(t)
  local holders = t.principals("Global Administrator")
  return #holders <= 4, #holders .. " hold it: " .. table.concat(holders, ", ")
end)
property("the break-glass account always holds Global Administrator", function(t)
  return t.holds("breakglass@contoso.example", "Global Administrator")
end)
"#;

/// The demo organisation (clock 2025-01-06T09:00Z, the break-glass account holds Global
/// Administrator) and: farid, grace and ben made active Global Administrators at 09:00 (four
/// holders); at 10:00 "GA Team", a role-assignable group with dave; at 11:00 GA Team made an active
/// Global Administrator: dave is the fifth, through the group.
fn five_admins() -> Lab {
    let lab = Lab::demo();
    for who in ["farid", "grace", "ben"] {
        lab.run(&[
            "active",
            "assign",
            "-p",
            who,
            "-r",
            "Global Administrator",
            "--duration",
            "P30D",
            "-j",
            "ops",
        ])
        .ok();
    }
    lab.run(&["clock", "advance", "PT1H"]).ok();
    lab.run(&["user", "add", "dave"]).ok();
    lab.run(&["group", "add", "GA Team", "--role-assignable"]).ok();
    lab.run(&["group", "add-member", "GA Team", "dave"]).ok();
    lab.run(&["clock", "advance", "PT1H"]).ok();
    lab.run(&[
        "active",
        "assign",
        "-p",
        "GA Team",
        "-r",
        "Global Administrator",
        "--duration",
        "P1D",
        "-j",
        "team",
    ])
    .ok();
    lab
}

#[test]
fn a_fifth_global_administrator_through_a_group_breaks_the_property_at_its_instant() {
    let lab = five_admins();
    let props = lab.file("ga", GA_PROPS);
    let run = lab.run(&["--json", "check", &props]);
    assert_eq!(run.code, 1, "a violated property exits 1{run}");
    let report = run.json();
    let first = &report["properties"][0];
    assert_eq!(first["status"], "violated");
    assert_eq!(first["at"], "2025-01-06T11:00:00Z", "when GA Team got the role");
    assert!(first["message"].as_str().unwrap().contains("dave@contoso.example"), "{first}");
    let events = first["events"].as_array().unwrap();
    assert!(
        events.iter().any(|e| e["what"] == "assignment starts"
            && e["targets"][0] == "Global Administrator"
            && e["targets"][1] == "GA Team"
            && e["at"] == "2025-01-06T11:00:00Z"),
        "the group's assignment starting is among the events: {events:?}"
    );
    assert!(
        events.iter().any(|e| e["actor"] == "breakglass@contoso.example" && e["requestId"].is_string()),
        "who did it: {events:?}"
    );
    let second = &report["properties"][1];
    assert_eq!(second["status"], "held");
    assert_eq!(second["judged"], report["instants"], "held at every instant");
    // One instant earlier (10:00) four held it: the property held until 11:00.
    let before = lab.file(
        "four",
        r#"property("four at 10:00", function(t)
             if t.now == "2025-01-06T10:00:00Z" then return #t.principals("Global Administrator") == 4 end
             return true
           end)"#,
    );
    lab.run(&["check", &before]).ok().out_has("held      four at 10:00");
}

#[test]
fn check_tells_the_story_and_gives_typed_json() {
    let lab = five_admins();
    let props = lab.file("ga", GA_PROPS);
    let text = lab.run(&["check", &props]);
    assert_eq!(text.code, 1);
    insta::assert_snapshot!("check_five_admins", text.stdout);
    insta::assert_json_snapshot!("check_five_admins_json", lab.run(&["--json", "check", &props]).json());
}

#[test]
fn a_property_that_errors_or_never_ends_is_reported_not_a_crash() {
    let lab = Lab::demo();
    let props = lab.file(
        "bad",
        "property(\"asks about no role\", function(t) return #t.holders(\"No Such Role\") == 0 end)\n\
         property(\"never ends\", function(t)\n  while true do end\nend)\n\
         property(\"forgets to return\", function(t) local x = 1 end)\n\
         property(\"still judged\", function(t) return true end)\n",
    );
    let run = lab.run(&["--json", "check", &props]);
    assert_eq!(run.code, 1, "{run}");
    let p = run.json()["properties"].clone();
    assert_eq!(p[0]["status"], "failed");
    assert!(p[0]["message"].as_str().unwrap().contains("No Such Role"), "{}", p[0]);
    assert_eq!(p[0]["judged"], 1, "at the first instant");
    assert_eq!(p[1]["status"], "failed");
    let spent = p[1]["message"].as_str().unwrap();
    assert!(spent.contains("instruction budget exhausted") && spent.contains("bad.lua:3"), "{spent}");
    assert!(p[2]["message"].as_str().unwrap().contains("returned nothing"), "{}", p[2]);
    assert_eq!(p[3]["status"], "held", "the others are still judged");
}

#[test]
fn a_property_file_that_does_not_load_is_refused_and_changes_nothing() {
    let lab = Lab::demo();
    let broken = lab.file("broken", "property(\"x\", function(t)\n  return = 1\nend)\n");
    let run = lab.fails_unchanged(&["check", &broken]);
    assert!(run.stderr.contains("PimlabPropertiesInvalid") && run.stderr.contains("broken.lua:2"), "{run}");
    let empty = lab.file("empty", "local x = 1\n");
    assert!(lab.fails_unchanged(&["check", &empty]).stderr.contains("declares no property"));
    lab.fails_unchanged(&["check", "missing.lua"]).usage();
    lab.fails_unchanged(&["fuzz", "--props", &empty, "--steps", "10001"]).usage();
    // A script cannot read a property file.
    let script =
        lab.file("script", "pim.expect_error(\"Usage\", function() pim.run(\"check broken.lua\") end)\n");
    lab.run(&["run", &script]).ok().out_has("ok - fails with Usage");
}

/// Only the break-glass account may hold Global Administrator: any second holder breaks it.
const PLANTED: &str = r#"
property("only the break-glass account holds Global Administrator", function(t)
  local holders = t.principals("Global Administrator")
  return #holders <= 1, table.concat(holders, ", ")
end)
"#;

#[test]
fn fuzz_finds_a_planted_violation_and_shrinks_it_to_a_script_run_replays() {
    let lab = Lab::demo();
    let props = lab.file("planted", PLANTED);
    let before = lab.dump();
    let run = lab.run(&["--json", "fuzz", "--seed", "3", "--steps", "100", "--props", &props]);
    assert_eq!(run.code, 1, "a violation exits 1{run}");
    assert_eq!(lab.dump(), before, "fuzz works on a copy: the store is unchanged");
    let report = run.json();
    let v = &report["violation"];
    assert_eq!(v["status"], "violated");
    let taken = report["taken"].as_u64().unwrap();
    let shrunk = v["shrunk"].as_array().unwrap();
    assert!(!shrunk.is_empty() && shrunk.len() <= 3, "shrunk to a few steps: {shrunk:?}");
    assert!((shrunk.len() as u64) < taken, "shorter than the {taken} steps taken");
    let script = v["script"].as_str().unwrap();
    let path = lab.path("repro.lua");
    std::fs::write(&path, script).unwrap();
    let copy = lab.path("copy.db");
    std::fs::copy(&lab.db, &copy).unwrap();
    let replay = crate::harness::cli::run_on(lab.dir.path(), &copy, &["run", &path.display().to_string()]);
    assert_eq!(replay.code, 1, "the script fails{replay}");
    assert!(
        replay
            .stdout
            .contains("FAIL - property only the break-glass account holds Global Administrator holds"),
        "{replay}"
    );
    assert!(replay.stdout.contains("0 passed, 1 failed"), "{replay}");
    assert_eq!(lab.dump(), before, "the replay ran on the copy");
}

#[test]
fn fuzz_is_deterministic_for_a_seed_and_reports_properties_that_hold() {
    let lab = Lab::demo();
    let props = lab.file("planted", PLANTED);
    let args = ["fuzz", "--seed", "3", "--steps", "100", "--props", &props];
    let first = lab.run(&args);
    let second = lab.run(&args);
    assert_eq!(first.stdout, second.stdout, "the same seed gives the same run");
    insta::assert_snapshot!("fuzz_planted", first.stdout);
    let holds = lab.file("holds", "property(\"the break-glass account holds it\", function(t) return t.holds(\"breakglass\", \"Global Administrator\") end)\n");
    let run = lab.run(&["--json", "fuzz", "--seed", "5", "--steps", "40", "--props", &holds]).ok();
    let report = run.json();
    assert_eq!(report["taken"], 40);
    assert!(report["violation"].is_null(), "{report}");
}
