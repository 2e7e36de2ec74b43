//! Human-readable views over the same objects the Graph surface returns: tables and short stories.
//! [`outcome`] renders what an operation gave back; one file per group of operations. An empty
//! listing is one line saying so ("no requests"), not a table with only its header (`--json`
//! still gives `[]`).

mod directory;
mod hints;
mod hooks;
mod policy;
mod records;
mod requests;

use std::collections::HashMap;
use std::io::Write;

use comfy_table::{ContentArrangement, LineStyle, Table, TableStyle};

use crate::engine::Engine;
use crate::model::time::format_timestamp;
use crate::model::{ApiError, Schedule, ScheduleInfo, ScheduleRequest, Timestamp};
use crate::ops::Outcome;

/// Writes an outcome for a reader: a table or a short story.
pub fn outcome(engine: &mut Engine, outcome: &Outcome, out: &mut dyn Write) -> std::io::Result<()> {
    let names = &mut Names::default();
    match outcome {
        Outcome::Request(..) | Outcome::Requests(_) | Outcome::Approvals(_) => {
            requests::render(engine, names, outcome, out)
        }
        Outcome::Schedules(rows) if rows.is_empty() => writeln!(out, "no assignments"),
        Outcome::Instances(rows) if rows.is_empty() => writeln!(out, "no assignments in effect now"),
        Outcome::Schedules(rows) | Outcome::Instances(rows) => {
            writeln!(out, "{}", schedules_table(engine, names, rows))
        }
        Outcome::Policy { role, policy } => {
            write!(out, "{}", policy::policy(engine, names, &role.display_name, policy))
        }
        Outcome::PolicyChanged { role, changed, policy } => {
            if changed.is_empty() {
                return writeln!(out, "{} already has these settings; nothing changed", role.display_name);
            }
            for c in changed {
                writeln!(out, "Updated {} of {}", c.id(), role.display_name)?;
            }
            write!(out, "\n{}", policy::policy(engine, names, &role.display_name, policy))
        }
        Outcome::Roles(_)
        | Outcome::Role { .. }
        | Outcome::RoleCreated(_)
        | Outcome::RoleDeleted(_)
        | Outcome::Objects { .. }
        | Outcome::ObjectCreated(_)
        | Outcome::Object { .. }
        | Outcome::MemberAdded { .. }
        | Outcome::Members(_) => directory::render(engine, names, outcome, out),
        Outcome::Now(_)
        | Outcome::ClockMoved { .. }
        | Outcome::Fidelity(_)
        | Outcome::Audit(_)
        | Outcome::Notifications { .. } => records::render(engine, names, outcome, out),
        Outcome::HookAdded { .. }
        | Outcome::Hooks(_)
        | Outcome::Hook(_)
        | Outcome::HookRemoved(_)
        | Outcome::HookUpdated { .. }
        | Outcome::HookTested { .. } => hooks::render(engine, names, outcome, out),
    }
}

/// Columns separated by spaces, one rule under the header.
const STYLE: TableStyle = TableStyle::new().header_separator(LineStyle::none().fill('─').junction('─'));

/// A table with pimlab's look: no wrapping (output must not depend on the terminal).
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(STYLE)
        .force_no_tty()
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.to_vec());
    t
}

/// Resolves ids to names for display, remembering what it looked up.
#[derive(Default)]
pub struct Names {
    principals: HashMap<String, String>,
    roles: HashMap<String, String>,
}

impl Names {
    pub fn principal(&mut self, engine: &mut Engine, id: &str) -> String {
        if let Some(n) = self.principals.get(id) {
            return n.clone();
        }
        let name = match engine.object(id) {
            Ok(Some(o)) => o.user_principal_name.clone().unwrap_or(o.display_name.clone()),
            _ => id.to_string(),
        };
        self.principals.insert(id.to_string(), name.clone());
        name
    }

    pub fn role(&mut self, engine: &mut Engine, id: &str) -> String {
        if let Some(n) = self.roles.get(id) {
            return n.clone();
        }
        let name = engine.role(id).map(|r| r.display_name).unwrap_or_else(|_| id.to_string());
        self.roles.insert(id.to_string(), name.clone());
        name
    }

    /// A scope path with the name of the object it ends in: `/administrativeUnits/… (Europe)`.
    pub fn scope(&mut self, engine: &mut Engine, scope: Option<&str>) -> String {
        match (scope, self.scope_object(engine, scope)) {
            (Some(s), Some(name)) => format!("{s} ({name})"),
            (Some(s), None) => s.to_string(),
            (None, _) => "/".to_string(),
        }
    }

    /// A scope as short as a table cell wants: `/` or the name of the unit or object.
    pub fn short_scope(&mut self, engine: &mut Engine, scope: Option<&str>) -> String {
        match (scope, self.scope_object(engine, scope)) {
            (Some(s), Some(name)) if s.starts_with("/administrativeUnits/") => {
                format!("{name} (AU)")
            }
            (_, Some(name)) => name,
            (Some(s), None) => s.to_string(),
            (None, _) => "/".to_string(),
        }
    }

