//! PIM alerts as tables: a summary line per alert, then each firing alert's incidents with why
//! and the pimlab command that fixes each; and the alerts' settings.

use std::io::Write;

use super::{Names, finish, table};
use crate::engine::Engine;
use crate::model::time::format_timestamp;
use crate::ops::Outcome;
use crate::report::alerts::{Alert, AlertConfig, Fix};

pub(super) fn render(
    engine: &mut Engine,
    names: &mut Names,
    outcome: &Outcome,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match outcome {
        Outcome::Alerts(r) => {
            let firing = r.alerts.iter().filter(|a| a.active).count();
            writeln!(out, "Alerts at {}: {firing} of {} active", format_timestamp(r.at), r.alerts.len())?;
            let mut t = table(&["severity", "alert", "state", "incidents", "measured"]);
            for a in &r.alerts {
                t.add_row(vec![
                    a.severity.as_str().to_string(),
                    a.kind.name().trim_end_matches("Alert").to_string(),
                    state(a).to_string(),
                    a.incidents.len().to_string(),
                    a.measured.clone(),
                ]);
            }
            writeln!(out, "{}", finish(&t))?;
            for a in r.alerts.iter().filter(|a| a.fires) {
                incidents(engine, names, a, out)?;
            }
            Ok(())
        }
        Outcome::AlertConfig(rows) => config(rows, out),
        _ => Ok(()),
    }
}

fn state(a: &Alert) -> &'static str {
    match (a.enabled, a.fires, a.active) {
        (false, _, _) => "off",
        (true, false, _) => "quiet",
        (true, true, true) => "FIRES",
        (true, true, false) => "dismissed",
    }
}

fn incidents(engine: &mut Engine, names: &mut Names, a: &Alert, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "\n{} ({}, {}):", a.display_name, a.kind.name(), a.severity.as_str())?;
    if let Some(d) = &a.dismissed {
        writeln!(out, "dismissed by {} at {}", d.by.name, format_timestamp(d.at))?;
    }
    let mut t = table(&["principal", "role", "scope", "why", "fix"]);
    for i in &a.incidents {
        t.add_row(vec![
            i.principal.as_ref().map_or("-".to_string(), |p| p.name.clone()),
            i.role.as_ref().map_or("-".to_string(), |r| r.name.clone()),
            names.short_scope(engine, i.scope.as_deref()),
            i.why.clone(),
            fix(&i.fix),
        ]);
    }
    writeln!(out, "{}", finish(&t))
}

/// An argument as a shell takes it: quoted when it has a space or a quote.
fn arg(text: &str) -> String {
    if text.chars().any(|c| c.is_whitespace() || c == '\'' || c == '"' || c == '$') {
        format!("'{}'", text.replace('\'', r"'\''"))
    } else {
        text.to_string()
    }
}

fn target(principal: &str, role: &str, scope: &str) -> String {
    let scope = if scope == "/" { String::new() } else { format!(" --scope {}", arg(scope)) };
    format!("-p {} -r {}{scope}", arg(principal), arg(role))
}

/// The fix as the pimlab command (or commands) that make it.
pub(super) fn fix(f: &Fix) -> String {
    match f {
        Fix::ReplaceOutsideAssignment { assignment_id, principal, role, scope } => format!(
            "pimlab graph DELETE /v1.0/roleManagement/directory/roleAssignments/{assignment_id}, then if needed: pimlab eligible assign {}",
            target(principal, role, scope)
        ),
        Fix::RemoveMembership { group, member } => format!(
            "take {} out of {} in the directory, then if needed: pimlab eligible assign -p {} --access member --group {}",
            arg(member),
            arg(group),
            arg(member),
            arg(group)
        ),
        Fix::LeaveGroup { group, member } => {
            format!("pimlab active remove -p {} --access member --group {}", arg(member), arg(group))
        }
        Fix::RemoveEligibility { principal, role, scope } => {
            format!("pimlab eligible remove {}", target(principal, role, scope))
        }
        Fix::RemoveActive { principal, role, scope } => {
            format!("pimlab active remove {}", target(principal, role, scope))
        }
        Fix::MakeEligible { principal, role, scope, duration } => format!(
            "pimlab eligible assign {} --duration {duration}, then: pimlab active remove {}",
            target(principal, role, scope),
            target(principal, role, scope)
        ),
        Fix::RequireMfa { role } => format!("pimlab policy set {} --require-mfa true", arg(role)),
        Fix::LengthenActivation { role, to, .. } => {
            format!("pimlab policy set {} --activation-max {to}", arg(role))
        }
    }
}

fn config(rows: &[AlertConfig], out: &mut dyn Write) -> std::io::Result<()> {
    let mut t = table(&["alert", "severity", "enabled", "setting", "value", "default", "range"]);
    for c in rows {
        let name = c.name.trim_end_matches("Alert").to_string();
        let enabled = if c.is_enabled { "yes" } else { "no" }.to_string();
        if c.settings.is_empty() {
            t.add_row(vec![
                name,
                c.severity.as_str().into(),
                enabled,
                "-".into(),
                "".into(),
                "".into(),
                "".into(),
            ]);
            continue;
        }
        for (n, s) in c.settings.iter().enumerate() {
            let (name, sev, en) = if n == 0 {
                (name.clone(), c.severity.as_str().to_string(), enabled.clone())
            } else {
                (String::new(), String::new(), String::new())
            };
            t.add_row(vec![
                name,
                sev,
                en,
                s.name.into(),
                s.value.clone(),
                s.default.clone(),
                format!("{} to {}", s.min, s.max),
            ]);
        }
    }
    writeln!(out, "{}", finish(&t))?;
    for c in rows.iter().filter(|c| c.dismissed.is_some()) {
        if let Some(d) = &c.dismissed {
            writeln!(out, "{} dismissed by {} at {}", c.name, d.by.name, format_timestamp(d.at))?;
        }
    }
    Ok(())
}
