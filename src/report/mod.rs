//! Read-only reports over the engine: typed answers to questions about a tenant, which the
//! surfaces render (a table, or JSON). Nothing here writes to the store or prints.
//!
//! `who` (who holds a role at a time, and with `could` who could hold it without an
//! administrator's help) and `access` (the same from a principal's side) share one vocabulary,
//! [`Holder`]: a principal, the chain through which it holds the role, the window, and what
//! stands in the way.
//!
//! `privilege_diff` compares two stores of one tenant (a store and its fork): every privilege
//! each holds at the same instants ([`holdings`], the same chains for the whole tenant), who gains
//! and who loses which, when, and the audit rows that explain it ([`diff_reasons`]).

mod access;
mod chain;
mod diff_reasons;
mod gates;
mod holdings;
mod privilege_diff;
mod who;

pub use access::{AccessReport, access};
pub use chain::{Chain, GroupLink, Holder, Holding, Membership, Named, Obstacle, ObstacleKind, When, Window};
pub use diff_reasons::{Reason, RequestFacts};
pub use holdings::Privilege;
pub use privilege_diff::{
    Change, DiffQuery, Direction, Period, PrivilegeDiff, Side, StoreFacts, Waiting, privilege_diff,
};
pub use who::{Place, WhoQuery, WhoReport, who};
