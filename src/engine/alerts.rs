//! PIM alerts in the engine: each alert's settings and dismissal as the store keeps them (changed
//! only by an administrator, each change with its audit row), and the facts the report layer
//! computes the alerts from, read in one snapshot.

use std::collections::{HashMap, HashSet};

use super::audit::{About, Activity, Audit, Entry};
use super::directory::require_admin;
use super::{Engine, Session};
use crate::model::alerts::{AlertKind, AlertSettings, SettingValue, fidelity};
use crate::model::audit::AuditTarget;
use crate::model::policy::Policy;
use crate::model::{
    ApiError, DirectoryObject, PrincipalKind, RequestKind, RoleDefinition, Schedule, Surface, Timestamp,
};
use crate::store::{AlertRow, Tx};

/// An alert dismissed: the incidents it had then, when and by whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dismissal {
    pub incidents: Vec<String>,
    pub at: Timestamp,
    pub by: String,
}

/// An alert's configuration and dismissal as the tenant has them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertState {
    pub settings: AlertSettings,
    pub dismissed: Option<Dismissal>,
}

/// A change to an alert's configuration: settings by name, as a surface gave them.
pub type AlertChange = Vec<(String, SettingValue)>;

/// What the alerts are computed from, read in one snapshot at the tenant's clock.
#[derive(Debug, Clone)]
pub struct AlertFacts {
    pub now: Timestamp,
    pub tenant_id: String,
    pub roles: Vec<RoleDefinition>,
    /// Live directory-role schedules of both kinds (in effect, or made for later).
    pub schedules: Vec<Schedule>,
    /// Each directory role's policy, by role id.
    pub policies: HashMap<String, Policy>,
    /// Users, groups and service principals, by id.
    pub objects: HashMap<String, DirectoryObject>,
    /// The members of each group that holds or is eligible for a directory role, each with
    /// whether its membership was added outside PIM.
    pub group_members: HashMap<String, Vec<(String, bool)>>,
    /// Directory-role activations carried out within the sequential alert's look-back.
    pub recent_activations: Vec<(String, String, Timestamp)>,
    /// The last activation of each (principal, role) that has one.
    pub last_activation: HashMap<(String, String), Timestamp>,
    /// Each principal's last act in the audit trail.
    pub last_acts: HashMap<String, Timestamp>,
    pub states: Vec<AlertState>,
}

fn state_of(kind: AlertKind, row: Option<&AlertRow>) -> AlertState {
    let mut settings = AlertSettings::default_for(kind);
    let Some(row) = row else { return AlertState { settings, dismissed: None } };
    settings.is_enabled = row.is_enabled;
    let stored: HashMap<String, i64> = serde_json::from_str(&row.settings).unwrap_or_default();
    for (name, value) in stored {
        // Checked when set; a value no longer in range (or back at its default) is not kept.
        if let Some(p) = kind.params().iter().find(|p| p.name == name) {
            if p.min <= value && value <= p.max && value != p.default {
                settings.values.insert(name, value);
            }
        }
    }
    let dismissed = match (&row.dismissed, row.dismissed_at, &row.dismissed_by) {
        (Some(ids), Some(at), Some(by)) => {
            Some(Dismissal { incidents: serde_json::from_str(ids).unwrap_or_default(), at, by: by.clone() })
        }
        _ => None,
    };
    AlertState { settings, dismissed }
}

fn states(tx: &Tx<'_>) -> Result<Vec<AlertState>, ApiError> {
    let rows = tx.alert_rows()?;
    Ok(AlertKind::ALL.iter().map(|k| state_of(*k, rows.iter().find(|r| r.alert == k.name()))).collect())
}

fn row_of(state: &AlertState) -> AlertRow {
    let d = state.dismissed.as_ref();
    AlertRow {
        alert: state.settings.kind.name().to_string(),
        is_enabled: state.settings.is_enabled,
        settings: serde_json::to_string(&state.settings.values).unwrap_or_else(|_| "{}".into()),
        dismissed: d.map(|d| serde_json::to_string(&d.incidents).unwrap_or_else(|_| "[]".into())),
        dismissed_at: d.map(|d| d.at),
        dismissed_by: d.map(|d| d.by.clone()),
    }
}

/// The audit target of an alert.
fn alert_target(kind: AlertKind) -> AuditTarget {
    AuditTarget {
        id: kind.name().to_string(),
        kind: "Alert".to_string(),
        display_name: Some(kind.definition().display_name.to_string()),
    }
}

impl Engine {
    /// Every alert's configuration and dismissal.
    pub fn alert_states(&mut self) -> Result<Vec<AlertState>, ApiError> {
        self.read(|tx, _| states(tx))
    }

