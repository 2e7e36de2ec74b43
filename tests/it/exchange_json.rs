//! `export --format json` and importing Graph/ARM JSON: a full export imported into a new store
//! exports the same bytes and answers the same Graph calls; real exports (other ids, annotations,
//! a BOM) are read; bad files and dangling references refuse the whole import, changing nothing.

use crate::harness::cli::Lab;

/// Every file of an export folder, by name, byte for byte.
fn folder(lab: &Lab, name: &str) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(lab.path(name))
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    files.sort();
    files
}

/// The demo organisation and more: a custom role, an eligibility with an end, an activation, a
/// changed policy, an Azure eligibility, an application permission.
fn rich() -> Lab {
    let lab = Lab::demo();
    lab.run(&["group", "add", "Security Desk", "--role-assignable"]).ok();
    lab.run(&[
        "eligible",
        "assign",
        "-p",
        "alice",
        "-r",
        "Owner",
        "--scope",
        "Contoso Production",
        "--duration",
        "P90D",
        "-j",
        "On call",
    ])
    .ok();
    lab.run(&[
        "policy",
        "set",
        "Owner",
        "--scope",
        "Contoso Production",
        "--require-approval",
        "true",
        "--approver",
        "kenji",
    ])
    .ok();
    lab.run(&["app", "grant", "Nightly Sync Automation", "RoleManagement.Read.Directory", "--application"])
        .ok();
    lab.run(&["clock", "advance", "PT3H"]).ok();
    lab
}

const GETS: &[&str] = &[
    "/users",
    "/groups?$expand=members,owners",
    "/roleManagement/directory/roleEligibilitySchedules",
    "/roleManagement/directory/roleAssignmentSchedules",
    "/roleManagement/directory/roleAssignmentScheduleInstances",
    "/roleManagement/directory/roleAssignments",
];

#[test]
fn a_full_export_imported_into_a_new_store_exports_the_same_bytes() {
    let lab = rich();
    let a = lab.path("A");
    lab.run(&["export", "--format", "json", "--out", a.to_str().unwrap()]).ok();
    let copy = Lab::empty();
    copy.run(&["import", a.to_str().unwrap()]).ok().out_has("users created");
    let b = lab.path("B");
    copy.run(&["export", "--format", "json", "--out", b.to_str().unwrap()]).ok();
    assert_eq!(folder(&lab, "A"), folder(&lab, "B"), "export, import, export changed the files");
    for get in GETS {
        assert_eq!(
            lab.run(&["graph", "GET", get]).stdout,
            copy.run(&["graph", "GET", get]).stdout,
            "GET {get}"
        );
    }
    // Importing it again creates nothing and leaves the export as it was (an Azure policy whose
    // rules ARM's spelling does not carry whole is counted as updated: see README).
    copy.run(&["import", a.to_str().unwrap()]).ok().out_lacks(" created");
    let c = lab.path("C");
    copy.run(&["export", "--format", "json", "--out", c.to_str().unwrap()]).ok();
    assert_eq!(folder(&lab, "A"), folder(&lab, "C"), "a second import changed the export");
}

#[test]
fn the_one_document_export_imports_too_and_is_deterministic() {
    let lab = rich();
    let one = lab.run(&["export", "--format", "json"]).ok();
    assert_eq!(one.stdout, lab.run(&["export", "--format", "json"]).stdout, "same store, same bytes");
    std::fs::write(lab.path("all.json"), &one.stdout).unwrap();
    let copy = Lab::empty();
    copy.run(&["import", lab.path("all.json").to_str().unwrap()]).ok();
    assert_eq!(copy.run(&["export", "--format", "json"]).stdout, one.stdout);
}

#[test]
fn export_refuses_a_folder_that_is_not_an_export() {
    let lab = Lab::demo();
    std::fs::create_dir(lab.path("notes")).unwrap();
    std::fs::write(lab.path("notes/todo.txt"), "mine").unwrap();
    lab.fails_unchanged(&["export", "--format", "json", "--out", lab.path("notes").to_str().unwrap()])
        .err_has("does not look like a previous export");
    assert_eq!(std::fs::read_to_string(lab.path("notes/todo.txt")).unwrap(), "mine");
}

