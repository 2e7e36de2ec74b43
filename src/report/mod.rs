//! Read-only reports over the engine: typed answers to questions about a tenant, which the
//! surfaces render (a table, or JSON). Nothing here writes to the store asked about or prints
//! (`replay` writes only to private in-memory forks of it).
//!
//! `who` (who holds a role at a time, and with `could` who could hold it without an
//! administrator's help) and `access` (the same from a principal's side) share one vocabulary,
//! [`Holder`]: a principal, the chain through which it holds the role, the window, and what
//! stands in the way.

mod access;
mod chain;
mod gates;
pub mod replay;
mod who;

pub use access::{AccessReport, access};
pub use chain::{Chain, GroupLink, Holder, Holding, Membership, Named, Obstacle, ObstacleKind, When, Window};
pub use replay::{ReplayQuery, ReplayReport, replay};
pub use who::{Place, WhoQuery, WhoReport, who};
