//! `check PROPS.lua`: the property file read (where the surface may read files), loaded by the
//! Lua host, and judged by `report::check`; a property's questions answered by the same
//! operations a script's `pim.who`, `pim.access` and `pim.request` run.

use serde_json::Value;

use super::{AccessArgs, CheckArgs, IdArgs, Operation, Outcome, RequestAction, WhoArgs};
use crate::engine::{Engine, Session};
use crate::model::property::{Judge, Question};
use crate::model::{ApiError, Timestamp};

pub(super) fn check(
    engine: &mut Engine,
    session: &Session,
    a: &CheckArgs,
    access: super::Access,
) -> Result<Outcome, ApiError> {
    let (file, judge) = load(engine, &a.props, &a.source, access)?;
    let mut answer = |engine: &mut Engine, at, q: &Question| answer(engine, session, at, q);
    Ok(Outcome::Check(crate::report::check(engine, judge.as_ref(), &file, &mut answer)?))
}

/// Loads the properties, given as text (scripts) or read from their file (the command line): the
/// name messages give them, and the loaded properties.
pub(super) fn load(
    engine: &mut Engine,
    path: &Option<std::path::PathBuf>,
    source: &Option<String>,
    access: super::Access,
) -> Result<(String, Box<dyn Judge>), ApiError> {
    let (file, source) = match (source, path) {
        (Some(text), _) => ("properties".to_string(), text.clone()),
        (None, Some(path)) => (
            path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().to_string()),
            super::read_file(path, "property", access)?,
        ),
        (None, None) => {
            return Err(ApiError::usage("give the properties: a Lua file (or, from a script, `source`)"));
        }
    };
    let judge = engine.properties(&file, &source)?;
    Ok((file, judge))
}

/// A property's question at `at`, answered as the script's `pim` call answers it (JSON).
pub(super) fn answer(
    engine: &mut Engine,
    session: &Session,
    at: Timestamp,
    q: &Question,
) -> Result<Value, ApiError> {
    let op = match q {
        Question::Who { role, scope, could } => {
            Operation::Who(WhoArgs { role: role.clone(), scope: scope.clone(), at: Some(at), could: *could })
        }
        Question::Access { principal } => {
            Operation::Access(AccessArgs { principal: principal.clone(), at: Some(at) })
        }
        Question::Request { id } => {
            Operation::Request { action: RequestAction::Show(IdArgs { id: id.clone() }) }
        }
    };
    Ok(super::run(engine, session, &op, super::Access::SCRIPT)?.to_json())
}
