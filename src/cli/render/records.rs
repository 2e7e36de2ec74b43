//! The lab's state for a reader: the clock, the fidelity profile, the audit trail, the
//! notification outbox.

use std::io::{self, Write};

use super::{Names, finish, table, time};
use crate::engine::Engine;
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
                let targets: Vec<String> =
                    r.targets.iter().map(|t| t.display_name.clone().unwrap_or(t.id.clone())).collect();
                t.add_row(vec![
                    format_timestamp(r.at),
                    actor,
                    r.activity.clone(),
                    r.result.clone(),
                    targets.join(", "),
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
