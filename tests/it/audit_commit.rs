//! Audit is part of commit (ARCHITECTURE.md, invariant 3), through the engine's public API on a
//! store file read back with plain SQLite:
//!
//! - every kind of write leaves exactly its own audit rows, in order, and the audit sequence has
//!   no gaps;
//! - a refused request leaves exactly one row (result `failure`, the error's code and message as
//!   reason, no request id) and a store otherwise identical, row for row: no id consumed, the clock
//!   where it was;
//! - a validation-only request, accepted or refused, leaves nothing, not even an audit row; nor
//!   does any other refused write (a cancel, a decision, a directory change, a hook, a rule);
//! - inside a batch, a refusal undoes only its own operation and its row commits with the batch.
//!
//! Self-contained: it shares no helper with the other integration tests.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use pimlab::engine::{Engine, InitOptions, NewObject, NewRole, PolicyChange, RoleChange, Session};
use pimlab::hooks::LuaHooks;
use pimlab::model::approval::{ApprovalChannel, Decision};
use pimlab::model::builtin_roles::GLOBAL_ADMINISTRATOR;
use pimlab::model::policy;
use pimlab::model::{
    Action, ApiError, Expiration, IsoDuration, NewRequest, PrincipalKind, RequestKind, ScheduleInfo, Surface,
};
use serde_json::{Value, json};
use tempfile::TempDir;

const USER_ADMIN: &str = "fe930be7-5e62-47db-91af-98c3a49a38b1";
const HELPDESK_ADMIN: &str = "729827e3-9c14-49f7-bb1b-9608f156bbb8";
const SYSTEM: &str = "MS-PIM";

// ---------------------------------------------------------------------------------------------
// A tenant on a store file, and what SQLite itself says is in it
// ---------------------------------------------------------------------------------------------

struct Lab {
    _dir: TempDir,
    db: PathBuf,
    e: Engine,
    admin: Session,
    alice: String,
    bob: String,
    /// Audit rows already looked at.
    seen: usize,
}

/// One audit row as SQLite stores it.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    seq: i64,
    at: i64,
    actor: String,
    activity: String,
    category: String,
    result: String,
    reason: Option<String>,
    request_id: Option<String>,
    targets: Value,
}

fn lab() -> Lab {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("audit.db");
    let mut e = Engine::open(&db).expect("open store");
    let summary = e.init(&InitOptions::default()).expect("init");
    e.set_hook_runner(Rc::new(LuaHooks::new(pimlab::api::views::REQUEST)));
    let admin = Session::new(summary.break_glass_id);
    let user = |e: &mut Engine, name: &str, upn: &str| {
        let new = NewObject {
            kind: Some(PrincipalKind::User),
            display_name: name.into(),
            user_principal_name: Some(format!("{upn}@contoso.example")),
            ..Default::default()
        };
        e.create_object(&admin, new).expect("user").id
    };
    let alice = user(&mut e, "Alice", "alice");
    let bob = user(&mut e, "Bob", "bob");
    let mut lab = Lab { _dir: dir, db, e, admin, alice, bob, seen: 0 };
    lab.seen = lab.rows().len();
    lab
}

fn request(kind: RequestKind, action: Action, principal: &str, role: &str) -> NewRequest {
    NewRequest {
        surface: Surface::Directory,
        kind,
        action,
        principal_id: principal.to_string(),
        role_definition_id: role.to_string(),
        directory_scope_id: Some("/".into()),
        app_scope_id: None,
        justification: Some("audit test".into()),
        schedule_info: None,
        ticket_info: None,
        is_validation_only: false,
    }
}

fn lasting(mut r: NewRequest, d: IsoDuration) -> NewRequest {
    r.schedule_info = Some(ScheduleInfo { start: None, expiration: Expiration::after(d) });
    r
}

fn permanent(mut r: NewRequest) -> NewRequest {
    r.schedule_info = Some(ScheduleInfo { start: None, expiration: Expiration::never() });
    r
}

fn open(db: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("read the store")
}

