//! Every choice `apply` makes where the EasyPIM reference says UNCONFIRMED (each one a row of the
//! README's fidelity table), in one place so that a better-informed reading changes one line.

/// PowerShell's JSON parser and trailing commas (reference §1): accepted, and reported.
pub const ACCEPT_TRAILING_COMMAS: bool = true;

/// Keys that differ only in case are refused (PowerShell 7's parser, reference §1).
pub const REFUSE_KEYS_DIFFERING_IN_CASE: bool = true;

/// Days in a year and in a month when an ISO 8601 `Y`/`M` duration becomes a fixed length
/// (.NET's conversion for the comparison with a policy maximum, reference §3.2; also Azure
/// policy durations, which pimlab stores as fixed lengths).
pub const DAYS_PER_YEAR: i64 = 365;
pub const DAYS_PER_MONTH: i64 = 30;

/// Notification levels accepted (the docs name `All` and `Critical`; Graph also has `None`).
pub const NOTIFICATION_LEVELS: [&str; 3] = ["All", "Critical", "None"];

/// The array form of `AzureRoles.Policies` is applied as the docs describe (reference §5.2).
pub const AZURE_POLICY_ARRAY_FORM: bool = true;

/// The justification an assignment gets when its entry gives none (the core makes up a text).
pub const DEFAULT_JUSTIFICATION: &str = "Assigned by the EasyPIM orchestrator";

/// How many WouldRemove entries the summary lists before "+N more" (reference §8.6).
pub const WOULD_REMOVE_LISTED: usize = 5;