#[test]
fn a_real_export_with_foreign_ids_is_imported_into_a_lab_tenant() {
    let lab = Lab::demo();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/fixtures/real-export");
    lab.run(&["import", "--dry-run", dir]).ok().out_has("would import").out_has("users created  ");
    lab.run(&["import", dir]).ok().out_has("eligibility schedules created");
    let schedules = lab
        .run(&[
            "graph",
            "GET",
            "/roleManagement/directory/roleEligibilitySchedules/9e0b7c59-8f0c-4c39-9b4a-2d0fe1a5c001",
        ])
        .json();
    assert_eq!(schedules["principalId"], "4f6d1c1e-0b7a-4b57-8f0e-6c1c3b3a0001");
    lab.run(&["graph", "GET", "/users/4f6d1c1e-0b7a-4b57-8f0e-6c1c3b3a0001"]).out_has("Rosa Real");
}

#[test]
fn a_dangling_reference_refuses_the_whole_import_naming_file_item_and_id() {
    let lab = Lab::demo();
    let path = lab.path("schedules.json");
    std::fs::write(
        &path,
        r#"{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#roleManagement/directory/roleEligibilitySchedules","value":[
        {"id":"x1","principalId":"00000000-0000-0000-0000-0000000000aa","roleDefinitionId":"62e90394-69f5-4237-9190-012177145e10","directoryScopeId":"/","memberType":"Direct","status":"Provisioned","scheduleInfo":{"startDateTime":"2025-01-01T00:00:00Z","expiration":{"type":"noExpiration"}}}]}"#,
    )
    .unwrap();
    lab.fails_unchanged(&["import", path.to_str().unwrap()])
        .err_has("schedules.json: item 0")
        .err_has("00000000-0000-0000-0000-0000000000aa");
}

#[test]
fn files_pimlab_cannot_place_or_read_are_refused_by_name() {
    let lab = Lab::demo();
    let odd = lab.path("odd.json");
    std::fs::write(&odd, r#"{"value":[{"what":"ever"}]}"#).unwrap();
    lab.fails_unchanged(&["import", odd.to_str().unwrap()]).err_has("odd.json: cannot tell which collection");
    let broken = lab.path("broken.json");
    std::fs::write(&broken, "{\"value\": [\n  {,}]}").unwrap();
    lab.fails_unchanged(&["import", broken.to_str().unwrap()]).err_has("broken.json: line 2");
    let bad_time = lab.path("users.json");
    std::fs::write(&bad_time, r#"{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users","value":[{"id":"4f6d1c1e-0b7a-4b57-8f0e-6c1c3b3a0009","displayName":"T","createdDateTime":"yesterday"}]}"#).unwrap();
    lab.fails_unchanged(&["import", bad_time.to_str().unwrap()]).err_has("item 0: createdDateTime");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]
        /// Random small tenants (seed, users, eligibilities, a policy change) round-trip.
        #[test]
        fn random_tenants_round_trip(seed in 1u32..1000, users in 1usize..4, eligible in proptest::bool::ANY) {
            let lab = Lab::empty();
            lab.run(&["init", "--seed", &seed.to_string()]).ok();
            for i in 0..users {
                lab.run(&["user", "add", &format!("User {i}")]).ok();
                if eligible {
                    lab.run(&["eligible", "assign", "-p", &format!("User {i}"), "-r", "Security Reader", "--duration", "P30D", "-j", "rota"]).ok();
                }
            }
            let one = lab.run(&["export", "--format", "json"]).ok().stdout;
            std::fs::write(lab.path("all.json"), &one).unwrap();
            let copy = Lab::empty();
            copy.run(&["import", lab.path("all.json").to_str().unwrap()]).ok();
            prop_assert_eq!(copy.run(&["export", "--format", "json"]).ok().stdout, one);
        }
    }
}
