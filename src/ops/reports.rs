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
    let directory = matches!(place, Place::Directory(_));
    let q = WhoQuery { role: a.role.clone(), place, at: a.at, could: a.could };
    match crate::report::who(engine, &q) {
        // An Azure role asked about without an Azure scope: say where it lives.
        Err(e) if directory && engine.azure_role(&a.role).is_ok() => Err(e.with_detail(
            "AzureRoleNeedsScope",
            "scope",
            format!(
                "'{}' is an Azure role: give --scope, a management group, subscription, resource group or resource",
                a.role
            ),
        )),
        answer => Ok(Outcome::Who(answer?)),
    }
}

pub(super) fn access(engine: &mut Engine, a: &AccessArgs) -> Result<Outcome, ApiError> {
    Ok(Outcome::Access(crate::report::access(engine, &a.principal, a.at)?))
}
