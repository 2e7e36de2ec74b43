//! `alerts`: the report, the settings, and the changes (set, dismiss, refresh). An alert is named
//! as `model::alerts::AlertKind::parse` takes it; a setting as `NAME=VALUE`.

use clap::{Args, Subcommand};
use serde::Deserialize;

use super::Outcome;
use crate::engine::{AlertChange, Engine, Session};
use crate::model::alerts::{AlertKind, SettingValue};
use crate::model::{ApiError, ErrorCode};
use crate::report::alerts::{self, config_of};

/// The alert `text` names, or a refusal listing them.
pub fn alert_kind(text: &str) -> Result<AlertKind, ApiError> {
    AlertKind::parse(text).ok_or_else(|| {
        let names: Vec<&str> = AlertKind::ALL.iter().map(|k| k.name()).collect();
        ApiError::new(
            404,
            ErrorCode::ResourceNotFound,
            format!("no alert is named '{text}' (alerts: {})", names.join(", ")),
        )
    })
}

/// `NAME=VALUE` pairs as a change.
fn change(settings: &[String]) -> Result<AlertChange, ApiError> {
    settings
        .iter()
        .map(|s| match s.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                Ok((k.trim().to_string(), SettingValue::Text(v.trim().to_string())))
            }
            _ => {
                Err(ApiError::usage(format!("'{s}' is not SETTING=VALUE (e.g. globalAdminCountThreshold=3)")))
            }
        })
        .collect()
}

pub(super) fn alerts(
    engine: &mut Engine,
    session: &Session,
    action: Option<&AlertsAction>,
) -> Result<Outcome, ApiError> {
    match action {
        None => Ok(Outcome::Alerts(alerts::alerts(engine)?)),
        Some(AlertsAction::Config) => {
            let states = engine.alert_states()?;
            Ok(Outcome::AlertConfig(config_of(engine, &states)?))
        }
        Some(AlertsAction::Set(a)) => {
            let kind = alert_kind(&a.alert)?;
            let state = engine.change_alert(session, kind, &change(&a.settings)?)?;
            Ok(Outcome::AlertConfig(config_of(engine, &[state])?))
        }
        Some(AlertsAction::Dismiss(a)) => {
            let kind = alert_kind(&a.alert)?;
            let mut report = alerts::alerts(engine)?;
            let ids = report
                .alerts
                .iter()
                .find(|x| x.kind == kind)
                .map(|x| x.incidents.iter().map(|i| i.id.clone()).collect())
                .unwrap_or_default();
            engine.dismiss_alert(session, kind, ids)?;
            report = alerts::alerts(engine)?;
            report.alerts.retain(|x| x.kind == kind);
            Ok(Outcome::Alerts(report))
        }
        Some(AlertsAction::Refresh(a)) => {
            let kind = a.alert.as_deref().map(alert_kind).transpose()?;
            engine.refresh_alerts(session, kind)?;
            let mut report = alerts::alerts(engine)?;
            report.alerts.retain(|x| kind.is_none_or(|k| x.kind == k));
            Ok(Outcome::Alerts(report))
        }
    }
}

#[derive(Debug, Subcommand, Clone)]
pub enum AlertsAction {
    /// Every alert's settings: on or off, its thresholds with their defaults and ranges.
    Config,
    /// Change an alert's settings: `isEnabled=false`, `globalAdminCountThreshold=3`, `duration=P14D`.
    Set(AlertSetArgs),
    /// Dismiss an alert as it is now: it comes back when a new incident appears, or on refresh.
    Dismiss(AlertArgs),
    /// Scan again: dismissed alerts that still fire come back.
    Refresh(AlertRefreshArgs),
}

/// `alerts set ALERT SETTING=VALUE...`.
#[derive(Debug, Args, Clone, Deserialize)]
pub struct AlertSetArgs {
    /// The alert: its name (`TooManyGlobalAdminsAssignedToTenantAlert`), without `Alert`, or a
    /// unique beginning of it (`TooManyGlobalAdmins`, `stale`).
    pub alert: String,
    /// Settings as NAME=VALUE (`alerts config` lists each alert's).
    #[arg(value_name = "SETTING=VALUE", required = true)]
    pub settings: Vec<String>,
}

/// An alert named.
#[derive(Debug, Args, Clone, Deserialize)]
pub struct AlertArgs {
    /// The alert (as for `alerts set`).
    pub alert: String,
}

/// `alerts refresh [ALERT]`.
#[derive(Debug, Args, Clone, Deserialize)]
pub struct AlertRefreshArgs {
    /// One alert (as for `alerts set`); default every alert.
    #[serde(default)]
    pub alert: Option<String>,
}
