//! Every privilege a whole tenant holds at one instant, with the chains that give it: the same
//! reading `who` and `access` make (a schedule turned into its holders by [`Reader`]), for every
//! role at once. A privilege diff compares two of these.
//!
//! A privilege is a principal holding a role at a scope, active or eligible. It is keyed where it
//! is granted: an Azure role granted at a subscription is one privilege (which the estate's
//! scopes below inherit), not one per scope below. A group holding a role is a holder itself,
//! and so is each of its members at the time (directly, or through PIM for Groups); a PIM for
//! Groups membership is a privilege too (role `member` or `owner`, scope the group).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::chain::{Chain, Holder, Holding, Named};
use super::gates::Reader;
use crate::model::{ApiError, Schedule, Surface};

/// A principal holding a role at a scope (where it was granted), active or eligible.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Privilege {
    pub principal: Named,
    pub role: Named,
    /// Where the role was granted: `/`, an administrative unit, an Azure scope (and everything
    /// below it), or the group of a PIM for Groups membership.
    pub scope: Named,
    pub holds: Holding,
}

/// How two stores' privileges are matched: by ids, whatever the names.
pub(super) type Key = (String, String, String, Holding);

impl Privilege {
    pub(super) fn key(&self) -> Key {
        (
            self.principal.id.to_ascii_lowercase(),
            self.role.id.to_ascii_lowercase(),
            self.scope.id.to_ascii_lowercase(),
            self.holds,
        )
    }
}

/// A privilege held at the instant, and every chain that gives it then.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Held {
    pub(super) privilege: Privilege,
    pub(super) via: Vec<Chain>,
}

/// Names of scopes, looked up once per report.
#[derive(Default)]
pub(super) struct ScopeNames(HashMap<String, Named>);

impl ScopeNames {
    fn named(&mut self, reader: &mut Reader<'_>, surface: Surface, scope: &str) -> Result<Named, ApiError> {
        if let Some(n) = self.0.get(scope) {
            return Ok(n.clone());
        }
        let name = match surface {
            Surface::AzureResource => match reader.engine.azure_scope(scope) {
                Ok((node, _, _)) => node.display_name,
                Err(_) => scope.to_string(),
            },
            Surface::Group => reader.object(scope)?.name,
            Surface::Directory => match crate::model::ids::scope_object_id(scope) {
                Some(id) => reader.object(id)?.name,
                None => scope.to_string(),
            },
        };
        let named = Named { id: scope.to_string(), name };
        self.0.insert(scope.to_string(), named.clone());
        Ok(named)
    }
}

/// Every privilege held at the reader's time, keyed by ids.
pub(super) fn holdings(
    reader: &mut Reader<'_>,
    scopes: &mut ScopeNames,
) -> Result<BTreeMap<Key, Held>, ApiError> {
    let mut out: BTreeMap<Key, Held> = BTreeMap::new();
    for s in reader.engine.schedules_covering(reader.at, None, None)? {
        let where_ = s.directory_scope_id.as_deref().or(s.app_scope_id.as_deref()).unwrap_or("/").to_string();
        let scope = scopes.named(reader, s.surface, &where_)?;
        for h in holders(reader, &s)? {
            let privilege =
                Privilege { principal: h.principal, role: h.role, scope: scope.clone(), holds: h.holds };
            let held = out.entry(privilege.key()).or_insert_with(|| Held { privilege, via: Vec::new() });
            if !held.via.contains(&h.via) {
                held.via.push(h.via);
            }
        }
    }
    Ok(out)
}

/// The holders one schedule gives at the reader's time: its principal (a group too), and a
/// group's members.
fn holders(reader: &mut Reader<'_>, s: &Schedule) -> Result<Vec<Holder>, ApiError> {
    let role = match s.surface {
        // A PIM for Groups relationship is named by itself (`member`, `owner`); its group is the scope.
        Surface::Group => Named { id: s.role_definition_id.clone(), name: s.role_definition_id.clone() },
        surface => reader.role(surface, &s.role_definition_id)?,
    };
    let principal = reader.object(&s.principal_id)?;
    let itself = reader.holder(principal, &role, s, false, None)?;
    if s.surface == Surface::Group || !reader.is_group(&s.principal_id)? {
        return Ok(vec![itself]);
    }
    let mut out = vec![itself];
    out.extend(reader.holders_of(s, &role, false)?);
    Ok(out)
}
