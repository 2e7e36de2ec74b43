//! The read-only reports (`who`, `access`, `report activity`, `timeline`): arguments resolved
//! against the tenant, the answer computed by `report`. A timeline is the one report written to
//! a file the user names (`--out`), here, where [`Access`] says whether the surface may.

use super::{Access, AccessArgs, ActivityArgs, ActivityBy, Outcome, PictureFormat, TimelineArgs, WhoArgs};
use crate::engine::Engine;
use crate::model::ApiError;
use crate::report::timeline::{html, svg};
use crate::report::{GroupBy, Place, TimelineQuery, WhoQuery};

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

pub(super) fn activity(engine: &mut Engine, a: &ActivityArgs) -> Result<Outcome, ApiError> {
    let by = match a.by {
        ActivityBy::Role => GroupBy::Role,
        ActivityBy::Principal => GroupBy::Principal,
        ActivityBy::Day => GroupBy::Day,
    };
    let report = crate::report::activity(engine, a.period.since, a.period.until, by)?;
    Ok(Outcome::Activity { report, format: a.format })
}

/// `timeline`: written to `--out` where the surface may write files; a script gets the SVG back.
pub(super) fn timeline(engine: &mut Engine, a: &TimelineArgs, access: Access) -> Result<Outcome, ApiError> {
    // Everything about the file is checked before any work is done.
    let format = a.out.as_deref().map(PictureFormat::of).transpose()?;
    if let (Some(path), false) = (&a.out, access.write_files) {
        return Err(ApiError::usage(format!(
            "scripts cannot write files ('{}'); leave out `out` and the timeline's SVG comes back as text",
            path.display()
        )));
    }
    let q = TimelineQuery {
        role: a.role.clone(),
        principal: a.principal.clone(),
        since: a.period.since,
        until: a.period.until,
    };
    let timeline = crate::report::timeline(engine, &q)?;
    let format = format.unwrap_or(PictureFormat::Svg);
    let text = match format {
        PictureFormat::Svg => svg::write(&timeline),
        PictureFormat::Html => html::write(&timeline),
    };
    match &a.out {
        Some(path) => {
            std::fs::write(path, text)
                .map_err(|e| ApiError::usage(format!("'{}': cannot be written: {e}", path.display())))?;
            Ok(Outcome::Timeline { timeline, format, written: Some(path.clone()), picture: None })
        }
        None => Ok(Outcome::Timeline { timeline, format, written: None, picture: Some(text) }),
    }
}