    /// Changes an alert's configuration (`isEnabled`, thresholds); refused whole, leaving the
    /// store as it was, when any setting is unknown or out of range. Returns the state after.
    pub fn change_alert(
        &mut self,
        session: &Session,
        kind: AlertKind,
        change: &AlertChange,
    ) -> Result<AlertState, ApiError> {
        self.write(|tx, ctx| {
            require_admin(tx, session, "Changing alert settings")?;
            let mut state = state_of(kind, tx.alert_row(kind.name())?.as_ref());
            let before = state.settings.clone();
            for (name, value) in change {
                state.settings.set(name, value)?;
            }
            if state.settings == before {
                return Ok((state, Audit::none("the alert already had these settings")));
            }
            tx.save_alert_row(&row_of(&state), ctx.now)?;
            let about = About::Targets(vec![alert_target(kind)]);
            let row = Entry::new(tx, ctx, &session.caller, Activity::AlertConfigured, about)?;
            Ok((state, Audit::of(row)))
        })
    }

    /// Dismisses an alert with the incidents it has now: it stays dismissed until an incident
    /// outside these appears or the alerts are refreshed.
    pub fn dismiss_alert(
        &mut self,
        session: &Session,
        kind: AlertKind,
        incidents: Vec<String>,
    ) -> Result<AlertState, ApiError> {
        self.write(|tx, ctx| {
            require_admin(tx, session, "Dismissing alerts")?;
            let mut state = state_of(kind, tx.alert_row(kind.name())?.as_ref());
            state.dismissed = Some(Dismissal { incidents, at: ctx.now, by: session.caller.clone() });
            tx.save_alert_row(&row_of(&state), ctx.now)?;
            let about = About::Targets(vec![alert_target(kind)]);
            let row = Entry::new(tx, ctx, &session.caller, Activity::AlertDismissed, about)?;
            Ok((state, Audit::of(row)))
        })
    }

    /// Refreshes alerts (one, or all): a scan at the tenant's clock, which brings back what was
    /// dismissed and still fires. Returns the alerts whose dismissal it cleared.
    pub fn refresh_alerts(
        &mut self,
        session: &Session,
        kind: Option<AlertKind>,
    ) -> Result<Vec<AlertKind>, ApiError> {
        self.write(|tx, ctx| {
            require_admin(tx, session, "Refreshing alerts")?;
            let mut cleared = Vec::new();
            for mut state in states(tx)? {
                let k = state.settings.kind;
                if kind.is_some_and(|only| only != k) || state.dismissed.is_none() {
                    continue;
                }
                state.dismissed = None;
                tx.save_alert_row(&row_of(&state), ctx.now)?;
                cleared.push(k);
            }
            let targets = kind.map_or_else(Vec::new, |k| vec![alert_target(k)]);
            let row =
                Entry::new(tx, ctx, &session.caller, Activity::AlertsRefreshed, About::Targets(targets))?;
            Ok((cleared, Audit::of(row)))
        })
    }

    /// The facts every alert is computed from, in one read.
    pub fn alert_facts(&mut self) -> Result<AlertFacts, ApiError> {
        self.read(|tx, ctx| {
            let now = ctx.now;
            let directory = |s: &Schedule| s.surface == Surface::Directory;
            let mut schedules: Vec<Schedule> = tx
                .live_schedules(RequestKind::Eligibility, None, None)?
                .into_iter()
                .filter(directory)
                .collect();
            schedules.extend(
                tx.live_schedules(RequestKind::Assignment, None, None)?.into_iter().filter(directory),
            );
            let policies = tx
                .policies(Surface::Directory.as_str(), true)?
                .into_iter()
                .map(|p| (p.role_definition_id.clone(), p))
                .collect();
            let mut objects = HashMap::new();
            for kind in [PrincipalKind::User, PrincipalKind::Group, PrincipalKind::ServicePrincipal] {
                objects.extend(tx.objects(kind)?.into_iter().map(|o| (o.id.clone(), o)));
            }
            let groups: HashSet<&str> = schedules
                .iter()
                .filter(|s| {
                    objects
                        .get(&s.principal_id)
                        .is_some_and(|o: &DirectoryObject| o.kind == PrincipalKind::Group)
                })
                .map(|s| s.principal_id.as_str())
                .collect();
            let mut group_members = HashMap::new();
            for g in groups {
                let mut members = Vec::new();
                for m in tx.members(g, "member")? {
                    let outside = tx.has_direct_membership(g, &m, "member")?
                        && !tx.has_pim_membership(g, &m, "member")?;
                    members.push((m, outside));
                }
                group_members.insert(g.to_string(), members);
            }
            let since = now.checked_sub_signed(fidelity::SEQUENTIAL_LOOKBACK.as_delta()).unwrap_or(now);
            Ok(AlertFacts {
                now,
                tenant_id: tx.meta("tenant_id")?.unwrap_or_default(),
                roles: tx.roles()?,
                schedules,
                policies,
                objects,
                group_members,
                recent_activations: tx.directory_activations_since(since)?,
                last_activation: tx.last_directory_activations()?,
                last_acts: tx.last_acts()?,
                states: states(tx)?,
            })
        })
    }
}
