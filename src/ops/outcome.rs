//! What an operation gives back: typed values, rendered at the edge (a table on the command line,
//! JSON for `--json` and for scripts, through [`Outcome::to_json`]).

use serde_json::Value;

use crate::api::{shapes, views};
use crate::engine::HandlerVerdict;
use crate::engine::{AdvanceReport, AuditedBy};
use crate::model::approval::{ApprovalStep, Decision, Notification};
use crate::model::azure_scope::AzureScopeNode;
use crate::model::hook::Hook;
use crate::model::policy::{Policy, PolicyRule};
use crate::model::{
    Action, ApiError, DirectoryObject, PrincipalKind, RoleDefinition, Schedule, ScheduleRequest, Timestamp,
};
pub use crate::report::{FuzzReport, FuzzStep, Violation};

/// What happened to the request an outcome carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestEvent {
    Submitted,
    Shown,
    Cancelled,
    Explained,
    Decided(Decision),
}

/// A request waiting for a decision, who may decide it, and its approval's stages.
#[derive(Debug, Clone)]
pub struct PendingDecision {
    pub request: ScheduleRequest,
    pub approvers: Vec<String>,
    pub steps: Vec<ApprovalStep>,
}

/// A scope and, recursively, the scopes under it.
#[derive(Debug, Clone)]
pub struct ScopeTree {
    pub node: AzureScopeNode,
    pub children: Vec<ScopeTree>,
}

#[derive(Debug)]
pub enum Outcome {
    /// Who holds (or could hold) a role.
    Who(crate::report::WhoReport),
    /// What a principal holds (or could hold).
    Access(crate::report::AccessReport),
    /// Properties judged over the store's history.
    Check(crate::report::CheckReport),
    /// Random steps on a copy of the store, and the shortest script that breaks a property.
    Fuzz(FuzzReport),
    /// `report activity`, and how the command line prints it.
    Activity {
        report: crate::report::ActivityReport,
        format: super::ReportFormat,
    },
    /// A timeline: written to a file, or (for a script) its picture as text.
    Timeline {
        timeline: crate::report::Timeline,
        format: super::PictureFormat,
        written: Option<std::path::PathBuf>,
        picture: Option<String>,
    },
    /// A store copied to a new file.
    Forked(Forked),
    /// Two stores' privileges compared.
    Diff(crate::report::PrivilegeDiff),
    /// PIM alerts (all, or the one dismissed).
    Alerts(crate::report::alerts::AlertsReport),
    /// Alerts' settings (all, or the one changed).
    AlertConfig(Vec<crate::report::alerts::AlertConfig>),
    /// What a replay under other settings changed.
    Replay(crate::report::ReplayReport),
    Request(ScheduleRequest, RequestEvent),
    Requests(Vec<ScheduleRequest>),
    /// Current and future schedules.
    Schedules(Vec<Schedule>),
    /// Only what is in effect now.
    Instances(Vec<Schedule>),
    Approvals(Vec<PendingDecision>),
    Notifications {
        rows: Vec<Notification>,
        full: bool,
    },
    Roles(Vec<RoleDefinition>),
    Role {
        role: RoleDefinition,
        eligible: Vec<Schedule>,
        active: Vec<Schedule>,
    },
    RoleCreated(RoleDefinition),
    /// A custom Azure role, as defined or replaced.
    AzureRoleDefined(crate::model::azure_role::AzureRole),
    RoleDeleted(RoleDefinition),
    /// An application's service principal and the permissions it holds.
    App {
        app: crate::model::DirectoryObject,
        permissions: Vec<crate::model::permissions::AppPermission>,
    },
    Policy {
        role: RoleDefinition,
        policy: Policy,
    },
    /// The rules that changed (none: the settings were already so) and the policy after.
    PolicyChanged {
        role: RoleDefinition,
        changed: Vec<PolicyRule>,
        policy: Policy,
    },
    /// Directory objects of one kind; for groups, each one's member count.
    Objects {
        kind: PrincipalKind,
        rows: Vec<DirectoryObject>,
        member_counts: Vec<usize>,
    },
    ObjectCreated(DirectoryObject),
    Object {
        object: DirectoryObject,
        eligible: Vec<Schedule>,
        active: Vec<Schedule>,
    },
    MemberAdded {
        container: DirectoryObject,
        member: DirectoryObject,
        relation: &'static str,
        container_text: String,
        member_text: String,
    },
    Members(Vec<DirectoryObject>),
    Now(Timestamp),
    ClockMoved {
        report: AdvanceReport,
        now: Timestamp,
    },
    /// Each record with its actor: one shared object per actor, however many records name it.
    Audit(Vec<AuditedBy>),
    ScopeAdded(AzureScopeNode),
    Scopes(Vec<AzureScopeNode>),
    Scope {
        node: AzureScopeNode,
        /// Nearest first, up to the tenant root.
        ancestors: Vec<AzureScopeNode>,
        children: Vec<AzureScopeNode>,
    },
    ScopeTree(ScopeTree),
    /// The fidelity profile (after a change, when there was one).
    Fidelity(crate::model::FidelityProfile),
    HookAdded {
        hook: Hook,
        handlers: Vec<String>,
        total: usize,
    },
    Hooks(Vec<Hook>),
    Hook(Hook),
    HookRemoved(Hook),
    HookUpdated {
        hook: Hook,
        handlers: Vec<String>,
    },
    HookTested {
        name: String,
        action: Action,
        verdicts: Vec<HandlerVerdict>,
        outcome: Result<ScheduleRequest, ApiError>,
    },
}

