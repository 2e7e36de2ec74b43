//! PIM alerts as plain data: which alerts there are (six of the real service's for directory roles
//! and two of pimlab's own), what each is (its definition: severity, wording, whether it can be
//! configured), and the settings each takes, with their defaults and ranges ([`settings`],
//! [`fidelity`]). Computing whether an alert fires is the report layer's job.

pub mod fidelity;
pub mod settings;

pub use settings::{AlertSettings, Param, ParamKind, SettingValue};

/// How serious an alert is (Graph's `alertSeverity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

/// One kind of alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum AlertKind {
    RolesAssignedOutsidePim,
    TooManyGlobalAdmins,
    TooManyPrivilegedRoleHolders,
    NoMfaOnRoleActivation,
    RedundantAssignment,
    SequentialActivationRenewals,
    StaleSignIn,
    PermanentPrivilegedAssignments,
}

/// What the service (or pimlab) says of an alert: Graph's `unifiedRoleManagementAlertDefinition`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Definition {
    pub display_name: &'static str,
    pub description: &'static str,
    pub security_impact: &'static str,
    pub mitigation_steps: &'static str,
    pub how_to_prevent: &'static str,
    pub is_remediatable: bool,
}

impl AlertKind {
    pub const ALL: [AlertKind; 8] = [
        AlertKind::RolesAssignedOutsidePim,
        AlertKind::TooManyGlobalAdmins,
        AlertKind::TooManyPrivilegedRoleHolders,
        AlertKind::NoMfaOnRoleActivation,
        AlertKind::RedundantAssignment,
        AlertKind::SequentialActivationRenewals,
        AlertKind::StaleSignIn,
        AlertKind::PermanentPrivilegedAssignments,
    ];

