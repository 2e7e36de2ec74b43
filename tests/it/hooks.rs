//! Lua policy hooks and their sandbox (issue 4, sections 1, 2 and 5), through the public
//! interfaces only: the engine with the Lua host installed, the Graph router, and the `pimlab`
//! binary.
//!
//! Every engine test works on a file store in its own temporary directory (the demonstration
//! tenant, seed 1, clock pinned to Monday 2025-01-06T09:00:00Z), so "the store is unchanged" can
//! be checked with `harness::store::logical_dump` (every row of every table, less the refusals'
//! own audit rows) and `harness::store::failure_audits`.
//!
//! The sandbox tests run each hostile hook on a helper thread with a deadline, so a hook that
//! escapes the instruction budget fails its test instead of hanging the suite. Tests that fail

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::rc::Rc;
use std::sync::mpsc;
use std::time::Duration;

use pimlab::engine::{AuditQuery, Engine, HookDecision, HookEvent, InitOptions, RequestFilter, Session};
use pimlab::hooks::{Limits, LuaHooks};
use pimlab::model::approval::{ApprovalChannel, Decision};
use pimlab::model::{Action, ApiError, IsoDuration, NewRequest, RequestKind, ScheduleRequest, Status};
use serde_json::json;
use tempfile::TempDir;

use crate::harness::engine::{RequestExt, hours, mins, req};
use crate::harness::graph::{ASSIGN_REQS, call};
use crate::harness::store::{self, FileTenant};
use crate::harness::{AT, GLOBAL_ADMIN as GA, SECURITY_ADMIN, cli};

// ---------------------------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------------------------

const HOOK_FAILED: &str = "PimlabHookFailed";
/// A hook refused at `hook add` (nothing is stored).
const HOOK_INVALID: &str = "PimlabHookInvalid";
const POLICY_FAILED: &str = "RoleAssignmentRequestPolicyValidationFailed";
/// How long a hook may keep a test waiting before the test calls it a hang.
const DEADLINE: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------------------
// Engine harness
// ---------------------------------------------------------------------------------------------

/// The demonstration tenant in a file store, with the Lua host installed.
struct Lab {
    _dir: TempDir,
    db: PathBuf,
    e: Engine,
    admin: Session,
}

impl Lab {
    fn new() -> Lab {
        Lab::with(InitOptions { demo: true, ..Default::default() }, None)
    }

    fn with_limits(limits: Limits) -> Lab {
        Lab::with(InitOptions { demo: true, ..Default::default() }, Some(limits))
    }

    fn with_seed(seed: u64) -> Lab {
        Lab::with(InitOptions { demo: true, seed, ..Default::default() }, None)
    }

    fn with(opts: InitOptions, limits: Option<Limits>) -> Lab {
        let FileTenant { dir, db, engine: mut e, admin } = FileTenant::new(&opts);
        let host = match limits {
            None => LuaHooks::new(pimlab::api::views::REQUEST),
            Some(l) => LuaHooks::with_limits(pimlab::api::views::REQUEST, l),
        };
        e.set_hook_runner(Rc::new(host));
        Lab { _dir: dir, db, e, admin }
    }

    fn id(&mut self, name: &str) -> String {
        self.e.resolve_object(name).unwrap_or_else(|e| panic!("no object {name}: {e:?}")).id
    }

    fn session(&mut self, name: &str) -> Session {
        Session::new(self.id(name))
    }

    /// Adds a hook as the break-glass administrator, for `role` (by name) or every role.
    #[track_caller]
    fn add(&mut self, name: &str, source: &str, role: Option<&str>) {
        let admin = self.admin.clone();
        if let Err(e) = self.e.add_hook(&admin, name, source, role, None) {
            panic!("hook add {name} refused: {e:?}\n{source}");
        }
    }

    #[track_caller]
    fn remove(&mut self, name: &str) {
        let admin = self.admin.clone();
        self.e.remove_hook(&admin, name).unwrap();
    }

    /// `who` activates `role` for `d`.
    fn activate(&mut self, who: &str, role: &str, d: IsoDuration) -> Result<ScheduleRequest, ApiError> {
        let s = self.session(who);
        let req = self_request(&s.caller, role, Action::SelfActivate, Some(d));
        self.e.submit(&s, &req)
    }

    fn deactivate(&mut self, who: &str, role: &str) -> Result<ScheduleRequest, ApiError> {
        let s = self.session(who);
        let req = self_request(&s.caller, role, Action::SelfDeactivate, None);
        self.e.submit(&s, &req)
    }

    /// The administrator makes `who` eligible for `role`, permanently.
    fn make_eligible(&mut self, who: &str, role: &str) -> Result<ScheduleRequest, ApiError> {
        let principal = self.id(who);
        let req = req(RequestKind::Eligibility, Action::AdminAssign, &principal, role)
            .permanent()
            .justified("hooks test");
        let admin = self.admin.clone();
        self.e.submit(&admin, &req)
    }

    fn advance(&mut self, by: IsoDuration) {
        let admin = self.admin.clone();
        self.e.advance_by(&admin, by).unwrap();
    }

    fn dump(&self) -> String {
        store::logical_dump(&self.db)
    }

    fn failures(&self) -> i64 {
        store::failure_audits(&self.db)
    }

    /// Every request stored.
    fn requests(&mut self) -> Vec<ScheduleRequest> {
        self.e.requests(&RequestFilter::default()).unwrap()
    }
}

/// `action` on an active assignment of `role` for `principal`, lasting `d` when given.
fn self_request(principal: &str, role: &str, action: Action, d: Option<IsoDuration>) -> NewRequest {
    let r = req(RequestKind::Assignment, action, principal, role).justified("hooks test");
    match d {
        Some(d) => r.lasting(d),
        None => r,
    }
}

/// A hook with one `validate` handler whose body starts on line 3.
fn validate_hook(body: &str) -> String {
    format!("return {{\n  validate = function(request, ctx)\n{body}\n  end,\n}}\n")
}

/// The 1-based line of `src` that contains `needle`.
#[track_caller]
fn line_of(src: &str, needle: &str) -> u32 {
    let i =
        src.lines().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("{needle:?} not in\n{src}"));
    i as u32 + 1
}

/// The names of the failing rules of a `RoleAssignmentRequestPolicyValidationFailed` error.
#[track_caller]
fn failed_rules(e: &ApiError) -> Vec<String> {
    assert_eq!(e.code, POLICY_FAILED, "{e:?}");
    let list =
        e.message.strip_prefix("The following policy rules failed: ").unwrap_or_else(|| panic!("{e:?}"));
    serde_json::from_str(list).unwrap()
}

/// What a hook's denial said (`seen` of its failing step), from the error's details.
#[track_caller]
fn denial(e: &ApiError, rule: &str) -> String {
    let d = e
        .details
        .iter()
        .find(|d| d.code == rule)
        .unwrap_or_else(|| panic!("no detail for rule {rule} in {e:?}"));
    let rest = d.message.split_once(" denied the request: ").unwrap_or_else(|| panic!("{d:?}")).1;
    // The fix travels apart from the message, as the detail's hint.
    assert!(d.hint.is_some(), "a hook denial says how to fix it: {d:?}");
    rest.to_string()
}

/// Runs a hook body that ends with `return {deny = "Probe", message = ...}` on alice's activation
/// of Global Administrator, and returns the message.
#[track_caller]
fn probe(lab: &mut Lab, body: &str) -> String {
    lab.add("Probe", &validate_hook(body), None);
    let err = lab.activate("alice", GA, hours(2)).expect_err("the probe denies");
    lab.remove("Probe");
    assert_eq!(failed_rules(&err), ["Probe"], "{err:?}");
    denial(&err, "Probe")
}

/// Runs `f` on another thread and waits at most [`DEADLINE`] for it.
fn within<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
    });
    match rx.recv_timeout(DEADLINE) {
        Ok(Ok(v)) => v,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("{what}: still running after {DEADLINE:?}; the hook was never stopped"),
    }
}

/// Attaches `source` as hook `name` to Global Administrator, has alice activate it, and checks
/// that the request fails closed: `PimlabHookFailed` naming the hook (and `line`, when given, and
/// `needle`), the store unchanged but for the refusal's audit row, and pimlab still serving: a
/// request the hook does not judge succeeds on the same engine, and once the hook is removed the
/// same request succeeds. Runs under the deadline. Returns the error.
#[track_caller]
fn assert_fails_closed(
    limits: Option<Limits>,
    name: &str,
    source: &str,
    line: Option<u32>,
    needle: &str,
) -> ApiError {
    let (name, source, needle) = (name.to_string(), source.to_string(), needle.to_string());
    let what = format!("hook {name}");
    within(&what, move || {
        let mut lab = match limits {
            Some(l) => Lab::with_limits(l),
            None => Lab::new(),
        };
        let admin = lab.admin.clone();
        lab.e
            .add_hook(&admin, &name, &source, Some("Global Administrator"), None)
            .unwrap_or_else(|e| panic!("hook add {name} refused: {e:?}"));
        let (before, failures) = (lab.dump(), lab.failures());
        let err = lab.activate("alice", GA, hours(2)).expect_err("the hook must make the request fail");
        assert_eq!((err.status, err.code.as_str()), (400, HOOK_FAILED), "{err:?}");
        let head = match line {
            Some(l) => format!("Policy hook '{name}' failed at line {l}: "),
            None => format!("Policy hook '{name}' failed"),
        };
        assert!(err.message.starts_with(&head), "expected {head:?}, got {:?}", err.message);
        assert!(err.message.contains(&needle), "expected {needle:?} in {:?}", err.message);
        assert_eq!(lab.dump(), before, "the store changed although the request failed closed");
        assert_eq!(lab.failures(), failures + 1, "the refusal leaves exactly its own audit row");
        // pimlab stays up: the next request (one the hook does not judge) works...
        let other = lab.activate("chloe", SECURITY_ADMIN, hours(1)).expect("a request without the hook");
        assert_eq!(other.status, Status::Provisioned);
        // ...and without the hook, the refused request goes through.
        lab.remove(&name);
        let q = lab.activate("alice", GA, hours(2)).expect("the same request without the hook");
        assert_eq!(q.status, Status::Provisioned);
        err
    })
}

// ---------------------------------------------------------------------------------------------
// validate
// ---------------------------------------------------------------------------------------------

const FREEZE: &str = r#"return {
  validate = function(request, ctx)
    return { deny = "ChangeFreeze", message = "no privileged changes during the freeze" }
  end,
}
"#;

#[test]
fn validate_denial_is_reported_with_the_builtin_rule_failures_in_one_error() {
    let mut lab = Lab::new();
    lab.add("Freeze", FREEZE, Some("Global Administrator"));
    let (before, failures) = (lab.dump(), lab.failures());
    // 10 hours is also beyond the policy's 8-hour maximum: both failures, hook first.
    let err = lab.activate("alice", GA, hours(10)).unwrap_err();
    assert_eq!(err.status, 400);
    assert_eq!(failed_rules(&err), ["ChangeFreeze", "ExpirationRule"], "{err:?}");
    assert_eq!(denial(&err, "ChangeFreeze"), "no privileged changes during the freeze");
    let detail = err.details.iter().find(|d| d.code == "ChangeFreeze").unwrap();
    assert_eq!(detail.target, "hook Freeze", "the detail names the hook: {detail:?}");
    assert_eq!(lab.dump(), before);
    assert_eq!(lab.failures(), failures + 1);
    // Alone, the denial is the only rule listed.
    let err = lab.activate("alice", GA, hours(2)).unwrap_err();
    assert_eq!(failed_rules(&err), ["ChangeFreeze"]);
    // Attached to Global Administrator only: another role is not judged.
    assert_eq!(lab.activate("chloe", SECURITY_ADMIN, hours(1)).unwrap().status, Status::Provisioned);
}

#[test]
fn validate_approval_without_approvers_sends_the_request_to_the_default_approvers() {
    let mut lab = Lab::new();
    lab.add("Gate", &validate_hook("    return { approval = true }"), Some("Global Administrator"));
    let q = lab.activate("alice", GA, hours(2)).unwrap();
    assert_eq!(q.status, Status::PendingApproval);
    let approvers = lab.e.approvers(&q).unwrap();
    // The default approvers: Privileged Role and Global Administrators (the break-glass admin).
    assert_eq!(approvers, [lab.admin.caller.to_ascii_lowercase()]);
    let step = q.trace.iter().find(|s| s.check == "hook Gate").expect("the hook's decision is traced");
    assert_eq!(step.seen, "approval required");
    // Nothing is active until an approver decides.
    let alice = lab.id("alice");
    assert!(lab.e.schedules(RequestKind::Assignment, Some(&alice), Some(GA)).unwrap().is_empty());
    let admin = lab.admin.clone();
    let done =
        lab.e.decide(&admin, &q.id, None, Decision::Approve, Some("fine"), ApprovalChannel::Portal).unwrap();
    assert_eq!(done.status, Status::Provisioned);
}