fn scope_tree_json(t: &ScopeTree) -> Value {
    let mut v = shapes::azure_scope(&t.node);
    v["children"] = Value::Array(t.children.iter().map(scope_tree_json).collect());
    v
}

/// Each of `rows` as JSON, made when asked for.
fn each<'a, T>(rows: &'a [T], f: impl Fn(&T) -> Value + 'a) -> Items<'a> {
    Box::new(rows.iter().map(f))
}

/// A listing's items as JSON, one at a time: a long listing (a year's audit trail, millions of
/// rows) is written out item by item rather than built whole first (`cli/commands.rs`).
pub type Items<'a> = Box<dyn Iterator<Item = Value> + 'a>;

impl Outcome {
    /// The exit status of a command that printed this outcome: 1 when what it reports is a
    /// refusal that came back as a value (a dry run whose request would be refused), else 0.
    pub fn exit_code(&self) -> i32 {
        match self {
            Outcome::HookTested { outcome: Err(_), .. } => 1,
            Outcome::Check(r) if !r.all_held() => 1,
            Outcome::Fuzz(r) if r.violation.is_some() => 1,
            _ => 0,
        }
    }

    /// A listing's items, each as [`Outcome::to_json`] gives it in its array; `None` for an
    /// outcome that is not a listing.
    pub fn items(&self) -> Option<Items<'_>> {
        Some(match self {
            Outcome::Requests(rows) => each(rows, views::request),
            Outcome::Schedules(rows) => each(rows, views::schedule),
            Outcome::Instances(rows) => each(rows, views::instance),
            Outcome::Approvals(rows) => each(rows, |p| shapes::pending_decision(&p.request, &p.approvers)),
            Outcome::Notifications { rows, .. } => each(rows, views::notification),
            Outcome::Roles(rows) => each(rows, views::role_definition),
            Outcome::Objects { rows, .. } | Outcome::Members(rows) => each(rows, views::directory_object),
            Outcome::Audit(rows) => each(rows, |(r, actor)| views::audit_record(r, actor.as_deref())),
            Outcome::Scopes(rows) => each(rows, shapes::azure_scope),
            Outcome::Hooks(rows) => each(rows, shapes::hook),
            _ => return None,
        })
    }

    /// The outcome as JSON: Graph's shape where Graph has the entity, pimlab's own (see
    /// [`crate::api::shapes`]) where it has none.
    pub fn to_json(&self) -> Value {
        match self {
            Outcome::Requests(_)
            | Outcome::Schedules(_)
            | Outcome::Instances(_)
            | Outcome::Approvals(_)
            | Outcome::Notifications { .. }
            | Outcome::Roles(_)
            | Outcome::Objects { .. }
            | Outcome::Members(_)
            | Outcome::Audit(_)
            | Outcome::Scopes(_)
            | Outcome::Hooks(_) => Value::Array(self.items().into_iter().flatten().collect()),
            Outcome::Who(r) => serde_json::to_value(r).unwrap_or_else(|e| Value::String(e.to_string())),
            Outcome::Access(r) => serde_json::to_value(r).unwrap_or_else(|e| Value::String(e.to_string())),
            Outcome::Check(r) => serde_json::to_value(r).unwrap_or_else(|e| Value::String(e.to_string())),
            Outcome::Fuzz(r) => serde_json::to_value(r).unwrap_or_else(|e| Value::String(e.to_string())),
            Outcome::Activity { report, .. } => {
                serde_json::to_value(report).unwrap_or_else(|e| Value::String(e.to_string()))
            }
            Outcome::Timeline { timeline, format, written, picture } => {
                let mut v = serde_json::to_value(timeline).unwrap_or_else(|e| Value::String(e.to_string()));
                v["format"] = Value::from(format.as_str());
                match (written, picture) {
                    (Some(path), _) => v["file"] = Value::from(path.display().to_string()),
                    (None, Some(text)) => v[format.as_str()] = Value::from(text.as_str()),
                    (None, None) => {}
                }
                v
            }
            Outcome::Forked(r) => serde_json::to_value(r).unwrap_or_else(|e| Value::String(e.to_string())),
            Outcome::Diff(r) => serde_json::to_value(r).unwrap_or_else(|e| Value::String(e.to_string())),
            Outcome::Alerts(r) => serde_json::to_value(r).unwrap_or_else(|e| Value::String(e.to_string())),
            Outcome::AlertConfig(r) => {
                serde_json::to_value(r).unwrap_or_else(|e| Value::String(e.to_string()))
            }
            Outcome::Replay(r) => serde_json::to_value(r).unwrap_or_else(|e| Value::String(e.to_string())),
            Outcome::Request(q, RequestEvent::Explained) => shapes::explain(q),
            Outcome::Request(q, _) => views::request(q),
            Outcome::Role { role, .. } | Outcome::RoleCreated(role) => views::role_definition(role),
            Outcome::AzureRoleDefined(role) => {
                crate::api::arm::views::role_definition("/providers/Microsoft.Authorization", role)
            }
            Outcome::RoleDeleted(role) => shapes::role_deleted(role),
            Outcome::App { app, permissions } => shapes::app(app, permissions),
            Outcome::Policy { policy, .. } => views::policy(policy, true),
            Outcome::PolicyChanged { changed, .. } => {
                serde_json::to_value(changed).unwrap_or_else(|e| Value::String(e.to_string()))
            }
            Outcome::ObjectCreated(o) | Outcome::Object { object: o, .. } => views::directory_object(o),
            Outcome::MemberAdded { container, member, relation, .. } => {
                shapes::member_added(container, member, relation)
            }
            Outcome::Now(t) => shapes::now(*t),
            Outcome::ClockMoved { report, now } => shapes::clock_report(report, *now),
            Outcome::Fidelity(profile) => shapes::fidelity(*profile),
            Outcome::ScopeAdded(node) => shapes::azure_scope(node),
            Outcome::Scope { node, ancestors, children } => {
                shapes::azure_scope_with(node, ancestors, children)
            }
            Outcome::ScopeTree(tree) => scope_tree_json(tree),
            Outcome::HookAdded { hook, handlers, .. } | Outcome::HookUpdated { hook, handlers } => {
                shapes::hook_added(hook, handlers)
            }
            Outcome::Hook(hook) => shapes::hook(hook),
            Outcome::HookRemoved(hook) => shapes::hook_removed(hook),
            Outcome::HookTested { verdicts, outcome, .. } => shapes::hook_test(verdicts, outcome),
        }
    }
}

/// What `fork` made.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Forked {
    pub path: String,
    pub tenant_id: String,
    /// The clock of the fork (the original's when it was copied).
    pub clock: String,
}
