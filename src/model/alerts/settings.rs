//! The settings of an alert: whether it is on, and its thresholds, each a [`Param`] with its Graph
//! name, unit, default and range. A change is checked here, for every surface: a value out of
//! range is refused naming the value and the limit.

use std::collections::BTreeMap;

use super::AlertKind;
use super::fidelity as f;
use crate::model::time::parse_human_duration;
use crate::model::{ApiError, IsoDuration};

/// What a threshold counts, and so how it is written: a number, or a duration (ISO 8601 on
/// Graph) in whole days or minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    Count,
    Percentage,
    Days,
    Minutes,
}

/// One threshold of an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    /// The Graph property (`globalAdminCountThreshold`).
    pub name: &'static str,
    pub kind: ParamKind,
    pub default: i64,
    pub min: i64,
    pub max: i64,
}

const fn param(name: &'static str, kind: ParamKind, (default, min, max): (i64, i64, i64)) -> Param {
    Param { name, kind, default, min, max }
}

const GLOBAL_ADMINS: &[Param] = &[
    param("globalAdminCountThreshold", ParamKind::Count, f::GLOBAL_ADMIN_COUNT),
    param("percentageOfGlobalAdminsOutOfRolesThreshold", ParamKind::Percentage, f::GLOBAL_ADMIN_PERCENTAGE),
];
const PRIVILEGED_HOLDERS: &[Param] =
    &[param("privilegedRoleHolderCountThreshold", ParamKind::Count, f::PRIVILEGED_HOLDER_COUNT)];
const REDUNDANT: &[Param] = &[param("duration", ParamKind::Days, f::REDUNDANT_DAYS)];
const SEQUENTIAL: &[Param] = &[
    param("sequentialActivationCounterThreshold", ParamKind::Count, f::SEQUENTIAL_COUNT),
    param("timeIntervalBetweenActivations", ParamKind::Minutes, f::SEQUENTIAL_INTERVAL_MINUTES),
];
const STALE: &[Param] = &[param("duration", ParamKind::Days, f::STALE_DAYS)];

pub(super) fn params_of(kind: AlertKind) -> &'static [Param] {
    match kind {
        AlertKind::TooManyGlobalAdmins => GLOBAL_ADMINS,
        AlertKind::TooManyPrivilegedRoleHolders => PRIVILEGED_HOLDERS,
        AlertKind::RedundantAssignment => REDUNDANT,
        AlertKind::SequentialActivationRenewals => SEQUENTIAL,
        AlertKind::StaleSignIn => STALE,
        AlertKind::RolesAssignedOutsidePim
        | AlertKind::NoMfaOnRoleActivation
        | AlertKind::PermanentPrivilegedAssignments => &[],
    }
}

impl Param {
    /// A value in the param's unit as a duration (for `Days` and `Minutes`).
    pub fn duration(&self, value: i64) -> IsoDuration {
        match self.kind {
            ParamKind::Days => IsoDuration::from_days(value),
            _ => IsoDuration::from_minutes(value),
        }
    }

    /// A value as people read it: `3`, `10%`, `P30D`, `PT1H`.
    pub fn show(&self, value: i64) -> String {
        match self.kind {
            ParamKind::Count => value.to_string(),
            ParamKind::Percentage => format!("{value}%"),
            ParamKind::Days | ParamKind::Minutes => self.duration(value).to_string(),
        }
    }

    fn range(&self) -> String {
        format!("{} to {}", self.show(self.min), self.show(self.max))
    }

    /// A value as given: a whole number, or a duration for the duration params (ISO 8601 or
    /// `30d`, `1h`), checked against the range.
    pub fn value(&self, alert: AlertKind, given: &SettingValue) -> Result<i64, ApiError> {
        let refuse = |why: String| {
            ApiError::bad_request(self.name, format!("{} of {}: {why}", self.name, alert.name()))
        };
        let n = match (self.kind, given) {
            (ParamKind::Count | ParamKind::Percentage, SettingValue::Int(n)) => *n,
            (ParamKind::Count | ParamKind::Percentage, SettingValue::Text(t)) => t
                .trim()
                .trim_end_matches('%')
                .parse::<i64>()
                .map_err(|_| refuse(format!("'{t}' is not a whole number (allowed: {})", self.range())))?,
            (ParamKind::Days | ParamKind::Minutes, SettingValue::Text(t)) => {
                let d = parse_human_duration(t).map_err(refuse)?;
                let unit = self.duration(1).as_millis();
                if d.as_millis() % unit != 0 {
                    let whole = if self.kind == ParamKind::Days { "days" } else { "minutes" };
                    return Err(refuse(format!("'{t}' is not a whole number of {whole}")));
                }
                d.as_millis() / unit
            }
            (ParamKind::Days | ParamKind::Minutes, SettingValue::Int(n)) => {
                return Err(refuse(format!(
                    "{n} is a number; give a duration such as {} (allowed: {})",
                    self.show(self.default),
                    self.range()
                )));
            }
            (_, SettingValue::Bool(b)) => {
                return Err(refuse(format!("{b} is not a value of it (allowed: {})", self.range())));
            }
        };
        if n < self.min || n > self.max {
            return Err(refuse(format!(
                "{} is out of range: the {} is {}",
                self.show(n),
                if n < self.min { "least" } else { "most" },
                self.show(if n < self.min { self.min } else { self.max }),
            )));
        }
        Ok(n)
    }
}

