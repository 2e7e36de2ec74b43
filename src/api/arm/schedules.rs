//! Schedules, instances and role assignments of Azure roles over ARM (arm-pim reference §1.4-§1.7,
//! §1.10, §2.2, §2.3): read-only, listed at a scope with what was made there, above it (shown as
//! `memberType: Inherited`, their own `scope` kept) and below it, and filtered as ARM documents.

use super::{Call, list, views};
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
        match rest.as_slice() {
            [] => {
                let mut items = Vec::new();
                for s in &rows {
                    let Some(placement) = self.placement(s, &scope)? else { continue };
                    if self.passes(&terms, s, placement)? {
                        items.push(self.render_schedule(what, s, placement)?);
                    }
                }
                Ok(list(items))
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
                let placement = self.placement(s, &scope)?.ok_or_else(missing)?;
                Ok(Response::ok(self.render_schedule(what, s, placement)?))
            }
            _ => Err(ApiError::new(
                400,
                ErrorCode::InvalidResourceType,
                format!("'{}' is not a path here.", rest.join("/")),
            )),
        }
    }

    /// Where `s` sits against `scope` in the estate: at it, above it (it covers `scope`), below
    /// it, or neither (a sibling's).
    fn placement(&mut self, s: &Schedule, scope: &AzureScope) -> Result<Option<Placement>, ApiError> {
        let Some(own) = s.directory_scope_id.as_deref() else { return Ok(None) };
        let own = crate::engine::azure_scopes::parse_scope(own)?;
        if own.key() == scope.key() {
            return Ok(Some(Placement::At));
        }
        let chain = |call: &mut Self, of: &AzureScope| -> Result<Vec<String>, ApiError> {
            Ok(call.engine.azure_scope(of.path())?.1.iter().map(|n| n.scope.key()).collect())
        };
        if chain(self, scope)?.contains(&own.key()) {
            return Ok(Some(Placement::Above));
        }
        if chain(self, &own)?.contains(&scope.key()) {
            return Ok(Some(Placement::Below));
        }
        Ok(None)
    }

    fn passes(&mut self, terms: &[Term], s: &Schedule, placement: Placement) -> Result<bool, ApiError> {
        for term in terms {
            let ok = match term {
                Term::AtScope => placement != Placement::Below,
                Term::Principal(p) => s.principal_id.eq_ignore_ascii_case(p),
                Term::Role(r) => {
                    crate::model::azure_roles::role_guid(r).is_some_and(|g| g == s.role_definition_id)
                }
                Term::AssignedTo(p) => self.for_principal(s, p)?,
                Term::AsTarget => {
                    let caller = self.session.caller.clone();
                    self.for_principal(s, &caller)?
                }
            };
            if !ok {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Whether `s` is `principal`'s, directly or through a group it is in.
    fn for_principal(&mut self, s: &Schedule, principal: &str) -> Result<bool, ApiError> {
        if s.principal_id.eq_ignore_ascii_case(principal) {
            return Ok(true);
        }
        Ok(self.engine.groups_of(principal)?.iter().any(|g| g.eq_ignore_ascii_case(&s.principal_id)))
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
        Ok(match what {
            Collection::Schedules(_) => views::schedule(
                s,
                &node,
                principal.as_ref(),
                request_name.as_deref(),
                linked.as_deref(),
                inherited,
            ),
            Collection::Instances(_) => {
                views::instance(s, &node, principal.as_ref(), linked.as_deref(), inherited)
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
        ApiError::new(400, ErrorCode::InvalidFilter, format!("The filter '{text}' is not supported.")).with_detail(
            "InvalidFilter",
            "$filter",
            "schedules and instances filter on atScope(), principalId eq '...', assignedTo('...'), asTarget(), roleDefinitionId eq '...', joined with and",
        )
    };
    let quoted = |v: &str| -> Option<String> {
        let v = v.trim();
        v.strip_prefix('\'')
            .and_then(|v| v.strip_suffix('\''))
            .filter(|v| !v.contains('\''))
            .map(str::to_string)
    };
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
