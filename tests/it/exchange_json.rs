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

const PROD: &str = "/subscriptions/8a1f3c52-6d0e-4b7a-9c21-5e4d3f2a1b00";
const OPERATOR: &str = "7d3c2b1a-0f9e-4d8c-b7a6-5e4f3a2b1c0d";

/// The demo organisation and everything else a tenant can hold: a custom directory role with an
/// eligibility, an eligibility at an administrative unit, a custom Azure role eligible at a
/// resource group, an Azure eligibility, activation and changed setting, PIM for Groups (an
/// eligible member who activated, an active owner, a member both outside PIM and through it, a
/// changed group policy), an application's
/// permissions (application and delegated), an active assignment with an end date, and a clock
/// advance.
fn rich() -> Lab {
    let lab = Lab::demo();
    let body = serde_json::json!({"properties": {
        "roleName": "VM Operator", "description": "Starts and restarts virtual machines.", "type": "CustomRole",
        "permissions": [{"actions": ["Microsoft.Compute/virtualMachines/*"], "notActions": ["Microsoft.Compute/virtualMachines/delete"]}],
        "assignableScopes": [PROD],
    }});
    let define = format!(
        "arm PUT {PROD}/providers/Microsoft.Authorization/roleDefinitions/{OPERATOR}?api-version=2022-04-01 --body '{body}'"
    );
    for line in [
        "group add 'Security Desk' --role-assignable",
        "role add 'Helpdesk Lite' --action microsoft.directory/users/basic/update",
        "eligible assign -p ben -r 'Helpdesk Lite' --duration P60D -j rota",
        "eligible assign -p dev -r 'User Administrator' --scope Europe --duration P30D -j au",
        &define,
        "eligible assign -p alice -r 'VM Operator' --scope rg-prod-data --duration P30D -j vm",
        "eligible assign -p alice -r Owner --scope 'Contoso Production' --duration P90D -j 'On call'",
        "--as alice activate -r Owner --scope rg-prod-data --duration PT2H -j keys",
        "policy set Owner --scope 'Contoso Production' --require-approval true --approver kenji",
        "eligible assign -p ben --group 'Security Desk' --access member --duration P90D -j rota",
        "active assign -p alice --group 'Security Desk' --access owner --duration P30D -j owner",
        "--as ben activate --group 'Security Desk' --access member --duration PT2H -j 'Alert 7731'",
        "group add-member 'Security Desk' kenji",
        "active assign -p kenji --group 'Security Desk' --access member --duration PT2H -j 'also outside PIM'",
        "policy set member --group 'Security Desk' --activation-max PT4H",
        "app grant 'Nightly Sync Automation' RoleManagement.Read.Directory --application",
        "app grant 'Nightly Sync Automation' RoleManagement.Read.Directory",
        "app grant 'Nightly Sync Automation' PrivilegedAccess.Read.AzureADGroup",
        "active assign -p chloe -r 'Reports Reader' --duration P10D -j audit",
        "clock advance PT1H",
    ] {
        let args = words(line);
        answer(&lab, &args.iter().map(String::as_str).collect::<Vec<_>>());
    }
    lab
}

/// What a command that must succeed printed, with the HTTP status `graph` and `arm` print on
/// stderr.
#[track_caller]
fn answer(lab: &Lab, args: &[&str]) -> String {
    let run = lab.run(args);
    assert_eq!(run.code, 0, "{run}");
    format!("{}{}", run.stdout, run.stderr)
}

/// A command line's words: split at spaces, a 'quoted' part kept whole.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, part) in line.split('\'').enumerate() {
        if i % 2 == 1 {
            out.push(part.to_string());
        } else {
            out.extend(part.split_whitespace().map(str::to_string));
        }
    }
    out
}

