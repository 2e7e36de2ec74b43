//! Who is calling (issue 11 §1): applications with the Microsoft Graph permissions they were
//! granted, delegated (`--as USER --app APP`) or acting as themselves (`--app APP`); each refusal
//! with the real status, code and body (addendum §6); groups cannot sign in; consent is an
//! administrator's. Through the command line, the Graph router and Lua.

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::harness::cli::Lab;

const APP: &str = "Nightly Sync Automation";
const READER: &str = "Security Reader";

fn grant(lab: &Lab, permission: &str, application: bool) {
    let mut args = vec!["app", "grant", APP, permission];
    if application {
        args.push("--application");
    }
    lab.run(&args).ok().out_has(permission);
}

fn assign_as_app<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = extra.to_vec();
    args.extend([
        "eligible",
        "assign",
        "-p",
        "alice",
        "-r",
        READER,
        "--duration",
        "P30D",
        "-j",
        "Quarterly review",
    ]);
    args
}

/// The scope failure's body: 403 `UnknownError` whose message is itself JSON naming
/// `PermissionScopeNotGranted` and the permissions the call takes.
#[track_caller]
fn scope_not_granted(body: &Value, scopes: &str) {
    assert_eq!(body["error"]["code"], "UnknownError", "{body:#}");
    let inner: Value = serde_json::from_str(body["error"]["message"].as_str().unwrap()).unwrap();
    assert_eq!(
        inner,
        json!({
            "errorCode": "PermissionScopeNotGranted",
            "message": format!("Authorization failed due to missing permission scope {scopes}."),
            "instanceAnnotations": [],
        })
    );
}

/// A Graph call that answered 200: its body.
#[track_caller]
fn graph_ok(run: crate::harness::cli::Run) -> Value {
    assert_eq!((run.code, run.stderr.as_str()), (0, "HTTP 200\n"), "{run}");
    serde_json::from_str(&run.stdout).unwrap()
}

/// The lesson's story: an automation account that may only read tries to assign, is refused with
/// the permissions it lacks, is granted one, and assigns; Graph names it as the request's creator.
#[test]
fn an_app_that_may_only_read_is_refused_a_write_until_granted_one() {
    let lab = Lab::demo();
    grant(&lab, "RoleManagement.Read.Directory", true);
    lab.fails_unchanged(&assign_as_app(&["--app", APP]))
        .refused("UnknownError", 403)
        .err_has("PermissionScopeNotGranted")
        .err_has("RoleEligibilitySchedule.ReadWrite.Directory,RoleManagement.ReadWrite.Directory")
        .err_has("the application holds RoleManagement.Read.Directory");
    // Reading is what it may do.
    lab.run(&["--app", APP, "eligible", "list"]).ok();
    grant(&lab, "RoleEligibilitySchedule.ReadWrite.Directory", true);
    let made = lab.run(&assign_as_app(&["--app", APP, "--json"])).ok().json();
    let id = made["id"].as_str().unwrap().to_string();
    let path = format!("/roleManagement/directory/roleEligibilityScheduleRequests/{id}");
    let v = graph_ok(lab.run(&["graph", "GET", &path]));
    let app = lab.run(&["--json", "app", "show", APP]).ok().json();
    assert_eq!(v["createdBy"]["application"]["id"], app["servicePrincipal"]["id"]);
    assert_eq!(v["createdBy"]["user"], Value::Null);
}

/// An application acting as itself is no user: even with the assignment permission it cannot
/// activate a role for one (self-service acts for the caller).
#[test]
fn an_app_acting_as_itself_cannot_activate_roles_for_users() {
    let lab = Lab::demo();
    grant(&lab, "RoleAssignmentSchedule.ReadWrite.Directory", true);
    let alice = lab.run(&["--json", "user", "show", "alice"]).ok().json()["id"].as_str().unwrap().to_string();
    let body = json!({"action": "selfActivate", "principalId": alice, "roleDefinitionId": "62e90394-69f5-4237-9190-012177145e10",
        "directoryScopeId": "/", "justification": "x",
        "scheduleInfo": {"expiration": {"type": "afterDuration", "duration": "PT1H"}}});
    let before = lab.dump();
    let run = lab.run(&[
        "--app",
        APP,
        "graph",
        "POST",
        "/roleManagement/directory/roleAssignmentScheduleRequests",
        "--body",
        &body.to_string(),
    ]);
    assert_eq!(run.code, 1, "{run}");
    let refused: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(refused["error"]["code"], "UnauthorizedAccessException", "{refused:#}");
    assert_eq!(lab.dump(), before);
}

