//! The host's own work on a script's Lua state, done with the state's memory limit lifted.
//!
//! Under a memory limit, mlua makes every string and table inside a protected call, so that
//! running out raises a Lua error instead of aborting; that call cost more than the value it
//! made. Values the host builds from its own bounded data (a request's properties, `os.date`'s
//! table, a short capture) are made here instead.

use mlua::Lua;

/// Runs the host's own trusted work on the state (converting the engine's values into tables) with
/// the memory limit lifted, so mlua builds them without a protected call per value; the limit is
/// back before any script runs again. Never run a script's code inside, nor build anything whose
/// size a script chooses.
pub fn host_work<T>(lua: &Lua, work: impl FnOnce(&Lua) -> mlua::Result<T>) -> mlua::Result<T> {
    /// Puts the limit back however `work` ends (an error, a panic).
    struct Restore<'a>(&'a Lua, usize);
    impl Drop for Restore<'_> {
        fn drop(&mut self) {
            let _ = self.0.set_memory_limit(self.1);
        }
    }
    let _restore = Restore(lua, lua.set_memory_limit(0)?);
    work(lua)
}