    /// The alert's name: the end of the real alert definition's id
    /// (`DirectoryRole_{tenantId}_{name}`), and pimlab's own in the same form.
    pub fn name(self) -> &'static str {
        match self {
            AlertKind::RolesAssignedOutsidePim => "RolesAssignedOutsidePimAlert",
            AlertKind::TooManyGlobalAdmins => "TooManyGlobalAdminsAssignedToTenantAlert",
            AlertKind::TooManyPrivilegedRoleHolders => "TooManyPrivilegedRoleHoldersAlert",
            AlertKind::NoMfaOnRoleActivation => "NoMfaOnRoleActivationAlert",
            AlertKind::RedundantAssignment => "RedundantAssignmentAlert",
            AlertKind::SequentialActivationRenewals => "SequentialActivationRenewalsAlert",
            AlertKind::StaleSignIn => "StaleSignInAlert",
            AlertKind::PermanentPrivilegedAssignments => "PermanentPrivilegedAssignmentsAlert",
        }
    }

    /// The stem of its Graph types (`{stem}AlertConfiguration`, `{stem}AlertIncident`); `None`
    /// for pimlab's own alerts, which the Graph surface does not show.
    pub fn graph_stem(self) -> Option<&'static str> {
        Some(match self {
            AlertKind::RolesAssignedOutsidePim => "rolesAssignedOutsidePrivilegedIdentityManagement",
            AlertKind::TooManyGlobalAdmins => "tooManyGlobalAdminsAssignedToTenant",
            AlertKind::NoMfaOnRoleActivation => "noMfaOnRoleActivation",
            AlertKind::RedundantAssignment => "redundantAssignment",
            AlertKind::SequentialActivationRenewals => "sequentialActivationRenewals",
            AlertKind::StaleSignIn => "staleSignIn",
            AlertKind::TooManyPrivilegedRoleHolders | AlertKind::PermanentPrivilegedAssignments => {
                return None;
            }
        })
    }

    /// The alert a user names: its name, with or without `Alert`, or any unique beginning of it,
    /// in any case (`TooManyGlobalAdmins`, `stale`).
    pub fn parse(text: &str) -> Option<AlertKind> {
        let t = text.trim().to_ascii_lowercase();
        if t.is_empty() {
            return None;
        }
        let lower = |k: &AlertKind| k.name().to_ascii_lowercase();
        if let Some(k) = AlertKind::ALL.iter().find(|k| lower(k) == t || lower(k) == format!("{t}alert")) {
            return Some(*k);
        }
        let mut starting = AlertKind::ALL.iter().filter(|k| lower(k).starts_with(&t));
        match (starting.next(), starting.next()) {
            (Some(k), None) => Some(*k),
            _ => None,
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            AlertKind::RolesAssignedOutsidePim => Severity::High,
            AlertKind::PermanentPrivilegedAssignments => Severity::Medium,
            AlertKind::NoMfaOnRoleActivation
            | AlertKind::SequentialActivationRenewals
            | AlertKind::StaleSignIn => Severity::Medium,
            AlertKind::TooManyGlobalAdmins
            | AlertKind::TooManyPrivilegedRoleHolders
            | AlertKind::RedundantAssignment => Severity::Low,
        }
    }

    /// The settings it takes besides being on or off.
    pub fn params(self) -> &'static [Param] {
        settings::params_of(self)
    }

    pub fn is_configurable(self) -> bool {
        !self.params().is_empty()
    }

    /// pimlab's wording of what the alert is, why it matters and what to do.
    pub fn definition(self) -> Definition {
        match self {
            AlertKind::RolesAssignedOutsidePim => Definition {
                display_name: "Roles are being assigned outside of Privileged Identity Management",
                description: "Privileged roles were given without a PIM request: a role assignment made directly, or a membership added directly to a role-assignable group that holds a privileged role.",
                security_impact: "What is assigned outside PIM is not time-bound, needs no activation and leaves PIM's own trail; it may be a sign of an attack.",
                mitigation_steps: "Remove each such assignment and, if it is needed, give it again through PIM (as an eligibility).",
                how_to_prevent: "Find where privileged roles are being assigned outside PIM and stop assignments from there.",
                is_remediatable: true,
            },
            AlertKind::TooManyGlobalAdmins => Definition {
                display_name: "There are too many global administrators",
                description: "Both the number of Global Administrators and their share of all role assignments have reached the thresholds.",
                security_impact: "Global Administrator can do almost everything; each holder is one more account whose compromise gives the whole tenant away.",
                mitigation_steps: "Review the holders, remove Global Administrator from those who do not need it and give them a less privileged role.",
                how_to_prevent: "Give each user the least privileged role that does the job.",
                is_remediatable: true,
            },
            AlertKind::TooManyPrivilegedRoleHolders => Definition {
                display_name: "There are too many privileged role holders",
                description: "The number of principals holding, or eligible for, a privileged directory role has reached the threshold.",
                security_impact: "Every holder of a privileged role widens what an attacker can reach by compromising one account.",
                mitigation_steps: "Review the holders and remove privileged roles that are not needed.",
                how_to_prevent: "Give privileged roles sparingly, time-bound, and review them regularly.",
                is_remediatable: true,
            },
            AlertKind::NoMfaOnRoleActivation => Definition {
                display_name: "Roles don't require multi-factor authentication for activation",
                description: "Privileged roles can be activated without multi-factor authentication.",
                security_impact: "Without MFA, a user whose password is stolen can activate a privileged role.",
                mitigation_steps: "Require multi-factor authentication on activation in each listed role's settings.",
                how_to_prevent: "Require MFA (or an authentication context) to activate every privileged role.",
                is_remediatable: true,
            },
            AlertKind::RedundantAssignment => Definition {
                display_name: "Eligible administrators aren't activating their privileged role",
                description: "Users eligible for a privileged role have not activated it within the configured time.",
                security_impact: "A privileged role nobody uses only adds to what an attacker can take, and unused accounts hide an attacker well.",
                mitigation_steps: "Review the listed eligibilities and remove those that are not needed.",
                how_to_prevent: "Give privileged roles only with a business reason, and review them regularly.",
                is_remediatable: true,
            },
            AlertKind::SequentialActivationRenewals => Definition {
                display_name: "Roles are being activated too frequently",
                description: "The same user activated the same privileged role several times within the configured time.",
                security_impact: "Repeated activations of one role by one user can be a sign of an attack, or of an activation duration too short for the work.",
                mitigation_steps: "Review the listed users; make the role's maximum activation duration long enough for their tasks.",
                how_to_prevent: "Set activation durations long enough for the work, and require MFA on activation.",
                is_remediatable: false,
            },
            AlertKind::StaleSignIn => Definition {
                display_name: "Potential stale accounts in a privileged role",
                description: "Accounts holding, or eligible for, a privileged role have not signed in within the configured time.",
                security_impact: "Accounts nobody uses, such as old service or shared accounts, are easy for attackers to take over unnoticed.",
                mitigation_steps: "Review the listed accounts and remove the privileged roles of those that no longer need them.",
                how_to_prevent: "Review privileged accounts regularly (access reviews) and remove what is no longer needed.",
                is_remediatable: true,
            },
            AlertKind::PermanentPrivilegedAssignments => Definition {
                display_name: "Privileged roles are assigned permanently active",
                description: "Privileged roles are held active with no end date, outside just-in-time activation.",
                security_impact: "Standing privilege is available to an attacker at any moment; just-in-time access is not.",
                mitigation_steps: "Make each listed holder eligible instead (or give the assignment an end date), and remove the permanent active assignment.",
                how_to_prevent: "Keep permanent active assignments to break-glass accounts; give everyone else eligible, time-bound access.",
                is_remediatable: true,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alert_is_named_by_its_name_without_alert_or_by_a_unique_beginning() {
        assert_eq!(AlertKind::parse("TooManyGlobalAdmins"), Some(AlertKind::TooManyGlobalAdmins));
        assert_eq!(AlertKind::parse("staleSignInAlert"), Some(AlertKind::StaleSignIn));
        assert_eq!(AlertKind::parse("stale"), Some(AlertKind::StaleSignIn));
        // Both TooMany... alerts begin so.
        assert_eq!(AlertKind::parse("toomany"), None);
        assert_eq!(AlertKind::parse(""), None);
        for k in AlertKind::ALL {
            assert_eq!(AlertKind::parse(k.name()), Some(k));
        }
    }
}
