//! `access PRINCIPAL`: every role a principal holds or could hold at a time, through the same
//! chains `who` follows (directly, or through the groups it belongs to then).

use serde::Serialize;

use super::chain::{GroupLink, Holder, Named, When};
use super::gates::Reader;
use crate::engine::Engine;
use crate::model::time::format_timestamp;
use crate::model::{ApiError, Surface, Timestamp};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessReport {
    pub principal: Named,
    #[serde(serialize_with = "at")]
    pub at: Timestamp,
    pub when: When,
    /// Active and eligible, by role name.
    pub holdings: Vec<Holder>,
}

fn at<S: serde::Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_timestamp(*t))
}

pub fn access(engine: &mut Engine, principal: &str, at: Option<Timestamp>) -> Result<AccessReport, ApiError> {
    let id = engine.resolve_object(principal)?.id;
    let mut reader = Reader::new(engine, at)?;
    let at = reader.at;
    let who = reader.object(&id)?;
    let own = reader.engine.schedules_covering(at, None, Some(&id))?;
    let mut holdings = Vec::new();
    for s in own.iter().filter(|s| s.surface != Surface::Group) {
        let role = reader.role(s.surface, &s.role_definition_id)?;
        holdings.push(reader.holder(who.clone(), &role, s, false, None)?);
    }
    for (group, membership, span) in reader.groups_of(&id, &own)? {
        let group = reader.object(&group)?;
        for s in reader.engine.schedules_covering(at, None, Some(&group.id))? {
            if s.surface == Surface::Group {
                continue;
            }
            let role = reader.role(s.surface, &s.role_definition_id)?;
            let link = GroupLink { group: group.clone(), membership };
            holdings.push(reader.holder(who.clone(), &role, &s, false, Some((link, span)))?);
        }
    }
    holdings
        .sort_by(|a, b| (&a.role.name, a.holds, &a.via.scope).cmp(&(&b.role.name, b.holds, &b.via.scope)));
    let when = When::of(at, reader.now());
    Ok(AccessReport { principal: who, at, when, holdings })
}
