//! How to fix a refusal, said in terms of the request rather than of any one surface. The engine
//! gives a [`Hint`]; the command line words it as a flag (`--justification "why"`), Graph as a
//! property (`justification`), a script as a key (`justification = "why"`). So no engine message
//! names a command-line flag, and every surface gives advice its user can act on.

use serde::{Deserialize, Serialize};

use super::IsoDuration;

/// One way to put a refused request right.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "hint", rename_all = "camelCase")]
pub enum Hint {
    /// Give a justification.
    Justification,
    /// Give the approver's justification with the decision.
    ApproverJustification,
    /// Give a ticket (system and number).
    Ticket,
    /// Use a session that satisfied multi-factor authentication.
    Mfa,
    /// Carry this authentication-context claim.
    AuthContext { claim: String },
    /// Ask for at most this long.
    AtMost { duration: IsoDuration },
    /// Ask for at least this long.
    AtLeast { duration: IsoDuration },
    /// Give an end (the policy requires one), at most this long.
    GiveEnd { at_most: IsoDuration },
    /// Act as the principal the request is for (self-service acts for the caller).
    ActAsPrincipal,
    /// Activate an administrator role first, or act as an administrator.
    ActAsAdministrator,
    /// Read only one's own items (the caller holds no role that reads everyone's).
    ReadOwn,
    /// Replace the store's tenant deliberately (everything in it is lost).
    ReplaceTenant,
    /// Create the store's tenant first.
    InitTenant,
    /// The store cannot be used as it is: start again with a new tenant.
    StartAfresh,
    /// See the role definitions there are.
    ListRoles,
    /// Send a JSON body with the call.
    GiveBody,
    /// Look at the hook that failed.
    ShowHook { name: String },
    /// Turn a switch of the store's fidelity profile on or off (`name` as the switch spells it).
    FidelitySwitch { name: String, on: bool },
    /// Advice with no surface in it ("submit a new request"), or a hook author's own words.
    Text { text: String },
}

impl Hint {
    pub fn text(text: impl Into<String>) -> Hint {
        Hint::Text { text: text.into() }
    }
}

/// A stored fix: typed, or the plain text older stores hold.
pub mod stored {
    use super::*;

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Hint>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Stored {
            Typed(Hint),
            Text(String),
        }
        Ok(Option::<Stored>::deserialize(d)?.map(|s| match s {
            Stored::Typed(h) => h,
            Stored::Text(text) => Hint::Text { text },
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fix_stored_as_text_by_an_older_pimlab_reads_back_as_a_text_hint() {
        #[derive(Deserialize)]
        struct Step {
            #[serde(deserialize_with = "stored::deserialize", default)]
            fix: Option<Hint>,
        }
        let old: Step = serde_json::from_str(r#"{"fix": "give --justification \"why\""}"#).unwrap();
        assert_eq!(old.fix, Some(Hint::text("give --justification \"why\"")));
        let new: Step = serde_json::from_str(r#"{"fix": {"hint": "atMost", "duration": "PT8H"}}"#).unwrap();
        assert_eq!(new.fix, Some(Hint::AtMost { duration: IsoDuration::from_hours(8) }));
    }
}
