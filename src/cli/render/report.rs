//! The who/what reports as tables: one row per principal and role, the chain it holds the role
//! through, its window, and what stands in the way.

use std::io::Write;

use super::{Names, finish, table};
use crate::engine::Engine;
use crate::model::time::format_timestamp;
use crate::ops::Outcome;
use crate::report::{Chain, Holder, Holding, Membership, Obstacle, ObstacleKind, When};

pub(super) fn render(
    engine: &mut Engine,
    names: &mut Names,
    outcome: &Outcome,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match outcome {
        Outcome::Who(r) => {
            let scope = match &r.scope {
                Some(s) => names.short_scope(engine, Some(s)),
                None => "every scope".to_string(),
            };
            let asked = if r.could { "holds or could hold" } else { "holds" };
            writeln!(out, "Who {asked} {} at {scope}, {}:", r.role.name, when(r.at, r.when))?;
            if r.holders.is_empty() {
                return writeln!(out, "nobody");
            }
            holders_table(engine, names, "principal", &r.holders, |h| h.principal.name.clone(), out)
        }
        Outcome::Access(r) => {
            writeln!(out, "What {} holds or could hold, {}:", r.principal.name, when(r.at, r.when))?;
            if r.holdings.is_empty() {
                return writeln!(out, "no roles");
            }
            holders_table(engine, names, "role", &r.holdings, |h| h.role.name.clone(), out)
        }
        _ => Ok(()),
    }
}

/// One row per holder; the first column (`principal` or `role`) is what the report is not about.
fn holders_table(
    engine: &mut Engine,
    names: &mut Names,
    first: &str,
    holders: &[Holder],
    name: fn(&Holder) -> String,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut t = table(&[first, "holds", "via", "scope", "start", "end", "stands in the way"]);
    for h in holders {
        t.add_row(vec![
            name(h),
            holds(h.holds).to_string(),
            via(engine, names, h),
            names.short_scope(engine, Some(&h.via.scope)),
            format_timestamp(h.window.start),
            h.window.end.map_or("permanent".to_string(), format_timestamp),
            obstacles(&h.obstacles),
        ]);
    }
    writeln!(out, "{}", finish(&t))
}

fn when(at: crate::model::Timestamp, w: When) -> String {
    let t = format_timestamp(at);
    match w {
        When::Now => format!("now ({t})"),
        When::Past => format!("at {t} (past: from history)"),
        When::Future => format!("at {t} (future: the schedules already made)"),
    }
}

pub(super) fn holds(h: Holding) -> &'static str {
    match h {
        Holding::Active => "active",
        Holding::Eligible => "eligible",
    }
}

fn via(engine: &mut Engine, names: &mut Names, h: &Holder) -> String {
    chain(engine, names, &h.via)
}

/// A chain in words: `eligible member of Tier-0 Admins → group's eligibility`.
pub(super) fn chain(engine: &mut Engine, names: &mut Names, via: &Chain) -> String {
    let grant = match (via.kind, via.assignment_type) {
        ("eligibility", _) => "eligibility",
        (_, Some("Activated")) => "activation",
        _ => "assignment",
    };
    let mut text = match &via.group {
        None => format!("direct {grant}"),
        Some(link) => {
            let member = match link.membership {
                Membership::Direct => "member",
                Membership::PimActive => "PIM member",
                Membership::PimEligible => "eligible member",
            };
            format!("{member} of {} → group's {grant}", link.group.name)
        }
    };
    if via.inherited {
        text.push_str(&format!(" (inherited from {})", names.short_scope(engine, Some(&via.scope))));
    }
    text
}

fn obstacles(all: &[Obstacle]) -> String {
    let words: Vec<String> = all
        .iter()
        .map(|o| {
            let what = match &o.kind {
                ObstacleKind::Approval { approvers, default_approvers } => {
                    let who: Vec<&str> = approvers.iter().map(|a| a.name.as_str()).collect();
                    let who = if who.is_empty() { "nobody".to_string() } else { who.join(", ") };
                    let default = if *default_approvers { " (default approvers)" } else { "" };
                    format!("approval by {who}{default}")
                }
                ObstacleKind::Mfa => "MFA".to_string(),
                ObstacleKind::AuthenticationContext { claim } => format!("authentication context {claim}"),
                ObstacleKind::Justification => "justification".to_string(),
                ObstacleKind::Ticket => "ticket".to_string(),
                ObstacleKind::MaximumDuration { duration } => format!("at most {duration}"),
                ObstacleKind::Hook { name } => format!("hook {name}"),
            };
            if o.on == "membership" { format!("membership: {what}") } else { what }
        })
        .collect();
    words.join("; ")
}
