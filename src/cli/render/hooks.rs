//! Policy hooks for a reader: the list, one hook's source, a dry run's decisions.

use std::io::{self, Write};

use super::{Names, finish, table};
use crate::engine::{Engine, HookDecision};
use crate::model::time::format_timestamp;
use crate::ops::Outcome;

pub(super) fn render(
    engine: &mut Engine,
    names: &mut Names,
    outcome: &Outcome,
    out: &mut dyn Write,
) -> io::Result<()> {
    match outcome {
        Outcome::HookAdded { hook: h, handlers, total } => {
            let role =
                h.role_definition_id.as_deref().map_or("every role".to_string(), |r| names.role(engine, r));
            writeln!(
                out,
                "Added hook {} ({}) for {} at {}; it runs {} of {}",
                h.name,
                handlers.join(", "),
                role,
                h.scope.as_deref().unwrap_or("every scope"),
                ordinal(h.position),
                total
            )
        }
        Outcome::Hooks(hooks) if hooks.is_empty() => writeln!(out, "no hooks"),
        Outcome::Hooks(hooks) => {
            let mut t = table(&["order", "hook", "role", "scope", "added", "by"]);
            for h in hooks {
                t.add_row(vec![
                    h.position.to_string(),
                    h.name.clone(),
                    h.role_definition_id.as_deref().map_or("every role".into(), |r| names.role(engine, r)),
                    h.scope.clone().unwrap_or_else(|| "every scope".into()),
                    format_timestamp(h.added_at),
                    names.principal(engine, &h.added_by),
                ]);
            }
            writeln!(out, "{}", finish(&t))
        }
        Outcome::Hook(h) => {
            writeln!(
                out,
                "hook {} (runs {}), for {} at {}, added {} by {}\n",
                h.name,
                ordinal(h.position),
                h.role_definition_id.as_deref().map_or("every role".into(), |r| names.role(engine, r)),
                h.scope.as_deref().unwrap_or("every scope"),
                format_timestamp(h.added_at),
                names.principal(engine, &h.added_by)
            )?;
            for (i, line) in h.source.lines().enumerate() {
                writeln!(out, "{:>4}  {line}", i + 1)?;
            }
            Ok(())
        }
        Outcome::HookRemoved(h) => writeln!(out, "Removed hook {}", h.name),
        Outcome::HookUpdated { hook: h, handlers } => writeln!(
            out,
            "Updated hook {} ({}); it still runs {}",
            h.name,
            handlers.join(", "),
            ordinal(h.position)
        ),
        Outcome::HookTested { name, action, verdicts, outcome } => {
            writeln!(out, "hook {name} on {action} (nothing is stored):")?;
            for (event, v) in verdicts {
                let text = match v {
                    Ok(None) => "no handler".to_string(),
                    Ok(Some(d)) => describe(d),
                    Err(f) => format!(
                        "FAILED{}: {}",
                        f.line.map(|l| format!(" at line {l}")).unwrap_or_default(),
                        f.message
                    ),
                };
                writeln!(out, "  {:<10} {text}", event.handler())?;
            }
            match outcome {
                Ok(q) => writeln!(out, "the request would end {}", q.status),
                Err(e) => write!(out, "the request would be refused:\n{}", super::error(e)),
            }
        }
        _ => Ok(()),
    }
}

fn ordinal(n: i64) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, r) if r != 11 => "st",
        (2, r) if r != 12 => "nd",
        (3, r) if r != 13 => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn describe(d: &HookDecision) -> String {
    use HookDecision as D;
    match d {
        D::Allow => "allow".into(),
        D::Deny { rule, message } => format!("deny ({rule}): {message}"),
        D::RequireApproval { approvers } if approvers.is_empty() => "require approval".into(),
        D::RequireApproval { approvers } => format!("require approval by {}", approvers.join(", ")),
        D::Shorten { duration } => format!("shorten to {duration}"),
        D::Route { approvers, replace } => {
            format!("{} approvers {}", if *replace { "replace" } else { "add" }, approvers.join(", "))
        }
        D::Note(n) => format!("note: {n}"),
        D::Notify { to, subject, .. } => format!("notify {}: {subject}", to.join(", ")),
    }
}
