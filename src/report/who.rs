//! `who ROLE`: who holds a role at a scope at a time, and, asked so, who could hold it without an
//! administrator's help.

use serde::Serialize;

use super::chain::{Holder, Holding, Named, When};
use super::gates::Reader;
use crate::engine::Engine;
use crate::model::time::format_timestamp;
use crate::model::{ApiError, Surface, Timestamp};

/// Where the role is asked about.
#[derive(Debug, Clone, PartialEq)]
pub enum Place {
    /// A directory role at a directory scope (`/`, `/administrativeUnits/{id}`, `/{objectId}`),
    /// or at every scope (`None`).
    Directory(Option<String>),
    /// An Azure role at a scope of the estate (an ARM path).
    Azure(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct WhoQuery {
    /// The role: id or name.
    pub role: String,
    pub place: Place,
    /// Default: the tenant's clock.
    pub at: Option<Timestamp>,
    /// Also who is eligible (could hold the role by activating), with what stands in the way.
    pub could: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WhoReport {
    pub role: Named,
    /// `None`: every scope (a directory role asked about without one).
    pub scope: Option<String>,
    #[serde(serialize_with = "at")]
    pub at: Timestamp,
    pub when: When,
    pub could: bool,
    pub holders: Vec<Holder>,
}

fn at<S: serde::Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_timestamp(*t))
}

/// The scopes whose schedules give the role at the asked one, each with whether it lies above
/// (inherited), as lower-case keys for an Azure scope.
struct Covering {
    surface: Surface,
    scopes: Option<Vec<(String, bool)>>,
}

impl Covering {
    /// Whether a schedule made at `scope` gives the role here: `Some(inherited)`, or `None`.
    fn covers(&self, scope: &str) -> Option<bool> {
        let Some(scopes) = &self.scopes else { return Some(false) };
        let key = match self.surface {
            Surface::AzureResource => scope.to_ascii_lowercase(),
            _ => scope.to_string(),
        };
        scopes.iter().find(|(s, _)| *s == key).map(|(_, inherited)| *inherited)
    }
}

pub fn who(engine: &mut Engine, q: &WhoQuery) -> Result<WhoReport, ApiError> {
    let (role, scope, covering) = match &q.place {
        Place::Directory(scope) => {
            let role = engine.resolve_role(&q.role)?;
            // A role held tenant-wide is held at every administrative unit and object too.
            let scopes = scope.as_ref().map(|s| {
                let mut v = vec![(s.clone(), false)];
                if s != "/" {
                    v.push(("/".to_string(), true));
                }
                v
            });
            let role = Named { id: role.id, name: role.display_name };
            (role, scope.clone(), Covering { surface: Surface::Directory, scopes })
        }
        Place::Azure(path) => {
            let (role, _) = engine.azure_policy(path, &q.role)?;
            let (node, ancestors, _) = engine.azure_scope(path)?;
            let mut scopes = vec![(node.scope.key(), false)];
            scopes.extend(ancestors.iter().map(|a| (a.scope.key(), true)));
            let role = Named { id: role.id, name: role.display_name };
            let covering = Covering { surface: Surface::AzureResource, scopes: Some(scopes) };
            (role, Some(node.scope.path().to_string()), covering)
        }
    };
    let mut reader = Reader::new(engine, q.at)?;
    let at = reader.at;
    let mut holders = Vec::new();
    for s in reader.engine.schedules_covering(at, Some(&role.id), None)? {
        if s.surface != covering.surface {
            continue;
        }
        let made_at = s.directory_scope_id.as_deref().or(s.app_scope_id.as_deref()).unwrap_or("/");
        let Some(inherited) = covering.covers(made_at) else { continue };
        holders.extend(
            reader
                .holders_of(&s, &role, inherited)?
                .into_iter()
                .filter(|h| q.could || h.holds == Holding::Active),
        );
    }
    holders.sort_by(|a, b| (&a.principal.name, a.holds).cmp(&(&b.principal.name, b.holds)));
    let when = When::of(at, reader.now());
    Ok(WhoReport { role, scope, at, when, could: q.could, holders })
}