/// Graph reads whose answers must be the same in both stores.
fn graph_gets(desk: &str) -> Vec<String> {
    let group = "/identityGovernance/privilegedAccess/group";
    let mut gets: Vec<String> = [
        "/users",
        "/groups?$expand=members,owners",
        "/roleManagement/directory/roleDefinitions",
        "/roleManagement/directory/roleEligibilitySchedules",
        "/roleManagement/directory/roleAssignmentSchedules",
        "/roleManagement/directory/roleAssignmentScheduleInstances",
        "/roleManagement/directory/roleEligibilityScheduleInstances",
        "/roleManagement/directory/roleAssignments",
    ]
    .iter()
    .map(|g| g.to_string())
    .collect();
    for list in [
        "eligibilitySchedules",
        "assignmentSchedules",
        "assignmentScheduleInstances",
        "eligibilityScheduleInstances",
    ] {
        gets.push(format!("{group}/{list}?$filter=groupId eq '{desk}'"));
    }
    gets.push(format!("/groups/{desk}/members"));
    gets.push(format!("/groups/{desk}/owners"));
    gets.push(format!(
        "/policies/roleManagementPolicyAssignments?$filter=scopeId eq '{desk}' and scopeType eq 'Group'&$expand=policy($expand=rules)"
    ));
    gets
}

/// ARM reads whose answers must be the same in both stores.
fn arm_gets() -> Vec<String> {
    let rg = format!("{PROD}/resourceGroups/rg-prod-data");
    let mut gets = vec![
        "/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01&$filter=type eq 'CustomRole'"
            .to_string(),
        format!("{PROD}/providers/Microsoft.Authorization/roleDefinitions/{OPERATOR}?api-version=2022-04-01"),
    ];
    for scope in [PROD, rg.as_str()] {
        for list in [
            "roleEligibilitySchedules",
            "roleAssignmentSchedules",
            "roleAssignmentScheduleInstances",
            "roleManagementPolicies",
        ] {
            gets.push(format!("{scope}/providers/Microsoft.Authorization/{list}?api-version=2020-10-01"));
        }
        gets.push(format!(
            "{scope}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01"
        ));
    }
    gets
}

/// The two stores answer every read the same.
fn same_state(lab: &Lab, copy: &Lab, when: &str) {
    let desk = lab.object_id("group", "Security Desk");
    for get in graph_gets(&desk) {
        let args = ["graph", "GET", get.as_str()];
        assert_eq!(answer(lab, &args), answer(copy, &args), "{when}: GET {get}");
    }
    for get in arm_gets() {
        let args = ["arm", "GET", get.as_str()];
        assert_eq!(answer(lab, &args), answer(copy, &args), "{when}: ARM GET {get}");
    }
    for args in
        [&["group", "members", "Security Desk"][..], &["export"], &["app", "show", "Nightly Sync Automation"]]
    {
        assert_eq!(answer(lab, args), answer(copy, args), "{when}: {args:?}");
    }
}

/// Exports the lab's tenant into the folder `name` beside its store; returns the folder's path.
fn export_to(lab: &Lab, name: &str) -> String {
    let dir = lab.path(name).to_str().unwrap().to_string();
    lab.run(&["export", "--format", "json", "--out", &dir]).ok();
    dir
}

#[test]
fn a_full_export_imported_into_a_new_store_exports_the_same_bytes() {
    let lab = rich();
    let a = export_to(&lab, "A");
    let copy = Lab::empty();
    copy.run(&["import", &a])
        .ok()
        .out_has("users created")
        .out_has("group eligibility schedules created  1")
        .out_has("group assignment schedules created   3")
        .out_has("custom Azure roles created           1")
        .out_lacks("not imported");
    export_to(&copy, "B");
    assert_eq!(folder(&lab, "A"), folder(&copy, "B"), "export, import, export changed the files");
    same_state(&lab, &copy, "after the import");
    // An active group assignment is the membership, not a second one added outside PIM: when the
    // activations end, the member leaves in both stores; the Azure activation ends too.
    for l in [&lab, &copy] {
        l.run(&["clock", "advance", "PT2H"]).ok();
    }
    // Kenji was a member outside PIM too (the lists show him once; pimlab-tenant.json says so).
    let members = lab.run(&["group", "members", "Security Desk"]).ok();
    members.out_has("kenji@").out_lacks("ben@");
    same_state(&lab, &copy, "after the activations ended");
    // The same export imported later brings back none of what has ended since.
    copy.run(&["import", &a]).ok().out_lacks(" created");
    same_state(&lab, &copy, "after the older export was imported again");
}

