//! `replay`: the backtest, as an operation. The changes (`--policy`, `--hook`) are made on the
//! replay's private fork by the same code as `policy set` and `hook add`, as the store's default
//! caller (its break-glass administrator); `report::replay` plays the history on it and beside
//! it, unchanged. The store itself is only read.

use super::replay_args::ReplayArgs;
use super::{Access, Outcome, read_file};
use crate::engine::{Engine, Session};
use crate::model::{ApiError, Progress};

/// The name the replay's hook is attached under on the fork.
const HOOK_NAME: &str = "replay";

pub fn replay(
    engine: &mut Engine,
    a: &ReplayArgs,
    access: Access,
    progress: &dyn Progress,
) -> Result<Outcome, ApiError> {
    let hook = match (&a.hook, &a.hook_source) {
        (Some(path), _) => Some(read_file(path, "hook", access)?),
        (None, source) => source.clone(),
    };
    let mut changes: Vec<String> = a.policies.iter().map(|p| p.text.clone()).collect();
    if hook.is_some() {
        let named = a.hook.as_ref().map_or("a hook".to_string(), |p| format!("hook {}", p.display()));
        changes.push(format!("{named}, for every role"));
    }
    let admin = Session::new(engine.default_caller()?);
    let mut change = |fork: &mut Engine| -> Result<(), ApiError> {
        for p in &a.policies {
            super::policy::set(fork, &admin, &p.args, access)
                .map_err(|e| e.during(&format!("changing the replay's policy \"{}\"", p.text)))?;
        }
        if let Some(source) = &hook {
            fork.add_hook(&admin, HOOK_NAME, source, None, None)
                .map_err(|e| e.during("attaching the replay's hook"))?;
        }
        Ok(())
    };
    let q = crate::report::ReplayQuery { since: a.since, changes };
    Ok(Outcome::Replay(crate::report::replay(engine, &q, &mut change, progress)?))
}