impl Lab {
    /// Every audit row, in sequence order, as the harness reads it from plain SQLite, each
    /// target's JSON parsed.
    fn rows(&self) -> Vec<Row> {
        crate::harness::store::audit_rows(&open(&self.db))
            .into_iter()
            .map(|r| Row {
                seq: r.seq,
                at: r.at,
                actor: r.actor,
                activity: r.activity,
                category: r.category,
                result: r.result,
                reason: r.reason,
                request_id: r.request_id,
                targets: Value::Array(
                    r.targets.iter().map(|t| serde_json::from_str(t).expect("a target's JSON")).collect(),
                ),
            })
            .collect()
    }

    /// Every row of every table but the audit trail's (`audit` and its dictionary, to which a
    /// refused request's row may add words), as text: the rest of the store.
    fn everything_but_audit(&self) -> String {
        dump(&self.db, |t| t != "audit" && t != "audit_texts")
    }

    /// Every row of every table.
    fn everything(&self) -> String {
        dump(&self.db, |_| true)
    }

    /// The rows written since the last call, as `(actor, activity, result)`; checks that the
    /// sequence has no gaps.
    #[track_caller]
    fn new_rows(&mut self) -> Vec<(String, String, String)> {
        let rows = self.rows();
        let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
        assert_eq!(seqs, (1..=rows.len() as i64).collect::<Vec<_>>(), "the audit sequence has gaps");
        let new = rows[self.seen..].iter().map(|r| (r.actor.clone(), r.activity.clone(), r.result.clone()));
        let new = new.collect();
        self.seen = rows.len();
        new
    }

    /// Asserts the rows written since the last look: `(actor, activity)`, all successes.
    #[track_caller]
    fn expect(&mut self, what: &str, rows: &[(&str, &str)]) {
        let got = self.new_rows();
        let want: Vec<(String, String, String)> =
            rows.iter().map(|(a, b)| (a.to_string(), b.to_string(), "success".to_string())).collect();
        assert_eq!(got, want, "the audit rows of {what}");
    }

    fn session(&self, id: &str) -> Session {
        Session::new(id.to_string())
    }

    fn require_approval(&mut self, role: &str) {
        let policy = self.e.policy_for_role(role).unwrap();
        let patch = json!({"setting": {
            "isApprovalRequired": true,
            "isApprovalRequiredForExtension": false,
            "isRequestorJustificationRequired": true,
            "approvalMode": "SingleStage",
            "approvalStages": [{
                "approvalStageTimeOutInDays": 1,
                "isApproverJustificationRequired": false,
                "escalationTimeInMinutes": 0,
                "isEscalationEnabled": false,
                "primaryApprovers": [],
                "escalationApprovers": []
            }]
        }});
        self.e.update_rule(&self.admin, &policy.id, policy::APPROVAL_END_USER_ASSIGNMENT, &patch).unwrap();
    }
}

