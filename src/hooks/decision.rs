//! Converting what a handler returned into a typed decision, strictly: an unknown field, a wrong
//! type or a missing field is an error that names the field and the handler's line.

use mlua::{Table, Value};

use crate::engine::{HookDecision, HookEvent};
use crate::model::IsoDuration;

/// Why a returned value is not a decision (the runner adds the hook's name and line).
pub type Problem = String;

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Nil => "nil",
        Value::Boolean(_) => "a boolean",
        Value::Integer(_) | Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Table(_) => "a table",
        Value::Function(_) => "a function",
        _ => "a userdata",
    }
}

/// The string fields of a table, checking every key is one of `allowed`.
fn fields(t: &Table, allowed: &[&str], handler: &str) -> Result<Vec<(String, Value)>, Problem> {
    let mut out = Vec::new();
    for pair in t.clone().pairs::<Value, Value>() {
        let (k, v) = pair.map_err(|e| e.to_string())?;
        let Value::String(k) = k else {
            return Err(format!("{handler} returned a table with a non-string key ({})", type_name(&k)));
        };
        out.push((k.to_string_lossy().to_string(), v));
    }
    // Sorted before checking, so the same mistake is always reported the same way.
    out.sort_by(|a, b| a.0.cmp(&b.0));
    if let Some((key, _)) = out.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
        // Quoted only when short: the message is stored with the refusal.
        let key =
            if key.len() <= 64 { format!("'{key}'") } else { format!("(a key of {} bytes)", key.len()) };
        return Err(format!("{handler} returned an unknown field {key} (allowed: {})", allowed.join(", ")));
    }
    Ok(out)
}

fn get<'a>(fields: &'a [(String, Value)], key: &str) -> Option<&'a Value> {
    fields.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// The longest text a handler may return in each field: what it returns is stored (a rule name,
/// a message, a note) and shown, so it is bounded. Refused beyond, naming the limit.
fn max_len(key: &str) -> usize {
    match key {
        "deny" | "to" | "approvers" | "duration" => 256,
        "subject" => 1024,
        _ => 8 * 1024,
    }
}

/// The most entries a list a handler returns may have (approvers, recipients).
const MAX_LIST: usize = 100;

fn bounded(s: &mlua::String, key: &str, handler: &str) -> Result<String, Problem> {
    let (len, max) = (s.as_bytes().len(), max_len(key));
    if len > max {
        return Err(format!("{handler}: field '{key}' is {len} bytes long; at most {max}"));
    }
    Ok(s.to_string_lossy().to_string())
}

fn string(fields: &[(String, Value)], key: &str, handler: &str) -> Result<Option<String>, Problem> {
    match get(fields, key) {
        None | Some(Value::Nil) => Ok(None),
        Some(Value::String(s)) => bounded(s, key, handler).map(Some),
        Some(other) => Err(format!("{handler}: field '{key}' must be a string, got {}", type_name(other))),
    }
}

fn required_string(fields: &[(String, Value)], key: &str, handler: &str) -> Result<String, Problem> {
    string(fields, key, handler)?.ok_or_else(|| format!("{handler}: field '{key}' is required"))
}

fn boolean(fields: &[(String, Value)], key: &str, handler: &str) -> Result<Option<bool>, Problem> {
    match get(fields, key) {
        None | Some(Value::Nil) => Ok(None),
        Some(Value::Boolean(b)) => Ok(Some(*b)),
        Some(other) => {
            Err(format!("{handler}: field '{key}' must be true or false, got {}", type_name(other)))
        }
    }
}

