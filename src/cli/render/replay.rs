//! A replay's report as text: what was replayed under which change, what history could not give,
//! the totals, then one row per changed request and the totals per role.

use std::io::Write;

use super::{finish, table};
use crate::model::time::format_timestamp;
use crate::report::ReplayReport;
use crate::report::replay::{Change, ChangeKind, Totals};

pub(super) fn render(r: &ReplayReport, out: &mut dyn Write) -> std::io::Result<()> {
    let Some(from) = r.from else {
        let since = r.since.map_or(String::new(), |s| format!(" from {}", format_timestamp(s)));
        writeln!(out, "No stored requests{since} to replay.")?;
        return not_replayable(r, out);
    };
    writeln!(
        out,
        "Replayed {} request(s) from {} to {}, under:",
        r.replayed,
        format_timestamp(from),
        format_timestamp(r.until)
    )?;
    if r.changes_made.is_empty() {
        writeln!(out, "  no change (the settings as they are)")?;
    }
    for c in &r.changes_made {
        writeln!(out, "  {c}")?;
    }
    not_replayable(r, out)?;
    writeln!(
        out,
        "The unchanged replay reproduces {} of {} outcome(s) of history.",
        r.reproduced, r.replayed
    )?;
    if !r.differs_from_history.is_empty() {
        writeln!(
            out,
            "\nWhere the unchanged replay differs from history (settings changed since, or a limit of replaying; not the change):"
        )?;
        writeln!(out, "{}", changes_table(&r.differs_from_history))?;
    }
    if r.changes.is_empty() {
        return writeln!(out, "\nNo outcome changes.");
    }
    writeln!(out, "\n{} change(s): {}", r.changes.len(), totals_words(&r.totals))?;
    writeln!(out, "{}", changes_table(&r.changes))?;
    writeln!(out, "\nBy role:")?;
    let mut header = vec!["role"];
    header.extend(ChangeKind::ALL.iter().map(|k| k.as_str()));
    let mut t = table(&header);
    for role in &r.by_role {
        let mut row = vec![role.role.name.clone()];
        row.extend(ChangeKind::ALL.iter().map(|k| role.totals.of(*k).to_string()));
        t.add_row(row);
    }
    writeln!(out, "{}", finish(&t))
}

fn not_replayable(r: &ReplayReport, out: &mut dyn Write) -> std::io::Result<()> {
    match r.refused_in_history_not_replayable {
        0 => Ok(()),
        n => writeln!(
            out,
            "Not replayable: {n} request(s) refused in history (only their audit row is stored)."
        ),
    }
}

/// `waited 2, shortened 1`: the kinds there are, in a fixed order.
fn totals_words(t: &Totals) -> String {
    let words: Vec<String> = ChangeKind::ALL
        .iter()
        .filter(|k| t.of(**k) > 0)
        .map(|k| format!("{} {}", k.as_str(), t.of(*k)))
        .collect();
    words.join(", ")
}

fn changes_table(changes: &[Change]) -> String {
    let mut t = table(&["time", "principal", "role", "action", "change", "detail"]);
    for c in changes {
        t.add_row(vec![
            format_timestamp(c.at),
            c.principal.name.clone(),
            c.role.name.clone(),
            c.action.clone(),
            c.kind.as_str().to_string(),
            c.detail.clone(),
        ]);
    }
    finish(&t)
}
