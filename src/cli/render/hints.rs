//! Hints as a command-line user reads them: the flag or command that fixes the refusal.

use crate::model::Hint;

/// How to fix it, in the command line's words.
pub fn cli_words(h: &Hint) -> String {
    match h {
        Hint::Justification => "give --justification \"why\"".into(),
        Hint::ApproverJustification => "give --justification \"why\"".into(),
        Hint::Ticket => "give a ticket, e.g. --ticket ServiceNow:INC0012345".into(),
        Hint::Mfa => "sign in with MFA (drop --no-mfa)".into(),
        Hint::AuthContext { claim } => format!("pass --auth-context {claim}"),
        Hint::AtMost { duration } => format!("ask for {duration} or less, e.g. --duration {duration}"),
        Hint::AtLeast { duration } => format!("ask for {duration} or more"),
        Hint::GiveEnd { at_most } => format!("give an end, e.g. --duration {at_most}"),
        Hint::ActAsPrincipal => "act --as that principal".into(),
        Hint::ActAsAdministrator => "activate one first, or act --as an administrator".into(),
        Hint::ReadOwn => "list your own with --mine, or act --as a reader".into(),
        Hint::ReplaceTenant => "use --force to replace it".into(),
        Hint::InitTenant => "run `pimlab init` first".into(),
        Hint::StartAfresh => {
            "start again: `pimlab init --force` replaces the tenant (everything in it is lost)".into()
        }
        Hint::ListRoles => "`pimlab role list` shows them".into(),
        Hint::GiveBody => "--body '{...}' or --body @file.json".into(),
        Hint::ShowHook { name } => format!("see it with `pimlab hook show {name}`"),
        Hint::FidelitySwitch { name, on } => {
            let state = if *on { "on" } else { "off" };
            format!("turn it {state}: `pimlab config fidelity set {name} {state}`")
        }
        Hint::Text { text } => text.clone(),
    }
}
