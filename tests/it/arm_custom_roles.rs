//! Custom Azure roles (arm-pim reference §1.11): defined over ARM (`PUT roleDefinitions/{guid}`)
//! and from the command line, visible and assignable only at and below their `assignableScopes`
//! (through the estate's tree, so a management group covers its subscriptions), their own
//! settings per scope, deleted only when nobody holds them; bad definitions refused with the
//! store unchanged.

use pimlab::api::arm;
use pimlab::engine::Session;
use serde_json::{Value, json};

use crate::harness::cli;
use crate::harness::graph::{Lab, session};

const PROD: &str = "/subscriptions/8a1f3c52-6d0e-4b7a-9c21-5e4d3f2a1b00";
const MG: &str = "/providers/Microsoft.Management/managementGroups/contoso";
const RBAC: &str = "api-version=2022-04-01";
const PIM: &str = "api-version=2020-10-01";
const OPERATOR: &str = "7d3c2b1a-0f9e-4d8c-b7a6-5e4f3a2b1c0d";

fn rg() -> String {
    format!("{PROD}/resourceGroups/rg-prod-data")
}

fn handle(lab: &mut Lab, who: &Session, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let text = body.map(Value::to_string);
    let r = arm::handle(&mut lab.engine, who, method, path, text.as_deref());
    (r.status, r.body.unwrap_or(Value::Null))
}

fn definition(scope: &str, name: &str) -> String {
    format!("{scope}/providers/Microsoft.Authorization/roleDefinitions/{name}?{RBAC}")
}

fn operator_body(scopes: &[&str]) -> Value {
    json!({"name": OPERATOR, "properties": {
        "roleName": "VM Operator",
        "description": "Starts and restarts the application's virtual machines.",
        "type": "CustomRole",
        "permissions": [{
            "actions": ["Microsoft.Compute/virtualMachines/*", "Microsoft.Resources/subscriptions/resourceGroups/read"],
            "notActions": ["Microsoft.Compute/virtualMachines/delete"],
            "dataActions": [], "notDataActions": []
        }],
        "assignableScopes": scopes,
    }})
}

#[track_caller]
fn define(lab: &mut Lab, scopes: &[&str]) -> Value {
    let admin = lab.admin.clone();
    let (status, body) =
        handle(lab, &admin, "PUT", &definition(PROD, OPERATOR), Some(&operator_body(scopes)));
    assert_eq!(status, 201, "{body:#}");
    body
}

fn names(lab: &mut Lab, scope: &str, filter: &str) -> Vec<String> {
    let admin = lab.admin.clone();
    let path = format!("{scope}/providers/Microsoft.Authorization/roleDefinitions?{RBAC}{filter}");
    let (status, body) = handle(lab, &admin, "GET", &path, None);
    assert_eq!(status, 200, "{body:#}");
    body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["properties"]["roleName"].as_str().unwrap().to_string())
        .collect()
}

