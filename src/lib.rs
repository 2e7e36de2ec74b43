//! pimlab: a local laboratory for Microsoft Entra Privileged Identity Management.
//!
//! Layers (see ARCHITECTURE.md): `model` (plain data) ← `store` (SQLite) ← `engine` (every
//! business rule) ← `api` (Graph surface) ← `cli` (the terminal).

pub mod api;
pub mod cli;
pub mod engine;
pub mod hooks;
pub mod model;
pub mod store;
