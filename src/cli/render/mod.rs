//! Human-readable views over the same objects the Graph surface returns: tables and short stories.
//! [`outcome`] renders what an operation gave back; one file per group of operations. An empty
//! listing is one line saying so ("no requests"), not a table with only its header (`--json`
//! still gives `[]`).

mod alerts;
mod azure;
mod directory;
mod hints;
mod history;
mod hooks;
mod policy;
mod privilege_diff;
mod properties;
mod records;
mod replay;
mod report;
mod requests;

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicU16, Ordering};

use comfy_table::{ColumnConstraint, ContentArrangement, LineStyle, Table, TableStyle, Width};

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
        Outcome::Who(_) | Outcome::Access(_) => report::render(engine, names, outcome, out),
        Outcome::Check(_) | Outcome::Fuzz(_) => properties::render(outcome, out),
        Outcome::Activity { .. } | Outcome::Timeline { .. } => history::render(outcome, out),
        Outcome::Forked(f) => writeln!(out, "Forked tenant {} as of {} to {}", f.tenant_id, f.clock, f.path),
        Outcome::Diff(d) => privilege_diff::render(engine, names, d, out),
        Outcome::Alerts(_) | Outcome::AlertConfig(_) => alerts::render(engine, names, outcome, out),
        Outcome::Replay(r) => replay::render(r, out),
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
        | Outcome::AzureRoleDefined(_)
        | Outcome::App { .. }
        | Outcome::RoleDeleted(_)
        | Outcome::Objects { .. }
        | Outcome::ObjectCreated(_)
        | Outcome::Object { .. }
        | Outcome::MemberAdded { .. }
        | Outcome::Members(_) => directory::render(engine, names, outcome, out),
        Outcome::ScopeAdded(_) | Outcome::Scopes(_) | Outcome::Scope { .. } | Outcome::ScopeTree(_) => {
            azure::render(outcome, out)
        }
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

/// How many columns tables may take; 0: as many as their rows need (the default, so what is
/// piped to a program or a file never depends on a terminal). The binary sets it once, at start.
static TABLE_WIDTH: AtomicU16 = AtomicU16::new(0);

/// Lets tables wrap their cells to fit `columns` (`None`: never wrap).
pub fn set_table_width(columns: Option<u16>) {
    TABLE_WIDTH.store(columns.unwrap_or(0), Ordering::Relaxed);
}

/// The width of the terminal stdout is, if it is one.
pub fn terminal_width() -> Option<u16> {
    let probe = Table::new();
    if probe.is_tty() { probe.width() } else { None }
}

/// Columns whose values are read (or copied) whole: ids, times, states. When a table is fitted
/// to a terminal, only the other columns (names, roles, reasons: words) wrap, between words.
const WHOLE_COLUMNS: &[&str] = &[
    "id", "time", "created", "added", "start", "end", "status", "type", "state", "kind", "action", "result",
];

/// A table with pimlab's look, as wide as its rows; [`finish`] fits it to a terminal.
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(STYLE)
        .force_no_tty()
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.to_vec());
    t
}

/// `t` wrapped to `width` columns (0: no limit), when it is wider than that and a readable layout
/// fits: whole columns at their full width, each column of words at least as wide as its longest
/// word. Otherwise `None`: the table stays as wide as its rows (the terminal wraps its lines, or a
/// pager scrolls them), which beats words broken into letters.
fn fitted(t: &Table, width: u16) -> Option<Table> {
    let rendered = t.lines().map(|l| l.trim_end().chars().count()).max()?;
    if width == 0 || rendered <= usize::from(width) {
        return None;
    }
    let names: Vec<String> = t.header()?.cell_iter().map(|c| c.content()).collect();
    let full: Vec<usize> = t.column_max_content_widths().into_iter().map(usize::from).collect();
    let mut longest_word: Vec<usize> = names.iter().map(|n| longest(n)).collect();
    for row in t.row_iter() {
        for (i, cell) in row.cell_iter().enumerate() {
            if let Some(w) = longest_word.get_mut(i) {
                *w = (*w).max(longest(&cell.content()));
            }
        }
    }
    let whole = |i: usize| WHOLE_COLUMNS.contains(&names[i].as_str());
    let narrowest: Vec<usize> =
        (0..names.len()).map(|i| if whole(i) { full[i] } else { longest_word[i].min(full[i]) }).collect();
    // What the style adds around the cells (padding, separators), as rendered now.
    let frame = rendered.saturating_sub(full.iter().sum());
    if frame + narrowest.iter().sum::<usize>() > usize::from(width) {
        return None;
    }
    let mut t = t.clone();
    t.set_width(width).set_content_arrangement(ContentArrangement::Dynamic);
    for (i, least) in narrowest.into_iter().enumerate() {
        let Some(c) = t.column_mut(i) else { continue };
        // A lower boundary counts the column's padding too.
        let least = u16::try_from(least).unwrap_or(u16::MAX).saturating_add(c.padding_width());
        c.set_constraint(if whole(i) {
            ColumnConstraint::ContentWidth
        } else {
            ColumnConstraint::LowerBoundary(Width::Fixed(least))
        });
    }
    Some(t)
}

