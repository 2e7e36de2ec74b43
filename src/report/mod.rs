//! Read-only reports over the engine: typed answers to questions about a tenant, which the
//! surfaces render (a table, or JSON). Nothing here writes to the store asked about or prints
//! (`replay` writes only to private in-memory forks of it).
//!
//! `who` (who holds a role at a time, and with `could` who could hold it without an
//! administrator's help) and `access` (the same from a principal's side) share one vocabulary,
//! [`Holder`]: a principal, the chain through which it holds the role, the window, and what
//! stands in the way. `activity` and `timeline` look back over a period of the store's history
//! (`history`): the first as numbers, the second as a picture (SVG or a self-contained HTML
//! page, as text the surface writes where the user asked).
//!
//! `check` (properties judged at every instant of the history, `instants`: the instants and what
//! happened at each) runs a property file's properties through `model::property`'s traits.
//!
//! `privilege_diff` compares two stores of one tenant (a store and its fork): every privilege
//! each holds at the same instants ([`holdings`], the same chains for the whole tenant), who gains
//! and who loses which, when, and the audit rows that explain it ([`diff_reasons`]).

mod access;
mod activity;
pub mod alerts;
mod chain;
mod check;
mod diff_reasons;
mod fuzzed;
mod gates;
mod history;
mod holdings;
mod instants;
mod privilege_diff;
pub mod replay;
pub mod timeline;
mod who;

pub use access::{AccessReport, access};
pub use activity::{ActivityReport, ActivityRow, GroupBy, Wait, activity};
pub use chain::{Chain, GroupLink, Holder, Holding, Membership, Named, Obstacle, ObstacleKind, When, Window};
pub use check::{Answer, CheckReport, PropertyResult, Status, check, judge_at};
pub use diff_reasons::{Reason, RequestFacts};
pub use fuzzed::{FuzzReport, FuzzStep, Violation};
pub use history::Period;
pub use holdings::Privilege;
pub use instants::{EVENTS_BEFORE, Event, Moment, history, leading_to};
pub use privilege_diff::{
    Change, DiffQuery, Direction, Over, PrivilegeDiff, Side, StoreFacts, Waiting, privilege_diff,
};
pub use replay::{ReplayQuery, ReplayReport, replay};
pub use timeline::{Timeline, TimelineQuery, timeline};
pub use who::{Place, WhoQuery, WhoReport, who};