#[test]
fn importing_the_same_export_again_changes_nothing() {
    let lab = rich();
    let a = export_to(&lab, "A");
    let copy = Lab::empty();
    copy.run(&["import", &a]).ok();
    let before = copy.dump();
    copy.run(&["import", &a])
        .ok()
        .out_has("Azure role settings unchanged")
        .out_has("group assignment schedules unchanged")
        .out_has("custom Azure roles unchanged")
        .out_lacks(" created")
        .out_lacks(" updated");
    assert_eq!(before, copy.dump(), "an identical import wrote to the store");
    export_to(&copy, "C");
    assert_eq!(folder(&lab, "A"), folder(&copy, "C"), "a second import changed the export");
    // Into the store it came from, too: what the wire does not show is kept as the store has it.
    let before = lab.dump();
    lab.run(&["import", &a]).ok().out_lacks(" created").out_lacks(" updated");
    assert_eq!(before, lab.dump(), "importing its own export wrote to the store");
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

/// Writes `name` beside the lab's store; returns its path.
fn json_file(lab: &Lab, name: &str, text: &str) -> String {
    std::fs::write(lab.path(name), text).unwrap();
    lab.path(name).to_str().unwrap().to_string()
}

/// A PIM for Groups assignment schedule as the group API lists it.
fn group_assignment(group: &str, principal: &str, duration: &str) -> String {
    serde_json::json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#identityGovernance/privilegedAccess/group/assignmentSchedules",
        "value": [{
            "@odata.type": "#microsoft.graph.privilegedAccessGroupAssignmentSchedule",
            "id": format!("{group}_member_5b0c1d2e-3f4a-4b5c-8d6e-7f8091a2b3c4"),
            "scheduleInfo": {"startDateTime": "2025-01-06T09:00:00Z", "expiration": {"type": "afterDuration", "duration": duration}},
            "createdUsing": "5b0c1d2e-3f4a-4b5c-8d6e-7f8091a2b3c4",
            "status": "Provisioned", "principalId": principal, "accessId": "member", "groupId": group,
            "memberType": "direct", "assignmentType": "assigned",
        }],
    })
    .to_string()
}

#[test]
fn an_imported_active_group_assignment_is_the_membership_for_exactly_its_window() {
    let lab = Lab::demo();
    let (group, ben) = (lab.object_id("group", "PIM Approvers"), lab.user_id("ben"));
    let file = json_file(&lab, "group.json", &group_assignment(&group, &ben, "PT2H"));
    lab.run(&["import", &file]).ok().out_has("group assignment schedules created  1");
    lab.run(&["group", "members", "PIM Approvers"]).ok().out_has("ben@contoso.example");
    let schedule = format!(
        "/identityGovernance/privilegedAccess/group/assignmentSchedules/{group}_member_5b0c1d2e-3f4a-4b5c-8d6e-7f8091a2b3c4"
    );
    assert_eq!(lab.run(&["graph", "GET", &schedule]).json()["principalId"], ben.as_str());
    lab.run(&["clock", "advance", "PT3H"]).ok();
    lab.run(&["group", "members", "PIM Approvers"]).ok().out_lacks("ben@contoso.example");
}

