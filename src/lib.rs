//! pimlab: a local laboratory for Microsoft Entra Privileged Identity Management.
//!
//! Layers (see ARCHITECTURE.md): `model` (plain data) ← `store` (SQLite) ← `engine` (every
//! business rule) ← `api` (Graph surface and JSON shapes) ← `ops` (every command, typed) ←
//! `exchange` (import, export, EasyPIM configurations) ← `cli` (the terminal) and
//! `hooks::scenario` (Lua scripts); the engine reaches `hooks` only through its `HookRunner`
//! trait.

pub mod api;
pub mod cli;
pub mod engine;
pub mod exchange;
pub mod hooks;
pub mod model;
pub mod ops;
pub mod report;
pub mod serve;
pub mod store;
