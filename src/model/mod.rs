//! Plain data: ids, principals, roles, scopes, schedules, requests, policies. No I/O, no rules
//! beyond what a value must satisfy to exist.

pub mod alerts;
pub mod approval;
pub mod audit;
pub mod azure_role;
pub mod azure_roles;
pub mod azure_scope;
pub mod builtin_roles;
pub mod directory;
pub mod error;
pub mod fidelity;
pub mod group;
pub mod hint;
pub mod hook;
pub mod ids;
pub mod mail;
pub mod permissions;
pub mod policy;
pub mod progress;
pub mod property;
pub mod request;
pub mod time;

pub use directory::{DirectoryObject, PrincipalKind, RoleDefinition};
pub use error::{ApiError, ErrorCode, ErrorDetail, ErrorKind};
pub use fidelity::{FidelityProfile, FidelitySwitch};
pub use hint::Hint;
pub use progress::{NoProgress, Progress};
pub use request::*;
pub use time::{IsoDuration, Timestamp};
