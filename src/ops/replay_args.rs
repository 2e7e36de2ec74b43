//! `replay`'s arguments, and its `--policy "ROLE: SETTING=VALUE ..."` vocabulary, which is
//! `policy set`'s: each SETTING is one of its flags without the dashes (`require-approval=true`,
//! `approver=kenji`, `activation-max=PT2H`), read into `policy set`'s own arguments, so replay
//! and `policy set` cannot drift apart.

use std::path::PathBuf;

use clap::Args;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::PolicySetArgs;
use super::values::{self, de};
use crate::model::Timestamp;

/// One `--policy`: the text as given (for the report) and the `policy set` it stands for.
#[derive(Debug, Clone)]
pub struct PolicySpec {
    pub text: String,
    pub args: PolicySetArgs,
}

/// `replay`: the store's history played again under other settings.
#[derive(Debug, Args, Clone, Deserialize)]
pub struct ReplayArgs {
    /// A change to replay under: "ROLE: SETTING=VALUE ...", each SETTING one of `policy set`'s
    /// flags without its dashes (require-approval=true approver=kenji activation-max=PT2H
    /// require-mfa=true require-justification=true require-ticket=true ...); repeatable.
    #[arg(long = "policy", value_name = "ROLE: SETTING=VALUE ...", value_parser = policy_change)]
    #[serde(default, rename = "policy", alias = "policies", deserialize_with = "policy_changes")]
    pub policies: Vec<PolicySpec>,
    /// A policy hook (Lua file) to attach, for every role, on the replay's fork only.
    #[arg(long, value_name = "F.lua")]
    #[serde(default)]
    pub hook: Option<PathBuf>,
    /// The hook's source itself (scripts give it as `source`; they cannot read files).
    #[arg(skip)]
    #[serde(default, rename = "source")]
    pub hook_source: Option<String>,
    /// Replay only the requests made from this time on (ISO 8601); earlier ones stay as history.
    #[arg(long, value_name = "TIME", value_parser = values::time)]
    #[serde(default, deserialize_with = "de::time")]
    pub since: Option<Timestamp>,
}

/// `"Global Administrator: require-approval=true approver=kenji"` as the `policy set` it means:
/// each SETTING is one of its flags (a script's key, `-` or `_` alike), read by the same serde
/// grammar a script's `pim.policy.set` goes through. An unknown setting is refused naming the
/// valid ones; a bad value naming the value.
pub fn policy_change(text: &str) -> Result<PolicySpec, String> {
    let Some((role, settings)) = text.split_once(':') else {
        return Err(format!("'{text}' is not \"ROLE: SETTING=VALUE ...\" (no ':' after the role)"));
    };
    let role = role.trim();
    if role.is_empty() {
        return Err(format!("'{text}' names no role before ':'"));
    }
    let mut fields = serde_json::Map::new();
    fields.insert("role".into(), Value::String(role.to_string()));
    for token in settings.split_whitespace() {
        let (name, value) = token.split_once('=').unwrap_or((token, "true"));
        let value = match value {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            other => Value::String(other.to_string()),
        };
        match fields.entry(name.replace('-', "_")) {
            // A repeated setting (`approver=a approver=b`) is a list.
            serde_json::map::Entry::Occupied(mut o) => match o.get_mut() {
                Value::Array(list) => list.push(value),
                first => *first = Value::Array(vec![first.take(), value]),
            },
            serde_json::map::Entry::Vacant(v) => {
                v.insert(value);
            }
        }
    }
    if fields.len() == 1 {
        return Err(format!("'{text}' changes nothing: give SETTING=VALUE after the role"));
    }
    let args: PolicySetArgs = serde_json::from_value(Value::Object(fields.clone())).map_err(|e| {
        let message = e.to_string();
        let message = match message.split_once(", expected one of ") {
            Some((unknown, valid)) => {
                format!(
                    "{unknown} is not a setting of `policy set` (the settings: {})",
                    valid.replace('_', "-")
                )
            }
            None => format!("{}{message}", bad_setting(&fields)),
        };
        format!("in the policy of '{role}': {message}")
    })?;
    Ok(PolicySpec { text: text.trim().to_string(), args })
}

/// `require-mfa=maybe: ` for the first setting that does not read alone, to name it beside the
/// reader's message (which names only the value).
fn bad_setting(fields: &serde_json::Map<String, Value>) -> String {
    for (name, value) in fields.iter().filter(|(name, _)| *name != "role") {
        let alone = serde_json::json!({ "role": fields["role"], name.as_str(): value });
        if serde_json::from_value::<PolicySetArgs>(alone).is_err() {
            let shown = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            return format!("{}={shown}: ", name.replace('_', "-"));
        }
    }
    String::new()
}

/// A script's `policy = "..."` or `policy = {"...", "..."}`.
fn policy_changes<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<PolicySpec>, D::Error> {
    de::one_or_many(d)?.iter().map(|t| policy_change(t).map_err(serde::de::Error::custom)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_is_policy_sets_flags_without_their_dashes() {
        let p =
            policy_change("Global Administrator: require-approval=true approver=kenji activation-max=PT2H")
                .expect("parses");
        assert_eq!(p.args.role, "Global Administrator");
        assert_eq!(p.args.require_approval, Some(true));
        assert_eq!(p.args.approvers, vec!["kenji".to_string()]);
        assert_eq!(p.args.activation_max.map(|d| d.to_string()).as_deref(), Some("PT2H"));
    }

    #[test]
    fn unknown_settings_and_bad_values_are_refused_by_name() {
        let e = policy_change("Global Administrator: mfa=on").unwrap_err();
        assert!(e.contains("`mfa`") && e.contains("require-mfa"), "{e}");
        let e = policy_change("Global Administrator: require-mfa=maybe").unwrap_err();
        assert!(e.contains("maybe") && e.contains("require-mfa"), "{e}");
        assert!(policy_change("Global Administrator").unwrap_err().contains("':'"));
        assert!(policy_change("Global Administrator:").unwrap_err().contains("changes nothing"));
    }
}
