//! Read-only reports over the engine: typed answers to questions about a tenant, which the
//! surfaces render (a table, or JSON). Nothing here writes to the store or prints.
//!
//! `who` (who holds a role at a time, and with `could` who could hold it without an
//! administrator's help) and `access` (the same from a principal's side) share one vocabulary,
//! [`Holder`]: a principal, the chain through which it holds the role, the window, and what
//! stands in the way.
//!
//! `check` (properties judged at every instant of the history, `history`: the instants and what
//! happened at each) runs a property file's properties through `model::property`'s traits.

mod access;
mod chain;
mod check;
mod fuzzed;
mod gates;
mod history;
mod who;

pub use access::{AccessReport, access};
pub use chain::{Chain, GroupLink, Holder, Holding, Membership, Named, Obstacle, ObstacleKind, When, Window};
pub use check::{Answer, CheckReport, PropertyResult, Status, check, judge_at};
pub use fuzzed::{FuzzReport, FuzzStep, Violation};
pub use history::{EVENTS_BEFORE, Event, Moment, history, leading_to};
pub use who::{Place, WhoQuery, WhoReport, who};
