//! The store's fidelity profile: named switches that turn on behaviour the Graph API does not
//! have. By default pimlab does what the API does; a switch adds the portal's behaviour (where the
//! portal is stricter than the API) or one of pimlab's own extensions (where the API cannot do
//! something a lab user may still want to try). Every switch is off in a new store.

use std::fmt;

/// Where a switch's behaviour comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwitchOrigin {
    /// What the Entra admin center does, which the API does not.
    Portal,
    /// pimlab's own: something neither the API nor the portal does.
    Extension,
}

impl SwitchOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            SwitchOrigin::Portal => "portal",
            SwitchOrigin::Extension => "extension",
        }
    }
}

/// One switch of the fidelity profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FidelitySwitch {
    /// Refuse an extension more than 14 days before the end, and a renewal more than 30 days
    /// after it, as the portal's Extend and Renew buttons do (addendum §5: the API was never seen
    /// to enforce either).
    PortalExtendRenewWindows,
    /// Let the Graph approval step API decide approvals of more than one stage (reference §3.12:
    /// it does not support multi-stage approvals).
    GraphMultiStageApprovals,
    /// Let the Graph approval step API decide the approval of a `selfExtend` or `selfRenew`
    /// (reference §3.12: extension and renewal approvals are not supported through Graph).
    GraphExtensionApprovals,
}

impl FidelitySwitch {
    /// Every switch, in the order they are listed.
    pub const ALL: [FidelitySwitch; 3] = [
        FidelitySwitch::PortalExtendRenewWindows,
        FidelitySwitch::GraphMultiStageApprovals,
        FidelitySwitch::GraphExtensionApprovals,
    ];

    /// The switch's name, as commands, scripts and the store spell it.
    pub fn name(self) -> &'static str {
        match self {
            FidelitySwitch::PortalExtendRenewWindows => "portal-extend-renew-windows",
            FidelitySwitch::GraphMultiStageApprovals => "graph-multi-stage-approvals",
            FidelitySwitch::GraphExtensionApprovals => "graph-extension-approvals",
        }
    }

    pub fn origin(self) -> SwitchOrigin {
        match self {
            FidelitySwitch::PortalExtendRenewWindows => SwitchOrigin::Portal,
            FidelitySwitch::GraphMultiStageApprovals | FidelitySwitch::GraphExtensionApprovals => {
                SwitchOrigin::Extension
            }
        }
    }

    /// What turning the switch on changes, in a sentence.
    pub fn effect(self) -> &'static str {
        match self {
            FidelitySwitch::PortalExtendRenewWindows => {
                "extend only in the 14 days before the end, renew only in the 30 days after it (admin and self-service)"
            }
            FidelitySwitch::GraphMultiStageApprovals => {
                "approvals with more than one stage can be decided through the Graph approval step API"
            }
            FidelitySwitch::GraphExtensionApprovals => {
                "approvals of selfExtend and selfRenew requests can be decided through the Graph approval step API"
            }
        }
    }

    /// What the real API does instead, when the switch is off.
    pub fn when_off(self) -> &'static str {
        match self {
            FidelitySwitch::PortalExtendRenewWindows => {
                "extend and renew at any time while the schedule is remembered, as the API allows"
            }
            FidelitySwitch::GraphMultiStageApprovals => {
                "the Graph approval step API refuses to decide a stage of a multi-stage approval"
            }
            FidelitySwitch::GraphExtensionApprovals => {
                "the Graph approval step API refuses to decide an extension's or renewal's approval"
            }
        }
    }

    /// The switch named `name` (as [`FidelitySwitch::name`] spells it, case-insensitively).
    pub fn parse(name: &str) -> Option<FidelitySwitch> {
        Self::ALL.into_iter().find(|s| s.name().eq_ignore_ascii_case(name.trim()))
    }

    /// The names of every switch, for messages.
    pub fn names() -> String {
        Self::ALL.map(FidelitySwitch::name).join(", ")
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for FidelitySwitch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which switches are on. The default has none on: pimlab behaves as the Graph API does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FidelityProfile {
    on: u8,
}

impl FidelityProfile {
    pub fn is_on(self, switch: FidelitySwitch) -> bool {
        self.on & switch.bit() != 0
    }

    pub fn with(mut self, switch: FidelitySwitch, on: bool) -> FidelityProfile {
        if on {
            self.on |= switch.bit();
        } else {
            self.on &= !switch.bit();
        }
        self
    }

    /// The switches that are on, in listing order.
    pub fn switches_on(self) -> Vec<FidelitySwitch> {
        FidelitySwitch::ALL.into_iter().filter(|s| self.is_on(*s)).collect()
    }

    /// How the store keeps it: the names of the switches that are on, comma-separated (empty
    /// when none is).
    pub fn to_stored(self) -> String {
        self.switches_on().iter().map(|s| s.name()).collect::<Vec<_>>().join(",")
    }

    /// Reads what [`FidelityProfile::to_stored`] wrote. A name this pimlab does not know is an
    /// error (a newer pimlab's switch): guessing would change what the store does.
    pub fn from_stored(text: &str) -> Result<FidelityProfile, String> {
        let mut profile = FidelityProfile::default();
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let switch = FidelitySwitch::parse(name).ok_or_else(|| name.to_string())?;
            profile = profile.with(switch, true);
        }
        Ok(profile)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_switch_is_off_in_the_default_profile() {
        let p = FidelityProfile::default();
        assert!(FidelitySwitch::ALL.iter().all(|s| !p.is_on(*s)));
        assert_eq!(p.to_stored(), "");
    }

    #[test]
    fn every_combination_of_switches_reads_back_as_stored() {
        for mask in 0..(1u8 << FidelitySwitch::ALL.len()) {
            let mut p = FidelityProfile::default();
            for (i, s) in FidelitySwitch::ALL.iter().enumerate() {
                p = p.with(*s, mask & (1 << i) != 0);
            }
            assert_eq!(FidelityProfile::from_stored(&p.to_stored()), Ok(p), "mask {mask:b}");
        }
    }

    #[test]
    fn names_parse_back_and_are_distinct() {
        for s in FidelitySwitch::ALL {
            assert_eq!(FidelitySwitch::parse(s.name()), Some(s));
            assert_eq!(FidelitySwitch::parse(&s.name().to_ascii_uppercase()), Some(s));
        }
        assert_eq!(FidelitySwitch::parse("portal-windows"), None);
    }

    #[test]
    fn an_unknown_stored_switch_is_an_error_not_ignored() {
        assert_eq!(
            FidelityProfile::from_stored("graph-multi-stage-approvals,x-new"),
            Err("x-new".to_string())
        );
    }

    #[test]
    fn turning_a_switch_off_leaves_the_others() {
        let p = FidelityProfile::default()
            .with(FidelitySwitch::GraphMultiStageApprovals, true)
            .with(FidelitySwitch::PortalExtendRenewWindows, true)
            .with(FidelitySwitch::GraphMultiStageApprovals, false);
        assert_eq!(p.switches_on(), vec![FidelitySwitch::PortalExtendRenewWindows]);
    }
}