/// A custom role shows where it may be assigned (its scope and below), at the tenant level, and
/// with `atScopeAndBelow()` above it; nowhere else. Its definition keeps who made it and when.
#[test]
fn a_custom_role_is_defined_over_arm_and_shows_at_and_below_its_scopes() {
    let mut lab = Lab::demo_on_file();
    let admin = lab.admin.clone();
    let made = define(&mut lab, &[&rg()]);
    assert_eq!(made["properties"]["type"], "CustomRole");
    assert_eq!(made["properties"]["assignableScopes"], json!([rg()]));
    assert_eq!(made["properties"]["createdBy"], json!(admin.caller));
    assert!(made["properties"]["createdOn"].is_string());
    assert_eq!(made["name"], OPERATOR);
    let site = format!("{}/providers/Microsoft.KeyVault/vaults/kv-contoso-prod", rg());
    for (scope, filter, shown) in [
        (rg(), "", true),
        (site.clone(), "", true),
        (PROD.to_string(), "", false),
        (PROD.to_string(), "&$filter=atScopeAndBelow()", true),
        (String::new(), "", true),
        (format!("{PROD}/resourceGroups/rg-prod-app"), "", false),
    ] {
        let listed = names(&mut lab, &scope, filter).contains(&"VM Operator".to_string());
        assert_eq!(listed, shown, "at '{scope}'{filter}");
    }
    assert_eq!(names(&mut lab, &rg(), "&$filter=type eq 'CustomRole'"), ["VM Operator"]);
    let (status, _) = handle(&mut lab, &admin, "GET", &definition(&rg(), OPERATOR), None);
    assert_eq!(status, 200);
    let (status, body) = handle(&mut lab, &admin, "GET", &definition(PROD, OPERATOR), None);
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("RoleDefinitionDoesNotExist")));
    // Its own settings, at Azure's defaults, where it may be assigned.
    let path = format!(
        "{}/providers/Microsoft.Authorization/roleManagementPolicies?{PIM}&$filter=roleDefinitionId eq '{OPERATOR}'",
        rg()
    );
    let (_, policies) = handle(&mut lab, &admin, "GET", &path, None);
    assert_eq!(policies["value"].as_array().unwrap().len(), 1, "{policies:#}");
}

/// A custom role is eligible and active like a built-in one, at and below its scopes; at a scope
/// above them it does not exist (400, nothing stored). A management group among them covers the
/// subscriptions under it (the estate's tree, not the path).
#[test]
fn a_custom_role_is_assigned_only_at_and_below_its_scopes() {
    let mut lab = Lab::demo_on_file();
    let admin = lab.admin.clone();
    let alice = lab.user_id("alice");
    define(&mut lab, &[&rg()]);
    let body = |scope: &str| {
        json!({"properties": {
            "principalId": alice, "requestType": "AdminAssign",
            "roleDefinitionId": format!("{scope}/providers/Microsoft.Authorization/roleDefinitions/{OPERATOR}"),
            "scheduleInfo": {"expiration": {"type": "AfterDuration", "duration": "P30D"}},
            "justification": "Runs the app's machines",
        }})
    };
    let request = |scope: &str, name: &str| {
        format!("{scope}/providers/Microsoft.Authorization/roleEligibilityScheduleRequests/{name}?{PIM}")
    };
    let (status, made) = handle(
        &mut lab,
        &admin,
        "PUT",
        &request(&rg(), "11111111-2222-4333-8444-555555555555"),
        Some(&body(&rg())),
    );
    assert_eq!(status, 201, "{made:#}");
    assert_eq!(made["properties"]["expandedProperties"]["roleDefinition"]["type"], "CustomRole");
    assert_eq!(made["properties"]["expandedProperties"]["roleDefinition"]["displayName"], "VM Operator");
    let before = lab.dump();
    let (status, refused) = handle(
        &mut lab,
        &admin,
        "PUT",
        &request(PROD, "11111111-2222-4333-8444-666666666666"),
        Some(&body(PROD)),
    );
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (400, Some("RoleDefinitionDoesNotExist")),
        "{refused:#}"
    );
    assert!(refused.to_string().contains("can be assigned only at or below"), "{refused:#}");
    assert_eq!(lab.dump(), before);
    // Widened to the company's management group: the subscription under it is covered.
    define(&mut lab, &[MG]);
    let (status, made) = handle(
        &mut lab,
        &admin,
        "PUT",
        &request(PROD, "11111111-2222-4333-8444-777777777777"),
        Some(&body(PROD)),
    );
    assert_eq!(status, 201, "{made:#}");
}

