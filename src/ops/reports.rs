//! The read-only reports (`who`, `access`): arguments resolved against the tenant, the answer
//! computed by `report`.

use super::{AccessArgs, Outcome, WhoArgs};
use crate::engine::Engine;
use crate::model::ApiError;
use crate::report::{Place, WhoQuery};

pub(super) fn who(engine: &mut Engine, a: &WhoArgs) -> Result<Outcome, ApiError> {
    let place = match &a.scope {
        None => Place::Directory(None),
        Some(text) => match super::azure_scope(engine, text)? {
            Some(path) => Place::Azure(path),
            None => Place::Directory(Some(super::scope(engine, text)?)),
        },
    };
    let q = WhoQuery { role: a.role.clone(), place, at: a.at, could: a.could };
    Ok(Outcome::Who(crate::report::who(engine, &q)?))
}

pub(super) fn access(engine: &mut Engine, a: &AccessArgs) -> Result<Outcome, ApiError> {
    Ok(Outcome::Access(crate::report::access(engine, &a.principal, a.at)?))
}
