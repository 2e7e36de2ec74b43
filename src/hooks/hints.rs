//! Hints as a script author reads them: the `pim` option or call that fixes the refusal.

use crate::model::Hint;

/// How to fix it, in the `pim` API's words.
pub fn script_words(h: &Hint) -> String {
    match h {
        Hint::Justification => "give justification = \"why\"".into(),
        Hint::ApproverJustification => "give the justification, e.g. pim.approve(id, \"why\")".into(),
        Hint::Ticket => "give a ticket, e.g. ticket = \"ServiceNow:INC0012345\"".into(),
        Hint::Mfa => "act with MFA (drop {mfa = false} from pim.as)".into(),
        Hint::AuthContext { claim } => format!("pass auth_context = \"{claim}\""),
        Hint::AtMost { duration } => format!("ask for {duration} or less, e.g. duration = \"{duration}\""),
        Hint::AtLeast { duration } => format!("ask for {duration} or more"),
        Hint::GiveEnd { at_most } => format!("give an end, e.g. duration = \"{at_most}\""),
        Hint::ActAsPrincipal => "act as that principal (pim.as)".into(),
        Hint::ActAsAdministrator => "activate one first, or act as an administrator (pim.as)".into(),
        Hint::ReadOwn => "ask for your own (mine = true), or act as a reader (pim.as)".into(),
        Hint::ReplaceTenant => "start from a new store".into(),
        Hint::InitTenant => "the store has no tenant yet".into(),
        Hint::StartAfresh => "start from a new store".into(),
        Hint::ListRoles => "pim.role.list() lists them".into(),
        Hint::GiveBody => "pass the body (a table or JSON text)".into(),
        Hint::ShowHook { name } => format!("see it with pim.hook.show(\"{name}\")"),
        Hint::FidelitySwitch { name, on } => {
            format!("turn it {}: pim.fidelity.set(\"{name}\", {on})", if *on { "on" } else { "off" })
        }
        Hint::Text { text } => text.clone(),
    }
}