/// A custom role that may write role assignments makes its holder an administrator of the scope.
#[test]
fn a_custom_role_that_may_assign_makes_its_holder_an_azure_administrator() {
    let mut lab = Lab::demo_on_file();
    let admin = lab.admin.clone();
    let ben = lab.user_id("ben");
    let chloe = lab.user_id("chloe");
    let mut access = operator_body(&[&rg()]);
    access["properties"]["roleName"] = json!("App Access Manager");
    access["properties"]["permissions"] =
        json!([{"actions": ["Microsoft.Authorization/roleAssignments/write", "*/read"]}]);
    let (status, body) = handle(&mut lab, &admin, "PUT", &definition(&rg(), OPERATOR), Some(&access));
    assert_eq!(status, 201, "{body:#}");
    let assign = |principal: &str, role: &str, name: &str| {
        (
            format!("{}/providers/Microsoft.Authorization/roleAssignmentScheduleRequests/{name}?{PIM}", rg()),
            json!({"properties": {
                "principalId": principal, "requestType": "AdminAssign",
                "roleDefinitionId": format!("/providers/Microsoft.Authorization/roleDefinitions/{role}"),
                "scheduleInfo": {"expiration": {"type": "AfterDuration", "duration": "P7D"}},
                "justification": "Delegation",
            }}),
        )
    };
    let (path, body) = assign(&ben, OPERATOR, "21111111-2222-4333-8444-555555555555");
    assert_eq!(handle(&mut lab, &admin, "PUT", &path, Some(&body)).0, 201);
    let reader = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
    let (path, body) = assign(&chloe, reader, "31111111-2222-4333-8444-555555555555");
    let (status, answer) = handle(&mut lab, &session(&ben), "PUT", &path, Some(&body));
    assert_eq!(status, 201, "{answer:#}");
}

/// Definitions ARM refuses: another role's name (built-in or custom), the root scope, a scope the
/// estate lacks, two management groups, a name that is not a GUID, a built-in role's id, no
/// actions, a body that cannot be read, a caller who may not define roles there. Nothing stored.
#[test]
fn bad_definitions_are_refused_and_change_nothing() {
    let mut lab = Lab::demo_on_file();
    let admin = lab.admin.clone();
    let ben = lab.user_id("ben");
    let root = format!("/providers/Microsoft.Management/managementGroups/{}", lab.tenant_id());
    define(&mut lab, &[&rg()]);
    let other = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
    let with = |change: &dyn Fn(&mut Value)| {
        let mut b = operator_body(&[&rg()]);
        b["name"] = json!(other);
        b["properties"]["roleName"] = json!("Another Role");
        change(&mut b);
        b
    };
    let before = lab.dump();
    let cases: Vec<(&str, String, Value, Session, u16, &str)> = vec![
        (
            "builtin name",
            other.into(),
            with(&|b| b["properties"]["roleName"] = json!("owner")),
            admin.clone(),
            409,
            "RoleDefinitionWithSameNameExists",
        ),
        (
            "custom name",
            other.into(),
            with(&|b| b["properties"]["roleName"] = json!("VM OPERATOR")),
            admin.clone(),
            409,
            "RoleDefinitionWithSameNameExists",
        ),
        (
            "root",
            other.into(),
            with(&|b| b["properties"]["assignableScopes"] = json!(["/"])),
            admin.clone(),
            400,
            "BadRequest",
        ),
        (
            "missing scope",
            other.into(),
            with(&|b| b["properties"]["assignableScopes"] = json!([format!("{PROD}/resourceGroups/nope")])),
            admin.clone(),
            404,
            "ResourceGroupNotFound",
        ),
        (
            "two groups",
            other.into(),
            with(&|b| b["properties"]["assignableScopes"] = json!([MG, root.clone()])),
            admin.clone(),
            400,
            "BadRequest",
        ),
        (
            "not a guid",
            "vm-operator".into(),
            with(&|b| b["name"] = json!("vm-operator")),
            admin.clone(),
            400,
            "BadRequest",
        ),
        (
            "builtin id",
            "8e3af657-a8ff-443c-a75c-2fe8c4bcb635".into(),
            with(&|b| b["name"] = json!("8e3af657-a8ff-443c-a75c-2fe8c4bcb635")),
            admin.clone(),
            400,
            "BadRequest",
        ),
        (
            "no actions",
            other.into(),
            with(&|b| b["properties"]["permissions"] = json!([{"actions": []}])),
            admin.clone(),
            400,
            "BadRequest",
        ),
        (
            "bad permissions",
            other.into(),
            with(&|b| b["properties"]["permissions"] = json!([{"actions": "x"}])),
            admin.clone(),
            400,
            "InvalidRequestContent",
        ),
        (
            "unknown field",
            other.into(),
            with(&|b| b["properties"]["permissions"] = json!([{"actions": ["a/b"], "allow": true}])),
            admin.clone(),
            400,
            "InvalidRequestContent",
        ),
        ("not an admin", other.into(), with(&|_| {}), session(&ben), 403, "AuthorizationFailed"),
    ];
    for (what, name, body, who, status, code) in cases {
        let (got, answer) = handle(&mut lab, &who, "PUT", &definition(PROD, &name), Some(&body));
        assert_eq!((got, answer["error"]["code"].as_str()), (status, Some(code)), "{what}: {answer:#}");
    }
    let r = arm::handle(&mut lab.engine, &admin, "PUT", &definition(PROD, other), Some("{\"properties\""));
    assert_eq!(r.status, 400);
    assert_eq!(lab.dump(), before, "a refused definition changed the store");
}

