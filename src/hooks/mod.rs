//! The Lua host: the sandbox, policy hooks (`runner`), and the scenario runner. Only this module
//! touches mlua; scripts get values and a read-only view, never a database handle.

mod decision;
mod hints;
mod operations;
pub mod runner;
pub mod sandbox;
pub mod scenario;

pub use runner::LuaHooks;
pub use sandbox::Limits;
