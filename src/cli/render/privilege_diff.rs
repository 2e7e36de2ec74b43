//! A privilege diff for people: one row per change (who gains or loses which role, where, from
//! when until when, through what), then why each happened, then the requests waiting in one store
//! only.

use std::io::Write;

use super::report::{chain, holds};
use super::{Names, finish, table};
use crate::engine::Engine;
use crate::model::time::format_timestamp;
use crate::report::{Change, Direction, PrivilegeDiff, Reason, Side};

pub(super) fn render(
    engine: &mut Engine,
    names: &mut Names,
    d: &PrivilegeDiff,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let when = match d.until {
        None => format!("at {}", format_timestamp(d.at)),
        Some(u) => format!(
            "from {} to {} ({} instants compared)",
            format_timestamp(d.at),
            format_timestamp(u),
            d.instants
        ),
    };
    writeln!(out, "Privileges in {} against {}, {when}:", d.b.name, d.a.name)?;
    if d.changes.is_empty() {
        writeln!(out, "no privilege differs")?;
    } else {
        let mut t = table(&["#", "change", "principal", "role", "holds", "scope", "from", "until", "via"]);
        for (i, c) in d.changes.iter().enumerate() {
            let via: Vec<String> = c.via.iter().map(|v| chain(engine, names, v)).collect();
            t.add_row(vec![
                (i + 1).to_string(),
                direction(c.direction).to_string(),
                c.privilege.principal.name.clone(),
                c.privilege.role.name.clone(),
                holds(c.privilege.holds).to_string(),
                scope(c),
                format_timestamp(c.from),
                c.until.map_or("-".to_string(), format_timestamp),
                via.join("; "),
            ]);
        }
        writeln!(out, "{}", finish(&t))?;
        writeln!(out, "Why:")?;
        for (i, c) in d.changes.iter().enumerate() {
            if c.because.is_empty() {
                writeln!(
                    out,
                    "{:>3}. nothing in either trail since they parted: the stores' clocks differ",
                    i + 1
                )?;
            }
            for (j, r) in c.because.iter().enumerate() {
                let number = if j == 0 { format!("{:>3}.", i + 1) } else { "    ".to_string() };
                writeln!(out, "{number} {}", reason(d, r))?;
            }
        }
    }
    if !d.waiting.is_empty() {
        writeln!(out, "Waiting for a decision in one store only (not a privilege yet):")?;
        for w in &d.waiting {
            let store = store(d, w.store);
            let why = w.justification.as_deref().map_or(String::new(), |j| format!(": \"{j}\""));
            writeln!(
                out,
                "  in {store}: {} {} of {} ({}, request {}, since {}){why}",
                w.principal.name,
                w.action,
                w.role.name,
                w.status,
                w.request_id,
                format_timestamp(w.created)
            )?;
        }
    }
    Ok(())
}

fn direction(d: Direction) -> &'static str {
    match d {
        Direction::Gain => "+ gains",
        Direction::Loss => "- loses",
    }
}

/// Where the role was granted; an Azure scope's role holds below it too.
fn scope(c: &Change) -> String {
    let s = &c.privilege.scope;
    let lower = s.id.to_ascii_lowercase();
    if lower.starts_with("/subscriptions") || lower.starts_with("/providers/") {
        format!("{} and below", s.name)
    } else {
        s.name.clone()
    }
}

fn store(d: &PrivilegeDiff, side: Side) -> &str {
    match side {
        Side::A => &d.a.name,
        Side::B => &d.b.name,
    }
}

/// One audit row in words: `in B.db at T: Add member to role ... by ada (request id, SelfActivate, Provisioned: "why")`.
fn reason(d: &PrivilegeDiff, r: &Reason) -> String {
    let mut text =
        format!("in {} at {}: {} by {}", store(d, r.store), format_timestamp(r.at), r.activity, r.actor.name);
    if r.result != "success" {
        text.push_str(&format!(" ({})", r.result));
    }
    if let Some(q) = &r.request {
        text.push_str(&format!(", request {} ({}, {})", q.id, q.action, q.status));
    }
    if let Some(why) = &r.reason {
        text.push_str(&format!(": \"{why}\""));
    }
    text
}