/// A role someone is eligible for cannot be deleted, nor narrowed away from where it is held
/// (409 `RoleDefinitionHasAssignments`); once the eligibility is removed it can (200 with the
/// definition), and a second delete finds nothing (204).
#[test]
fn a_custom_role_in_use_is_neither_deleted_nor_narrowed() {
    let mut lab = Lab::demo_on_file();
    let admin = lab.admin.clone();
    let alice = lab.user_id("alice");
    define(&mut lab, &[&rg()]);
    let eligibility = |kind: &str| {
        json!({"properties": {
            "principalId": alice, "requestType": kind,
            "roleDefinitionId": format!("/providers/Microsoft.Authorization/roleDefinitions/{OPERATOR}"),
            "scheduleInfo": {"expiration": {"type": "AfterDuration", "duration": "P30D"}},
            "justification": "Runs the app's machines",
        }})
    };
    let path = |name: &str| {
        format!("{}/providers/Microsoft.Authorization/roleEligibilityScheduleRequests/{name}?{PIM}", rg())
    };
    assert_eq!(
        handle(
            &mut lab,
            &admin,
            "PUT",
            &path("41111111-2222-4333-8444-555555555555"),
            Some(&eligibility("AdminAssign"))
        )
        .0,
        201
    );
    let before = lab.dump();
    let (status, answer) = handle(&mut lab, &admin, "DELETE", &definition(PROD, OPERATOR), None);
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (409, Some("RoleDefinitionHasAssignments")),
        "{answer:#}"
    );
    let (status, answer) = handle(
        &mut lab,
        &admin,
        "PUT",
        &definition(PROD, OPERATOR),
        Some(&operator_body(&[&format!("{PROD}/resourceGroups/rg-prod-app")])),
    );
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (409, Some("RoleDefinitionHasAssignments")),
        "{answer:#}"
    );
    assert_eq!(lab.dump(), before);
    lab.advance("PT10M");
    assert_eq!(
        handle(
            &mut lab,
            &admin,
            "PUT",
            &path("51111111-2222-4333-8444-555555555555"),
            Some(&eligibility("AdminRemove"))
        )
        .0,
        201
    );
    let (status, answer) = handle(&mut lab, &admin, "DELETE", &definition(PROD, OPERATOR), None);
    assert_eq!(status, 200, "{answer:#}");
    assert_eq!(answer["properties"]["roleName"], "VM Operator");
    assert_eq!(handle(&mut lab, &admin, "DELETE", &definition(PROD, OPERATOR), None).0, 204);
    assert!(!names(&mut lab, "", "").contains(&"VM Operator".to_string()));
}