/// Every row of every table `keep` accepts, in a stable order, through plain SQLite.
fn dump(db: &Path, keep: impl Fn(&str) -> bool) -> String {
    let conn = open(db);
    let tables: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = String::new();
    for table in tables.into_iter().filter(|t| keep(t)) {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {table} ORDER BY rowid"))
            .or_else(|_| conn.prepare(&format!("SELECT * FROM {table}")))
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

// ---------------------------------------------------------------------------------------------
// Every kind of write leaves exactly its rows
// ---------------------------------------------------------------------------------------------

#[test]
fn a_new_tenant_records_its_administrator_and_its_global_administrator_assignment() {
    let lab = lab();
    let rows = lab.rows();
    let first: Vec<(&str, &str, &str)> =
        rows[..2].iter().map(|r| (r.actor.as_str(), r.activity.as_str(), r.category.as_str())).collect();
    assert_eq!(
        first,
        [("system", "Add user", "Directory"), ("system", "Add member to role", "RoleManagement")]
    );
}

#[test]
fn every_kind_of_write_leaves_exactly_its_audit_rows_in_order() {
    let mut lab = lab();
    let admin = lab.admin.clone();
    let me = admin.caller.clone();
    let me = me.as_str();
    let (alice, bob) = (lab.alice.clone(), lab.bob.clone());
    let as_alice = lab.session(&alice);

    // The directory.
    let group = lab
        .e
        .create_object(
            &admin,
            NewObject {
                kind: Some(PrincipalKind::Group),
                display_name: "Ops".into(),
                security_enabled: true,
                members: vec![alice.clone()],
                ..Default::default()
            },
        )
        .unwrap();
    lab.expect("a group with a member", &[(me, "Add group"), (me, "Add member to group")]);
    lab.e.add_member(&admin, &group.id, &bob, "owner").unwrap();
    lab.expect("an owner", &[(me, "Add owner to group")]);

    // Role definitions and settings.
    let role = NewRole {
        display_name: "Auditor".into(),
        description: None,
        allowed_resource_actions: ["microsoft.directory/auditLogs/allProperties/read".to_string()].into(),
        is_enabled: true,
        template_id: None,
    };
    let custom = lab.e.create_role(&admin, role).unwrap();
    lab.expect("a new role", &[(me, "Add role definition")]);
    let change = RoleChange { description: Some("reads the audit log".into()), ..Default::default() };
    lab.e.update_role(&admin, &custom.id, change).unwrap();
    lab.expect("a role change", &[(me, "Update role definition")]);
    lab.e.delete_role(&admin, &custom.id).unwrap();
    lab.expect("a role deleted", &[(me, "Delete role definition")]);
    let policy = lab.e.policy_for_role(HELPDESK_ADMIN).unwrap();
    let two = PolicyChange {
        activation_max: Some(IsoDuration::from_hours(4)),
        require_ticket: Some(false),
        ..Default::default()
    };
    let changed = lab.e.change_policy(&admin, &policy.id, &two, &[]).unwrap();
    let rows: Vec<(&str, &str)> = changed.iter().map(|_| (me, "Update role setting in PIM")).collect();
    assert!(!rows.is_empty());
    lab.expect("rule changes, one row per rule", &rows);
    let unchanged = lab.e.change_policy(&admin, &policy.id, &two, &[]).unwrap();
    assert!(unchanged.is_empty());
    lab.expect("a policy change that changes nothing", &[]);

    // Outside PIM.
    let direct = lab.e.create_role_assignment(&admin, &bob, USER_ADMIN, Some("/"), None).unwrap();
    lab.expect("an assignment outside PIM", &[(me, "Add member to role")]);
    lab.e.delete_role_assignment(&admin, &direct.id).unwrap();
    lab.expect("its removal", &[(me, "Remove member from role")]);

    // Requests.
    let elig = permanent(request(RequestKind::Eligibility, Action::AdminAssign, &alice, USER_ADMIN));
    lab.e.submit(&admin, &elig).unwrap();
    lab.expect("an eligibility", &[(me, "Add eligible member to role in PIM completed (permanent)")]);
    let activate = lasting(
        request(RequestKind::Assignment, Action::SelfActivate, &alice, USER_ADMIN),
        IsoDuration::from_hours(1),
    );
    lab.e.submit(&as_alice, &activate).unwrap();
    lab.expect("an activation", &[(alice.as_str(), "Add member to role completed (PIM activation)")]);
    let report = lab.e.advance_by(&admin, IsoDuration::from_minutes(10)).unwrap();
    assert_eq!(report.expired + report.started, 0);
    lab.expect("a quiet advance", &[(me, "Advance simulated clock to 2025-01-06T09:10:00Z")]);
    lab.e.advance_by(&admin, IsoDuration::from_minutes(0)).unwrap();
    lab.expect("an advance that does not move the clock", &[]);
    let deactivate = request(RequestKind::Assignment, Action::SelfDeactivate, &alice, USER_ADMIN);
    lab.e.submit(&as_alice, &deactivate).unwrap();
    lab.expect("a deactivation", &[(alice.as_str(), "Remove member from role completed (PIM deactivate)")]);

    // Approvals: approved, cancelled, timed out.
    lab.require_approval(USER_ADMIN);
    lab.expect("an approval rule", &[(me, "Update role setting in PIM")]);
    let pending = lab.e.submit(&as_alice, &activate).unwrap();
    lab.expect("an activation waiting", &[(alice.as_str(), "Add member to role requested (PIM activation)")]);
    lab.e
        .decide(&admin, &pending.id, None, Decision::Approve, Some("fine"), ApprovalChannel::Portal)
        .unwrap();
    lab.expect(
        "an approval, then the activation it carries out",
        &[
            (me, "Add member to role request approved (PIM activation)"),
            (alice.as_str(), "Add member to role completed (PIM activation)"),
        ],
    );
    lab.e.advance_by(&admin, IsoDuration::from_hours(2)).unwrap();
    lab.expect(
        "an expiry by the clock, then the advance",
        &[
            (SYSTEM, "Remove member from role (PIM activation expired)"),
            (me, "Advance simulated clock to 2025-01-06T11:10:00Z"),
        ],
    );
    let pending = lab.e.submit(&as_alice, &activate).unwrap();
    lab.new_rows();
    lab.e.cancel(&as_alice, RequestKind::Assignment, &pending.id).unwrap();
    lab.expect("a cancellation", &[(alice.as_str(), "Add member to role canceled (PIM activation)")]);
    lab.e.submit(&as_alice, &activate).unwrap();
    lab.new_rows();
    lab.e.advance_by(&admin, IsoDuration::from_days(2)).unwrap();
    let rows = lab.new_rows();
    assert_eq!(
        rows,
        [
            (SYSTEM.into(), "Add member to role request timed out (PIM activation)".into(), "failure".into()),
            (me.into(), "Advance simulated clock to 2025-01-08T11:10:00Z".into(), "success".into()),
        ],
        "a time-out is recorded as a failure by the service"
    );

    // Hooks.
    let (hook, _) =
        lab.e.add_hook(&admin, "Quiet", "return { validate = function() end }", None, None).unwrap();
    lab.expect("a hook added", &[(me, "Add policy hook 'Quiet'")]);
    lab.e.remove_hook(&admin, &hook.name).unwrap();
    lab.expect("a hook removed", &[(me, "Remove policy hook 'Quiet'")]);

    // A refusal, and a validation-only request.
    let refused = permanent(request(RequestKind::Eligibility, Action::AdminAssign, &alice, USER_ADMIN));
    lab.e.submit(&admin, &refused).expect_err("already eligible");
    let rows = lab.new_rows();
    assert_eq!(
        rows,
        [(me.into(), "Add eligible member to role in PIM failed (permanent)".into(), "failure".into())],
        "a refusal"
    );
    let mut dry = permanent(request(RequestKind::Eligibility, Action::AdminAssign, &bob, USER_ADMIN));
    dry.is_validation_only = true;
    lab.e.submit(&admin, &dry).unwrap();
    lab.expect("a validation-only request", &[]);
}

#[test]
fn a_completed_hook_that_fails_on_a_time_out_is_recorded_before_the_time_out() {
    let mut lab = lab();
    let admin = lab.admin.clone();
    let alice = lab.alice.clone();
    lab.e
        .submit(
            &admin,
            &permanent(request(RequestKind::Eligibility, Action::AdminAssign, &alice, USER_ADMIN)),
        )
        .unwrap();
    lab.require_approval(USER_ADMIN);
    let activate = lasting(
        request(RequestKind::Assignment, Action::SelfActivate, &alice, USER_ADMIN),
        IsoDuration::from_hours(1),
    );
    lab.e.submit(&lab.session(&alice), &activate).unwrap();
    let source = "return { completed = function(request, ctx) error('the change board is offline') end }";
    lab.e.add_hook(&admin, "Board", source, None, None).unwrap();
    lab.new_rows();
    lab.e.advance_by(&admin, IsoDuration::from_days(2)).unwrap();
    let rows = lab.new_rows();
    let activities: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(activities.len(), 3, "{rows:?}");
    assert!(activities[0].starts_with("Policy hook failed: Policy hook 'Board' failed"), "{rows:?}");
    assert_eq!(activities[1], "Add member to role request timed out (PIM activation)");
    assert!(activities[2].starts_with("Advance simulated clock to "));
}

// ---------------------------------------------------------------------------------------------
// What a refusal leaves behind
// ---------------------------------------------------------------------------------------------

#[test]
fn a_refused_request_leaves_exactly_one_failure_row_and_an_otherwise_identical_store() {
    let mut lab = lab();
    let admin = lab.admin.clone();
    let (alice, bob) = (lab.alice.clone(), lab.bob.clone());
    lab.e
        .submit(
            &admin,
            &permanent(request(RequestKind::Eligibility, Action::AdminAssign, &alice, USER_ADMIN)),
        )
        .unwrap();
    let no_bob = format!(
        "return {{ validate = function(request, ctx)
           if request.principalId == '{bob}' then return {{ deny = 'NoBob', message = 'not Bob' }} end
         end }}"
    );
    lab.e.add_hook(&admin, "NoBob", &no_bob, None, None).unwrap();
    // Fails after the request and its schedule were written (and an id taken): all undone.
    let offline = "return { completed = function(request, ctx) error('the change board is offline') end }";
    lab.e.add_hook(&admin, "Board", offline, Some(HELPDESK_ADMIN), None).unwrap();
    type Refusal = Box<dyn Fn(&mut Engine) -> Result<(), ApiError>>;
    let cases: Vec<(&str, String, String, Refusal)> = vec![
        (
            "an assignment that exists",
            admin.caller.clone(),
            alice.clone(),
            Box::new({
                let (admin, alice) = (admin.clone(), alice.clone());
                move |e| {
                    let r =
                        permanent(request(RequestKind::Eligibility, Action::AdminAssign, &alice, USER_ADMIN));
                    e.submit(&admin, &r).map(drop)
                }
            }),
        ),
        (
            "an activation without an eligibility",
            bob.clone(),
            bob.clone(),
            Box::new({
                let bob = bob.clone();
                move |e| {
                    let r = lasting(
                        request(RequestKind::Assignment, Action::SelfActivate, &bob, USER_ADMIN),
                        IsoDuration::from_hours(1),
                    );
                    e.submit(&Session::new(bob.clone()), &r).map(drop)
                }
            }),
        ),
        (
            "an administrator's action by someone who is not one",
            alice.clone(),
            bob.clone(),
            Box::new({
                let (alice, bob) = (alice.clone(), bob.clone());
                move |e| {
                    let r = permanent(request(
                        RequestKind::Eligibility,
                        Action::AdminAssign,
                        &bob,
                        HELPDESK_ADMIN,
                    ));
                    e.submit(&Session::new(alice.clone()), &r).map(drop)
                }
            }),
        ),
        (
            "a hook's denial",
            admin.caller.clone(),
            bob.clone(),
            Box::new({
                let (admin, bob) = (admin.clone(), bob.clone());
                move |e| {
                    let r = permanent(request(
                        RequestKind::Eligibility,
                        Action::AdminAssign,
                        &bob,
                        HELPDESK_ADMIN,
                    ));
                    let err = e.submit(&admin, &r).map(drop);
                    assert!(matches!(&err, Err(e) if e.message.contains("NoBob")), "{err:?}");
                    err
                }
            }),
        ),
        (
            "a completed hook that fails once the request is stored",
            admin.caller.clone(),
            alice.clone(),
            Box::new({
                let (admin, alice) = (admin.clone(), alice.clone());
                move |e| {
                    let r = permanent(request(
                        RequestKind::Eligibility,
                        Action::AdminAssign,
                        &alice,
                        HELPDESK_ADMIN,
                    ));
                    let err = e.submit(&admin, &r).map(drop);
                    assert!(matches!(&err, Err(e) if e.message.contains("offline")), "{err:?}");
                    err
                }
            }),
        ),
        (
            "the removal of the last Global Administrator",
            admin.caller.clone(),
            admin.caller.clone(),
            Box::new({
                let admin = admin.clone();
                move |e| {
                    let r = request(
                        RequestKind::Assignment,
                        Action::AdminRemove,
                        &admin.caller,
                        GLOBAL_ADMINISTRATOR,
                    );
                    e.submit(&admin, &r).map(drop)
                }
            }),
        ),
    ];
    for (what, actor, principal, refuse) in cases {
        let rest = lab.everything_but_audit();
        let before = lab.rows();
        let err = refuse(&mut lab.e).expect_err(what);
        assert!(err.status < 500, "{what}: {err:?}");
        assert_eq!(
            lab.everything_but_audit(),
            rest,
            "{what}: the refusal changed the store (ids, clock, rows)"
        );
        let after = lab.rows();
        assert_eq!(after[..before.len()], before[..], "{what}: earlier rows changed");
        assert_eq!(after.len(), before.len() + 1, "{what}: one row, and one only");
        let row = after.last().unwrap();
        let clock: i64 = open(&lab.db)
            .query_row("SELECT value FROM meta WHERE key = 'clock'", [], |r| r.get::<_, String>(0))
            .map(|v| v.parse().unwrap())
            .unwrap();
        assert_eq!(row.seq, before.len() as i64 + 1, "{what}: the next sequence number");
        assert_eq!(row.at, clock, "{what}: at the simulated time");
        assert_eq!(row.actor, actor, "{what}: the caller is the actor");
        assert!(row.activity.contains(" failed"), "{what}: {}", row.activity);
        assert_eq!(row.category, "RoleManagement", "{what}");
        assert_eq!(row.result, "failure", "{what}");
        assert_eq!(row.reason.as_deref(), Some(format!("{}: {}", err.code, err.message).as_str()), "{what}");
        assert_eq!(row.request_id, None, "{what}: nothing was stored, so there is no request id");
        let role = row.targets[0].clone();
        assert_eq!(
            (role["type"].as_str(), role["id"].as_str().map(str::len)),
            (Some("Role"), Some(36)),
            "{what}"
        );
        assert_eq!(row.targets[1]["id"], principal.as_str(), "{what}: the principal is a target");
    }
}

