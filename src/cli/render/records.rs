//! The lab's state for a reader: the clock, the fidelity profile, the audit trail, the
//! notification outbox.

use std::io::{self, Write};

use super::{Names, finish, table, time};
use crate::engine::Engine;
use crate::model::audit::AuditTarget;
use crate::model::time::format_timestamp;
use crate::ops::Outcome;

pub(super) fn render(
    engine: &mut Engine,
    names: &mut Names,
    outcome: &Outcome,
    out: &mut dyn Write,
) -> io::Result<()> {
    match outcome {
        Outcome::Now(now) => writeln!(out, "{}", format_timestamp(*now)),
        Outcome::ClockMoved { report, now } => {
            writeln!(out, "{} → {}", time(report.from), format_timestamp(*now))?;
            for e in &report.events {
                writeln!(out, "  {e}")?;
            }
            if report.events_omitted > 0 {
                writeln!(
                    out,
                    "  ... and {} more events (pimlab audit --since {} lists every one)",
                    report.events_omitted,
                    time(report.from)
                )?;
            }
            writeln!(
                out,
                "  {} started, {} expired, {} failed, {} timed out, {} requests purged",
                report.started, report.expired, report.failed, report.timed_out, report.purged_requests
            )
        }
        Outcome::Fidelity(profile) => {
            let mut t = table(&["switch", "state", "origin", "when on"]);
            for s in crate::model::FidelitySwitch::ALL {
                let state = if profile.is_on(s) { "on" } else { "off" };
                t.add_row(vec![s.name(), state, s.origin().as_str(), s.effect()]);
            }
            writeln!(out, "{}", finish(&t))?;
            match profile.switches_on().len() {
                0 => writeln!(out, "\nAll off: pimlab does what the Graph API does.")?,
                n => writeln!(out, "\n{n} on: pimlab differs from the Graph API where the table says.")?,
            }
            writeln!(out, "Change one with `pimlab config fidelity set NAME on|off`.")
        }
        Outcome::Audit(rows) if rows.is_empty() => writeln!(out, "no audit records"),
        Outcome::Audit(rows) => {
            let mut t = table(&["time", "actor", "activity", "result", "targets", "reason"]);
            for (r, _) in rows {
                let actor = if r.actor_id.contains('-') {
                    names.principal(engine, &r.actor_id)
                } else {
                    r.actor_id.clone()
                };
                t.add_row(vec![
                    format_timestamp(r.at),
                    actor,
                    r.activity.clone(),
                    r.result.clone(),
                    audit_targets(&r.targets),
                    r.reason.clone().unwrap_or_default(),
                ]);
            }
            writeln!(out, "{}", finish(&t))
        }
        Outcome::Notifications { rows, .. } if rows.is_empty() => writeln!(out, "no notifications"),
        Outcome::Notifications { rows, full: true } => {
            for n in rows {
                writeln!(
                    out,
                    "{}  {}  to {} ({})",
                    format_timestamp(n.at),
                    n.event,
                    n.recipients.join(", "),
                    n.recipient_type
                )?;
                writeln!(out, "  Subject: {}", n.subject)?;
                for line in n.body.lines() {
                    writeln!(out, "  | {line}")?;
                }
                writeln!(out)?;
            }
            Ok(())
        }
        Outcome::Notifications { rows, full: false } => {
            let mut t = table(&["time", "event", "to", "subject"]);
            for n in rows {
                t.add_row(vec![
                    format_timestamp(n.at),
                    n.event.clone(),
                    format!("{} ({})", n.recipients.join(", "), n.recipient_type),
                    n.subject.clone(),
                ]);
            }
            writeln!(out, "{}", finish(&t))
        }
        _ => Ok(()),
    }
}

/// The most targets an audit table's row names; a row with more (a retention purge names every
/// request it removed, 10,000 a day in a large tenant) names the first of them and counts the
/// rest, which `--json` lists. Named whole, one such row made every row of the table as wide:
/// gigabytes of spaces.
const AUDIT_TARGETS_SHOWN: usize = 4;

/// An audit record's targets as its table cell: their names (or ids), at most
/// [`AUDIT_TARGETS_SHOWN`] of them.
fn audit_targets(targets: &[AuditTarget]) -> String {
    let name = |t: &AuditTarget| t.display_name.clone().unwrap_or_else(|| t.id.clone());
    if targets.len() <= AUDIT_TARGETS_SHOWN {
        return targets.iter().map(name).collect::<Vec<_>>().join(", ");
    }
    let shown = AUDIT_TARGETS_SHOWN - 1;
    let first: Vec<String> = targets[..shown].iter().map(name).collect();
    format!("{} and {} more (--json lists them)", first.join(", "), targets.len() - shown)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn target(i: usize, named: bool) -> AuditTarget {
        AuditTarget {
            id: format!("{i:08x}-0000-0000-0000-000000000000"),
            kind: "Request".into(),
            display_name: named.then(|| format!("Target {i}")),
        }
    }

    proptest! {
        /// However many targets a record has, its cell names at most four and stays short; every
        /// target is either named or counted.
        #[test]
        fn an_audit_cell_names_at_most_four_targets_and_counts_the_rest(
            named in proptest::collection::vec(any::<bool>(), 0..200),
        ) {
            let targets: Vec<AuditTarget> = named.iter().enumerate().map(|(i, n)| target(i, *n)).collect();
            let cell = audit_targets(&targets);
            prop_assert!(cell.chars().count() <= 4 * 38 + 40, "{cell}");
            let shown = targets.iter().filter(|t| cell.contains(t.display_name.as_deref().unwrap_or(&t.id))).count();
            let counted = cell
                .split(" and ")
                .nth(1)
                .and_then(|rest| rest.split(' ').next())
                .map_or(0, |n| n.parse::<usize>().unwrap());
            prop_assert_eq!(shown + counted, targets.len(), "{}", cell);
            prop_assert!(shown <= AUDIT_TARGETS_SHOWN);
        }
    }
}