#[test]
fn a_custom_role_definition_parses_with_the_real_azure_sdk_models() {
    let Some(python) = crate::arm_router::sdk_python() else {
        eprintln!("skipped: no Python with azure-mgmt-authorization");
        return;
    };
    let mut lab = Lab::demo_on_file();
    let made = define(&mut lab, &[&rg()]);
    crate::arm_router::check_with_sdk(
        &python,
        &[json!({"model": "v2022_04_01.RoleDefinition", "json": made})],
    );
}

/// The command line defines, lists, uses and deletes a custom Azure role by name.
#[test]
fn the_command_line_defines_and_uses_a_custom_azure_role() {
    let lab = cli::Lab::demo();
    lab.run(&[
        "role",
        "add",
        "VM Operator",
        "--azure",
        "--scope",
        "rg-prod-data",
        "--action",
        "Microsoft.Compute/virtualMachines/*",
        "--not-action",
        "Microsoft.Compute/virtualMachines/delete",
        "--description",
        "Runs the app's machines",
    ])
    .ok()
    .out_has("Defined custom Azure role VM Operator (")
    .out_has(&format!("assignable at and below {}", rg()));
    lab.run(&["role", "list", "--azure"]).ok().out_has("VM Operator");
    lab.run(&[
        "eligible",
        "assign",
        "-p",
        "alice",
        "-r",
        "VM Operator",
        "--scope",
        "rg-prod-data",
        "--duration",
        "P30D",
        "-j",
        "Runs the machines",
    ])
    .ok()
    .out_has("Provisioned");
    lab.fails_unchanged(&[
        "eligible",
        "assign",
        "-p",
        "alice",
        "-r",
        "VM Operator",
        "--scope",
        "Contoso Production",
        "--duration",
        "P30D",
        "-j",
        "x",
    ])
    .refused("RoleDefinitionDoesNotExist", 400);
    lab.fails_unchanged(&["role", "delete", "VM Operator"]).refused("RoleDefinitionHasAssignments", 409);
    lab.run(&["role", "add", "X", "--scope", "rg-prod-app", "--action", "a/b"]).usage();
}

/// ARM pages a long list: 100 items and a `nextLink` (the same call with `$skipToken`), which
/// gives the rest; together, every role once.
#[test]
fn a_long_list_pages_with_next_links() {
    let mut lab = Lab::demo_on_file();
    let admin = lab.admin.clone();
    for i in 0..70 {
        let mut body = operator_body(&[PROD]);
        let name = format!("{:08x}-0000-4000-8000-{:012x}", i + 1, i + 1);
        body["name"] = json!(name);
        body["properties"]["roleName"] = json!(format!("Generated Role {i:02}"));
        let (status, made) = handle(&mut lab, &admin, "PUT", &definition(PROD, &name), Some(&body));
        assert_eq!(status, 201, "{made:#}");
    }
    let first = format!("{PROD}/providers/Microsoft.Authorization/roleDefinitions?{RBAC}");
    let (status, page) = handle(&mut lab, &admin, "GET", &first, None);
    assert_eq!(status, 200, "{page:#}");
    assert_eq!(page["value"].as_array().unwrap().len(), 100);
    let next = page["nextLink"].as_str().expect("a next link").to_string();
    assert!(
        next.starts_with("https://management.azure.com/subscriptions/") && next.contains("$skipToken=100"),
        "{next}"
    );
    let (status, rest) = handle(&mut lab, &admin, "GET", &next, None);
    assert_eq!(status, 200, "{rest:#}");
    assert_eq!(rest["value"].as_array().unwrap().len(), 38 + 70 - 100);
    assert!(rest.get("nextLink").is_none(), "{rest:#}");
    let mut names: Vec<Value> = page["value"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest["value"].as_array().unwrap())
        .map(|r| r["name"].clone())
        .collect();
    names.sort_by_key(|n| n.to_string());
    names.dedup();
    assert_eq!(names.len(), 108);
}
