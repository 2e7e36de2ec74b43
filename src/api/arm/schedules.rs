//! Schedules, instances and role assignments of Azure roles over ARM (arm-pim reference §1.4-§1.7,
//! §1.10, §2.2, §2.3): read-only, listed at a scope with what was made there, above it (shown as
//! `memberType: Inherited`, their own `scope` kept) and below it, and filtered as ARM documents.

use std::collections::HashMap;

use super::{Call, views};
use crate::api::response::Response;
use crate::model::azure_scope::AzureScope;
use crate::model::{ApiError, ErrorCode, RequestKind, Schedule, Surface};

/// Which of the read-only collections a call is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Collection {
    Schedules(RequestKind),
    Instances(RequestKind),
    RoleAssignments,
}

/// Where a schedule's scope sits against the scope a list is made at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Placement {
    At,
    Above,
    Below,
}

/// Places schedules (and requests) against the scope a list is made at, reading the estate once
/// per scope: the listed scope's ancestry up front, each other scope's when first met.
pub(super) struct Placer {
    at: String,
    above: Vec<String>,
    ancestry: HashMap<String, Vec<String>>,
}

impl Placer {
    pub(super) fn new(call: &mut Call<'_>, scope: &AzureScope) -> Result<Placer, ApiError> {
        let above = call.engine.azure_scope(scope.path())?.1.iter().map(|n| n.scope.key()).collect();
        Ok(Placer { at: scope.key(), above, ancestry: HashMap::new() })
    }

    /// Where `s` sits: at the listed scope, above it (it covers it), below it, or neither (a
    /// sibling's).
    fn place(&mut self, call: &mut Call<'_>, s: &Schedule) -> Result<Option<Placement>, ApiError> {
        self.place_path(call, s.directory_scope_id.as_deref())
    }

    /// Where something made at `own` sits, as [`Placer::place`] says.
    pub(super) fn place_path(
        &mut self,
        call: &mut Call<'_>,
        own: Option<&str>,
    ) -> Result<Option<Placement>, ApiError> {
        let Some(own) = own else { return Ok(None) };
        let own = crate::engine::azure_scopes::parse_scope(own)?;
        let key = own.key();
        if key == self.at {
            return Ok(Some(Placement::At));
        }
        if self.above.contains(&key) {
            return Ok(Some(Placement::Above));
        }
        if !self.ancestry.contains_key(&key) {
            let chain = call.engine.azure_scope(own.path())?.1.iter().map(|n| n.scope.key()).collect();
            self.ancestry.insert(key.clone(), chain);
        }
        Ok(self.ancestry[&key].contains(&self.at).then_some(Placement::Below))
    }
}

/// One term of a `$filter`.
enum Term {
    AtScope,
    Principal(String),
    AssignedTo(String),
    AsTarget,
    Role(String),
}