/// A delegated call needs the scope and, for an administrator's request, the user's directory
/// role as well; a member's own activation needs only the scope.
#[test]
fn delegated_calls_need_the_scope_and_for_admin_requests_the_users_role() {
    let lab = Lab::demo();
    lab.fails_unchanged(&assign_as_app(&["--as", "breakglass", "--app", APP]))
        .refused("UnknownError", 403)
        .err_has("delegated permissions");
    grant(&lab, "RoleEligibilitySchedule.ReadWrite.Directory", false);
    // Alice is only eligible for Global Administrator: the scope is not enough.
    lab.fails_unchanged(&assign_as_app(&["--as", "alice", "--app", APP]))
        .refused("UnauthorizedAccessException", 403);
    lab.run(&assign_as_app(&["--as", "breakglass", "--app", APP])).ok().out_has("Provisioned");
    // Her own activation needs the assignment scope, and no administrator's role.
    let activate = [
        "--as",
        "alice",
        "--app",
        APP,
        "activate",
        "-r",
        "Global Administrator",
        "--duration",
        "1h",
        "-j",
        "INC-1",
    ];
    lab.fails_unchanged(&activate)
        .refused("UnknownError", 403)
        .err_has("RoleAssignmentSchedule.ReadWrite.Directory");
    grant(&lab, "RoleAssignmentSchedule.ReadWrite.Directory", false);
    lab.run(&activate).ok().out_has("Provisioned");
    // The application permission of the same name does not serve a delegated call.
    lab.fails_unchanged(&["--as", "alice", "--app", APP, "audit"]).refused("UnknownError", 403);
}

/// Reads follow the same table through the Graph router: a request collection takes the write
/// scopes even for a GET (addendum §6), the schedules the read ones.
#[test]
fn graph_reads_through_an_app_take_the_permissions_the_service_asks() {
    let lab = Lab::demo();
    grant(&lab, "RoleEligibilitySchedule.Read.Directory", true);
    let get = |path: &str| lab.run(&["--app", APP, "graph", "GET", path]);
    let run = get("/roleManagement/directory/roleEligibilityScheduleRequests");
    assert_eq!(run.code, 1, "{run}");
    scope_not_granted(
        &serde_json::from_str(&run.stdout).unwrap(),
        "RoleEligibilitySchedule.ReadWrite.Directory,RoleManagement.ReadWrite.Directory",
    );
    assert!(run.stderr.contains("HTTP 403"), "{run}");
    graph_ok(get("/roleManagement/directory/roleEligibilitySchedules"));
    let run = get("/users");
    scope_not_granted(
        &serde_json::from_str(&run.stdout).unwrap(),
        "Directory.Read.All,Directory.ReadWrite.All,User.Read.All,User.ReadWrite.All,Group.Read.All,Group.ReadWrite.All,Application.Read.All",
    );
}

/// Changing role settings is delegated-only (reference §8): the application permission does not
/// let an app do it as itself; a signed-in administrator through the app may.
#[test]
fn role_settings_change_only_for_a_signed_in_administrator() {
    let lab = Lab::demo();
    grant(&lab, "RoleManagementPolicy.ReadWrite.Directory", true);
    fn set<'a>(who: &[&'a str]) -> Vec<&'a str> {
        let mut args = who.to_vec();
        args.extend(["policy", "set", READER, "--activation-max", "2h"]);
        args
    }
    lab.fails_unchanged(&set(&["--app", APP])).refused("UnknownError", 403).err_has("needs a signed-in user");
    grant(&lab, "RoleManagementPolicy.ReadWrite.Directory", false);
    lab.run(&set(&["--as", "breakglass", "--app", APP])).ok();
}

/// Only users sign in: `--as` a group or an application is refused, saying what to do instead.
#[test]
fn groups_and_applications_cannot_sign_in() {
    let lab = Lab::demo();
    lab.run(&["--as", "Tier-0 Admins", "eligible", "list"])
        .usage()
        .err_has("groups cannot sign in: act --as one of its members");
    lab.run(&["--as", APP, "eligible", "list"]).usage().err_has(&format!("with --app '{APP}'"));
    lab.run(&["--app", "alice", "eligible", "list"]).refused("BadRequest", 400).err_has("not an application");
}