/// The length of the longest word of `text`, in characters.
fn longest(text: &str) -> usize {
    text.split_whitespace().map(|w| w.chars().count()).max().unwrap_or(0)
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
        // A directory role, else a built-in Azure role (their GUIDs never meet).
        let name = engine
            .role(id)
            .map(|r| r.display_name)
            .unwrap_or_else(|_| engine.azure_role(id).map_or_else(|_| id.to_string(), |r| r.role_name));
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
        if let Some(node) = scope.and_then(|s| azure_node(engine, s)) {
            return format!("{} ({})", node.display_name, node.scope.kind());
        }
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
        if let Some(node) = scope.and_then(|s| azure_node(engine, s)) {
            return Some(node.display_name);
        }
        let id = scope.and_then(crate::model::ids::scope_object_id)?;
        engine.object(id).ok().flatten().map(|o| o.display_name)
    }
}

/// The Azure estate's node for `scope`, when it is an Azure scope the estate has.
fn azure_node(engine: &mut Engine, scope: &str) -> Option<crate::model::azure_scope::AzureScopeNode> {
    let parsed = crate::model::azure_scope::AzureScope::parse(scope).ok()?;
    engine.azure_scope_at(&parsed).ok()
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
    let fit = fitted(t, TABLE_WIDTH.load(Ordering::Relaxed));
    fit.as_ref().unwrap_or(t).lines().map(|l| l.trim_end().to_string()).collect::<Vec<_>>().join("\n")
}

/// An error for the terminal: the real code and message, then pimlab's explanation.
pub fn error(e: &ApiError) -> String {
    let mut out = format!("error: {} (HTTP {}): {}\n", e.code, e.status, e.message);
    for d in &e.details {
        if e.message.contains(&d.message) {
            // The headline already says it (a single invalid value): only its fix is new.
            if let Some(h) = &d.hint {
                out.push_str(&format!("  hint: {}\n", hints::cli_words(h)));
            }
            continue;
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lines(t: &Table) -> Vec<String> {
        t.lines().map(|l| l.trim_end().to_string()).collect()
    }

    fn words(lines: &[String]) -> Vec<String> {
        let mut w: Vec<String> = lines
            .iter()
            .flat_map(|l| l.split_whitespace().map(str::to_string))
            .filter(|w| !w.chars().all(|c| c == '─'))
            .collect();
        w.sort();
        w
    }

    fn build(header: &[&str], rows: &[Vec<String>]) -> Table {
        let mut t = table(header);
        for r in rows {
            t.add_row(r.clone());
        }
        t
    }

    #[test]
    fn a_table_that_fits_its_width_is_left_as_it_is() {
        let t = build(&["name", "id"], &[vec!["Alice".into(), "1".into()]]);
        assert!(fitted(&t, 0).is_none(), "no limit");
        assert!(fitted(&t, 200).is_none(), "already narrow enough");
    }

    #[test]
    fn words_wrap_between_words_and_ids_and_times_stay_whole() {
        let rows = vec![vec![
            "Conditional Access Administrator and a long description of it".to_string(),
            "2025-01-06T09:00:00Z".to_string(),
            "cdf580df-bf17-42e2-9130-f4cc95433589".to_string(),
        ]];
        let t = build(&["role", "time", "id"], &rows);
        let fit = fitted(&t, 80).expect("a readable layout fits in 80 columns");
        let out = lines(&fit);
        assert!(out.iter().all(|l| l.chars().count() <= 80), "{out:#?}");
        assert!(out.iter().any(|l| l.contains("cdf580df-bf17-42e2-9130-f4cc95433589")), "{out:#?}");
        assert!(out.iter().any(|l| l.contains("2025-01-06T09:00:00Z")), "{out:#?}");
        assert_eq!(words(&out), words(&lines(&t)), "no word lost or broken");
    }

    #[test]
    fn a_table_that_cannot_be_fitted_readably_keeps_its_full_width() {
        let rows =
            vec![vec!["Administrator".to_string(), "cdf580df-bf17-42e2-9130-f4cc95433589".to_string()]];
        let t = build(&["role", "id"], &rows);
        assert!(fitted(&t, 40).is_none(), "the id and the longest word need more than 40 columns");
    }

    fn word() -> impl Strategy<Value = String> {
        "[a-zA-Z@.]{1,14}"
    }

    fn cell() -> impl Strategy<Value = String> {
        prop::collection::vec(word(), 0..6).prop_map(|w| w.join(" "))
    }

    proptest! {
        /// Whatever the cells and the width: a fitted table is no wider than asked, and shows
        /// every word of every cell whole (a word is never cut, and nothing is dropped).
        #[test]
        fn fitting_never_cuts_or_loses_a_word_and_keeps_within_the_width(
            rows in prop::collection::vec(prop::collection::vec(cell(), 4), 1..6),
            id in "[0-9a-f]{8}-[0-9a-f]{4}",
            width in 20u16..160,
        ) {
            let rows: Vec<Vec<String>> = rows
                .into_iter()
                .map(|mut r| {
                    r.push(id.clone());
                    r
                })
                .collect();
            let t = build(&["principal", "role", "reason", "targets", "id"], &rows);
            if let Some(fit) = fitted(&t, width) {
                let out = lines(&fit);
                prop_assert!(out.iter().all(|l| l.chars().count() <= usize::from(width)), "{:#?}", out);
                prop_assert_eq!(words(&out), words(&lines(&t)));
            }
        }
    }
}
