//! Alerts' settings as a report: each alert on or off, its thresholds with their defaults and
//! ranges, and whether it is dismissed.

use serde::Serialize;

use super::{DismissedBy, Named};
use crate::engine::{AlertState, Engine};
use crate::model::ApiError;
use crate::model::alerts::{AlertKind, Severity};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertConfig {
    pub name: &'static str,
    pub display_name: &'static str,
    pub severity: Severity,
    pub on_graph: bool,
    pub is_enabled: bool,
    pub settings: Vec<Setting>,
    pub dismissed: Option<DismissedBy>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Setting {
    pub name: &'static str,
    pub value: String,
    pub default: String,
    pub min: String,
    pub max: String,
}

/// The settings of `states` (every alert's, or the one changed).
pub fn config_of(engine: &mut Engine, states: &[AlertState]) -> Result<Vec<AlertConfig>, ApiError> {
    let mut out = Vec::new();
    for st in states {
        let kind: AlertKind = st.settings.kind;
        let dismissed = match &st.dismissed {
            Some(d) => {
                let by = engine.object(&d.by)?;
                let name = by.as_ref().map_or_else(|| d.by.clone(), |o| o.display_name.clone());
                let upn = by.and_then(|o| o.user_principal_name);
                Some(DismissedBy { at: d.at, by: Named { id: d.by.clone(), name, user_principal_name: upn } })
            }
            None => None,
        };
        out.push(AlertConfig {
            name: kind.name(),
            display_name: kind.definition().display_name,
            severity: kind.severity(),
            on_graph: kind.graph_stem().is_some(),
            is_enabled: st.settings.is_enabled,
            settings: st
                .settings
                .thresholds()
                .into_iter()
                .map(|(p, v)| Setting {
                    name: p.name,
                    value: p.show(v),
                    default: p.show(p.default),
                    min: p.show(p.min),
                    max: p.show(p.max),
                })
                .collect(),
            dismissed,
        });
    }
    Ok(out)
}
