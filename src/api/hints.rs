//! Hints as a Graph client reads them: in terms of the request's properties, never of pimlab's
//! command line.

use crate::model::Hint;

/// How to fix it, in Graph's words.
pub fn graph_words(h: &Hint) -> String {
    match h {
        Hint::Justification => "give a justification (the request's \"justification\")".into(),
        Hint::ApproverJustification => "give a justification with the decision (the step's \"justification\")".into(),
        Hint::Ticket => "give a ticket (\"ticketInfo\": {\"ticketSystem\": ..., \"ticketNumber\": ...})".into(),
        Hint::Mfa => "sign in with multi-factor authentication".into(),
        Hint::AuthContext { claim } => {
            format!("sign in again satisfying authentication context '{claim}' (the claims challenge)")
        }
        Hint::AtMost { duration } => {
            format!("ask for {duration} or less (\"scheduleInfo\": {{\"expiration\": {{\"duration\": \"{duration}\"}}}})")
        }
        Hint::AtLeast { duration } => format!("ask for {duration} or more"),
        Hint::GiveEnd { at_most } => format!(
            "give an end (\"scheduleInfo\": {{\"expiration\": {{\"type\": \"afterDuration\", \"duration\": \"{at_most}\"}}}})"
        ),
        Hint::ActAsPrincipal => "sign in as that principal (self-service requests are for the caller)".into(),
        Hint::ReadOwn => "read your own with filterByCurrentUser(on='principal')".into(),
        Hint::ActAsAdministrator => {
            "activate Privileged Role Administrator or Global Administrator first, or sign in as an administrator"
                .into()
        }
        Hint::ReplaceTenant => "start from a new store".into(),
        Hint::InitTenant => "the store has no tenant yet; create one first".into(),
        Hint::StartAfresh => "start from a new store".into(),
        Hint::ListRoles => "GET /roleManagement/directory/roleDefinitions lists them".into(),
        Hint::GiveBody => "send the JSON body".into(),
        Hint::ShowHook { name } => format!("an administrator can fix or remove the policy hook '{name}'"),
        Hint::FidelitySwitch { name, on } => format!(
            "this is the lab's fidelity switch '{name}' (pimlab's, not the service's); whoever runs the lab can turn it {}",
            if *on { "on" } else { "off" }
        ),
        Hint::Text { text } => text.clone(),
    }
}

/// A detail's message with its fix, as the `details` of a Graph error carry it.
pub fn with_fix(message: &str, hint: Option<&Hint>) -> String {
    match hint {
        Some(h) => format!("{message}. Fix: {}", graph_words(h)),
        None => message.to_string(),
    }
}
