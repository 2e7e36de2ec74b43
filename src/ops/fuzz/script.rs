//! A shrunk run as a Lua scenario that `pimlab run` replays against the same store: each step as
//! the `pim` call a lesson would write (`pim.as(user, ...)` for a user's own steps), then the
//! property, loaded and checked as `check` does (from the property host).

use std::collections::HashMap;

use serde_json::Value;

use super::steps::{Act, RequestRef, Step};
use crate::model::ApiError;

/// The script: a header naming how it was found, the steps, then `check` (the property's check).
pub(super) fn script(header: &str, steps: &[Step], check: &str) -> Result<String, ApiError> {
    let mut out = String::new();
    for line in header.lines() {
        out.push_str(&format!("-- {line}\n"));
    }
    out.push_str("local requests = {}\n");
    // Steps are numbered in the script by their place in it; a decision names the request of
    // the step that made it by that number.
    let place: HashMap<usize, usize> = steps.iter().enumerate().map(|(i, s)| (s.id, i + 1)).collect();
    // Only a decision's arguments name a request, and it is written from `place` instead.
    let none = HashMap::new();
    for (i, step) in steps.iter().enumerate() {
        let call = match &step.act {
            Act::Activate { .. } => {
                format!("requests[{}] = pim.activate{}", i + 1, table(&step.args(&none)?))
            }
            Act::Assign { eligible, .. } | Act::Remove { eligible, .. } => {
                let verb = if matches!(step.act, Act::Assign { .. }) { "assign" } else { "remove" };
                let kind = if *eligible { "eligible" } else { "active" };
                format!("pim.{kind}.{verb}{}", table(&step.args(&none)?))
            }
            Act::Decide { request, approve } => {
                let id = match request {
                    RequestRef::Step(s) => {
                        format!("requests[{}].id", place.get(s).copied().unwrap_or_default())
                    }
                    RequestRef::Existing(id) => lua_string(id),
                };
                let verb = if *approve { "approve" } else { "deny" };
                format!("pim.{verb}({id}, {})", lua_string(super::steps::JUSTIFICATION))
            }
            Act::Advance { duration } => format!("pim.clock.advance({})", lua_string(duration)),
        };
        match &step.by {
            Some(p) => out.push_str(&format!("pim.as({}, function() {call} end)\n", lua_string(p))),
            None => out.push_str(&format!("{call}\n")),
        }
    }
    out.push_str(check);
    Ok(out)
}

/// A JSON object of strings as a Lua table constructor, keys sorted.
fn table(args: &Value) -> String {
    let mut fields: Vec<String> = args
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k} = {}", v.as_str().map_or_else(|| v.to_string(), lua_string)))
        .collect();
    fields.sort();
    format!("{{{}}}", fields.join(", "))
}

/// `text` as a Lua string literal (quotes and backslashes escaped, control characters as `\u{..}`).
fn lua_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
