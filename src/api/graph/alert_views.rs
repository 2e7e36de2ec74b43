//! The wire format of PIM alerts on Graph beta (`identityGovernance/roleManagementAlerts`):
//! `unifiedRoleManagementAlert`, `unifiedRoleManagementAlertDefinition`, the seven
//! `...AlertConfiguration` and `...AlertIncident` subtypes, with ids as the service gives them
//! (`DirectoryRole_{tenantId}_{alertName}`). Only the real service's alerts are shown.

use serde_json::{Map, Value, json};

use crate::engine::AlertState;
use crate::model::alerts::{AlertKind, ParamKind};
use crate::model::time::format_timestamp;
use crate::report::alerts::{Alert, AlertsReport, Incident};

pub(super) const SCOPE_ID: &str = "/";
pub(super) const SCOPE_TYPE: &str = "DirectoryRole";

/// The id of an alert, its definition and its configuration (the service gives all three the
/// same id).
pub(super) fn alert_id(tenant: &str, kind: AlertKind) -> String {
    format!("{SCOPE_TYPE}_{tenant}_{}", kind.name())
}

/// The alert an id names, if it is one of this tenant's Graph alerts.
pub(super) fn kind_of_id(tenant: &str, id: &str) -> Option<AlertKind> {
    AlertKind::ALL
        .into_iter()
        .find(|k| k.graph_stem().is_some() && alert_id(tenant, *k).eq_ignore_ascii_case(id))
}

fn base(tenant: &str, kind: AlertKind) -> Map<String, Value> {
    let id = alert_id(tenant, kind);
    let mut m = Map::new();
    m.insert("id".into(), id.clone().into());
    m.insert("alertDefinitionId".into(), id.into());
    m.insert("scopeId".into(), SCOPE_ID.into());
    m.insert("scopeType".into(), SCOPE_TYPE.into());
    m
}

pub(super) fn definition(tenant: &str, kind: AlertKind) -> Value {
    let d = kind.definition();
    let mut m = Map::new();
    m.insert("id".into(), alert_id(tenant, kind).into());
    m.insert("displayName".into(), d.display_name.into());
    m.insert("scopeType".into(), SCOPE_TYPE.into());
    m.insert("scopeId".into(), SCOPE_ID.into());
    m.insert("description".into(), d.description.into());
    m.insert("severityLevel".into(), kind.severity().as_str().into());
    m.insert("securityImpact".into(), d.security_impact.into());
    m.insert("mitigationSteps".into(), d.mitigation_steps.into());
    m.insert("howToPrevent".into(), d.how_to_prevent.into());
    m.insert("isRemediatable".into(), d.is_remediatable.into());
    m.insert("isConfigurable".into(), kind.is_configurable().into());
    Value::Object(m)
}

pub(super) fn configuration(tenant: &str, state: &AlertState) -> Value {
    let kind = state.settings.kind;
    let stem = kind.graph_stem().unwrap_or_default();
    let mut m = Map::new();
    m.insert("@odata.type".into(), format!("#microsoft.graph.{stem}AlertConfiguration").into());
    m.extend(base(tenant, kind));
    m.remove("id");
    m.insert("id".into(), alert_id(tenant, kind).into());
    m.insert("isEnabled".into(), state.settings.is_enabled.into());
    for (p, v) in state.settings.thresholds() {
        let value = match p.kind {
            ParamKind::Count | ParamKind::Percentage => json!(v),
            ParamKind::Days | ParamKind::Minutes => json!(p.duration(v).to_string()),
        };
        m.insert(p.name.into(), value);
    }
    Value::Object(m)
}

pub(super) fn alert(report: &AlertsReport, a: &Alert) -> Value {
    let mut m = Map::new();
    m.insert("@odata.type".into(), "#microsoft.graph.unifiedRoleManagementAlert".into());
    m.extend(base(&report.tenant_id, a.kind));
    m.insert("incidentCount".into(), a.incidents.len().into());
    m.insert("isActive".into(), a.active.into());
    let modified = a.dismissed.as_ref().map_or(report.at, |d| d.at);
    m.insert("lastModifiedDateTime".into(), format_timestamp(modified).into());
    m.insert("lastScannedDateTime".into(), format_timestamp(report.at).into());
    Value::Object(m)
}

fn time(t: Option<crate::model::Timestamp>) -> Value {
    t.map_or(Value::Null, |t| format_timestamp(t).into())
}

pub(super) fn incident(kind: AlertKind, i: &Incident) -> Value {
    let stem = kind.graph_stem().unwrap_or_default();
    let mut m = Map::new();
    m.insert("@odata.type".into(), format!("#microsoft.graph.{stem}AlertIncident").into());
    m.insert("id".into(), i.id.clone().into());
    let assignee = |m: &mut Map<String, Value>| {
        let p = i.principal.as_ref();
        m.insert("assigneeId".into(), p.map(|p| p.id.clone()).into());
        m.insert("assigneeDisplayName".into(), p.map(|p| p.name.clone()).into());
        m.insert("assigneeUserPrincipalName".into(), p.and_then(|p| p.user_principal_name.clone()).into());
    };
    let role = |m: &mut Map<String, Value>, with_definition: bool| {
        let r = i.role.as_ref();
        if with_definition {
            m.insert("roleDefinitionId".into(), r.map(|r| r.id.clone()).into());
        }
        m.insert("roleDisplayName".into(), r.map(|r| r.name.clone()).into());
        m.insert("roleTemplateId".into(), r.map(|r| r.id.clone()).into());
    };
    match kind {
        AlertKind::TooManyGlobalAdmins => assignee(&mut m),
        AlertKind::NoMfaOnRoleActivation => role(&mut m, false),
        AlertKind::RolesAssignedOutsidePim => {
            assignee(&mut m);
            m.insert("assignmentCreatedDateTime".into(), time(i.assignment_created));
            role(&mut m, true);
        }
        AlertKind::RedundantAssignment => {
            assignee(&mut m);
            m.insert("lastActivationDateTime".into(), time(i.last_activation));
            role(&mut m, true);
        }
        AlertKind::SequentialActivationRenewals => {
            m.insert("activationCount".into(), i.activation_count.into());
            assignee(&mut m);
            role(&mut m, true);
            m.insert("sequenceStartDateTime".into(), time(i.sequence_start));
            m.insert("sequenceEndDateTime".into(), time(i.sequence_end));
        }
        AlertKind::StaleSignIn => {
            assignee(&mut m);
            m.insert("assignmentCreatedDateTime".into(), time(i.assignment_created));
            m.insert("lastSignInDateTime".into(), time(i.last_sign_in));
            role(&mut m, true);
        }
        AlertKind::TooManyPrivilegedRoleHolders | AlertKind::PermanentPrivilegedAssignments => {}
    }
    Value::Object(m)
}