/// Consent is an administrator's act: a member cannot grant, an application cannot grant itself
/// more; a permission pimlab does not know, one granted twice and one never granted are refused;
/// each grant and revocation is audited under Entra's names.
#[test]
fn permissions_are_granted_by_an_administrator_and_audited() {
    let lab = Lab::demo();
    lab.fails_unchanged(&["--as", "alice", "app", "grant", APP, "Directory.Read.All"])
        .refused("UnauthorizedAccessException", 403);
    grant(&lab, "Directory.Read.All", true);
    lab.fails_unchanged(&["--app", APP, "app", "grant", APP, "Directory.ReadWrite.All", "--application"])
        .refused("UnauthorizedAccessException", 403);
    lab.fails_unchanged(&["app", "grant", APP, "Directory.Read.All", "--application"])
        .refused("Conflict", 409);
    lab.fails_unchanged(&["app", "grant", APP, "Everything.Everywhere"])
        .refused("BadRequest", 400)
        .err_has("RoleManagement.ReadWrite.Directory");
    lab.fails_unchanged(&["app", "revoke", APP, "Directory.Read.All"]).refused("ResourceNotFound", 404);
    lab.run(&["app", "revoke", APP, "Directory.Read.All", "--application"])
        .ok()
        .out_has("no Microsoft Graph permissions granted");
    let audit = lab.run(&["--json", "audit"]).ok().json();
    let names: Vec<&str> =
        audit.as_array().unwrap().iter().filter_map(|r| r["activityDisplayName"].as_str()).collect();
    assert!(names.contains(&"Add app role assignment to service principal"), "{names:?}");
    assert!(names.contains(&"Remove app role assignment from service principal"), "{names:?}");
    let json = lab.run(&["--json", "app", "add", "Release Pipeline"]).ok().json();
    assert_eq!(json["servicePrincipal"]["displayName"], "Release Pipeline");
    assert_eq!(json["appRoleAssignments"], json!([]));
}

/// Scripts grant permissions and call through an application with the `app` key.
#[test]
fn scripts_grant_and_call_through_an_app() {
    let lab = Lab::demo();
    let script = lab.file(
        "app.lua",
        r#"
local app = "Nightly Sync Automation"
pim.app.grant(app, "RoleEligibilitySchedule.ReadWrite.Directory", {application = true})
local shown = pim.app.show(app)
pim.expect_eq(shown.permissions[1].permission, "RoleEligibilitySchedule.ReadWrite.Directory", "granted")
local made = pim.eligible.assign{principal = "alice", role = "Security Reader", duration = "P30D",
  justification = "Review", app = app}
pim.expect_eq(made.status, "Provisioned", "assigned through the app")
pim.expect_error("UnknownError", function()
  return pim.active.assign{principal = "alice", role = "Security Reader", duration = "P1D",
    justification = "Review", app = app}
end, "but not an active assignment")
"#,
    );
    lab.run(&["run", &script]).ok().out_has("3 passed, 0 failed");
}

proptest! {
    /// Whatever an application holds, a call passes exactly when it holds one of the permissions
    /// the call takes (and, acting as itself, the call is one an application may make).
    #[test]
    fn a_call_passes_exactly_when_a_held_permission_is_accepted(
        held in proptest::sample::subsequence(pimlab::model::permissions::PERMISSIONS.to_vec(), 0..6),
        app_only in any::<bool>(),
        which in 0usize..20,
    ) {
        use pimlab::model::permissions::Access::*;
        let all = [ReadRoles, WriteRoles, ReadEligibility, ReadEligibilityRequests, WriteEligibility,
            ReadAssignment, ReadAssignmentRequests, WriteAssignment, ReadPolicy, WritePolicy, Approvals,
            ReadGroupAccess, WriteGroupAccess, ReadGroupPolicy, WriteGroupPolicy, ReadDirectory,
            WriteDirectory, Me, ReadAudit, AzureManagement];
        let access = all[which];
        let held: Vec<String> = held.iter().map(|p| p.to_ascii_lowercase()).collect();
        let mut session = pimlab::engine::Session::new("caller");
        session.client = if app_only {
            pimlab::engine::Client::AppOnly { app: "a".into(), roles: held.clone() }
        } else {
            pimlab::engine::Client::Delegated { app: "a".into(), scopes: held.clone() }
        };
        let expected = (!app_only || access.app_only_supported())
            && access.accepted().iter().any(|a| held.iter().any(|h| h.eq_ignore_ascii_case(a)));
        let got = pimlab::engine::check_access(&session, access);
        prop_assert_eq!(got.is_ok(), expected);
        if let Err(e) = got {
            prop_assert_eq!(e.status, 403);
            prop_assert!(e.message.contains("PermissionScopeNotGranted"));
        }
    }
}

