//! The shared test harness. Every test file of `tests/it` drives pimlab through one of these:
//!
//! - [`cli`]: the `pimlab` binary on a store file in a temporary directory ([`cli::Lab`]), and
//!   what a finished process printed ([`cli::Run`] and its assertions);
//! - [`graph`]: Microsoft Graph calls through the router, `pimlab::api::graph::handle`, on a
//!   tenant in memory or in a store file ([`graph::Lab`]), and the checks of its error envelope;
//! - [`repl`]: lines piped into the binary's REPL ([`repl::Lab`]);
//! - [`store`]: a tenant in a store file for engine tests ([`store::FileTenant`]), and what
//!   "unchanged" means for a store ([`store::logical_dump`]);
//! - [`engine`]: request builders for the engine's own API;
//! - [`docs`]: the Markdown code blocks of README.md and docs/, and the runner of their shell
//!   examples;
//! - [`source`]: the crate's own Rust source as tokens, for the architecture checks.
//!
//! Seeds and clocks are pinned everywhere, so ids and times are the same on every run.

#![allow(dead_code)]

pub mod cli;
pub mod docs;
pub mod engine;
pub mod graph;
pub mod repl;
pub mod source;
pub mod store;

use std::path::PathBuf;

use serde_json::Value;

/// The simulated clock every tenant starts at unless a test says otherwise (a Monday).
pub const AT: &str = "2025-01-06T09:00:00Z";

// Built-in role template ids (reference §4.3), written out here rather than taken from the code
// under test.
pub const GLOBAL_ADMIN: &str = "62e90394-69f5-4237-9190-012177145e10";
pub const PRIV_ROLE_ADMIN: &str = "e8611ab8-c189-46e8-94e1-60213ab1f814";
pub const SECURITY_ADMIN: &str = "194ae4cb-b126-40b2-bd5b-6091b380977d";
pub const GLOBAL_READER: &str = "f2ef992c-3afb-46b9-b7cf-a126ee74c451";
pub const USER_ADMIN: &str = "fe930be7-5e62-47db-91af-98c3a49a38b1";
pub const HELPDESK_ADMIN: &str = "729827e3-9c14-49f7-bb1b-9608f156bbb8";
pub const SECURITY_READER: &str = "5d6b6bb7-de71-4623-b4af-96380a352509";
pub const REPORTS_READER: &str = "4a5d8f65-41da-4de4-8968-e035b65339cf";
pub const DIRECTORY_READERS: &str = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b";
pub const GROUPS_ADMIN: &str = "fdd7a751-b60b-444a-984c-02652fe8fa1c";

/// The repository (where `scripts/`, `docs/` and `src/` are).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A JSON string value as a `String`; panics on anything else.
#[track_caller]
pub fn s(v: &Value) -> String {
    v.as_str().unwrap_or_else(|| panic!("expected a string, got {v}")).to_string()
}

/// The `id` of each object.
#[track_caller]
pub fn ids(items: &[Value]) -> Vec<String> {
    items.iter().map(|i| s(&i["id"])).collect()
}
