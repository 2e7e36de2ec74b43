//! Every choice about PIM alerts that the references leave open, in one place (each is a row of
//! the README's fidelity table): default thresholds, their ranges, how far back activity is read,
//! and what stands in for a sign-in the store does not keep.

use crate::model::IsoDuration;

/// Too many Global Administrators: the count at or above which it fires (the portal's "minimum
/// number of Global Administrators"), 2 to 100.
pub const GLOBAL_ADMIN_COUNT: (i64, i64, i64) = (3, 2, 100);
/// ... and the share of all directory role assignments that are Global Administrator's, in
/// percent, at or above which it fires (both must hold), 0 to 100.
pub const GLOBAL_ADMIN_PERCENTAGE: (i64, i64, i64) = (10, 0, 100);
/// Too many privileged role holders (pimlab's own): distinct principals holding, or eligible
/// for, a privileged directory role, at or above which it fires.
pub const PRIVILEGED_HOLDER_COUNT: (i64, i64, i64) = (10, 1, 100_000);
/// Eligible administrators who do not activate: how long without an activation, 1 to 100 days.
pub const REDUNDANT_DAYS: (i64, i64, i64) = (30, 1, 100);
/// Roles activated too frequently: activations of one role by one principal within
/// `SEQUENTIAL_INTERVAL` at or above which it fires, 2 to 100.
pub const SEQUENTIAL_COUNT: (i64, i64, i64) = (2, 2, 100);
/// ... within this time (minutes: default one hour, from one minute to 30 days).
pub const SEQUENTIAL_INTERVAL_MINUTES: (i64, i64, i64) = (60, 1, 30 * 24 * 60);
/// How far back activations are read for sequential activations (the real alert's description
/// speaks of "the last 30 days").
pub const SEQUENTIAL_LOOKBACK: IsoDuration = IsoDuration::from_days(30);
/// Potential stale accounts: how long without a sign-in, 1 to 365 days.
pub const STALE_DAYS: (i64, i64, i64) = (30, 1, 365);
/// The store keeps no sign-ins. A principal's last sign-in is taken to be its last act in the
/// audit trail (it signed in to make a request, approve, assign...), or, never having acted, the
/// account's creation: a new account is not stale.
pub const STALE_PROXY: &str = "last act in the audit trail, else the account's creation";
/// A role is taken to require MFA on activation when its end-user enablement rule has
/// `MultiFactorAuthentication`, or when activation requires an authentication context (which a
/// Conditional Access policy backs with MFA).
pub const AUTH_CONTEXT_COUNTS_AS_MFA: bool = true;
/// Roles that do not require MFA are reported only when someone is eligible for them (only an
/// activation can skip MFA).
pub const NO_MFA_ONLY_WITH_ELIGIBLE: bool = true;
/// The refusal of an alert list without `$filter=scopeId eq '/' and scopeType eq 'DirectoryRole'`
/// (the documented requests carry it; the service's wording is not documented).
pub const LIST_FILTER_MISSING: &str = "The request requires a filter on scopeId and scopeType.";
/// pimlab's own alerts (too many privileged role holders, permanent active assignments) have no
/// Graph type: the Graph surface shows the real service's six alerts only.
pub const OWN_ALERTS_ON_GRAPH: bool = false;