#[test]
fn validate_approval_with_approvers_names_those_approvers() {
    let mut lab = Lab::new();
    let src = validate_hook(
        r#"    return { approval = true, approvers = { "kenji@contoso.example", "Dev Patel" } }"#,
    );
    lab.add("Gate", &src, Some("Global Administrator"));
    let q = lab.activate("alice", GA, hours(2)).unwrap();
    assert_eq!(q.status, Status::PendingApproval);
    let mut expected = vec![lab.id("kenji"), lab.id("dev")];
    expected.sort();
    assert_eq!(lab.e.approvers(&q).unwrap(), expected);
    let step = q.trace.iter().find(|s| s.check == "hook Gate").unwrap();
    assert_eq!(step.seen, "approval required by kenji@contoso.example, Dev Patel");
    // The break-glass admin is not one of them; kenji is.
    let admin = lab.admin.clone();
    let err = lab
        .e
        .decide(&admin, &q.id, None, Decision::Approve, Some("me"), ApprovalChannel::Portal)
        .unwrap_err();
    assert_eq!(err.status, 403, "{err:?}");
    let kenji = lab.session("kenji");
    let done =
        lab.e.decide(&kenji, &q.id, None, Decision::Approve, Some("ok"), ApprovalChannel::Portal).unwrap();
    assert_eq!(done.status, Status::Provisioned);
}

#[test]
fn a_notification_to_an_unknown_recipient_fails_closed_naming_the_hook() {
    let src = "return {\n  completed = function(request, ctx)\n    return { notify = { to = { \"nobody-at-all\" }, subject = \"s\" } }\n  end,\n}\n";
    assert_fails_closed(None, "Notify", src, None, "nobody-at-all");
}