#[test]
fn a_validation_only_request_leaves_nothing_accepted_or_refused() {
    let mut lab = lab();
    let admin = lab.admin.clone();
    let (alice, bob) = (lab.alice.clone(), lab.bob.clone());
    lab.e
        .submit(
            &admin,
            &permanent(request(RequestKind::Eligibility, Action::AdminAssign, &alice, USER_ADMIN)),
        )
        .unwrap();
    let everything = lab.everything();
    let mut accepted = permanent(request(RequestKind::Eligibility, Action::AdminAssign, &bob, USER_ADMIN));
    accepted.is_validation_only = true;
    let q = lab.e.submit(&admin, &accepted).expect("valid");
    assert!(q.is_validation_only);
    assert_eq!(lab.everything(), everything, "an accepted validation-only request left something");
    let mut refused = permanent(request(RequestKind::Eligibility, Action::AdminAssign, &alice, USER_ADMIN));
    refused.is_validation_only = true;
    lab.e.submit(&admin, &refused).expect_err("already eligible");
    assert_eq!(lab.everything(), everything, "a refused validation-only request left something");
}

#[test]
fn refused_writes_other_than_requests_leave_nothing_at_all() {
    let mut lab = lab();
    let admin = lab.admin.clone();
    let (alice, bob) = (lab.alice.clone(), lab.bob.clone());
    lab.e
        .submit(
            &admin,
            &permanent(request(RequestKind::Eligibility, Action::AdminAssign, &alice, USER_ADMIN)),
        )
        .unwrap();
    lab.require_approval(USER_ADMIN);
    let activate = lasting(
        request(RequestKind::Assignment, Action::SelfActivate, &alice, USER_ADMIN),
        IsoDuration::from_hours(1),
    );
    let pending = lab.e.submit(&lab.session(&alice), &activate).unwrap();
    let everything = lab.everything();
    let as_bob = lab.session(&bob);
    let policy = lab.e.policy_for_role(USER_ADMIN).unwrap();
    let attempts: Vec<(&str, Result<(), ApiError>)> = vec![
        (
            "a cancel of no request",
            lab.e.cancel(&admin, RequestKind::Assignment, "00000000-0000-4000-8000-000000000000").map(drop),
        ),
        ("someone else's cancel", lab.e.cancel(&as_bob, RequestKind::Assignment, &pending.id).map(drop)),
        (
            "a decision by a non-approver",
            lab.e
                .decide(&as_bob, &pending.id, None, Decision::Approve, None, ApprovalChannel::Portal)
                .map(drop),
        ),
        (
            "a user with a bad name",
            lab.e
                .create_object(
                    &admin,
                    NewObject {
                        kind: Some(PrincipalKind::User),
                        display_name: "Eve".into(),
                        user_principal_name: Some("eve".into()),
                        ..Default::default()
                    },
                )
                .map(drop),
        ),
        ("a member twice", lab.e.add_member(&admin, &alice, &bob, "member").map(drop)),
        ("a built-in role deleted", lab.e.delete_role(&admin, USER_ADMIN)),
        ("a hook that does not compile", lab.e.add_hook(&admin, "Broken", "return {", None, None).map(drop)),
        (
            "a hook by a non-administrator",
            lab.e.add_hook(&as_bob, "Mine", "return { validate = function() end }", None, None).map(drop),
        ),
        (
            "a rule with a bad value",
            lab.e
                .update_rule(
                    &admin,
                    &policy.id,
                    policy::EXPIRATION_END_USER_ASSIGNMENT,
                    &json!({"maximumDuration": "soon"}),
                )
                .map(drop),
        ),
        (
            "an assignment outside PIM by a non-administrator",
            lab.e.create_role_assignment(&as_bob, &bob, USER_ADMIN, Some("/"), None).map(drop),
        ),
        ("the clock backwards", {
            let now = lab.e.now().unwrap();
            lab.e.advance_to(&admin, now - chrono::TimeDelta::hours(1)).map(drop)
        }),
    ];
    for (what, outcome) in attempts {
        assert!(outcome.is_err(), "{what} was accepted");
        assert_eq!(lab.everything(), everything, "{what} left something behind");
    }
}