impl Call<'_> {
    pub(super) fn read_only(&mut self, what: Collection) -> Result<Response, ApiError> {
        let scope = self.scope.clone().ok_or_else(|| {
            ApiError::new(400, ErrorCode::InvalidResourceType, "Azure role schedules are listed at a scope.")
        })?;
        self.require_method(&["GET"])?;
        let kind = match what {
            Collection::Schedules(k) | Collection::Instances(k) => k,
            Collection::RoleAssignments => RequestKind::Assignment,
        };
        let in_effect = !matches!(what, Collection::Schedules(_));
        let terms = parse_filter(self.filter.as_deref())?;
        let rows: Vec<Schedule> = self
            .engine
            .schedules(kind, None, None)?
            .into_iter()
            .filter(|s| s.surface == Surface::AzureResource && (!in_effect || s.is_active()))
            .collect();
        let rest = self.rest.clone();
        let mut placer = Placer::new(self, &scope)?;
        match rest.as_slice() {
            [] => {
                self.require_read(terms.iter().any(|t| matches!(t, Term::AsTarget)))?;
                let groups = self.groups_for(&terms)?;
                let mut items = Vec::new();
                for s in &rows {
                    let Some(placement) = placer.place(self, s)? else { continue };
                    if self.passes(&terms, &groups, s, placement) {
                        items.push(self.render_schedule(what, s, placement)?);
                    }
                }
                Ok(self.list(items))
            }
            [name] => {
                let found = rows.iter().find(|s| {
                    let id = if matches!(what, Collection::Schedules(_)) { &s.id } else { &s.instance_id };
                    id.eq_ignore_ascii_case(name)
                });
                let resource_type = self.resource_type;
                let missing = || {
                    ApiError::new(
                        404,
                        ErrorCode::ResourceNotFound,
                        format!("The {resource_type} '{name}' could not be found at {scope}."),
                    )
                };
                let s = found.ok_or_else(missing)?;
                let placement = placer.place(self, s)?.ok_or_else(missing)?;
                let own = self.engine.is_callers(self.session, &s.principal_id)?;
                self.require_read(own)?;
                Ok(Response::ok(self.render_schedule(what, s, placement)?))
            }
            _ => Err(ApiError::new(
                400,
                ErrorCode::InvalidResourceType,
                format!("'{}' is not a path here.", rest.join("/")),
            )),
        }
    }

    /// The groups of the principals the filter's terms ask about (`assignedTo`, `asTarget`), read
    /// once for the whole list.
    fn groups_for(&mut self, terms: &[Term]) -> Result<HashMap<String, Vec<String>>, ApiError> {
        let mut groups = HashMap::new();
        for term in terms {
            let who = match term {
                Term::AssignedTo(p) => p.clone(),
                Term::AsTarget => self.session.caller.clone(),
                _ => continue,
            };
            if let std::collections::hash_map::Entry::Vacant(slot) = groups.entry(who) {
                let of = self.engine.groups_of(slot.key())?;
                slot.insert(of);
            }
        }
        Ok(groups)
    }

    fn passes(
        &self,
        terms: &[Term],
        groups: &HashMap<String, Vec<String>>,
        s: &Schedule,
        placement: Placement,
    ) -> bool {
        // Whether `s` is `principal`'s, directly or through a group it is in.
        let for_principal = |principal: &str| {
            s.principal_id.eq_ignore_ascii_case(principal)
                || groups
                    .get(principal)
                    .is_some_and(|g| g.iter().any(|g| g.eq_ignore_ascii_case(&s.principal_id)))
        };
        terms.iter().all(|term| match term {
            Term::AtScope => placement != Placement::Below,
            Term::Principal(p) => s.principal_id.eq_ignore_ascii_case(p),
            Term::Role(r) => {
                crate::model::azure_roles::role_guid(r).is_some_and(|g| g == s.role_definition_id)
            }
            Term::AssignedTo(p) => for_principal(p),
            Term::AsTarget => for_principal(&self.session.caller),
        })
    }

    fn render_schedule(
        &mut self,
        what: Collection,
        s: &Schedule,
        placement: Placement,
    ) -> Result<serde_json::Value, ApiError> {
        let own =
            crate::engine::azure_scopes::parse_scope(s.directory_scope_id.as_deref().unwrap_or_default())?;
        let node = self.engine.azure_scope_at(&own)?;
        let principal = self.engine.object(&s.principal_id)?;
        let request_name = match &s.created_using {
            Some(id) => Some(self.engine.request_client_name(id)?.unwrap_or_else(|| id.clone())),
            None => None,
        };
        let inherited = placement == Placement::Above;
        // An activation's eligibility may sit higher up the tree: its id names its own scope.
        let linked = match &s.activated_using {
            Some(id) => self.engine.schedule_any(id)?.map(|e| {
                format!(
                    "{}/providers/Microsoft.Authorization/roleEligibilitySchedules/{}",
                    e.directory_scope_id.unwrap_or_default(),
                    e.id
                )
            }),
            None => None,
        };
        let role = self.engine.azure_role(&s.role_definition_id).ok();
        Ok(match what {
            Collection::Schedules(_) => views::schedule(
                s,
                &node,
                principal.as_ref(),
                role.as_ref(),
                request_name.as_deref(),
                linked.as_deref(),
                inherited,
            ),
            Collection::Instances(_) => {
                views::instance(s, &node, principal.as_ref(), role.as_ref(), linked.as_deref(), inherited)
            }
            Collection::RoleAssignments => views::role_assignment(s, &node, principal.as_ref()),
        })
    }
}

/// `atScope()`, `principalId eq '...'`, `assignedTo('...')`, `asTarget()`, `roleDefinitionId eq
/// '...'`, joined with `and` (arm-pim §2.3); anything else is refused, naming what is taken.
fn parse_filter(filter: Option<&str>) -> Result<Vec<Term>, ApiError> {
    let Some(text) = filter.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(Vec::new());
    };
    let refused = || {
        super::unsupported_filter(
            text,
            "schedules and instances filter on atScope(), principalId eq '...', assignedTo('...'), asTarget(), roleDefinitionId eq '...', joined with and",
        )
    };
    // One literal per term: a quote inside it would be another term's.
    let quoted = |v: &str| super::quoted(v).filter(|v| !v.contains('\'')).map(str::to_string);
    let mut terms = Vec::new();
    let lower = text.to_ascii_lowercase();
    let mut rest = text;
    let mut rest_lower = lower.as_str();
    loop {
        let (term, term_lower, more) = match rest_lower.find(" and ") {
            Some(i) => (&rest[..i], &rest_lower[..i], Some(i + 5)),
            None => (rest, rest_lower, None),
        };
        let term = term.trim().trim_start_matches('(').trim_end_matches(')').trim();
        let term_lower = term_lower.trim().trim_start_matches('(').trim_end_matches(')').trim();
        terms.push(match term_lower {
            "atscope(" | "atscope()" => Term::AtScope,
            "astarget(" | "astarget()" => Term::AsTarget,
            t if t.starts_with("assignedto(") => {
                let inner = term["assignedTo(".len()..].trim_end_matches(')');
                Term::AssignedTo(quoted(inner).ok_or_else(refused)?)
            }
            t if t.starts_with("principalid eq ") => {
                Term::Principal(quoted(&term["principalId eq ".len()..]).ok_or_else(refused)?)
            }
            t if t.starts_with("roledefinitionid eq ") => {
                Term::Role(quoted(&term["roleDefinitionId eq ".len()..]).ok_or_else(refused)?)
            }
            _ => return Err(refused()),
        });
        match more {
            Some(i) => {
                rest = &rest[i..];
                rest_lower = &rest_lower[i..];
            }
            None => return Ok(terms),
        }
    }
}