#[test]
fn an_unknown_approver_named_by_a_hook_fails_closed_naming_the_hook() {
    let src = validate_hook(r#"    return { approval = true, approvers = { "nobody-at-all" } }"#);
    assert_fails_closed(None, "Gate", &src, None, "nobody-at-all");
    let src = "return {\n  validate = function() return { approval = true } end,\n  route = function() return { approvers = { \"nobody-at-all\" } } end,\n}\n";
    assert_fails_closed(None, "Route", src, None, "nobody-at-all");
}

#[test]
fn a_required_approval_is_never_silently_dropped() {
    let mut lab = Lab::new();
    lab.add("Gate", &validate_hook("    return { approval = true }"), Some("Security Administrator"));
    // adminAssign has no approval step in PIM: pimlab must either hold it or refuse it.
    match lab.make_eligible("alice", SECURITY_ADMIN) {
        Ok(q) => assert_ne!(
            q.status,
            Status::Provisioned,
            "provisioned without the approval the hook required: {:?}",
            q.trace
        ),
        Err(e) => assert_eq!(e.status, 400, "{e:?}"),
    }
}

#[test]
fn validate_duration_shortens_within_the_policy_limit_and_never_lengthens() {
    let mut lab = Lab::new();
    lab.add("Short", &validate_hook(r#"    return { duration = "PT1H" }"#), Some("Global Administrator"));
    let alice = lab.id("alice");

    // 4 hours asked, 1 hour granted.
    let q = lab.activate("alice", GA, hours(4)).unwrap();
    assert_eq!(q.status, Status::Provisioned);
    let s = lab.e.schedules(RequestKind::Assignment, Some(&alice), Some(GA)).unwrap();
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].end_at.unwrap() - s[0].schedule_info.start.unwrap(), hours(1).as_delta());
    assert!(
        q.trace.iter().any(|t| t.check == "HookDuration" && t.seen == "shortened to PT1H"),
        "{:?}",
        q.trace
    );
    assert!(q.trace.iter().any(|t| t.check == "hook Short" && t.seen == "at most PT1H"), "{:?}", q.trace);
    lab.advance(mins(10));
    lab.deactivate("alice", GA).unwrap();

    // 30 minutes asked: shorter than the hook's limit, kept as asked.
    lab.activate("alice", GA, mins(30)).unwrap();
    let s = lab.e.schedules(RequestKind::Assignment, Some(&alice), Some(GA)).unwrap();
    assert_eq!(s[0].end_at.unwrap() - s[0].schedule_info.start.unwrap(), mins(30).as_delta());
    lab.advance(mins(10));
    lab.deactivate("alice", GA).unwrap();

    // A hook "limit" above the policy's 8 hours cannot lengthen anything: 10 hours still fails
    // the policy, and 2 hours stays 2 hours.
    lab.remove("Short");
    lab.add("Long", &validate_hook(r#"    return { duration = "PT12H" }"#), Some("Global Administrator"));
    let err = lab.activate("alice", GA, hours(10)).unwrap_err();
    assert_eq!(failed_rules(&err), ["ExpirationRule"]);
    lab.activate("alice", GA, hours(2)).unwrap();
    let s = lab.e.schedules(RequestKind::Assignment, Some(&alice), Some(GA)).unwrap();
    assert_eq!(s[0].end_at.unwrap() - s[0].schedule_info.start.unwrap(), hours(2).as_delta());
}

#[test]
fn the_shortest_duration_of_several_hooks_wins() {
    let mut lab = Lab::new();
    lab.add("Three", &validate_hook(r#"    return { duration = "PT3H" }"#), None);
    lab.add("Ninety", &validate_hook(r#"    return { duration = "PT90M" }"#), None);
    lab.add("Two", &validate_hook(r#"    return { duration = "PT2H" }"#), None);
    lab.activate("alice", GA, hours(8)).unwrap();
    let alice = lab.id("alice");
    let s = lab.e.schedules(RequestKind::Assignment, Some(&alice), Some(GA)).unwrap();
    assert_eq!(s[0].end_at.unwrap() - s[0].schedule_info.start.unwrap(), mins(90).as_delta());
}

// ---------------------------------------------------------------------------------------------
// route
// ---------------------------------------------------------------------------------------------

const GATE_KENJI: &str = r#"return {
  validate = function(request, ctx)
    return { approval = true, approvers = { "kenji" } }
  end,
}
"#;

#[test]
fn route_adds_approvers_to_the_approval() {
    let mut lab = Lab::new();
    lab.add("Gate", GATE_KENJI, Some("Global Administrator"));
    let route = r#"return {
  route = function(request, ctx)
    return { approvers = { "dev@contoso.example" } }
  end,
}
"#;
    lab.add("Route", route, Some("Global Administrator"));
    let q = lab.activate("alice", GA, hours(2)).unwrap();
    assert_eq!(q.status, Status::PendingApproval);
    let mut expected = vec![lab.id("kenji"), lab.id("dev")];
    expected.sort();
    assert_eq!(lab.e.approvers(&q).unwrap(), expected);
    let step = q.trace.iter().find(|s| s.check == "hook Route").expect("the route decision is traced");
    assert_eq!(step.seen, "added: approvers dev@contoso.example");
    let dev = lab.session("dev");
    assert_eq!(
        lab.e
            .decide(&dev, &q.id, None, Decision::Approve, Some("ok"), ApprovalChannel::Portal)
            .unwrap()
            .status,
        Status::Provisioned
    );
}

#[test]
fn route_with_replace_swaps_the_approvers() {
    let mut lab = Lab::new();
    lab.add("Gate", GATE_KENJI, Some("Global Administrator"));
    let route = r#"return {
  route = function(request, ctx)
    return { approvers = { "Dev Patel" }, replace = true }
  end,
}
"#;
    lab.add("Route", route, Some("Global Administrator"));
    let q = lab.activate("alice", GA, hours(2)).unwrap();
    assert_eq!(lab.e.approvers(&q).unwrap(), [lab.id("dev")]);
    let step = q.trace.iter().find(|s| s.check == "hook Route").unwrap();
    assert_eq!(step.seen, "replaced by approvers Dev Patel");
    let kenji = lab.session("kenji");
    assert!(
        lab.e.decide(&kenji, &q.id, None, Decision::Approve, Some("me?"), ApprovalChannel::Portal).is_err(),
        "kenji was replaced"
    );
    let dev = lab.session("dev");
    assert_eq!(
        lab.e
            .decide(&dev, &q.id, None, Decision::Approve, Some("ok"), ApprovalChannel::Portal)
            .unwrap()
            .status,
        Status::Provisioned
    );
}

#[test]
fn route_returning_nothing_leaves_the_approvers_alone() {
    let mut lab = Lab::new();
    lab.add("Gate", GATE_KENJI, Some("Global Administrator"));
    lab.add("Quiet", "return { route = function(request, ctx) end }", None);
    let q = lab.activate("alice", GA, hours(2)).unwrap();
    assert_eq!(lab.e.approvers(&q).unwrap(), [lab.id("kenji")]);
}

// ---------------------------------------------------------------------------------------------
// completed
// ---------------------------------------------------------------------------------------------

const NOTE: &str = r#"return {
  completed = function(request, ctx)
    return { note = "reviewed by the SOC: " .. request.status }
  end,
}
"#;

const NOTIFY: &str = r#"return {
  completed = function(request, ctx)
    return { notify = { to = { "kenji", "soc@contoso.example" }, subject = "GA " .. request.status, body = "for " .. ctx.principal.displayName } }
  end,
}
"#;

#[test]
fn completed_note_is_recorded_in_the_request_trace() {
    let mut lab = Lab::new();
    lab.add("Note", NOTE, None);
    let q = lab.activate("alice", GA, hours(2)).unwrap();
    let stored = lab.e.request(&q.id, None).unwrap();
    let step = stored.trace.iter().find(|s| s.check == "hook Note").expect("the note is stored");
    assert_eq!(step.seen, "reviewed by the SOC: Provisioned");
    assert_eq!(step.limit, "completed (note)");
    assert!(step.passed);
}

#[test]
fn completed_notify_writes_an_outbox_row() {
    let mut lab = Lab::new();
    lab.add("Notify", NOTIFY, Some("Global Administrator"));
    let q = lab.activate("alice", GA, hours(2)).unwrap();
    let rows: Vec<_> =
        lab.e.notifications(None, None).unwrap().into_iter().filter(|n| n.event == "Hook:Notify").collect();
    assert_eq!(rows.len(), 1, "{rows:?}");
    let n = &rows[0];
    assert_eq!(n.subject, "GA Provisioned");
    assert_eq!(n.body, "for Alice Andersen");
    assert_eq!(n.request_id.as_deref(), Some(q.id.as_str()));
    assert_eq!(n.recipients, ["kenji@contoso.example", "soc@contoso.example"]);
    assert_eq!(n.recipient_ids, [lab.id("kenji")]);
    // Kenji's own outbox shows it.
    let kenji = lab.id("kenji");
    assert!(lab.e.notifications(Some(&kenji), None).unwrap().iter().any(|n| n.event == "Hook:Notify"));
    let stored = lab.e.request(&q.id, None).unwrap();
    let step = stored.trace.iter().find(|s| s.check == "hook Notify").unwrap();
    assert_eq!(step.seen, "notified kenji, soc@contoso.example");
}

#[test]
fn completed_runs_when_an_approver_decides_and_when_an_approval_times_out() {
    let mut lab = Lab::new();
    lab.add("Gate", GATE_KENJI, Some("Global Administrator"));
    lab.add("Note", NOTE, None);
    let q = lab.activate("alice", GA, hours(2)).unwrap();
    assert!(!q.trace.iter().any(|s| s.check == "hook Note"), "not completed yet");
    let kenji = lab.session("kenji");
    let denied =
        lab.e.decide(&kenji, &q.id, None, Decision::Deny, Some("no"), ApprovalChannel::Portal).unwrap();
    let step = denied.trace.iter().find(|s| s.check == "hook Note").expect("completed ran on the denial");
    assert_eq!(step.seen, "reviewed by the SOC: Denied");

    // An approval nobody decides times out after a day: completed sees that too.
    let q = lab.activate("alice", GA, hours(2)).unwrap();
    lab.advance(IsoDuration::from_days(2));
    let stored = lab.e.request(&q.id, None).unwrap();
    assert_ne!(stored.status, Status::PendingApproval);
    let step = stored.trace.iter().find(|s| s.check == "hook Note").expect("completed ran on the time-out");
    assert_eq!(step.seen, format!("reviewed by the SOC: {}", stored.status));
}

#[test]
fn completed_runs_on_deactivation_and_on_cancellation() {
    let mut lab = Lab::new();
    lab.add("Note", NOTE, None);
    lab.activate("alice", GA, hours(2)).unwrap();
    lab.advance(IsoDuration::from_minutes(10));
    let off = lab.deactivate("alice", GA).unwrap();
    assert_eq!(off.status, Status::Revoked);
    let step = off.trace.iter().find(|s| s.check == "hook Note").expect("completed ran on the deactivation");
    assert_eq!(step.seen, "reviewed by the SOC: Revoked");

    lab.add("Gate", GATE_KENJI, Some("Global Administrator"));
    let q = lab.activate("alice", GA, hours(2)).unwrap();
    assert_eq!(q.status, Status::PendingApproval);
    let alice = lab.session("alice");
    let canceled = lab.e.cancel(&alice, RequestKind::Assignment, &q.id).unwrap();
    assert_eq!(canceled.status, Status::Canceled);
    let step =
        canceled.trace.iter().find(|s| s.check == "hook Note").expect("completed ran on the cancellation");
    assert_eq!(step.seen, "reviewed by the SOC: Canceled");
}

#[test]
fn a_failing_completed_hook_does_not_freeze_the_clock() {
    let mut lab = Lab::new();
    lab.add("Gate", GATE_KENJI, Some("Global Administrator"));
    lab.add(
        "Observer",
        "return {\n  completed = function(request, ctx)\n    error(\"observer down\")\n  end,\n}\n",
        None,
    );
    let q = lab.activate("alice", GA, hours(2)).unwrap();
    assert_eq!(q.status, Status::PendingApproval);
    let before = lab.e.now().unwrap();
    let admin = lab.admin.clone();
    let advanced = lab.e.advance_by(&admin, IsoDuration::from_days(2));
    assert!(advanced.is_ok(), "{advanced:?}");
    assert_eq!(lab.e.now().unwrap() - before, IsoDuration::from_days(2).as_delta());
    assert_ne!(lab.e.request(&q.id, None).unwrap().status, Status::PendingApproval);
}

// ---------------------------------------------------------------------------------------------
// Several hooks
// ---------------------------------------------------------------------------------------------

#[test]
fn hooks_run_in_the_order_they_were_added() {
    let mut lab = Lab::new();
    for name in ["First", "Second", "Third"] {
        lab.add(name, "return { validate = function() end }", None);
    }
    let order: Vec<(i64, String)> =
        lab.e.hooks().unwrap().into_iter().map(|h| (h.position, h.name)).collect();
    assert_eq!(order, [(1, "First".to_string()), (2, "Second".into()), (3, "Third".into())]);
    let q = lab.activate("alice", GA, hours(2)).unwrap();
    let traced: Vec<&str> =
        q.trace.iter().filter(|s| s.check.starts_with("hook ")).map(|s| s.check.as_str()).collect();
    assert_eq!(traced, ["hook First", "hook Second", "hook Third"]);
    assert!(q.trace.iter().filter(|s| s.check.starts_with("hook ")).all(|s| s.seen == "no objection"));
    // Removed and added again, a hook runs last.
    lab.remove("First");
    lab.add("First", "return { validate = function() end }", None);
    let names: Vec<String> = lab.e.hooks().unwrap().into_iter().map(|h| h.name).collect();
    assert_eq!(names, ["Second", "Third", "First"]);
}

#[test]
fn the_first_denial_wins_and_later_hooks_do_not_run() {
    let mut lab = Lab::new();
    lab.add("Allow", "return { validate = function() end }", None);
    lab.add("DenyB", &validate_hook(r#"    return { deny = "RuleB", message = "B says no" }"#), None);
    lab.add("DenyC", &validate_hook(r#"    return { deny = "RuleC", message = "C says no" }"#), None);
    // If this ran, the request would fail with PimlabHookFailed instead.
    lab.add("Boom", &validate_hook(r#"    error("Boom must not run after a denial")"#), None);
    let err = lab.activate("alice", GA, hours(2)).unwrap_err();
    assert_eq!(failed_rules(&err), ["RuleB"], "{err:?}");
    assert_eq!(denial(&err, "RuleB"), "B says no");
    assert!(!format!("{err:?}").contains("RuleC"));
}

#[test]
fn hooks_share_no_state_with_each_other_or_between_requests() {
    let mut lab = Lab::new();
    // The first hook clobbers everything it can reach and counts its calls in a global.
    let clobber = r#"count = (count or 0) + 1
return {
  validate = function(request, ctx)
    shared = "left by Clobber"
    string.upper = function() return "pwned" end
    getmetatable("").__index.lower = nil
    math.random = function() return 4 end
    os.time = function() return 0 end
  end,
}
"#;
    lab.add("Clobber", clobber, None);
    let look = r#"return {
  validate = function(request, ctx)
    local seen = {}
    if shared ~= nil then seen[#seen + 1] = "shared" end
    if count ~= nil then seen[#seen + 1] = "count" end
    if ("a"):upper() ~= "A" then seen[#seen + 1] = "upper" end
    if string.lower == nil then seen[#seen + 1] = "lower" end
    if os.time() == 0 then seen[#seen + 1] = "os.time" end
    if #seen > 0 then return { deny = "Leak", message = table.concat(seen, ",") } end
  end,
}
"#;
    lab.add("Look", look, None);
    let counter = r#"count = (count or 0) + 1
return {
  validate = function(request, ctx)
    if count ~= 1 then return { deny = "Leak", message = "count " .. count } end
  end,
}
"#;
    lab.add("Counter", counter, None);
    lab.activate("alice", GA, hours(2)).expect("no hook sees another's state");
    lab.activate("chloe", SECURITY_ADMIN, hours(2)).expect("nor a previous request's");
}

// The host keeps one prepared Lua state from call to call (each hook compiled once; the request
// and ctx converted once per event and request). These tests pin down what must still not carry
// over: from a call to the next call of the same hook, to another hook of the same event, from the
// validate event to the completed one, and after a failed call.

/// What a call may find left behind by an earlier one; `leaks(request, ctx)` lists what it found.
const LEAKS: &str = r#"local function leaks(request, ctx)
  local found = {}
  local function check(what, leaked) if leaked then found[#found + 1] = what end end
  check("global", rawget(_G, "dropped") ~= nil)
  check("global set by load", rawget(_G, "loaded") ~= nil)
  check("metatable of _G", getmetatable(_G) ~= nil)
  check("string table", rawget(string, "litter") ~= nil or string.upper("a") ~= "A")
  check("string metatable", getmetatable("").litter ~= nil or ("a"):upper() ~= "A")
  check("math", getmetatable(math) ~= nil)
  check("os", os.time == nil)
  check("table", table.concat == nil)
  check("request view", rawget(request, "litter") ~= nil
    or (request.scheduleInfo ~= nil and rawget(request.scheduleInfo, "litter") ~= nil))
  check("ctx view", rawget(ctx, "litter") ~= nil or rawget(ctx.principal, "litter") ~= nil
    or rawget(ctx.policy, "litter") ~= nil)
  return found
end
"#;

/// Leaves behind everything it can reach (after looking for what an earlier call left).
const LITTER: &str = r#"local function litter(request, ctx)
  dropped = true
  load("loaded = true")()
  string.litter = true
  string.upper = function() return "pwned" end
  getmetatable("").litter = true
  getmetatable("").__index = { upper = function() return "pwned" end }
  setmetatable(math, { __metatable = "locked" })
  os.time = nil
  rawset(request, "litter", true)
  if request.scheduleInfo then rawset(request.scheduleInfo, "litter", true) end
  rawset(ctx, "litter", true)
  rawset(ctx.principal, "litter", true)
  rawset(ctx.policy, "litter", true)
  table.concat = nil
  setmetatable(_G, { __index = function(_, k) return "litter " .. k end })
end
"#;

/// A hook with both handlers: each reports what it found (validate denies, completed notes) and
/// then, if `litters`, leaves everything behind. A top-level local counts the calls of the chunk.
fn leak_probe(litters: bool) -> String {
    let act = if litters { "litter(request, ctx)" } else { "" };
    format!(
        "{LEAKS}{LITTER}local calls = 0
local function look(request, ctx)
  calls = calls + 1
  local found = leaks(request, ctx)
  if calls ~= 1 then found[#found + 1] = \"top-level local (\" .. calls .. \" calls)\" end
  local text = table.concat(found, \", \")
  {act}
  return text
end
return {{
  validate = function(request, ctx)
    local found = look(request, ctx)
    if found ~= \"\" then return {{ deny = \"Leak\", message = found }} end
  end,
  completed = function(request, ctx)
    local found = look(request, ctx)
    return {{ note = found == \"\" and \"clean\" or (\"leak: \" .. found) }}
  end,
}}
"
    )
}

#[test]
fn nothing_a_call_leaves_behind_reaches_a_later_call_or_another_hook() {
    let mut lab = Lab::new();
    lab.add("Litter", &leak_probe(true), None);
    lab.add("Witness", &leak_probe(false), None);
    let notes = |q: &ScheduleRequest| -> Vec<(String, String)> {
        q.trace
            .iter()
            .filter(|s| s.limit == "completed (note)")
            .map(|s| (s.check.clone(), s.seen.clone()))
            .collect()
    };
    let clean = vec![
        ("hook Litter".to_string(), "clean".to_string()),
        ("hook Witness".to_string(), "clean".to_string()),
    ];
    // Each request: Litter and Witness validate, then both complete; Litter litters every time.
    let q = lab.activate("alice", GA, hours(2)).expect("the first request");
    assert_eq!(notes(&q), clean, "completed saw what validate left: {:#?}", q.trace);
    lab.advance(mins(10));
    let q = lab.deactivate("alice", GA).expect("a second request: nothing of the first");
    assert_eq!(notes(&q), clean, "{:#?}", q.trace);
    let q = lab.activate("chloe", SECURITY_ADMIN, hours(1)).expect("a third request");
    assert_eq!(notes(&q), clean, "{:#?}", q.trace);
}

/// A call's globals and libraries are copy-on-write stand-ins for the pristine ones (the host makes
/// them cheaply for every call): within the call they must behave as the plain tables they stand
/// for, in every way a script can look at them, and what the call changes must not outlive it.
const PLAIN_TABLES: &str = r#"local function check(found, what, ok) if not ok then found[#found + 1] = what end end
local function probe()
  local found = {}
  -- What an earlier call did is gone.
  check(found, "upper restored", ("a"):upper() == "A" and string.upper("b") == "B")
  check(found, "pi restored", math.pi > 3.14 and math.pi < 3.15)
  check(found, "string global restored", type(string) == "table" and string.format("%d", 7) == "7")
  check(found, "no new key", rawget(string, "extra") == nil and string.extra == nil)
  check(found, "_G metatable gone", getmetatable(_G) == nil and undefined_global == nil)
  -- Libraries and _G look like plain tables.
  check(found, "getmetatable(string)", getmetatable(string) == nil and getmetatable(math) == nil)
  check(found, "rawget reads through", rawget(string, "upper") == string.upper and rawget(_G, "tostring") == tostring)
  check(found, "next sees the library", next(string) ~= nil and next(os) ~= nil)
  local n = 0
  for _ in pairs(math) do n = n + 1 end
  check(found, "pairs(math) lists it all (" .. n .. ")", n >= 20)
  check(found, "_G._G", _G._G == _G and rawget(_G, "_G") == _G)
  -- Changes hold within the call, through every alias.
  local s = string
  s.extra = 1
  check(found, "alias write", string.extra == 1 and rawget(string, "extra") == 1)
  string.upper = function() return "mine" end
  check(found, "overwrite", ("a"):upper() == "mine")
  string.upper = nil
  check(found, "overwritten then deleted stays deleted", string.upper == nil and rawget(string, "upper") == nil)
  rawset(math, "pi", 3)
  check(found, "rawset of a library field", math.pi == 3)
  local keys = 0
  for k in pairs(math) do keys = keys + 1 end
  check(found, "pairs after rawset", keys == n)
  string = nil
  check(found, "library global deleted", string == nil)
  setmetatable(_G, { __index = function() return 1 end })
  check(found, "setmetatable(_G)", undefined_global == 1 and getmetatable(_G) ~= nil)
  return table.concat(found, "; ")
end
return {
  validate = function(request, ctx)
    local found = probe()
    if found ~= "" then return { deny = "NotPlain", message = found } end
  end,
}
"#;

#[test]
fn libraries_and_globals_behave_as_plain_tables_within_a_call_and_reset_after_it() {
    let mut lab = Lab::new();
    lab.add("Plain", PLAIN_TABLES, None);
    lab.add("PlainAgain", PLAIN_TABLES, None);
    lab.activate("alice", GA, hours(1)).expect("both calls find plain tables");
    lab.activate("chloe", SECURITY_ADMIN, hours(1)).expect("and so does the next request's");
}

/// Checks that a call starts in the world a fresh state gives it; denies `Leak` naming what is not.
const WITNESS: &str = r#"local bad = {}
    local function check(what, ok) if not ok then bad[#bad + 1] = what end end
    check("string", type(string) == "table" and string.upper ~= nil and string.upper("a") == "A")
    check("string methods", ("a"):upper() == "A")
    check("_G", _G == _ENV and type(_G) == "table")
    check("table", type(table) == "table" and type(table.insert) == "function")
    local sm = getmetatable("")
    check("string metatable", sm.__index == string and sm.__add == nil and sm.junk == nil and getmetatable(sm) == nil)
    check("string keys", string[1] == nil and string.junk == nil)
    check("globals", junk == nil and loaded_junk == nil)
    check("math", math.pi > 3.14 and math.junk == nil)
    check("os", type(os.date) == "function" and type(os.time) == "function")
    check("coroutine", coroutine.junk == nil)
    check("views", request.junk == nil and ctx.junk == nil and request.scheduleInfo.junk == nil
      and ctx.principal.junk == nil and ctx.role.junk == nil and ctx.principal.groups[99] == nil)
    if #bad > 0 then return { deny = "Leak", message = table.concat(bad, ",") } end"#;

#[test]
fn nothing_a_call_changes_reaches_the_next_hook_of_the_same_event_or_a_later_request() {
    // The hooks of one event share an environment and views while no call changes them: each way
    // of changing one must be seen, by the hook after it in the same event (`b-witness`) and by
    // itself in the next request.
    let tampers = [
        "string = nil",
        "_G = 1",
        "table = {}",
        "_ENV.os = nil",
        "junk = 1",
        "load('loaded_junk = 1')()",
        "string.upper = nil",
        "math.pi = 3",
        "math.junk = 1",
        "coroutine.junk = 1",
        "table.insert(string, 'junk')",
        "rawset(string, 'junk', 1)",
        "for k in pairs(string) do end string.junk = 1",
        "getmetatable('').__index = { upper = function() return 'x' end }",
        "getmetatable('').__add = function() return 1 end",
        "getmetatable('').junk = 1",
        "setmetatable(getmetatable(''), { __index = function() return 1 end })",
        "setmetatable(_G, nil) junk = 1",
        "rawset(request, 'junk', 1)",
        "rawset(ctx, 'junk', 1)",
        "rawset(request.scheduleInfo, 'junk', 1)",
        "rawset(ctx.principal, 'junk', 1)",
        "for _ in pairs(ctx) do end rawset(ctx.role, 'junk', 1)",
        "rawset(ctx.principal.groups, 99, 'junk')",
    ];
    for tamper in tampers {
        let mut lab = Lab::new();
        // The tamper's own first call checks what it starts with, then tampers.
        let source = validate_hook(&format!(
            "    local first = (function()\n{WITNESS}\n    end)()\n    {tamper}\n    return first"
        ));
        lab.add("a-tamper", &source, None);
        lab.add("b-witness", &validate_hook(WITNESS), None);
        let requests = [
            lab.activate("alice", GA, hours(1)),
            lab.make_eligible("alice", SECURITY_ADMIN),
            lab.activate("alice", SECURITY_ADMIN, hours(1)),
        ];
        for r in requests {
            if let Err(e) = r {
                panic!("after `{tamper}`: {}", e.message);
            }
        }
    }
}

#[test]
fn a_failed_call_leaves_nothing_behind() {
    let mut lab = Lab::new();
    let src = r#"return {
  validate = function(request, ctx)
    if rawget(_G, "dropped") ~= nil or string.litter ~= nil then
      return { deny = "Leak", message = "a failed call left its globals" }
    end
    dropped = true
    string.litter = true
    if request.justification == "boom" then error("boom") end
  end,
}
"#;
    lab.add("Fragile", src, None);
    let s = lab.session("alice");
    let mut boom = self_request(&s.caller, GA, Action::SelfActivate, Some(hours(1)));
    boom.justification = Some("boom".into());
    let err = lab.e.submit(&s, &boom).expect_err("the hook fails");
    assert_eq!(err.code, HOOK_FAILED, "{err:?}");
    assert!(err.message.contains("boom"), "{err:?}");
    lab.activate("alice", GA, hours(1)).expect("the next call starts clean");
    lab.activate("chloe", SECURITY_ADMIN, hours(1)).expect("and the one after");
}

#[test]
fn the_budget_and_the_memory_limit_hold_per_call() {
    // Each call uses 60% of the budget, and keeps a string of 1.5 MiB in a global (building it
    // takes twice that for a moment): with an earlier call's string still held, neither would
    // fit, so every call must start with its own budget and without the memory of the calls
    // before it (two such hooks run on every event of every request).
    let hungry = r#"return {
  validate = function(request, ctx)
    local n = 0
    for i = 1, 60000 do n = n + i end
    kept = string.rep("x", 1536 * 1024)
  end,
}
"#;
    let ok = within("hungry hooks", move || {
        let mut lab = Lab::with_limits(SMALL);
        lab.add("HungryA", hungry, None);
        lab.add("HungryB", hungry, None);
        let mut results =
            vec![lab.activate("alice", GA, hours(1)), lab.activate("chloe", SECURITY_ADMIN, hours(1))];
        lab.advance(mins(10));
        results.push(lab.deactivate("alice", GA));
        results.push(lab.make_eligible("alice", SECURITY_ADMIN));
        results.into_iter().map(|r| r.map(|q| q.status).map_err(|e| e.message)).collect::<Vec<_>>()
    });
    for r in ok {
        assert!(matches!(r, Ok(Status::Provisioned) | Ok(Status::Revoked)), "{r:?}");
    }
}

#[test]
fn a_hook_added_again_under_the_same_name_runs_its_new_source() {
    let mut lab = Lab::new();
    lab.add("Versioned", &validate_hook(r#"    return { deny = "One", message = "first" }"#), None);
    assert_eq!(failed_rules(&lab.activate("alice", GA, hours(1)).unwrap_err()), ["One"]);
    lab.remove("Versioned");
    lab.add("Versioned", &validate_hook(r#"    return { deny = "Two", message = "second" }"#), None);
    assert_eq!(failed_rules(&lab.activate("alice", GA, hours(1)).unwrap_err()), ["Two"]);
}

#[test]
fn a_hook_attached_to_another_role_or_scope_does_not_run() {
    let mut lab = Lab::new();
    let admin = lab.admin.clone();
    let boom = validate_hook(r#"    error("must not run")"#);
    lab.e.add_hook(&admin, "OtherRole", &boom, Some("Security Administrator"), None).unwrap();
    lab.e.add_hook(&admin, "OtherScope", &boom, None, Some("/administrativeUnits/elsewhere")).unwrap();
    assert_eq!(lab.activate("alice", GA, hours(2)).unwrap().status, Status::Provisioned);
    let err = lab.activate("chloe", SECURITY_ADMIN, hours(2)).unwrap_err();
    assert_eq!(err.code, HOOK_FAILED);
    assert!(err.message.starts_with("Policy hook 'OtherRole' failed"), "{err:?}");
}

// ---------------------------------------------------------------------------------------------
// Strict conversion of what handlers return
// ---------------------------------------------------------------------------------------------

/// (what the handler returns, the text the error must contain)
const BAD_VALIDATE_RETURNS: &[(&str, &str)] = &[
    (r#"{ deny = "R", message = "m", colour = "red" }"#, "validate returned an unknown field 'colour'"),
    (r#"{ allow = true }"#, "validate returned an unknown field 'allow'"),
    (r#"{ deny = 42, message = "m" }"#, "validate: field 'deny' must be a string, got a number"),
    (r#"{ deny = "R", message = { "m" } }"#, "validate: field 'message' must be a string, got a table"),
    (r#"{ approval = "yes" }"#, "validate: field 'approval' must be true or false, got a string"),
    (r#"{ approval = false }"#, "validate: field 'approval' may only be true"),
    (r#"{ approval = true, approvers = { 7 } }"#, "validate: approvers[1] must be a string, got a number"),
    (
        r#"{ approval = true, approvers = 7 }"#,
        "validate: field 'approvers' must be a list of strings, got a number",
    ),
    (r#"{ duration = 3600 }"#, "validate: field 'duration' must be a string, got a number"),
    (r#"{ duration = "two hours" }"#, "validate: field 'duration'"),
    (r#"{ deny = "R" }"#, "validate: field 'message' is required"),
    (r#"{ deny = "", message = "m" }"#, "validate: field 'deny' must name the rule"),
    (r#"{ deny = "R", message = "m", approval = true }"#, "more than one of deny, approval and duration"),
    (r#"{ message = "m" }"#, "'message' goes with 'deny'"),
    (r#"{ [1] = "R" }"#, "validate returned a table with a non-string key"),
    (r#"{ note = "validate cannot note" }"#, "validate returned an unknown field 'note'"),
    (r#""deny""#, "validate must return nil or a table, not a string"),
    (r#"42"#, "validate must return nil or a table, not a number"),
    (r#"true"#, "validate must return nil or a table, not a boolean"),
    (r#"function() end"#, "validate must return nil or a table, not a function"),
];

#[test]
fn validate_return_values_are_converted_strictly_naming_the_field_and_the_handler_line() {
    for (returned, needle) in BAD_VALIDATE_RETURNS {
        let src = validate_hook(&format!("    return {returned}"));
        // The line is the handler's (`validate = function` on line 2).
        let err = assert_fails_closed(None, "Strict", &src, Some(2), needle);
        assert_eq!(err.details[0].code, "HookFailed", "{err:?}");
        assert_eq!(err.details[0].target, "Strict", "{err:?}");
    }
}

#[test]
fn route_and_completed_return_values_are_converted_strictly() {
    let cases: &[(&str, &str, &str)] = &[
        ("route", r#"{ replace = true }"#, "route: field 'approvers' is required"),
        (
            "route",
            r#"{ approvers = { "dev" }, replace = "yes" }"#,
            "route: field 'replace' must be true or false",
        ),
        ("route", r#"{ approvers = { "dev" }, deny = "R" }"#, "route returned an unknown field 'deny'"),
        ("route", r#""dev""#, "route must return nil or a table, not a string"),
        ("completed", r#"{ note = 5 }"#, "completed: field 'note' must be a string, got a number"),
        ("completed", r#"{ note = "a", notify = {} }"#, "completed returned both 'note' and 'notify'"),
        (
            "completed",
            r#"{ notify = { to = { "kenji" } } }"#,
            "completed.notify: field 'subject' is required",
        ),
        ("completed", r#"{ notify = { subject = "s" } }"#, "completed.notify: field 'to' names no recipient"),
        ("completed", r#"{ notify = { to = "kenji", subject = "s", cc = "x" } }"#, "unknown field 'cc'"),
        ("completed", r#"{ notify = "kenji" }"#, "completed: field 'notify' must be a table, got a string"),
        ("completed", r#"{ duration = "PT1H" }"#, "completed returned an unknown field 'duration'"),
        ("completed", r#"12"#, "completed must return nil or a table, not a number"),
    ];
    for (handler, returned, needle) in cases {
        let src = if *handler == "route" {
            // Route needs an approval to route: the same hook requires one.
            format!(
                "return {{\n  validate = function() return {{ approval = true, approvers = {{ \"kenji\" }} }} end,\n  route = function(request, ctx)\n    return {returned}\n  end,\n}}\n"
            )
        } else {
            format!("return {{\n  completed = function(request, ctx)\n    return {returned}\n  end,\n}}\n")
        };
        let line = line_of(&src, &format!("{handler} = function"));
        assert_fails_closed(None, "Strict", &src, Some(line), needle);
    }
}

#[test]
fn hook_add_refuses_a_file_that_is_not_a_table_of_known_handlers() {
    let cases: &[(&str, &str)] = &[
        ("return 42", "the hook must `return { validate = function(request, ctx) ... end, ... }`"),
        ("local x = 1", "the hook must `return"),
        (r#"return "validate""#, "the hook must `return"),
        (
            "return { validat = function() end }",
            "unknown handler 'validat' (handlers: validate, route, completed)",
        ),
        ("return { validate = function() end, audit = function() end }", "unknown handler 'audit'"),
        ("return { validate = 42 }", "handler 'validate' is not a function"),
        ("return {}", "the table has no handler"),
        ("return { [1] = function() end }", "unknown handler"),
        ("return {\n  validate = function(\n}", "at line 3"),
        ("error('refusing to load')", "at line 1: refusing to load"),
    ];
    let mut lab = Lab::new();
    let admin = lab.admin.clone();
    let (before, failures) = (lab.dump(), lab.failures());
    for (src, needle) in cases {
        let err = lab.e.add_hook(&admin, "Bad", src, None, None).expect_err(src);
        assert_eq!((err.status, err.code.as_str()), (400, HOOK_INVALID), "{src}: {err:?}");
        assert!(err.message.starts_with("Policy hook 'Bad' is not valid"), "{src}: {err:?}");
        assert!(err.message.contains(needle), "{src}: expected {needle:?} in {:?}", err.message);
    }
    assert!(lab.e.hooks().unwrap().is_empty());
    assert_eq!(lab.dump(), before, "a refused hook add changes nothing");
    assert_eq!(lab.failures(), failures);
}

#[test]
fn hook_names_must_be_unique_and_plain() {
    let mut lab = Lab::new();
    let admin = lab.admin.clone();
    lab.add("Freeze", FREEZE, None);
    let err = lab.e.add_hook(&admin, "Freeze", FREEZE, None, None).unwrap_err();
    assert_eq!((err.status, err.code.as_str()), (409, "HookExists"));
    let err = lab.e.add_hook(&admin, "no spaces", FREEZE, None, None).unwrap_err();
    assert_eq!(err.status, 400);
    let err = lab.e.add_hook(&admin, "X", FREEZE, Some("Chief Wizard"), None).unwrap_err();
    assert_eq!(err.status, 404, "{err:?}");
}

#[test]
fn a_non_administrator_cannot_add_or_remove_hooks() {
    let mut lab = Lab::new();
    lab.add("Freeze", FREEZE, None);
    let before = lab.dump();
    let alice = lab.session("alice");
    let err = lab.e.add_hook(&alice, "Mine", "return { validate = function() end }", None, None).unwrap_err();
    assert_eq!((err.status, err.code.as_str()), (403, "UnauthorizedAccessException"), "{err:?}");
    let err = lab.e.remove_hook(&alice, "Freeze").unwrap_err();
    assert_eq!(err.status, 403);
    assert_eq!(lab.dump(), before);
    // An eligible-but-inactive Global Administrator is not an administrator either.
    assert_eq!(lab.e.hooks().unwrap().len(), 1);
}

#[test]
fn hook_add_and_remove_leave_audit_rows_and_the_source_is_stored() {
    let mut lab = Lab::new();
    lab.add("Freeze", FREEZE, Some("Global Administrator"));
    let h = lab.e.hook("Freeze").unwrap();
    assert_eq!(h.source, FREEZE);
    assert_eq!(h.added_by, lab.admin.caller);
    assert_eq!(h.added_at, lab.e.now().unwrap());
    assert_eq!(h.role_definition_id.as_deref(), Some(GA));
    lab.remove("Freeze");
    assert_eq!(lab.e.hook("Freeze").unwrap_err().status, 404);
    let rows = lab.e.audit(&AuditQuery::default()).unwrap();
    let add =
        rows.iter().find(|r| r.activity == "Add policy hook 'Freeze'").expect("an audit row for the add");
    assert_eq!(add.actor_id, lab.admin.caller);
    assert_eq!(add.result, "success");
    assert_eq!(add.targets[0].id, "Freeze");
    assert_eq!(add.targets[0].kind, "Hook");
    assert!(rows.iter().any(|r| r.activity == "Remove policy hook 'Freeze'"));
}

// ---------------------------------------------------------------------------------------------
// The sandbox: what exists
// ---------------------------------------------------------------------------------------------

#[test]
fn only_the_safe_standard_library_is_present() {
    let body = r#"    local found = {}
    local function check(name, value) if value ~= nil then found[#found + 1] = name end end
    check("io", io)
    check("package", package)
    check("require", require)
    check("debug", debug)
    check("dofile", dofile)
    check("loadfile", loadfile)
    check("collectgarbage", collectgarbage)
    check("string.dump", string.dump)
    check("os.execute", os.execute)
    check("os.getenv", os.getenv)
    check("os.exit", os.exit)
    check("os.remove", os.remove)
    check("os.rename", os.rename)
    check("os.tmpname", os.tmpname)
    check("os.setlocale", os.setlocale)
    check("string metatable dump", getmetatable("").__index.dump)
    check("rawget(_G, 'io')", rawget(_G, "io"))
    check("_ENV.io", _ENV.io)
    check("_G.package", _G.package)
    check("rawget(string, 'dump')", rawget(string, "dump"))
    check("rawget(os, 'execute')", rawget(os, "execute"))
    local present = {}
    for _, name in ipairs({ "os.time", "os.date", "os.clock", "math.random", "string.format", "table.concat",
                            "utf8.char", "coroutine.wrap", "pcall", "load", "setmetatable" }) do
      local v = _G
      for part in name:gmatch("[^.]+") do v = v[part] end
      if v == nil then present[#present + 1] = "missing " .. name end
    end
    return { deny = "Probe", message = "found:" .. table.concat(found, ",") .. " " .. table.concat(present, ",") }"#;
    let mut lab = Lab::new();
    assert_eq!(probe(&mut lab, body), "found: ");
}

#[test]
fn reaching_io_or_os_through_metatables_and_globals_fails_closed() {
    // Each body line tries one way out; the handler errors at that line.
    let attempts: &[(&str, &str)] = &[
        (r#"    io.open("/etc/passwd")"#, "attempt to index a nil value (global 'io')"),
        (
            r#"    os.execute("touch /tmp/pimlab-hook-escape")"#,
            "attempt to call a nil value (field 'execute')",
        ),
        (r#"    require("io")"#, "attempt to call a nil value (global 'require')"),
        (r#"    dofile("/etc/passwd")"#, "attempt to call a nil value (global 'dofile')"),
        (r#"    loadfile("/etc/passwd")"#, "attempt to call a nil value (global 'loadfile')"),
        (r#"    debug.getregistry()"#, "attempt to index a nil value (global 'debug')"),
        (r#"    package.loadlib("libc.so.6", "system")"#, "attempt to index a nil value (global 'package')"),
        (r#"    getmetatable("").__index.dump(print)"#, "attempt to call a nil value (field 'dump')"),
        (r#"    string.dump(function() end)"#, "attempt to call a nil value (field 'dump')"),
        (r#"    rawget(_G, "io").open("/etc/passwd")"#, "attempt to index a nil value"),
        (r#"    _ENV.os.getenv("HOME")"#, "attempt to call a nil value (field 'getenv')"),
        (r#"    _G["i" .. "o"].popen("id")"#, "attempt to index a nil value"),
        (r#"    collectgarbage("count")"#, "attempt to call a nil value (global 'collectgarbage')"),
        (r#"    setmetatable(request, nil)"#, "cannot change a protected metatable"),
        (r#"    load("return io")().open("/etc/passwd")"#, "attempt to index a nil value"),
        (r#"    load("return os", "x", "t", {})().exit(1)"#, "attempt to index a nil value"),
        // The proxies' metatables are protected: getmetatable gives a string, not the table.
        (r#"    getmetatable(ctx).__index.caller = nil"#, "attempt to index a nil value (field '__index')"),
    ];
    for (line, needle) in attempts {
        let src = validate_hook(line);
        assert_fails_closed(None, "Escape", &src, Some(3), needle);
    }
    assert!(!Path::new("/tmp/pimlab-hook-escape").exists());
}

#[test]
fn load_compiles_text_only_and_refuses_bytecode() {
    let attempts: &[(&str, &str)] = &[
        (r#"    assert(load("\27LuaT\0\25\147\r\n\26\n", "x", "b"))"#, "binary chunks are not allowed"),
        (r#"    assert(load("return 1", "x", "b"))"#, "binary chunks are not allowed (mode must be \"t\")"),
        (r#"    assert(load("return 1", "x", "bt"))"#, "binary chunks are not allowed (mode must be \"t\")"),
        (r#"    assert(load("\27Lua" .. string.rep("\0", 64)))"#, "load: binary chunks are not allowed"),
        (r#"    assert(load(string.char(27, 76, 117, 97, 84, 0)))"#, "load: binary chunks are not allowed"),
        (
            r#"    local parts = { "\27Lua", "T\0" }; local i = 0; assert(load(function() i = i + 1; return parts[i] end))"#,
            "load: only a string chunk is allowed here",
        ),
    ];
    for (line, needle) in attempts {
        let src = validate_hook(line);
        assert_fails_closed(None, "Bytecode", &src, Some(3), needle);
    }
    // Text still loads, into the sandbox's globals (or the environment given).
    let mut lab = Lab::new();
    let seen = probe(
        &mut lab,
        r#"    local a = load("return 1 + 1")()
    local b = load("return io == nil and os.execute == nil", "=x", "t")()
    local c = load("return who", "=y", "t", { who = "env" })()
    return { deny = "Probe", message = a .. " " .. tostring(b) .. " " .. c }"#,
    );
    assert_eq!(seen, "2 true env");
}

// ---------------------------------------------------------------------------------------------
// The sandbox: limits
// ---------------------------------------------------------------------------------------------

const SMALL: Limits = Limits { memory: 4 * 1024 * 1024, instructions: 200_000, ..Limits::HOOK };

#[test]
fn an_endless_loop_hits_the_instruction_budget() {
    let src = validate_hook("    local n = 0\n    while true do n = n + 1 end");
    let line = line_of(&src, "while true");
    assert_fails_closed(
        None,
        "Spin",
        &src,
        Some(line),
        "instruction budget exhausted (2000000 instructions)",
    );
    assert_fails_closed(
        Some(SMALL),
        "Spin",
        &src,
        Some(line),
        "instruction budget exhausted (200000 instructions)",
    );
}

#[test]
fn an_endless_loop_at_load_time_is_refused_by_hook_add() {
    let src = "while true do end\nreturn { validate = function() end }\n";
    let err = within("hook add of a spinning file", move || {
        let mut lab = Lab::new();
        let admin = lab.admin.clone();
        lab.e.add_hook(&admin, "Spin", src, None, None).unwrap_err()
    });
    assert_eq!(err.code, HOOK_INVALID);
    assert!(err.message.contains("at line 1: instruction budget exhausted"), "{err:?}");
}

#[test]
fn an_endless_loop_inside_coroutine_wrap_hits_the_instruction_budget() {
    // `Lua::set_hook` is a per-thread hook in mlua 0.11: Lua copies the C hook into a new
    // coroutine, but mlua finds no callback registered for that thread and removes the hook.
    let src = validate_hook("    local spin = coroutine.wrap(function() while true do end end)\n    spin()");
    let line = line_of(&src, "while true");
    assert_fails_closed(Some(SMALL), "Coro", &src, Some(line), "instruction budget exhausted");
}

#[test]
fn an_endless_loop_inside_coroutine_resume_hits_the_instruction_budget() {
    let src = validate_hook(
        "    local co = coroutine.create(function() local n = 0 while true do n = n + 1 end end)\n    assert(coroutine.resume(co))",
    );
    assert_fails_closed(Some(SMALL), "Coro", &src, None, "instruction budget exhausted");
}

#[test]
fn catching_the_budget_error_with_pcall_does_not_buy_more_time() {
    let src = validate_hook("    while true do pcall(function() while true do end end) end");
    assert_fails_closed(Some(SMALL), "Catch", &src, None, "instruction budget exhausted");
}

#[test]
fn a_budget_error_caught_once_still_fails_the_hook_soon_after() {
    // Catching the error does not reset the budget: the next step of the handler fails.
    let src = validate_hook(
        "    pcall(function() while true do end end)\n    local n = 0\n    for i = 1, 100000 do n = n + i end\n    return nil",
    );
    assert_fails_closed(Some(SMALL), "Catch", &src, None, "instruction budget exhausted");
}

#[test]
fn an_endless_finalizer_cannot_hang_pimlab() {
    // Lua runs finalizers with debug hooks off (and all pending ones when the state closes).
    let src = validate_hook("    setmetatable({}, { __gc = function() while true do end end })");
    assert_fails_closed(Some(SMALL), "Finalizer", &src, None, "");
}

#[test]
fn pattern_backtracking_cannot_hang_pimlab() {
    // C(50, 25) ways to split 25 a's among 25 lazy items before failing on the missing "b".
    let src = validate_hook(r#"    string.find(string.rep("a", 25), string.rep("a-", 25) .. "b")"#);
    assert_fails_closed(Some(SMALL), "Regex", &src, None, "");
}

#[test]
fn a_loop_of_ctx_queries_is_stopped_promptly() {
    let src = validate_hook("    while true do ctx.eligibilities() end");
    assert_fails_closed(None, "Query", &src, Some(3), "instruction budget exhausted");
}

#[test]
fn huge_string_rep_hits_the_memory_limit() {
    let src = validate_hook(r#"    local s = string.rep("x", 1e9)"#);
    assert_fails_closed(None, "Rep", &src, None, "memory limit exceeded");
    let src = validate_hook(r#"    local s = ("x"):rep(1024 * 1024):rep(64)"#);
    assert_fails_closed(Some(SMALL), "Rep", &src, None, "memory limit exceeded");
}

#[test]
fn table_growth_hits_the_memory_limit() {
    let src = validate_hook("    local t = {}\n    for i = 1, 1e8 do t[i] = { i } end");
    let big = Limits {
        memory: 4 * 1024 * 1024,
        instructions: 1_000_000_000,
        deadline: std::time::Duration::from_secs(60),
    };
    assert_fails_closed(Some(big), "Grow", &src, None, "memory limit exceeded");
    // Strings kept alive in a table.
    let src = validate_hook(
        r#"    local t = {}
    for i = 1, 1e6 do t[i] = string.rep(tostring(i), 100) end"#,
    );
    assert_fails_closed(Some(big), "Grow", &src, None, "memory limit exceeded");
}

#[test]
fn running_out_of_memory_names_the_line() {
    let src = validate_hook(r#"    local s = string.rep("x", 1e9)"#);
    assert_fails_closed(None, "Rep", &src, Some(3), "memory limit exceeded");
}

#[test]
fn a_memory_error_cannot_be_caught_with_pcall() {
    // Exhausting memory fails the hook closed even inside pcall: protected calls let the
    // sandbox's fatal errors through (issue 4 §2).
    let src = validate_hook(
        r#"    local ok, err = pcall(string.rep, "x", 1e9)
    return { deny = "Probe", message = tostring(ok) .. " " .. tostring(err) }"#,
    );
    assert_fails_closed(Some(SMALL), "Probe", &src, Some(3), "memory limit exceeded");
}

#[test]
fn deep_recursion_fails_closed() {
    let src = validate_hook("    local function down(n) return 1 + down(n + 1) end\n    return down(1)");
    let err = assert_fails_closed(None, "Deep", &src, None, "");
    assert!(
        err.message.contains("memory limit exceeded") || err.message.contains("stack overflow"),
        "{err:?}"
    );
    // Through metamethods (C stack).
    let src = validate_hook(
        "    local t = setmetatable({}, { __index = function(t, k) return t[k + 1] end })\n    return t[1]",
    );
    assert_fails_closed(None, "Deep", &src, None, "stack overflow");
}

#[test]
fn a_runtime_error_fails_closed_naming_the_hook_and_line() {
    let src = validate_hook("    local x = 1\n    error(\"the change board is offline\")");
    let err = assert_fails_closed(None, "Boom", &src, Some(4), "the change board is offline");
    assert_eq!(err.message, "Policy hook 'Boom' failed at line 4: the change board is offline");
    assert_eq!(err.details[0].code, "HookFailed");
    assert_eq!(err.details[0].hint, Some(pimlab::model::Hint::ShowHook { name: "Boom".into() }), "{err:?}");
    // Indexing nil.
    let src = validate_hook("    return ctx.nothing.here");
    assert_fails_closed(None, "Boom", &src, Some(3), "attempt to index a nil value (field 'nothing')");
    // error() with a table, or without a position, still names the hook.
    let src = validate_hook("    error({ code = 1 })");
    assert_fails_closed(None, "Boom", &src, None, "");
    let src = validate_hook("    error(\"no position\", 0)");
    assert_fails_closed(None, "Boom", &src, None, "no position");
    // An error value whose __tostring misbehaves.
    let src = validate_hook("    error(setmetatable({}, { __tostring = function() while true do end end }))");
    assert_fails_closed(Some(SMALL), "Boom", &src, None, "");
}

#[test]
fn math_random_with_the_full_integer_range_does_not_crash_pimlab() {
    let result = within("math.random over the whole range", || {
        let mut lab = Lab::new();
        lab.add("Dice", &validate_hook("    local n = math.random(math.mininteger, math.maxinteger)"), None);
        lab.activate("alice", GA, hours(2)).map(|q| q.status).map_err(|e| e.code.to_string())
    });
    // Lua 5.4 returns any integer; failing closed would do too. Crashing would not.
    assert!(
        matches!(result, Ok(Status::Provisioned)) || result == Err(HOOK_FAILED.to_string()),
        "{result:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The simulated clock and reproducible randomness
// ---------------------------------------------------------------------------------------------

const WEEKEND_FREEZE: &str = r#"-- No Global Administrator activations at weekends.
return {
  validate = function(request, ctx)
    local day = os.date("*t").wday -- 1 = Sunday, 7 = Saturday
    if day == 1 or day == 7 then
      return { deny = "WeekendFreeze", message = "no activations on " .. os.date("%A %Y-%m-%d") }
    end
  end,
}
"#;

#[test]
fn os_time_and_os_date_read_the_simulated_clock() {
    let mut lab = Lab::new();
    let body = r#"    return { deny = "Probe", message = os.time() .. " " .. os.date("!%Y-%m-%dT%H:%M:%SZ") .. " " .. ctx.now
      .. " " .. os.date("*t").wday .. " " .. os.time({ year = 2025, month = 1, day = 6, hour = 9 }) }"#;
    let now = lab.e.now().unwrap();
    assert_eq!(probe(&mut lab, body), format!("{} {AT} {AT} 2 {}", now.timestamp(), now.timestamp()));
    lab.advance(IsoDuration::from_days(40));
    let later = lab.e.now().unwrap();
    assert_eq!(later.timestamp() - now.timestamp(), 40 * 86_400);
    assert_eq!(
        probe(&mut lab, body),
        format!("{} 2025-02-15T09:00:00Z 2025-02-15T09:00:00Z 7 {}", later.timestamp(), now.timestamp())
    );
}

#[test]
fn weekend_freeze_denies_on_a_simulated_saturday_and_allows_after_advancing_to_monday() {
    let mut lab = Lab::new();
    lab.add("WeekendFreeze", WEEKEND_FREEZE, Some("Global Administrator"));
    // Monday 2025-01-06.
    let q = lab.activate("alice", GA, hours(1)).unwrap();
    assert_eq!(q.status, Status::Provisioned);
    lab.advance(IsoDuration::from_days(5)); // Saturday 2025-01-11, 09:00 (the activation ended)
    let err = lab.activate("alice", GA, hours(1)).unwrap_err();
    assert_eq!(failed_rules(&err), ["WeekendFreeze"]);
    assert_eq!(denial(&err, "WeekendFreeze"), "no activations on Saturday 2025-01-11");
    lab.advance(IsoDuration::from_days(1)); // Sunday
    assert_eq!(
        denial(&lab.activate("alice", GA, hours(1)).unwrap_err(), "WeekendFreeze"),
        "no activations on Sunday 2025-01-12"
    );
    lab.advance(IsoDuration::from_days(1)); // Monday 2025-01-13
    assert_eq!(lab.activate("alice", GA, hours(1)).unwrap().status, Status::Provisioned);
}

const DICE: &str = r#"    local a, b, c = math.random(1, 1000000000), math.random(1, 1000000000), math.random(6)
    local f = math.random()
    assert(c >= 1 and c <= 6 and f >= 0 and f < 1)
    return { deny = "Probe", message = a .. " " .. b .. " " .. c .. " " .. string.format("%.12f", f) }"#;

#[test]
fn math_random_is_reproducible_for_the_same_seed_and_store() {
    let mut one = Lab::new();
    let mut two = Lab::new();
    let first = probe(&mut one, DICE);
    assert_eq!(probe(&mut two, DICE), first, "same seed, same store: same numbers");
    assert_eq!(probe(&mut one, DICE), first, "the same request again: same numbers");
    let mut other = Lab::with_seed(2);
    assert_ne!(probe(&mut other, DICE), first, "another seed: other numbers");
    // randomseed inside a hook is reproducible too.
    let reseeded = "    math.randomseed(42)\n".to_string() + DICE;
    assert_eq!(probe(&mut one, &reseeded), probe(&mut two, &reseeded));
}

// ---------------------------------------------------------------------------------------------
// What a hook sees
// ---------------------------------------------------------------------------------------------

#[test]
fn writing_to_the_request_or_ctx_raises_an_error_and_fails_closed() {
    let writes: &[(&str, &str)] = &[
        (r#"    request.principalId = "someone-else""#, "attempt to change read-only field 'principalId'"),
        (
            r#"    request.scheduleInfo.expiration.duration = "P1Y""#,
            "attempt to change read-only field 'duration'",
        ),
        (r#"    request.newField = 1"#, "attempt to change read-only field 'newField'"),
        (r#"    ctx.now = "2030-01-01T00:00:00Z""#, "attempt to change read-only field 'now'"),
        (r#"    ctx.principal.groups[1] = "x""#, "attempt to change read-only field '1'"),
        (r#"    ctx.policy.rules[1].id = "x""#, "attempt to change read-only field 'id'"),
        (r#"    ctx.eligibilities = nil"#, "attempt to change read-only field 'eligibilities'"),
    ];
    for (line, needle) in writes {
        let src = validate_hook(line);
        assert_fails_closed(None, "Writer", &src, Some(3), needle);
    }
    // Through a library function the error is raised in C, so it has no line of the script.
    let src = validate_hook(r#"    table.insert(ctx.principal.groups, "x")"#);
    assert_fails_closed(None, "Writer", &src, None, "attempt to change read-only field '2'");
}

#[test]
fn rawset_on_the_frozen_request_changes_nothing_that_is_decided() {
    // rawset bypasses the read-only proxy, but the table is the hook's own copy.
    let mut lab = Lab::new();
    let bob = lab.id("ben");
    let src = validate_hook(&format!(
        "    rawset(request, \"principalId\", \"{bob}\")\n    rawset(request, \"roleDefinitionId\", \"{SECURITY_ADMIN}\")\n    assert(request.principalId == \"{bob}\")"
    ));
    lab.add("Raw", &src, None);
    let q = lab.activate("alice", GA, hours(2)).unwrap();
    let alice = lab.id("alice");
    assert_eq!((q.principal_id.as_str(), q.role_definition_id.as_str()), (alice.as_str(), GA));
    assert_eq!(lab.e.schedules(RequestKind::Assignment, Some(&alice), Some(GA)).unwrap().len(), 1);
    assert!(lab.e.schedules(RequestKind::Assignment, Some(&bob), None).unwrap().is_empty());
}

#[test]
fn the_request_is_its_graph_json() {
    let mut lab = Lab::new();
    let alice = lab.id("alice");
    let seen = probe(
        &mut lab,
        r#"    local e = request.scheduleInfo.expiration
    return { deny = "Probe", message = table.concat({ request.action, request.principalId, request.roleDefinitionId,
      request.directoryScopeId, request.justification, e.type, e.duration, tostring(request.isValidationOnly),
      request.status, request.createdBy.user.id }, "|") }"#,
    );
    // createdBy is the caller: alice herself.
    assert_eq!(
        seen,
        format!("selfActivate|{alice}|{GA}|/|hooks test|afterDuration|PT2H|false|PendingEvaluation|{alice}")
    );
}

#[test]
fn ctx_has_the_caller_the_principal_with_its_groups_the_role_scope_policy_and_time() {
    let mut lab = Lab::new();
    let body = r#"    local g = {}
    for _, id in ipairs(ctx.principal.groups) do g[#g + 1] = id end
    return { deny = "Probe", message = table.concat({
      ctx.caller.id, ctx.caller.userPrincipalName, ctx.caller.displayName,
      ctx.principal.id, ctx.principal.displayName, ctx.principal.type, table.concat(g, ","), #ctx.principal.groups,
      ctx.role.id, ctx.role.displayName, tostring(ctx.role.isPrivileged), tostring(ctx.role.isBuiltIn),
      ctx.scope, ctx.policy.id, tostring(#ctx.policy.rules > 0), ctx.now, ctx.action, ctx.kind }, "|") }"#;
    lab.add("Probe", &validate_hook(body), None);
    // The administrator makes alice eligible for Security Administrator: caller and principal differ.
    let err = lab.make_eligible("alice", SECURITY_ADMIN).unwrap_err();
    let seen = denial(&err, "Probe");
    let admin = lab.admin.caller.clone();
    let alice = lab.id("alice");
    let groups = lab.e.role_assignable_groups_of(&alice).unwrap();
    assert_eq!(groups, [lab.id("Tier-0 Admins")], "alice is in one role-assignable group");
    let policy = lab.e.policy_for_role(SECURITY_ADMIN).unwrap().id;
    let expected = [
        admin.as_str(),
        "breakglass@contoso.example",
        "Break Glass Admin",
        &alice,
        "Alice Andersen",
        "user",
        &groups.join(","),
        "1",
        SECURITY_ADMIN,
        "Security Administrator",
        "true",
        "true",
        "/",
        &policy,
        "true",
        AT,
        "adminAssign",
        "eligibility",
    ]
    .join("|");
    assert_eq!(seen, expected);
}

#[test]
fn pairs_and_length_see_every_field_of_the_request_and_ctx() {
    // The host reads the request and ctx's caller, principal, role and policy only when a hook
    // first asks; `pairs` and `#` must see them all the same.
    let mut lab = Lab::new();
    let body = r#"    local ctx_keys, request_keys, nested = {}, {}, 0
    for k in pairs(ctx) do ctx_keys[#ctx_keys + 1] = k end
    for k, v in pairs(request) do
      request_keys[k] = true
      if type(v) == "table" then nested = nested + 1 end
    end
    local groups = 0
    for _ in pairs(ctx.principal.groups) do groups = groups + 1 end
    return { deny = "Probe", message = table.concat(ctx_keys, ",") .. " | " .. tostring(request_keys.principalId)
      .. " " .. tostring(request_keys.scheduleInfo) .. " " .. tostring(nested > 0) .. " | " .. groups .. " "
      .. #ctx.principal.groups .. " " .. tostring(#ctx.policy.rules > 0) }"#;
    assert_eq!(
        probe(&mut lab, body),
        "action,assignments,caller,eligibilities,groups,kind,now,policy,principal,role,scope,surface | true true true | 1 1 true"
    );
}

#[test]
fn a_request_read_a_property_at_a_time_is_the_same_as_listed_whole() {
    // The host makes a request's properties one at a time as a hook reads them, and all at once
    // for `pairs`; a hook must not be able to tell the two apart, nor a property asked for twice
    // (or one that does not exist) from one asked for once.
    let mut lab = Lab::new();
    let body = r#"    local function show(v)
      if type(v) ~= "table" then return tostring(v) end
      local keys = {}
      for k in pairs(v) do keys[#keys + 1] = k end
      return "{" .. table.concat(keys, ",") .. "}"
    end
    local one = { request.action, request.justification, request.noSuchProperty, request.noSuchProperty, request.isValidationOnly,
      request.scheduleInfo.expiration.duration, request[1], #request }
    local parts = {}
    for k, v in pairs(request) do parts[#parts + 1] = k .. "=" .. show(v) end
    return { deny = "Probe", message = table.concat({ show(one[1]), show(one[2]), show(one[3]), show(one[4]),
      show(one[5]), show(one[6]), show(one[7]), show(one[8]) }, " ") .. " | " .. table.concat(parts, ";")
      .. " | " .. request.scheduleInfo.expiration.duration .. " " .. request.principalId:sub(1, 8) }"#;
    let seen = probe(&mut lab, body);
    let (alone, rest) = seen.split_once(" | ").expect("three parts");
    assert_eq!(alone, "selfActivate hooks test nil nil false PT2H nil 0");
    let (listed, again) = rest.split_once(" | ").expect("three parts");
    let keys: Vec<&str> = listed.split(';').map(|kv| kv.split_once('=').map_or(kv, |(k, _)| k)).collect();
    // Every property Graph writes with a value, in `pairs`' order; the nulls are nil in Lua.
    assert_eq!(
        keys,
        [
            "action",
            "createdBy",
            "createdDateTime",
            "directoryScopeId",
            "id",
            "isValidationOnly",
            "justification",
            "principalId",
            "roleDefinitionId",
            "scheduleInfo",
            "status",
            "ticketInfo",
        ]
    );
    for property in [
        "scheduleInfo={expiration}",
        "createdBy={user}",
        "ticketInfo={}",
        "justification=hooks test",
        "status=PendingEvaluation",
        "directoryScopeId=/",
    ] {
        assert!(listed.split(';').any(|p| p == property), "{property} in {listed}");
    }
    assert!(again.starts_with("PT2H "), "{again}");
}

#[test]
fn ctx_queries_return_current_eligibilities_assignments_and_groups() {
    let mut lab = Lab::new();
    let body = r#"    local p = request.principalId
    local e = ctx.eligibilities{ principal = p }
    local a = ctx.assignments{ principal = p }
    local ga = ctx.eligibilities{ principal = p, role = request.roleDefinitionId }
    local all = ctx.eligibilities()
    local g = ctx.groups(p)
    return { deny = "Probe", message = #e .. " " .. e[1].roleDefinitionId .. " " .. #a .. " " .. #ga .. " "
      .. tostring(#all > #e) .. " " .. #g .. " " .. (a[1] and a[1].assignmentType or "-") }"#;
    let chloe = r#"    local a = ctx.assignments{ principal = request.principalId }
    local names = {}
    for _, s in ipairs(a) do names[#names + 1] = s.roleDefinitionId .. "/" .. s.assignmentType end
    return { deny = "Probe", message = table.concat(names, ",") }"#;
    assert_eq!(probe(&mut lab, body), format!("1 {GA} 0 1 true 1 -"));
    // Alice activates Security Administrator after being made eligible: the queries see it now.
    lab.make_eligible("alice", SECURITY_ADMIN).unwrap();
    lab.activate("alice", SECURITY_ADMIN, hours(2)).unwrap();
    assert_eq!(probe(&mut lab, body), format!("2 {GA} 1 1 true 1 Activated"));
    // Chloe's permanent Security Reader assignment.
    lab.add("Probe", &validate_hook(chloe), None);
    let err = lab.activate("chloe", SECURITY_ADMIN, hours(1)).unwrap_err();
    assert_eq!(denial(&err, "Probe"), "5d6b6bb7-de71-4623-b4af-96380a352509/Assigned");
}

const SEPARATION: &str = r#"-- Never Security Administrator while Global Administrator is active.
local GA = "62e90394-69f5-4237-9190-012177145e10"
return {
  validate = function(request, ctx)
    if request.action ~= "selfActivate" then return end
    local active = ctx.assignments{ principal = request.principalId, role = GA }
    if #active > 0 then
      return { deny = "SeparationOfDuties", message = ctx.principal.displayName .. " holds Global Administrator until " .. active[1].endDateTime }
    end
  end,
}
"#;

#[test]
fn separation_of_duties_hook_denies_security_admin_while_global_admin_is_active() {
    let mut lab = Lab::new();
    lab.make_eligible("alice", SECURITY_ADMIN).unwrap();
    lab.add("SeparationOfDuties", SEPARATION, Some("Security Administrator"));
    lab.activate("alice", GA, hours(2)).unwrap();
    let before = lab.dump();
    let err = lab.activate("alice", SECURITY_ADMIN, hours(1)).unwrap_err();
    assert_eq!(failed_rules(&err), ["SeparationOfDuties"]);
    assert_eq!(
        denial(&err, "SeparationOfDuties"),
        "Alice Andersen holds Global Administrator until 2025-01-06T11:00:00Z"
    );
    assert_eq!(lab.dump(), before);
    lab.advance(mins(10));
    lab.deactivate("alice", GA).unwrap();
    assert_eq!(lab.activate("alice", SECURITY_ADMIN, hours(1)).unwrap().status, Status::Provisioned);
}

#[test]
fn ctx_queries_take_a_role_by_name_or_refuse_it() {
    let result = within("ctx query by name", || {
        let mut lab = Lab::new();
        lab.activate("alice", GA, hours(2)).unwrap();
        lab.make_eligible("alice", SECURITY_ADMIN).unwrap();
        lab.add(
            "ByName",
            &validate_hook(
                r#"    local a = ctx.assignments{ principal = request.principalId, role = "Global Administrator" }
    return { deny = "Probe", message = tostring(#a) }"#,
            ),
            Some("Security Administrator"),
        );
        lab.activate("alice", SECURITY_ADMIN, hours(1)).unwrap_err()
    });
    // Either the name is resolved (one active assignment) or the query refuses it; never "none".
    if result.code == POLICY_FAILED {
        assert_eq!(denial(&result, "Probe"), "1", "{result:?}");
    } else {
        assert_eq!(result.code, HOOK_FAILED, "{result:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// The Graph router
// ---------------------------------------------------------------------------------------------

#[test]
fn graph_requests_run_the_hooks_and_report_denials_and_failures() {
    let mut lab = Lab::new();
    let alice = lab.session("alice");
    let body = json!({
        "action": "selfActivate",
        "principalId": alice.caller,
        "roleDefinitionId": GA,
        "directoryScopeId": "/",
        "justification": "graph",
        "scheduleInfo": { "expiration": { "type": "afterDuration", "duration": "PT2H" } },
    })
    .to_string();
    lab.add(
        "WeekendFreeze",
        &validate_hook(r#"    return { deny = "WeekendFreeze", message = "closed" }"#),
        None,
    );
    let (status, out) = call(&mut lab.e, &alice, "POST", ASSIGN_REQS, Some(&body));
    assert_eq!(status, 400);
    let error = &out["error"];
    assert_eq!(error["code"], POLICY_FAILED, "{error}");
    assert_eq!(error["message"], r#"The following policy rules failed: ["WeekendFreeze"]"#);
    lab.remove("WeekendFreeze");

    lab.add("Boom", &validate_hook("    error(\"graph boom\")"), None);
    let before = lab.dump();
    let (status, out) = call(&mut lab.e, &alice, "POST", ASSIGN_REQS, Some(&body));
    assert_eq!(status, 400);
    let error = &out["error"];
    assert_eq!(error["code"], HOOK_FAILED, "{error}");
    assert_eq!(error["message"], "Policy hook 'Boom' failed at line 3: graph boom");
    assert_eq!(lab.dump(), before);
    lab.remove("Boom");

    lab.add("Short", &validate_hook(r#"    return { duration = "PT30M" }"#), None);
    let (status, created) = call(&mut lab.e, &alice, "POST", ASSIGN_REQS, Some(&body));
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["status"], "Provisioned");
    assert_eq!(created["scheduleInfo"]["expiration"]["duration"], "PT30M", "{created}");
}

// ---------------------------------------------------------------------------------------------
// The binary
// ---------------------------------------------------------------------------------------------

/// Alice activates Global Administrator through the binary, over the shared harness.
impl cli::Lab {
    fn activate(&self, who: &str, duration: &str) -> cli::Run {
        self.run(&[
            "--json",
            "--as",
            who,
            "activate",
            "--role",
            "Global Administrator",
            "--duration",
            duration,
            "-j",
            "cli",
        ])
    }
}

#[test]
fn cli_hook_add_list_show_remove_and_their_audit_rows() {
    let cli = cli::Lab::demo_seeded("1");
    let freeze = cli.file("freeze", WEEKEND_FREEZE);
    let note = cli.file("note", NOTE);
    cli.run(&["hook", "add", "WeekendFreeze", "--file", &freeze, "--role", "Global Administrator"])
        .ok()
        .out_has(
            "Added hook WeekendFreeze (validate) for Global Administrator at every scope; it runs 1st of 1",
        );
    cli.run(&["hook", "add", "Note", "--file", &note, "--scope", "/"])
        .ok()
        .out_has("Added hook Note (completed) for every role at /; it runs 2nd of 2");

    let list = cli.run(&["hook", "list"]).ok();
    let freeze_line = list.stdout.find("WeekendFreeze").expect("listed");
    let note_line = list.stdout.find("Note").expect("listed");
    assert!(freeze_line < note_line, "in the order they run{list}");
    let list = list
        .out_has("Global Administrator")
        .out_has("every role")
        .out_has(AT)
        .out_has("breakglass@contoso.example");
    let _ = list;
    let json = cli.run(&["--json", "hook", "list"]).ok().json();
    assert_eq!(json[0]["name"], "WeekendFreeze");
    assert_eq!(json[0]["position"], 1);
    assert_eq!(json[0]["role"], GA);
    assert_eq!(json[0]["source"], WEEKEND_FREEZE);
    assert_eq!(json[1]["name"], "Note");
    assert_eq!(json[1]["scope"], "/");

    cli.run(&["hook", "show", "WeekendFreeze"])
        .ok()
        .out_has("hook WeekendFreeze (runs 1st), for Global Administrator at every scope, added 2025-01-06T09:00:00Z by breakglass@contoso.example")
        .out_has("   1  -- No Global Administrator activations at weekends.")
        .out_has("   4      local day = os.date(\"*t\").wday");
    cli.run(&["hook", "show", "Nope"]).refused("HookNotFound", 404);

    cli.run(&["hook", "remove", "Note"]).ok().out_has("Removed hook Note");
    cli.run(&["hook", "remove", "Note"]).refused("HookNotFound", 404);
    let list = cli.run(&["--json", "hook", "list"]).ok().json();
    assert_eq!(list.as_array().unwrap().len(), 1);

    let audit = cli.run(&["--json", "audit"]).ok().json();
    let text = audit.to_string();
    for activity in ["Add policy hook 'WeekendFreeze'", "Add policy hook 'Note'", "Remove policy hook 'Note'"]
    {
        assert!(text.contains(activity), "no audit row {activity:?} in {text}");
    }
}

#[test]
fn cli_non_admin_hook_add_is_forbidden() {
    let cli = cli::Lab::demo_seeded("1");
    let file = cli.file("freeze", WEEKEND_FREEZE);
    let before = cli.dump();
    cli.run(&["--as", "alice", "hook", "add", "Mine", "--file", &file])
        .refused("UnauthorizedAccessException", 403)
        .err_has("Adding policy hooks");
    assert_eq!(cli.dump(), before);
    cli.run(&["hook", "add", "Freeze", "--file", &file]).ok();
    let before = cli.dump();
    cli.run(&["--as", "alice", "hook", "remove", "Freeze"]).refused("UnauthorizedAccessException", 403);
    assert_eq!(cli.dump(), before);
    let after = cli.run(&["--json", "hook", "list"]).ok().json();
    assert_eq!(after.as_array().unwrap().len(), 1);
}

#[test]
fn cli_hook_add_refuses_a_file_without_a_handler_table() {
    let cli = cli::Lab::demo_seeded("1");
    let before = cli.dump();
    let bad = cli.file("bad", "return { validat = function() end }\n");
    cli.run(&["hook", "add", "Bad", "--file", &bad]).refused(HOOK_INVALID, 400).err_has(
        "Policy hook 'Bad' is not valid: unknown handler 'validat' (handlers: validate, route, completed)",
    );
    let num = cli.file("num", "return 42\n");
    cli.run(&["hook", "add", "Num", "--file", &num])
        .refused(HOOK_INVALID, 400)
        .err_has("the hook must `return");
    let syntax = cli.file("syntax", "return {\n  validate = function(request\n}\n");
    cli.run(&["hook", "add", "Syntax", "--file", &syntax]).refused(HOOK_INVALID, 400).err_has("at line 3");
    assert_eq!(cli.dump(), before);
}

#[test]
fn cli_hook_test_prints_each_handler_decision_and_changes_nothing() {
    let cli = cli::Lab::demo_seeded("1");
    let alice = cli.user_id("alice");
    let both = r#"return {
  validate = function(request, ctx)
    return { deny = "WeekendFreeze", message = "closed on " .. os.date("%A") }
  end,
  completed = function(request, ctx)
    return { notify = { to = "kenji", subject = "tested" } }
  end,
}
"#;
    let file = cli.file("both", both);
    cli.run(&["hook", "add", "Both", "--file", &file]).ok();
    let body = json!({
        "action": "selfActivate",
        "principalId": alice,
        "roleDefinitionId": GA,
        "directoryScopeId": "/",
        "justification": "dry run",
        "scheduleInfo": { "expiration": { "type": "afterDuration", "duration": "PT2H" } },
    })
    .to_string();
    let (before, failures) = (cli.dump(), cli.failures());
    let run = cli
        .run(&["--as", "alice", "hook", "test", "Both", "--request", &body])
        .would_be_refused()
        .out_has("hook Both on selfActivate (nothing is stored):")
        .out_has("validate   deny (WeekendFreeze): closed on Monday")
        .out_has("route      no handler")
        .out_has("completed  notify kenji: tested")
        .out_has("the request would be refused:")
        .out_has(POLICY_FAILED);
    let _ = run;
    // --json gives each decision in the shape the handler returned it.
    let json = cli
        .run(&["--json", "--as", "alice", "hook", "test", "Both", "--request", &body])
        .would_be_refused()
        .json();
    assert_eq!(
        json["handlers"][0]["decision"],
        json!({"deny": "WeekendFreeze", "message": "closed on Monday"})
    );
    assert_eq!(json["handlers"][1], json!({"handler": "route", "defined": false, "decision": null}));
    assert_eq!(
        json["handlers"][2]["decision"],
        json!({"notify": {"to": ["kenji"], "subject": "tested", "body": ""}})
    );
    assert_eq!(json["outcome"]["error"]["code"], "RoleAssignmentRequestPolicyValidationFailed");
    assert_eq!(cli.dump(), before, "hook test stored something");
    assert_eq!(cli.failures(), failures, "hook test left a refusal audit row");

    // A hook that fails is reported, with its line; still nothing stored.
    cli.run(&["hook", "remove", "Both"]).ok();
    let boom = cli.file("boom", &validate_hook("    error(\"kaput\")"));
    cli.run(&["hook", "add", "Boom", "--file", &boom]).ok();
    let before = cli.dump();
    cli.run(&["--as", "alice", "hook", "test", "Boom", "--request", &body])
        .would_be_refused()
        .out_has("validate   FAILED at line 3: kaput")
        .out_has("route      no handler");
    let json = cli
        .run(&["--json", "--as", "alice", "hook", "test", "Boom", "--request", &body])
        .would_be_refused()
        .json();
    assert_eq!(json["handlers"][0]["handler"], "validate");
    assert_eq!(json["handlers"][0]["decision"]["line"], 3);
    assert_eq!(json["outcome"]["error"]["code"], HOOK_FAILED);
    assert_eq!(cli.dump(), before);
    assert_eq!(cli.failures(), failures);

    // Once the failing hook is removed, a hook that allows says the request would go through.
    cli.run(&["hook", "remove", "Boom"]).ok();
    let ok = cli.file("ok", "return { validate = function() end }\n");
    cli.run(&["hook", "add", "Ok", "--file", &ok]).ok();
    let before = cli.dump();
    cli.run(&["--as", "alice", "hook", "test", "Ok", "--request", &body])
        .ok()
        .out_has("validate   allow")
        .out_has("the request would end Provisioned");
    assert_eq!(cli.dump(), before);

    // A dry run also takes names for the principal and the role; an unknown one is refused.
    let by_name = json!({
        "action": "selfActivate",
        "principalId": "alice",
        "roleDefinitionId": "Global Administrator",
        "directoryScopeId": "/",
        "justification": "dry run",
        "scheduleInfo": { "expiration": { "type": "afterDuration", "duration": "PT2H" } },
    })
    .to_string();
    cli.run(&["--as", "alice", "hook", "test", "Ok", "--request", &by_name])
        .ok()
        .out_has("the request would end Provisioned");
    let nobody = by_name.replace("\"alice\"", "\"nobody-here\"");
    cli.run(&["--as", "alice", "hook", "test", "Ok", "--request", &nobody]).err_has("nobody-here");
    assert_eq!(cli.dump(), before);
}

#[test]
fn cli_a_failing_hook_fails_closed_and_pimlab_keeps_working() {
    let cli = cli::Lab::demo_seeded("1");
    let boom = cli.file("boom", &validate_hook("    local x = nil\n    return x.field"));
    cli.run(&["hook", "add", "Boom", "--file", &boom, "--role", "Global Administrator"]).ok();
    let (before, failures) = (cli.dump(), cli.failures());
    cli.activate("alice", "2h")
        .refused(HOOK_FAILED, 400)
        .err_has("Policy hook 'Boom' failed at line 4: attempt to index a nil value (local 'x')");
    assert_eq!(cli.dump(), before);
    assert_eq!(cli.failures(), failures + 1);
    cli.run(&[
        "--as",
        "chloe",
        "activate",
        "--role",
        "Security Administrator",
        "--duration",
        "1h",
        "-j",
        "x",
    ])
    .ok();
    cli.run(&["hook", "remove", "Boom"]).ok();
    let q = cli.activate("alice", "2h").ok().json();
    assert_eq!(q["status"], "Provisioned");
}

#[test]
fn cli_a_coroutine_loop_does_not_hang_the_binary() {
    let cli = cli::Lab::demo_seeded("1");
    let spin = cli.file("spin", &validate_hook("    coroutine.wrap(function() while true do end end)()"));
    cli.run(&["hook", "add", "Spin", "--file", &spin]).ok();
    let db = cli.db.clone();
    let mut child = cli
        .command()
        .args([
            "--db",
            &db.display().to_string(),
            "--as",
            "alice",
            "activate",
            "--role",
            "Global Administrator",
        ])
        .args(["--duration", "2h", "-j", "x"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while start.elapsed() < DEADLINE {
        if child.try_wait().unwrap().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    panic!("pimlab activate still running after {DEADLINE:?}: the hook escaped the instruction budget");
}

#[test]
fn cli_request_explain_shows_every_decision_a_hook_took() {
    let cli = cli::Lab::demo_seeded("1");
    let gate = r#"return {
  validate = function(request, ctx)
    return { approval = true, approvers = { "kenji" } }
  end,
  route = function(request, ctx)
    return { approvers = { "dev" } }
  end,
  completed = function(request, ctx)
    return { note = "approved activation recorded for the SOC" }
  end,
}
"#;
    let short = validate_hook(r#"    return { duration = "PT1H" }"#);
    let quiet = "return { validate = function() end }\n";
    let notify = r#"return {
  completed = function(request, ctx)
    return { notify = { to = "kenji", subject = "GA activated" } }
  end,
}
"#;
    for (name, src) in [("Quiet", quiet), ("Gate", gate), ("Short", short.as_str()), ("Notify", notify)] {
        let f = cli.file(name, src);
        cli.run(&["hook", "add", name, "--file", &f]).ok();
    }
    let q = cli.activate("alice", "4h").ok().json();
    assert_eq!(q["status"], "PendingApproval");
    let id = q["id"].as_str().unwrap().to_string();
    cli.run(&["--as", "kenji", "approve", &id, "-j", "ok"]).ok();
    let explain = cli.run(&["request", "explain", &id]).ok();
    let lines = |needle: &str| explain.stdout.lines().filter(|l| l.contains(needle)).count();
    for (check, seen) in [
        ("hook Quiet", "saw no objection"),
        ("hook Gate", "saw approval required by kenji"),
        ("hook Short", "saw at most PT1H"),
        ("HookDuration", "saw shortened to PT1H"),
        ("hook Gate", "saw added: approvers dev"),
        ("hook Gate", "saw approved activation recorded for the SOC"),
        ("hook Notify", "saw notified kenji"),
    ] {
        assert!(
            explain.stdout.lines().any(|l| l.contains(check) && l.contains(seen)),
            "no line with {check:?} and {seen:?}{explain}"
        );
    }
    assert!(lines("FAIL") == 0, "{explain}");
    let notifications = cli.run(&["--json", "notifications", "--to", "kenji"]).ok().json();
    assert!(notifications.to_string().contains("GA activated"), "{notifications}");
    let json = cli.run(&["--json", "request", "explain", &id]).ok().json();
    let checks: Vec<&str> =
        json["trace"].as_array().unwrap().iter().map(|s| s["check"].as_str().unwrap()).collect();
    assert!(checks.contains(&"hook Notify"), "{checks:?}");
}

#[test]
fn cli_weekend_freeze_follows_the_clock() {
    let cli = cli::Lab::demo_seeded("1");
    let f = cli.file("freeze", WEEKEND_FREEZE);
    cli.run(&["hook", "add", "WeekendFreeze", "--file", &f, "--role", "Global Administrator"]).ok();
    cli.run(&["clock", "advance", "5d"]).ok();
    cli.activate("alice", "1h")
        .refused(POLICY_FAILED, 400)
        .err_has(r#"["WeekendFreeze"]"#)
        .err_has("no activations on Saturday 2025-01-11");
    cli.run(&["clock", "advance", "2d"]).ok();
    assert_eq!(cli.activate("alice", "1h").ok().json()["status"], "Provisioned");
}

#[test]
fn hook_test_at_a_time_judges_as_if_the_clock_read_it_and_moves_nothing() {
    // The demo starts on a Monday: the weekend freeze allows now, denies as of Saturday, and the
    // dry run leaves the clock and the store as they were.
    let cli = cli::Lab::demo_seeded("1");
    let f = cli.file("freeze", WEEKEND_FREEZE);
    cli.run(&["hook", "add", "WeekendFreeze", "--file", &f, "--role", "Global Administrator"]).ok();
    let body = json!({
        "action": "selfActivate",
        "principalId": "alice",
        "roleDefinitionId": "Global Administrator",
        "directoryScopeId": "/",
        "justification": "dry run",
        "scheduleInfo": { "expiration": { "type": "afterDuration", "duration": "PT1H" } },
    })
    .to_string();
    let (before, failures) = (cli.dump(), cli.failures());
    let clock = cli.run(&["clock"]).ok().stdout;
    cli.run(&["--as", "alice", "hook", "test", "WeekendFreeze", "--request", &body])
        .ok()
        .out_has("validate   allow");
    cli.run(&[
        "--as",
        "alice",
        "hook",
        "test",
        "WeekendFreeze",
        "--request",
        &body,
        "--at",
        "2025-01-11T10:00:00Z",
    ])
    .would_be_refused()
    .out_has("no activations on Saturday 2025-01-11");
    cli.run(&["--as", "alice", "hook", "test", "WeekendFreeze", "--request", &body, "--at", "not a time"])
        .usage()
        .err_has("'not a time' is not an ISO 8601 date-time");
    assert_eq!(cli.run(&["clock"]).ok().stdout, clock, "the clock moved");
    assert_eq!(cli.dump(), before);
    assert_eq!(cli.failures(), failures);
}

#[test]
fn hook_test_through_the_engine_reports_each_handler_and_stores_nothing() {
    let mut lab = Lab::new();
    lab.add("Freeze", FREEZE, None);
    let alice = lab.session("alice");
    let (before, failures) = (lab.dump(), lab.failures());
    let req = self_request(&alice.caller, GA, Action::SelfActivate, Some(hours(2)));
    let stored = lab.requests().len();
    let (verdicts, outcome) = lab.e.test_hook(&alice, "Freeze", &req, None).unwrap();
    let events: Vec<HookEvent> = verdicts.iter().map(|(e, _)| *e).collect();
    assert_eq!(events, [HookEvent::Validate, HookEvent::Route, HookEvent::Completed]);
    assert_eq!(
        verdicts[0].1,
        Ok(Some(HookDecision::Deny {
            rule: "ChangeFreeze".into(),
            message: "no privileged changes during the freeze".into()
        }))
    );
    assert_eq!(verdicts[1].1, Ok(None));
    assert_eq!(failed_rules(&outcome.unwrap_err()), ["ChangeFreeze"]);
    assert_eq!(lab.dump(), before);
    assert_eq!(lab.failures(), failures);
    assert_eq!(lab.requests().len(), stored);
}

#[test]
fn hook_update_changes_the_source_and_keeps_the_order_role_and_scope() {
    let cli = cli::Lab::demo_seeded("1");
    let deny = |rule: &str| {
        format!("return {{ validate = function() return {{ deny = \"{rule}\", message = \"no\" }} end }}\n")
    };
    for (name, rule) in [("First", "One"), ("Second", "Two"), ("Third", "Three")] {
        let file = cli.file(name, &deny(rule));
        cli.run(&["hook", "add", name, "--file", &file, "--role", "Global Administrator"]).ok();
    }
    let order = || -> Vec<String> {
        cli.run(&["--json", "hook", "list"])
            .ok()
            .listing()
            .iter()
            .map(|h| h["name"].as_str().unwrap().to_string())
            .collect()
    };
    let allow = cli.file("allow", "return { validate = function() end, completed = function() end }\n");
    cli.run(&["hook", "update", "First", "--file", &allow])
        .ok()
        .out_has("Updated hook First (completed, validate); it still runs 1st");
    assert_eq!(order(), ["First", "Second", "Third"]);
    let first = cli.run(&["--json", "hook", "show", "First"]).ok().json();
    assert!(first["source"].as_str().unwrap().contains("completed = function()"), "{first:#}");
    assert!(first["role"].as_str().is_some_and(|r| r.contains("62e90394")), "the role stays: {first:#}");
    // The new source runs: First allows now, so the first denial is Second's.
    let refused =
        cli.run(&["--as", "alice", "activate", "-r", "Global Administrator", "--duration", "1h", "-j", "x"]);
    assert!(refused.stderr.contains("[\"Two\"]") && !refused.stderr.contains("One"), "{refused}");
    // A source the host refuses, an unknown hook, or a caller who is not an administrator change nothing.
    let broken = cli.file("broken", "return {\n  validate = function(request\n}\n");
    cli.fails_unchanged(&["hook", "update", "Second", "--file", &broken])
        .refused(HOOK_INVALID, 400)
        .err_has("at line 3");
    cli.fails_unchanged(&["hook", "update", "Nope", "--file", &allow]).refused("HookNotFound", 404);
    cli.fails_unchanged(&["--as", "alice", "hook", "update", "Second", "--file", &allow])
        .refused("UnauthorizedAccessException", 403);
    cli.run(&["audit"]).ok().out_has("Update policy hook 'First'");
    // Scripts do the same with the source as a string.
    let script = cli.file(
        "update",
        "local h = pim.hook.update('Third', 'return { validate = function() end }')\n\
         assert(h.position == 3 and h.handlers[1] == 'validate', 'kept its place')\n\
         print('updated ' .. h.name)\n",
    );
    cli.run(&["run", &script]).ok().out_has("updated Third");
    assert_eq!(order(), ["First", "Second", "Third"]);
}