/// A value as a surface gave it.
#[derive(Debug, Clone, PartialEq)]
pub enum SettingValue {
    Int(i64),
    Text(String),
    Bool(bool),
}

/// An alert's settings as the tenant has them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertSettings {
    pub kind: AlertKind,
    pub is_enabled: bool,
    /// Only the thresholds changed from their defaults, by Graph name.
    pub values: BTreeMap<String, i64>,
}

impl AlertSettings {
    /// As a new tenant has them: on, every threshold at its default.
    pub fn default_for(kind: AlertKind) -> Self {
        AlertSettings { kind, is_enabled: true, values: BTreeMap::new() }
    }

    /// A threshold's value (its default unless changed).
    pub fn get(&self, name: &str) -> i64 {
        let p = self.kind.params().iter().find(|p| p.name == name);
        self.values.get(name).copied().or(p.map(|p| p.default)).unwrap_or(0)
    }

    /// A duration threshold as a duration.
    pub fn duration(&self, name: &str) -> IsoDuration {
        let p = self.kind.params().iter().find(|p| p.name == name);
        p.map_or(IsoDuration::from_days(0), |p| p.duration(self.get(name)))
    }

    /// Every threshold with its value.
    pub fn thresholds(&self) -> Vec<(&'static Param, i64)> {
        self.kind.params().iter().map(|p| (p, self.get(p.name))).collect()
    }

    /// Changes one setting (`isEnabled` or a threshold, named in any case); refused, naming the
    /// value and the limit, when it is out of range or the alert has no such setting.
    pub fn set(&mut self, name: &str, value: &SettingValue) -> Result<(), ApiError> {
        if name.eq_ignore_ascii_case("isEnabled") {
            self.is_enabled = match value {
                SettingValue::Bool(b) => *b,
                SettingValue::Text(t) if t.eq_ignore_ascii_case("true") => true,
                SettingValue::Text(t) if t.eq_ignore_ascii_case("false") => false,
                other => {
                    return Err(ApiError::bad_request(
                        "isEnabled",
                        format!("{other:?} is not true or false"),
                    ));
                }
            };
            return Ok(());
        }
        let Some(p) = self.kind.params().iter().find(|p| p.name.eq_ignore_ascii_case(name)) else {
            let known: Vec<&str> =
                std::iter::once("isEnabled").chain(self.kind.params().iter().map(|p| p.name)).collect();
            return Err(ApiError::bad_request(
                name,
                format!("{} has no setting '{name}' (its settings: {})", self.kind.name(), known.join(", ")),
            ));
        };
        let n = p.value(self.kind, value)?;
        if n == p.default {
            self.values.remove(p.name);
        } else {
            self.values.insert(p.name.to_string(), n);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_take_numbers_and_durations_within_their_range_and_name_the_limit_otherwise() {
        let mut s = AlertSettings::default_for(AlertKind::TooManyGlobalAdmins);
        assert_eq!(s.get("globalAdminCountThreshold"), f::GLOBAL_ADMIN_COUNT.0);
        s.set("globaladmincountthreshold", &SettingValue::Text("5".into())).unwrap();
        assert_eq!(s.get("globalAdminCountThreshold"), 5);
        let e = s.set("globalAdminCountThreshold", &SettingValue::Int(1)).unwrap_err();
        assert!(e.message.contains("1 is out of range: the least is 2"), "{}", e.message);
        let e = s.set("percentageOfGlobalAdminsOutOfRolesThreshold", &SettingValue::Int(101)).unwrap_err();
        assert!(e.message.contains("101% is out of range: the most is 100%"), "{}", e.message);
        let e = s.set("duration", &SettingValue::Int(3)).unwrap_err();
        assert!(e.message.contains("has no setting 'duration'"), "{}", e.message);

        let mut s = AlertSettings::default_for(AlertKind::SequentialActivationRenewals);
        s.set("timeIntervalBetweenActivations", &SettingValue::Text("PT2H".into())).unwrap();
        assert_eq!(s.duration("timeIntervalBetweenActivations"), IsoDuration::from_hours(2));
        let e = s.set("timeIntervalBetweenActivations", &SettingValue::Text("PT30S".into())).unwrap_err();
        assert!(e.message.contains("not a whole number of minutes"), "{}", e.message);
        // Back to the default: nothing is kept.
        s.set("timeIntervalBetweenActivations", &SettingValue::Text("1h".into())).unwrap();
        assert!(s.values.is_empty());
    }
}