/// Anyone reads their own requests and schedules; reading everyone's needs a role that may
/// (`fidelity::PIM_READER_ROLES`), on the command line and over Graph alike.
#[test]
fn members_read_their_own_and_readers_read_everyones() {
    let lab = Lab::demo();
    lab.fails_unchanged(&["--as", "alice", "eligible", "list"])
        .refused("UnauthorizedAccessException", 403)
        .err_has("--mine");
    lab.run(&["--as", "alice", "eligible", "list", "--mine"]).ok().out_has("Global Administrator");
    lab.fails_unchanged(&["--as", "alice", "requests"]).refused("UnauthorizedAccessException", 403);
    lab.run(&["--as", "alice", "requests", "--mine"]).ok();
    let graph = |who: &str, path: &str| lab.run(&["--as", who, "graph", "GET", path]);
    let all = graph("alice", "/roleManagement/directory/roleEligibilitySchedules");
    assert_eq!(all.code, 1, "{all}");
    assert!(all.stdout.contains("filterByCurrentUser(on='principal')"), "{all}");
    let mine = graph_ok(graph(
        "alice",
        "/roleManagement/directory/roleEligibilitySchedules/filterByCurrentUser(on='principal')",
    ));
    assert!(!mine["value"].as_array().unwrap().is_empty());
    // Her own request by id, yes; Chloe's, no.
    let ids = |who: &str| -> Vec<String> {
        let v = lab.run(&["--json", "requests", "--principal", who]).ok().json();
        v.as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_string()).collect()
    };
    let (hers, his) = (ids("alice")[0].clone(), ids("chloe")[0].clone());
    let one = |id: &str| format!("/roleManagement/directory/roleEligibilityScheduleRequests/{id}");
    graph_ok(graph("alice", &one(&hers)));
    assert_eq!(graph("alice", &one(&his)).code, 1);
    lab.fails_unchanged(&["--as", "alice", "request", "show", &his])
        .refused("UnauthorizedAccessException", 403);
    // Made an active Global Reader, Ben reads everyone's.
    lab.run(&["active", "assign", "-p", "ben", "-r", "Global Reader", "--duration", "P7D", "-j", "Audit"])
        .ok();
    lab.run(&["--as", "ben", "eligible", "list"]).ok().out_has("alice");
    graph_ok(graph("ben", &one(&hers)));
}

/// An application's permissions read as Graph keeps them: `appRoleAssignments` of its service
/// principal, and the `oauth2PermissionGrants` filtered on its `clientId` (required); both parse
/// with the real msgraph-sdk models.
#[test]
fn app_permissions_read_as_graph_objects() {
    let lab = Lab::demo();
    grant(&lab, "RoleManagement.Read.Directory", true);
    grant(&lab, "RoleAssignmentSchedule.ReadWrite.Directory", false);
    grant(&lab, "User.Read", false);
    let sp = lab.run(&["--json", "app", "show", APP]).ok().json()["servicePrincipal"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let roles = graph_ok(lab.run(&["graph", "GET", &format!("/servicePrincipals/{sp}/appRoleAssignments")]));
    let roles = roles["value"].as_array().unwrap().clone();
    assert_eq!(roles.len(), 1);
    assert_eq!(roles[0]["principalId"], json!(sp));
    assert_eq!(roles[0]["resourceDisplayName"], "Microsoft Graph");
    let grants =
        graph_ok(lab.run(&["graph", "GET", &format!("/oauth2PermissionGrants?$filter=clientId eq '{sp}'")]));
    let grants = grants["value"].as_array().unwrap().clone();
    assert_eq!(grants[0]["scope"], "RoleAssignmentSchedule.ReadWrite.Directory User.Read");
    assert_eq!(grants[0]["consentType"], "AllPrincipals");
    let run = lab.run(&["graph", "GET", "/oauth2PermissionGrants"]);
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stdout.contains("clientId"), "{run}");
    if let Some(python) = crate::groups_graph::graph_sdk_python() {
        let mut docs: Vec<Value> =
            roles.into_iter().map(|j| json!({"model": "AppRoleAssignment", "json": j})).collect();
        docs.extend(grants.into_iter().map(|j| json!({"model": "OAuth2PermissionGrant", "json": j})));
        crate::arm_router::check_with(&python, "check_graph_models.py", &docs);
    } else {
        eprintln!("skipped the model check: no Python with msgraph-sdk");
    }
}