/// A list of strings, or one string.
fn strings(fields: &[(String, Value)], key: &str, handler: &str) -> Result<Vec<String>, Problem> {
    match get(fields, key) {
        None | Some(Value::Nil) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![bounded(s, key, handler)?]),
        Some(Value::Table(t)) => {
            let mut out = Vec::new();
            for (i, v) in t.clone().sequence_values::<Value>().enumerate() {
                if i >= MAX_LIST {
                    return Err(format!("{handler}: field '{key}' has more than {MAX_LIST} entries"));
                }
                match v.map_err(|e| e.to_string())? {
                    Value::String(s) => out.push(bounded(&s, key, handler)?),
                    Value::Table(o) => match o.get::<Option<String>>("id").map_err(|e| e.to_string())? {
                        // A principal table from ctx (it has an id) names that principal.
                        Some(id) if id.len() <= max_len(key) => out.push(id),
                        Some(id) => {
                            return Err(format!(
                                "{handler}: {key}[{}] has an id of {} bytes; at most {}",
                                i + 1,
                                id.len(),
                                max_len(key)
                            ));
                        }
                        None => return Err(format!("{handler}: {key}[{}] is a table without an id", i + 1)),
                    },
                    other => {
                        return Err(format!(
                            "{handler}: {key}[{}] must be a string, got {}",
                            i + 1,
                            type_name(&other)
                        ));
                    }
                }
            }
            Ok(out)
        }
        Some(other) => {
            Err(format!("{handler}: field '{key}' must be a list of strings, got {}", type_name(other)))
        }
    }
}

/// Converts a handler's return value into a decision.
pub fn convert(event: HookEvent, value: Value) -> Result<HookDecision, Problem> {
    let handler = event.handler();
    let table = match value {
        Value::Nil => return Ok(HookDecision::Allow),
        Value::Table(t) => t,
        other => {
            return Err(format!("{handler} must return nil or a table, not {}", type_name(&other)));
        }
    };
    match event {
        HookEvent::Validate => {
            let f = fields(&table, &["deny", "message", "approval", "approvers", "duration"], handler)?;
            let kinds = ["deny", "approval", "duration"].iter().filter(|k| get(&f, k).is_some()).count();
            if kinds > 1 {
                return Err(format!(
                    "{handler} returned more than one of deny, approval and duration; return one decision"
                ));
            }
            if let Some(rule) = string(&f, "deny", handler)? {
                if rule.trim().is_empty() {
                    return Err(format!("{handler}: field 'deny' must name the rule that denies"));
                }
                let message = required_string(&f, "message", handler)?;
                return Ok(HookDecision::Deny { rule, message });
            }
            if let Some(required) = boolean(&f, "approval", handler)? {
                if !required {
                    return Err(format!(
                        "{handler}: field 'approval' may only be true (return nil to allow)"
                    ));
                }
                return Ok(HookDecision::RequireApproval { approvers: strings(&f, "approvers", handler)? });
            }
            if let Some(d) = string(&f, "duration", handler)? {
                let duration =
                    IsoDuration::parse(&d).map_err(|e| format!("{handler}: field 'duration': {e}"))?;
                return Ok(HookDecision::Shorten { duration });
            }
            if get(&f, "message").is_some() || get(&f, "approvers").is_some() {
                return Err(format!("{handler}: 'message' goes with 'deny', 'approvers' with 'approval'"));
            }
            Ok(HookDecision::Allow)
        }
        HookEvent::Route => {
            let f = fields(&table, &["approvers", "replace"], handler)?;
            if get(&f, "approvers").is_none() {
                return Err(format!("{handler}: field 'approvers' is required"));
            }
            Ok(HookDecision::Route {
                approvers: strings(&f, "approvers", handler)?,
                replace: boolean(&f, "replace", handler)?.unwrap_or(false),
            })
        }
        HookEvent::Completed => {
            let f = fields(&table, &["note", "notify"], handler)?;
            if let Some(note) = string(&f, "note", handler)? {
                if get(&f, "notify").is_some() {
                    return Err(format!("{handler} returned both 'note' and 'notify'; return one"));
                }
                return Ok(HookDecision::Note(note));
            }
            match get(&f, "notify") {
                None | Some(Value::Nil) => Ok(HookDecision::Allow),
                Some(Value::Table(n)) => {
                    let what = format!("{handler}.notify");
                    let n = fields(n, &["to", "subject", "body"], &what)?;
                    let to = strings(&n, "to", &what)?;
                    if to.is_empty() {
                        return Err(format!("{what}: field 'to' names no recipient"));
                    }
                    Ok(HookDecision::Notify {
                        to,
                        subject: required_string(&n, "subject", &what)?,
                        body: string(&n, "body", &what)?.unwrap_or_default(),
                    })
                }
                Some(other) => {
                    Err(format!("{handler}: field 'notify' must be a table, got {}", type_name(other)))
                }
            }
        }
    }
}