// ---------------------------------------------------------------------------------------------
// Batches
// ---------------------------------------------------------------------------------------------

#[test]
fn in_a_batch_a_refusal_undoes_only_itself_and_its_row_commits_with_the_batch() {
    let mut lab = lab();
    let admin = lab.admin.clone();
    let (alice, bob) = (lab.alice.clone(), lab.bob.clone());
    let first = permanent(request(RequestKind::Eligibility, Action::AdminAssign, &alice, USER_ADMIN));
    let third = permanent(request(RequestKind::Eligibility, Action::AdminAssign, &bob, USER_ADMIN));
    let outcomes = lab
        .e
        .batch(|e| {
            [
                e.submit(&admin, &first).is_ok(),
                e.submit(&admin, &first).is_ok(), // the same again: refused
                e.submit(&admin, &third).is_ok(),
            ]
        })
        .unwrap();
    assert_eq!(outcomes, [true, false, true]);
    let rows = lab.new_rows();
    let activities: Vec<(&str, &str)> = rows.iter().map(|r| (r.1.as_str(), r.2.as_str())).collect();
    assert_eq!(
        activities,
        [
            ("Add eligible member to role in PIM completed (permanent)", "success"),
            ("Add eligible member to role in PIM failed (permanent)", "failure"),
            ("Add eligible member to role in PIM completed (permanent)", "success"),
        ]
    );
    let requests: i64 = open(&lab.db).query_row("SELECT count(*) FROM requests", [], |r| r.get(0)).unwrap();
    assert_eq!(requests, 2, "the refused request stored nothing");
}
