//! A role's settings as a reader wants them: activation, assignment and notification rules.

use super::Names;
use crate::engine::Engine;
use crate::model::policy::{Approver, Policy, PolicyRule};
use crate::model::time::format_timestamp;

/// A policy's rules, readably.
pub fn policy(engine: &mut Engine, names: &mut Names, role: &str, p: &Policy) -> String {
    let mut out = format!("Role settings for {role}\n  policy {}\n", p.id);
    if let Some(t) = p.last_modified_at {
        out.push_str(&format!(
            "  last changed {} by {}\n",
            format_timestamp(t),
            p.last_modified_by.as_deref().map(|b| names.principal(engine, b)).unwrap_or_default()
        ));
    }
    let section = |title: &str, out: &mut String| out.push_str(&format!("\n{title}\n"));
    section("Activation", &mut out);
    for rule in p.rules.iter() {
        let line = match rule {
            PolicyRule::Expiration(r) if r.id.contains("EndUser") => {
                Some(format!("maximum duration        {}", r.maximum_duration))
            }
            PolicyRule::Enablement(r) if r.id.contains("EndUser") => Some(format!(
                "on activation require   {}",
                if r.enabled_rules.is_empty() { "nothing".into() } else { r.enabled_rules.join(", ") }
            )),
            PolicyRule::Approval(r) => {
                let s = &r.setting;
                let mut l = format!(
                    "approval required       {}{}",
                    if s.is_approval_required { "yes" } else { "no" },
                    if s.is_requestor_justification_required {
                        " (requestor justification required)"
                    } else {
                        ""
                    }
                );
                if s.is_approval_required {
                    for (i, stage) in s.approval_stages.iter().enumerate() {
                        let approvers: Vec<String> = stage
                            .primary_approvers
                            .iter()
                            .map(|a| match a {
                                Approver::SingleUser { user_id, .. } => names.principal(engine, user_id),
                                Approver::GroupMembers { group_id, .. } => {
                                    format!("members of {}", names.principal(engine, group_id))
                                }
                            })
                            .collect();
                        l.push_str(&format!(
                            "\n  stage {}: approvers {}; times out after {} day(s)",
                            i + 1,
                            if approvers.is_empty() {
                                "(none: Privileged Role Administrators and Global Administrators)".to_string()
                            } else {
                                approvers.join(", ")
                            },
                            stage.approval_stage_time_out_in_days
                        ));
                    }
                }
                Some(l)
            }
            PolicyRule::AuthenticationContext(r) => Some(format!(
                "authentication context  {}",
                if r.is_enabled { r.claim_value.clone().unwrap_or_default() } else { "not required".into() }
            )),
            _ => None,
        };
        if let Some(l) = line {
            out.push_str(&format!("  {l}\n"));
        }
    }
    for (title, level) in [("Eligible assignment", "Eligibility"), ("Active assignment", "Assignment")] {
        section(title, &mut out);
        for rule in p.rules.iter() {
            match rule {
                PolicyRule::Expiration(r) if r.id == format!("Expiration_Admin_{level}") => {
                    out.push_str(&format!(
                        "  allow permanent         {}\n  expire after            {}{}\n",
                        if r.is_expiration_required { "no" } else { "yes" },
                        r.maximum_duration,
                        if r.is_expiration_required {
                            ""
                        } else {
                            " (applies once permanent is not allowed)"
                        }
                    ));
                }
                PolicyRule::Enablement(r) if r.id == format!("Enablement_Admin_{level}") => {
                    out.push_str(&format!(
                        "  on assignment require   {}\n",
                        if r.enabled_rules.is_empty() {
                            "nothing".into()
                        } else {
                            r.enabled_rules.join(", ")
                        }
                    ));
                }
                _ => {}
            }
        }
    }
    let fidelity = fidelity_lines(engine, p);
    if !fidelity.is_empty() {
        section("Fidelity (switches that change how these settings play out)", &mut out);
        for l in fidelity {
            out.push_str(&format!("  {l}\n"));
        }
    }
    section("Notifications", &mut out);
    for rule in p.rules.iter() {
        if let PolicyRule::Notification(r) = rule {
            out.push_str(&format!(
                "  {:<42} level {:<8} default recipients {}{}\n",
                r.id,
                r.notification_level,
                if r.is_default_recipients_enabled { "on" } else { "off" },
                if r.notification_recipients.is_empty() {
                    String::new()
                } else {
                    format!(", also {}", r.notification_recipients.join(", "))
                }
            ));
        }
    }
    out
}

/// The fidelity switches that bear on `p`: the Graph approval API's limits when the approval
/// rule runs into them (on or off: either way it changes what a Graph client can do), and the
/// portal's extend and renew windows when they are enforced.
fn fidelity_lines(engine: &mut Engine, p: &Policy) -> Vec<String> {
    use crate::model::FidelitySwitch::*;
    let Ok(profile) = engine.fidelity() else {
        return Vec::new();
    };
    let state = |s: crate::model::FidelitySwitch| if profile.is_on(s) { "on" } else { "off" };
    let mut lines = Vec::new();
    let approval = p.rules.iter().find_map(|r| match r {
        PolicyRule::Approval(a) => Some(&a.setting),
        _ => None,
    });
    if let Some(s) = approval {
        let stages = if s.approval_mode == "SingleStage" { 1 } else { s.approval_stages.len() };
        if s.is_approval_required && stages > 1 {
            let can = if profile.is_on(GraphMultiStageApprovals) { "can" } else { "cannot" };
            lines.push(format!(
                "{} {}: Graph clients {can} decide these {stages} stages (the portal can)",
                GraphMultiStageApprovals.name(),
                state(GraphMultiStageApprovals)
            ));
        }
        if s.is_approval_required_for_extension {
            let can = if profile.is_on(GraphExtensionApprovals) { "can" } else { "cannot" };
            lines.push(format!(
                "{} {}: Graph clients {can} decide the approval of an extension or renewal",
                GraphExtensionApprovals.name(),
                state(GraphExtensionApprovals)
            ));
        }
    }
    if profile.is_on(PortalExtendRenewWindows) {
        lines.push(format!(
            "{} on: extend only in the {} days before the end, renew only in the {} days after it",
            PortalExtendRenewWindows.name(),
            crate::engine::fidelity::EXTEND_WINDOW_DAYS,
            crate::engine::fidelity::RENEW_WINDOW_DAYS
        ));
    }
    lines
}
