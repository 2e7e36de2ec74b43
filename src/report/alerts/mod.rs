//! PIM alerts over the tenant at its clock: each alert's thresholds as the tenant set them,
//! whether it fires, the affected items (incidents) with why and how to fix each, typed so that
//! every surface words the fix its own way. One module per alert or family; `tenant.rs` the
//! lookups they share.

mod activity;
mod config;
mod counts;
mod mfa;
mod outside_pim;
mod permanent;
mod stale;
mod tenant;

use serde::Serialize;

use crate::engine::{AlertFacts, AlertState, Engine};
use crate::model::alerts::{AlertKind, Severity};
use crate::model::time::format_timestamp;
use crate::model::{ApiError, IsoDuration, Timestamp};
pub use config::{AlertConfig, Setting, config_of};
use tenant::Tenant;

/// Every alert at the tenant's clock.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertsReport {
    #[serde(serialize_with = "time")]
    pub at: Timestamp,
    pub tenant_id: String,
    pub alerts: Vec<Alert>,
}

/// One alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    #[serde(serialize_with = "kind_name", rename = "name")]
    pub kind: AlertKind,
    pub display_name: &'static str,
    pub severity: Severity,
    /// Whether the real service has it (pimlab's own alerts are not on the Graph surface).
    pub on_graph: bool,
    pub enabled: bool,
    /// Enabled, with at least one incident.
    pub fires: bool,
    /// Fires and is not dismissed (Graph's `isActive`).
    pub active: bool,
    pub dismissed: Option<DismissedBy>,
    pub thresholds: Vec<Threshold>,
    /// What was measured against the thresholds, in a line ("4 Global Administrators, 40% of
    /// role holdings").
    pub measured: String,
    pub mitigation: &'static str,
    pub incidents: Vec<Incident>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DismissedBy {
    #[serde(serialize_with = "time")]
    pub at: Timestamp,
    pub by: Named,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Threshold {
    pub name: &'static str,
    /// As people read it: `3`, `10%`, `P30D`.
    pub value: String,
    pub is_default: bool,
}

/// A principal or role, by id and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Named {
    pub id: String,
    pub name: String,
    /// A user's sign-in name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_principal_name: Option<String>,
}

/// One affected item of an alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Incident {
    /// Stable: the role assignment's id where the incident is one, else derived from what it is
    /// about.
    pub id: String,
    pub principal: Option<Named>,
    pub role: Option<Named>,
    pub scope: Option<String>,
    /// The group the principal holds the role through, if it does.
    pub via_group: Option<Named>,
    /// Why it is an incident, in plain words ("active since 2025-01-06T09:00:00Z, no expiry").
    pub why: String,
    pub fix: Fix,
    /// Graph's incident details, where the alert has them.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "some_time")]
    pub assignment_created: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "some_time")]
    pub last_activation: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "some_time")]
    pub last_sign_in: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activation_count: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "some_time")]
    pub sequence_start: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "some_time")]
    pub sequence_end: Option<Timestamp>,
}

/// How to fix an incident, in the tenant's terms; each surface words it (a command, a call).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Fix {
    /// Remove a role assignment made outside PIM (by its id) and give the role through PIM, as an
    /// eligibility, if it is needed.
    ReplaceOutsideAssignment { assignment_id: String, principal: String, role: String, scope: String },
    /// Remove a membership added outside PIM to a group that holds a privileged role.
    RemoveMembership { group: String, member: String },
    /// Remove an eligibility.
    RemoveEligibility { principal: String, role: String, scope: String },
    /// Remove an active assignment.
    RemoveActive { principal: String, role: String, scope: String },
    /// Make a permanent active holder eligible (time-bound) instead, then remove the active
    /// assignment.
    MakeEligible { principal: String, role: String, scope: String, duration: IsoDuration },
    /// Require MFA on activation in the role's settings.
    RequireMfa { role: String },
    /// Lengthen the role's maximum activation duration.
    LengthenActivation { role: String, from: IsoDuration, to: IsoDuration },
    /// Take the principal out of the group it holds the role through.
    LeaveGroup { group: String, member: String },
}

fn time<S: serde::Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_timestamp(*t))
}

fn some_time<S: serde::Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&format_timestamp(*t)),
        None => s.serialize_none(),
    }
}

fn kind_name<S: serde::Serializer>(k: &AlertKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(k.name())
}

impl Incident {
    fn new(id: String, why: String, fix: Fix) -> Self {
        Incident {
            id,
            principal: None,
            role: None,
            scope: None,
            via_group: None,
            why,
            fix,
            assignment_created: None,
            last_activation: None,
            last_sign_in: None,
            activation_count: None,
            sequence_start: None,
            sequence_end: None,
        }
    }
}

/// What one alert's computation gives: the measured line and the incidents.
struct Found {
    measured: String,
    incidents: Vec<Incident>,
}

fn compute(t: &Tenant<'_>, state: &AlertState) -> Found {
    let s = &state.settings;
    match s.kind {
        AlertKind::RolesAssignedOutsidePim => outside_pim::found(t),
        AlertKind::TooManyGlobalAdmins => counts::global_admins(t, s),
        AlertKind::TooManyPrivilegedRoleHolders => counts::privileged_holders(t, s),
        AlertKind::NoMfaOnRoleActivation => mfa::found(t),
        AlertKind::RedundantAssignment => activity::redundant(t, s),
        AlertKind::SequentialActivationRenewals => activity::sequential(t, s),
        AlertKind::StaleSignIn => stale::found(t, s),
        AlertKind::PermanentPrivilegedAssignments => permanent::found(t),
    }
}

/// Every alert over `facts`.
pub fn alerts_of(facts: &AlertFacts) -> AlertsReport {
    let t = Tenant::new(facts);
    let alerts = facts
        .states
        .iter()
        .map(|state| {
            let s = &state.settings;
            let kind = s.kind;
            let mut found = compute(&t, state);
            found.incidents.sort_by(|a, b| {
                let key = |i: &Incident| {
                    (
                        i.principal.as_ref().map(|p| p.name.clone()),
                        i.role.as_ref().map(|r| r.name.clone()),
                        i.id.clone(),
                    )
                };
                key(a).cmp(&key(b))
            });
            let fires = s.is_enabled && !found.incidents.is_empty();
            let dismissed = state
                .dismissed
                .as_ref()
                .filter(|_| fires)
                .map(|d| DismissedBy { at: d.at, by: t.named(&d.by) });
            // A dismissal covers the incidents it saw; a new one brings the alert back.
            let covered = state
                .dismissed
                .as_ref()
                .is_some_and(|d| found.incidents.iter().all(|i| d.incidents.contains(&i.id)));
            let thresholds = s
                .thresholds()
                .into_iter()
                .map(|(p, v)| Threshold { name: p.name, value: p.show(v), is_default: v == p.default })
                .collect();
            Alert {
                kind,
                display_name: kind.definition().display_name,
                severity: kind.severity(),
                on_graph: kind.graph_stem().is_some(),
                enabled: s.is_enabled,
                fires,
                active: fires && !covered,
                dismissed: dismissed.filter(|_| covered),
                thresholds,
                measured: found.measured,
                mitigation: kind.definition().mitigation_steps,
                incidents: if s.is_enabled { found.incidents } else { Vec::new() },
            }
        })
        .collect();
    AlertsReport { at: facts.now, tenant_id: facts.tenant_id.clone(), alerts }
}

/// Every alert at the tenant's clock.
pub fn alerts(engine: &mut Engine) -> Result<AlertsReport, ApiError> {
    Ok(alerts_of(&engine.alert_facts()?))
}
