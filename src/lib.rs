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

/// Every program built on the library (the binary, its benches and tests) allocates through
/// mimalloc: a request makes and frees a few hundred small strings, rows and Lua values, and
/// glibc's allocator spent a fifth of a request's instructions on them (callgrind, the year
/// bench's working day). Declared here, not in `main.rs`, so the benches measure what ships.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
