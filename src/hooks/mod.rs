//! The Lua host: the sandbox, policy hooks (`runner`), and the scenario runner. Only this module
//! touches mlua; scripts get values and a read-only view, never a database handle.

mod budget;
mod decision;
mod depth;
mod hints;
mod memory;
mod operations;
mod patterns;
pub mod properties;
pub mod runner;
pub mod sandbox;
pub mod scenario;
mod strings;

pub use runner::LuaHooks;
pub use sandbox::Limits;