#[test]
fn group_schedules_and_azure_roles_that_cannot_be_placed_are_refused_by_file_item_and_field() {
    let lab = Lab::demo();
    let (alice, ben) = (lab.user_id("alice"), lab.user_id("ben"));
    let file = json_file(&lab, "not-a-group.json", &group_assignment(&alice, &ben, "PT2H"));
    lab.fails_unchanged(&["import", &file]).err_has("not-a-group.json: item 0: groupId").err_has(&alice);
    let file = json_file(
        &lab,
        "bad-access.json",
        &group_assignment(&lab.object_id("group", "PIM Approvers"), &ben, "PT2H")
            .replace("\"accessId\":\"member\"", "\"accessId\":\"guest\""),
    );
    lab.fails_unchanged(&["import", &file]).err_has("bad-access.json: item 0: accessId: 'guest'");
    let role = |name: &str, role_name: &str| {
        serde_json::json!({"value": [{
            "type": "Microsoft.Authorization/roleDefinitions", "name": name,
            "id": format!("/providers/Microsoft.Authorization/roleDefinitions/{name}"),
            "properties": {"roleName": role_name, "type": "CustomRole", "description": "",
                "permissions": [{"actions": ["*/read"], "condition": null}], "assignableScopes": [PROD]},
        }]})
        .to_string()
    };
    let file = json_file(&lab, "taken.json", &role(OPERATOR, "Owner"));
    lab.fails_unchanged(&["import", &file])
        .err_has("taken.json: item 0: name")
        .err_has("already named 'Owner'");
    let owner = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
    let file = json_file(&lab, "builtin.json", &role(owner, "My Owner"));
    lab.fails_unchanged(&["import", &file]).err_has("builtin.json: item 0").err_has(owner);
    // A well-formed one (with a property pimlab does not model) is imported with its id.
    let file = json_file(&lab, "operator.json", &role(OPERATOR, "VM Operator"));
    lab.run(&["import", &file]).ok().out_has("custom Azure roles created  1");
    lab.run(&["clock", "advance", "PT1H"]).ok();
    lab.run(&["import", &file]).ok().out_has("custom Azure roles unchanged  1");
    let path =
        format!("{PROD}/providers/Microsoft.Authorization/roleDefinitions/{OPERATOR}?api-version=2022-04-01");
    assert_eq!(lab.run(&["arm", "GET", &path]).json()["properties"]["roleName"], "VM Operator");
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
        /// Random small tenants (seed, users, eligibilities, PIM for Groups, the clock) round-trip,
        /// and their groups have the same members.
        #[test]
        fn random_tenants_round_trip(seed in 1u32..1000, users in 1usize..4, eligible in proptest::bool::ANY, groups in proptest::bool::ANY) {
            let lab = Lab::empty();
            lab.run(&["init", "--seed", &seed.to_string()]).ok();
            lab.run(&["group", "add", "Desk"]).ok();
            for i in 0..users {
                let user = format!("User {i}");
                lab.run(&["user", "add", &user]).ok();
                if eligible {
                    lab.run(&["eligible", "assign", "-p", &user, "-r", "Security Reader", "--duration", "P30D", "-j", "rota"]).ok();
                }
                if groups {
                    let (how, duration) = if i % 2 == 0 { ("active", "PT4H") } else { ("eligible", "P30D") };
                    lab.run(&[how, "assign", "-p", &user, "--group", "Desk", "--access", "member", "--duration", duration, "-j", "desk"]).ok();
                }
            }
            lab.run(&["clock", "advance", &format!("PT{}H", seed % 6)]).ok();
            let one = lab.run(&["export", "--format", "json"]).ok().stdout;
            std::fs::write(lab.path("all.json"), &one).unwrap();
            let copy = Lab::empty();
            copy.run(&["import", lab.path("all.json").to_str().unwrap()]).ok();
            prop_assert_eq!(copy.run(&["export", "--format", "json"]).ok().stdout, one);
            let members = ["group", "members", "Desk"];
            prop_assert_eq!(copy.run(&members).ok().stdout, lab.run(&members).ok().stdout);
        }
    }
}