/// PIM for Groups through an application takes the group permissions, not the directory's.
#[test]
fn group_calls_through_an_app_take_the_group_permissions() {
    let lab = Lab::demo();
    grant(&lab, "RoleEligibilitySchedule.ReadWrite.Directory", true);
    let assign = [
        "--app",
        APP,
        "eligible",
        "assign",
        "-p",
        "ben",
        "--group",
        "Tier-0 Admins",
        "--access",
        "member",
        "--duration",
        "P30D",
        "-j",
        "On call",
    ];
    lab.fails_unchanged(&assign).refused("UnknownError", 403).err_has(
        "PrivilegedAccess.ReadWrite.AzureADGroup,PrivilegedEligibilitySchedule.ReadWrite.AzureADGroup",
    );
    grant(&lab, "PrivilegedEligibilitySchedule.ReadWrite.AzureADGroup", true);
    lab.run(&assign).ok().out_has("Provisioned");
}

/// A hook sees where a group's membership leads (`ctx.groupRoles`), so a rule that guards
/// privileged roles can guard the way to them through a group.
#[test]
fn a_hook_guards_group_membership_that_leads_to_a_privileged_role() {
    let lab = Lab::demo();
    let hook = lab.file(
        "guard.lua",
        r#"return {
  validate = function(request, ctx)
    if ctx.action ~= "selfActivate" then return nil end
    for _, r in ipairs(ctx.groupRoles or {}) do
      if r.isPrivileged then
        return {deny = "PrivilegedGroup", message = "membership leads to " .. r.displayName}
      end
    end
  end,
}"#,
    );
    lab.run(&["hook", "add", "guard", "--file", &hook]).ok();
    lab.run(&[
        "eligible",
        "assign",
        "-p",
        "ben",
        "--group",
        "Tier-0 Admins",
        "--access",
        "member",
        "--duration",
        "P30D",
        "-j",
        "On call",
    ])
    .ok();
    lab.fails_unchanged(&[
        "--as",
        "ben",
        "activate",
        "--group",
        "Tier-0 Admins",
        "--access",
        "member",
        "--duration",
        "1h",
        "-j",
        "INC-7",
    ])
    .err_has("membership leads to Privileged Role Administrator");
}

/// A group synchronised from on-premises (`group add --synced`, as a lab sets one up: Graph
/// cannot create one) reads `onPremisesSyncEnabled: true`, and PIM for Groups refuses to govern
/// it, changing nothing; a cloud group beside it is governed.
#[test]
fn a_group_synced_from_on_premises_is_not_governed_by_pim_for_groups() {
    let lab = Lab::demo();
    lab.run(&["group", "add", "Legacy Admins", "--synced"]).ok();
    lab.run(&["group", "add", "Cloud Admins"]).ok();
    let shown = lab.run(&["--json", "group", "show", "Legacy Admins"]).ok().json();
    assert_eq!(shown["onPremisesSyncEnabled"], true, "{shown:#}");
    let cloud = lab.run(&["--json", "group", "show", "Cloud Admins"]).ok().json();
    assert_eq!(cloud["onPremisesSyncEnabled"], Value::Null, "{cloud:#}");
    let assign = |group: &'static str| {
        [
            "eligible",
            "assign",
            "-p",
            "ben",
            "--group",
            group,
            "--access",
            "member",
            "--duration",
            "P30D",
            "-j",
            "On call",
        ]
    };
    lab.fails_unchanged(&assign("Legacy Admins")).refused("BadRequest", 400).err_has("on-premises");
    lab.run(&assign("Cloud Admins")).ok().out_has("Provisioned");
}

/// Azure Resource Manager answers to Azure RBAC, not to Graph permissions: an application calling
/// it for a user needs only the Azure Service Management scope `user_impersonation` (without it
/// the token is refused, 401); acting as itself it needs none, and its RBAC roles decide.
#[test]
fn arm_calls_through_an_app_need_user_impersonation_for_a_user_only() {
    let lab = Lab::demo();
    let path = "/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01&$filter=roleName eq 'Owner'";
    let run = lab.run(&["--as", "alice", "--app", APP, "arm", "GET", path]);
    assert_eq!(run.code, 1, "{run}");
    let refused: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(refused["error"]["code"], "InvalidAuthenticationToken", "{refused:#}");
    assert!(run.stderr.contains("HTTP 401"), "{run}");
    grant(&lab, "user_impersonation", false);
    let run = lab.run(&["--as", "alice", "--app", APP, "arm", "GET", path]);
    assert_eq!((run.code, run.stderr.as_str()), (0, "HTTP 200\n"), "{run}");
    // As itself, the application needs no scope: Azure RBAC decides.
    let run = lab.run(&["--app", APP, "arm", "GET", path]);
    assert_eq!(run.code, 0, "{run}");
}