    fn scope_object(&mut self, engine: &mut Engine, scope: Option<&str>) -> Option<String> {
        let id = scope.and_then(crate::model::ids::scope_object_id)?;
        engine.object(id).ok().flatten().map(|o| o.display_name)
    }
}

pub fn time(t: Option<Timestamp>) -> String {
    t.map(format_timestamp).unwrap_or_else(|| "-".into())
}

/// "2025-01-06T09:00:00Z → 2025-01-06T17:00:00Z (PT8H)" or "... → permanent".
pub fn window(info: &ScheduleInfo) -> String {
    let start = info.start.map(format_timestamp).unwrap_or_else(|| "on approval".into());
    let end = match (info.start, info.expiration.kind) {
        (Some(s), _) => match info.end_from(s) {
            Some(e) => format!("{} ({})", format_timestamp(e), crate::model::IsoDuration::from_delta(e - s)),
            None => "permanent".to_string(),
        },
        (None, _) => match (info.expiration.duration, info.expiration.end) {
            (Some(d), _) => format!("+{d}"),
            (None, Some(e)) => format_timestamp(e),
            _ => "permanent".to_string(),
        },
    };
    format!("{start} → {end}")
}

/// A request as a short paragraph.
pub fn request_story(engine: &mut Engine, names: &mut Names, q: &ScheduleRequest) -> String {
    let mut out = format!("{} request {}: {} {}\n", q.kind.as_str(), q.id, q.action, q.status);
    out.push_str(&format!("  principal  {}\n", names.principal(engine, &q.principal_id)));
    out.push_str(&format!(
        "  role       {} at {}\n",
        names.role(engine, &q.role_definition_id),
        names.scope(engine, q.directory_scope_id.as_deref().or(q.app_scope_id.as_deref()))
    ));
    if let Some(info) = &q.schedule_info {
        out.push_str(&format!("  schedule   {}\n", window(info)));
    }
    if let Some(j) = &q.justification {
        out.push_str(&format!("  reason     {j}\n"));
    }
    if let Some(n) = &q.ticket_info.number {
        out.push_str(&format!(
            "  ticket     {}{n}\n",
            q.ticket_info.system.as_ref().map(|s| format!("{s}:")).unwrap_or_default()
        ));
    }
    out.push_str(&format!(
        "  created    {} by {}\n",
        format_timestamp(q.created_at),
        names.principal(engine, &q.created_by)
    ));
    if q.is_validation_only {
        out.push_str("  (validation only: nothing was stored)\n");
    }
    out
}

/// Schedules as a table.
pub fn schedules_table(engine: &mut Engine, names: &mut Names, rows: &[Schedule]) -> String {
    let mut t = table(&["principal", "role", "scope", "type", "status", "start", "end", "id"]);
    let mut rows: Vec<&Schedule> = rows.iter().collect();
    // Readers scan by role, then by who holds it.
    let mut keyed: Vec<(String, String, &Schedule)> = rows
        .drain(..)
        .map(|s| (names.role(engine, &s.role_definition_id), names.principal(engine, &s.principal_id), s))
        .collect();
    keyed.sort_by(|a, b| (&a.0, &a.1, &a.2.id).cmp(&(&b.0, &b.1, &b.2.id)));
    for (_, _, s) in keyed {
        let kind = match (s.assignment_type, s.member_type) {
            (Some(a), m) => format!("{}/{}", a.as_str(), m.as_str()),
            (None, m) => format!("Eligible/{}", m.as_str()),
        };
        t.add_row(vec![
            names.principal(engine, &s.principal_id),
            names.role(engine, &s.role_definition_id),
            names.short_scope(engine, s.directory_scope_id.as_deref()),
            kind,
            s.status.as_str().to_string(),
            time(s.schedule_info.start),
            s.end_at.map(format_timestamp).unwrap_or_else(|| "permanent".into()),
            s.id.clone(),
        ]);
    }
    finish(&t)
}

/// The table as text, without the padding comfy-table leaves at line ends.
pub fn finish(t: &Table) -> String {
    t.lines().map(|l| l.trim_end().to_string()).collect::<Vec<_>>().join("\n")
}

/// An error for the terminal: the real code and message, then pimlab's explanation.
pub fn error(e: &ApiError) -> String {
    let mut out = format!("error: {} (HTTP {}): {}\n", e.code, e.status, e.message);
    for d in &e.details {
        let fix = d.hint.as_ref().map(|h| format!(". Fix: {}", hints::cli_words(h))).unwrap_or_default();
        // The target is named once: in the message, or as the code itself.
        if d.message.starts_with(&d.target) || d.target == d.code {
            out.push_str(&format!("  - {}: {}{fix}\n", d.code, d.message));
        } else {
            out.push_str(&format!("  - {} [{}]: {}{fix}\n", d.code, d.target, d.message));
        }
    }
    for h in &e.hints {
        out.push_str(&format!("  hint: {}\n", hints::cli_words(h)));
    }
    out
}
