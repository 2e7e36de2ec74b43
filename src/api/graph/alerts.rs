//! PIM alerts over Graph beta (`identityGovernance/roleManagementAlerts`): `alerts` with their
//! `alertIncidents`, `alertDefinition` and `alertConfiguration`, `refresh` (of one alert or all)
//! and dismissal (`PATCH` of `isActive` to false); `alertDefinitions`; `alertConfigurations`, whose
//! `PATCH` changes thresholds. Lists require `$filter=scopeId eq '/' and scopeType eq
//! 'DirectoryRole'`, as the documented requests carry it.

use serde_json::Value;

use super::{Call, Response, alert_views as v, not_found_path};
use crate::api::body;
use crate::engine::AlertState;
use crate::model::alerts::{AlertKind, SettingValue, fidelity};
use crate::model::{ApiError, ErrorCode};
use crate::report::alerts::{self, AlertsReport};

const BASE: &str = "identityGovernance/roleManagementAlerts";

fn graph_kinds() -> impl Iterator<Item = AlertKind> {
    AlertKind::ALL.into_iter().filter(|k| k.graph_stem().is_some())
}

impl Call<'_> {
    /// The routes under `identityGovernance/roleManagementAlerts`.
    pub(super) fn role_management_alerts(&mut self, rest: &[&str]) -> Result<Response, ApiError> {
        let tenant = self.engine.tenant_id()?;
        match rest {
            ["alerts"] => {
                self.require_method(&["GET"])?;
                self.required_scope_filter()?;
                let report = alerts::alerts(self.engine)?;
                let items = graph_alerts(&report).map(|a| v::alert(&report, a)).collect();
                self.collection(self.context(&format!("{BASE}/alerts")), items)
            }
            ["alerts", "refresh"] => {
                self.require_method(&["POST"])?;
                let m = body::parse_object(self.body_text()?)?;
                for (key, want) in [("scopeId", v::SCOPE_ID), ("scopeType", v::SCOPE_TYPE)] {
                    match m.get(key).and_then(Value::as_str) {
                        Some(given) if given == want => {}
                        other => {
                            return Err(ApiError::bad_request(
                                key,
                                format!(
                                    "{} is not a scope of alerts; give '{want}'",
                                    other.map_or("nothing".into(), |o| format!("'{o}'"))
                                ),
                            ));
                        }
                    }
                }
                self.engine.refresh_alerts(self.session, None)?;
                Ok(Response::no_content())
            }
            ["alerts", id, tail @ ..] => {
                let kind = self.alert_kind(&tenant, id)?;
                self.alert(&tenant, kind, tail)
            }
            ["alertDefinitions"] => {
                self.require_method(&["GET"])?;
                self.required_scope_filter()?;
                let items = graph_kinds().map(|k| v::definition(&tenant, k)).collect();
                self.collection(self.context(&format!("{BASE}/alertDefinitions")), items)
            }
            ["alertDefinitions", id] => {
                self.require_method(&["GET"])?;
                let kind = self.alert_kind(&tenant, id)?;
                self.entity(
                    self.context(&format!("{BASE}/alertDefinitions/$entity")),
                    v::definition(&tenant, kind),
                )
            }
            ["alertConfigurations"] => {
                self.require_method(&["GET"])?;
                self.required_scope_filter()?;
                let states = self.engine.alert_states()?;
                let items = states
                    .iter()
                    .filter(|s| s.settings.kind.graph_stem().is_some())
                    .map(|s| self.with_definition(&tenant, s))
                    .collect();
                self.collection(self.context(&format!("{BASE}/alertConfigurations")), items)
            }
            ["alertConfigurations", id] => {
                let kind = self.alert_kind(&tenant, id)?;
                self.configuration(&tenant, kind)
            }
            _ => Err(not_found_path(&self.path())),
        }
    }

    fn alert(&mut self, tenant: &str, kind: AlertKind, tail: &[&str]) -> Result<Response, ApiError> {
        let id = v::alert_id(tenant, kind);
        match tail {
            [] if self.method == "PATCH" => {
                let m = body::parse_object(self.body_text()?)?;
                if let Some(k) = m.keys().find(|k| k.as_str() != "isActive" && k.as_str() != "@odata.type") {
                    return Err(ApiError::bad_request(
                        k,
                        format!("'{k}' of an alert cannot be changed; only isActive (false dismisses it)"),
                    ));
                }
                match m.get("isActive") {
                    Some(Value::Bool(false)) => {
                        let report = alerts::alerts(self.engine)?;
                        let ids = report
                            .alerts
                            .iter()
                            .find(|a| a.kind == kind)
                            .map(|a| a.incidents.iter().map(|i| i.id.clone()).collect())
                            .unwrap_or_default();
                        self.engine.dismiss_alert(self.session, kind, ids)?;
                    }
                    Some(Value::Bool(true)) => {
                        self.engine.refresh_alerts(self.session, Some(kind))?;
                    }
                    other => {
                        return Err(ApiError::bad_request(
                            "isActive",
                            format!(
                                "{} is not true or false",
                                other.map_or("nothing".to_string(), Value::to_string)
                            ),
                        ));
                    }
                }
                Ok(Response::no_content())
            }
            [] => {
                self.require_method(&["GET", "PATCH"])?;
                let report = alerts::alerts(self.engine)?;
                let a = report
                    .alerts
                    .iter()
                    .find(|a| a.kind == kind)
                    .ok_or_else(|| not_found_path(&self.path()))?;
                let mut value = v::alert(&report, a);
                for e in self.query.expand.iter().map(|e| e.name.clone()).collect::<Vec<_>>() {
                    let expanded = match e.as_str() {
                        "alertDefinition" => v::definition(tenant, kind),
                        "alertConfiguration" => self.state_json(tenant, kind)?,
                        "alertIncidents" => {
                            Value::Array(a.incidents.iter().map(|i| v::incident(kind, i)).collect())
                        }
                        _ => continue,
                    };
                    value[e] = expanded;
                }
                self.entity(self.context(&format!("{BASE}/alerts/$entity")), value)
            }
            ["refresh"] => {
                self.require_method(&["POST"])?;
                self.engine.refresh_alerts(self.session, Some(kind))?;
                Ok(Response::no_content())
            }
            ["alertIncidents"] => {
                self.require_method(&["GET"])?;
                let report = alerts::alerts(self.engine)?;
                let a = report.alerts.iter().find(|a| a.kind == kind);
                let items =
                    a.map_or_else(Vec::new, |a| a.incidents.iter().map(|i| v::incident(kind, i)).collect());
                self.collection(self.context(&format!("{BASE}/alerts('{id}')/alertIncidents")), items)
            }
            ["alertIncidents", incident] => {
                self.require_method(&["GET"])?;
                let report = alerts::alerts(self.engine)?;
                let found = report
                    .alerts
                    .iter()
                    .find(|a| a.kind == kind)
                    .and_then(|a| a.incidents.iter().find(|i| i.id.eq_ignore_ascii_case(incident)))
                    .map(|i| v::incident(kind, i));
                let value = found.ok_or_else(|| {
                    ApiError::not_found(ErrorCode::ResourceNotFound, "Alert incident", incident)
                })?;
                self.entity(self.context(&format!("{BASE}/alerts('{id}')/alertIncidents/$entity")), value)
            }
            ["alertDefinition"] => {
                self.require_method(&["GET"])?;
                self.entity(
                    self.context(&format!("{BASE}/alerts('{id}')/alertDefinition/$entity")),
                    v::definition(tenant, kind),
                )
            }
            ["alertConfiguration"] => {
                self.require_method(&["GET"])?;
                let value = self.state_json(tenant, kind)?;
                self.entity(self.context(&format!("{BASE}/alerts('{id}')/alertConfiguration/$entity")), value)
            }
            _ => Err(not_found_path(&self.path())),
        }
    }

    fn configuration(&mut self, tenant: &str, kind: AlertKind) -> Result<Response, ApiError> {
        if self.method == "PATCH" {
            let m = body::parse_object(self.body_text()?)?;
            let type_name =
                format!("#microsoft.graph.{}AlertConfiguration", kind.graph_stem().unwrap_or_default());
            let mut change = Vec::new();
            for (key, value) in &m {
                let given = match value {
                    _ if key == "@odata.type" => {
                        if value.as_str() != Some(type_name.as_str()) {
                            return Err(ApiError::bad_request(
                                "@odata.type",
                                format!("{value} is not the type of this configuration ({type_name})"),
                            ));
                        }
                        continue;
                    }
                    Value::Bool(b) => SettingValue::Bool(*b),
                    Value::Number(n) => match n.as_i64() {
                        Some(n) => SettingValue::Int(n),
                        None => return Err(ApiError::bad_request(key, format!("{n} is not a whole number"))),
                    },
                    // Graph's durations are ISO 8601 only.
                    Value::String(s)
                        if crate::model::IsoDuration::parse(s).is_ok()
                            || key.eq_ignore_ascii_case("isEnabled") =>
                    {
                        SettingValue::Text(s.clone())
                    }
                    Value::String(s) => {
                        return Err(ApiError::bad_request(
                            key,
                            format!("'{s}' is not an ISO 8601 duration (e.g. P30D, PT1H)"),
                        ));
                    }
                    other => return Err(ApiError::bad_request(key, format!("{other} is not a value of it"))),
                };
                change.push((key.clone(), given));
            }
            self.engine.change_alert(self.session, kind, &change)?;
            return Ok(Response::no_content());
        }
        self.require_method(&["GET", "PATCH"])?;
        let state = self.state(kind)?;
        let value = self.with_definition(tenant, &state);
        self.entity(self.context(&format!("{BASE}/alertConfigurations/$entity")), value)
    }

    fn state(&mut self, kind: AlertKind) -> Result<AlertState, ApiError> {
        let states = self.engine.alert_states()?;
        states.into_iter().find(|s| s.settings.kind == kind).ok_or_else(|| not_found_path(&self.path()))
    }

    fn state_json(&mut self, tenant: &str, kind: AlertKind) -> Result<Value, ApiError> {
        Ok(v::configuration(tenant, &self.state(kind)?))
    }

    /// A configuration, with its definition when `$expand=alertDefinition` asks for it.
    fn with_definition(&self, tenant: &str, s: &AlertState) -> Value {
        let mut value = v::configuration(tenant, s);
        if self.query.expand.iter().any(|e| e.name == "alertDefinition") {
            value["alertDefinition"] = v::definition(tenant, s.settings.kind);
        }
        value
    }

    fn alert_kind(&self, tenant: &str, id: &str) -> Result<AlertKind, ApiError> {
        v::kind_of_id(tenant, id).ok_or_else(|| ApiError::not_found(ErrorCode::ResourceNotFound, "Alert", id))
    }

    /// The `scopeId eq '/' and scopeType eq 'DirectoryRole'` every list requires.
    fn required_scope_filter(&self) -> Result<(), ApiError> {
        let f = self.query.filter.as_ref();
        let scope_id = f.and_then(|f| f.required_eq("scopeId"));
        let scope_type = f.and_then(|f| f.required_eq("scopeType"));
        if scope_id.is_some() && scope_type.is_some() {
            return Ok(());
        }
        Err(ApiError::new(400, ErrorCode::BadRequest, fidelity::LIST_FILTER_MISSING).with_detail(
            "MissingFilter",
            "$filter",
            format!("add $filter=scopeId eq '{}' and scopeType eq '{}'", v::SCOPE_ID, v::SCOPE_TYPE),
        ))
    }
}

fn graph_alerts(report: &AlertsReport) -> impl Iterator<Item = &alerts::Alert> {
    report.alerts.iter().filter(|a| a.on_graph)
}
