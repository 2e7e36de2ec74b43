//! Read-only views of the tenant for the surfaces (Graph router, CLI, scripts).

use std::collections::HashMap;
use std::sync::Arc;

use super::Engine;
use super::directory::{resolve_object, resolve_role, role_assignable_groups_of};
use crate::model::ErrorCode;
use crate::model::policy::Policy;
use crate::model::{
    ApiError, DirectoryObject, PrincipalKind, RequestKind, RoleDefinition, Schedule, ScheduleRequest, Status,
    Surface, Timestamp,
};
use crate::store::{AuditRecord, RequestQuery};

/// Narrowing for request listings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestFilter {
    pub kind: Option<RequestKind>,
    pub principal_id: Option<String>,
    pub role_definition_id: Option<String>,
    pub status: Option<Status>,
    pub created_by: Option<String>,
}

/// Narrowing for the audit trail.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditQuery {
    pub since: Option<Timestamp>,
    /// A principal by id, name or UPN: rows where it is the actor or a target.
    pub principal: Option<String>,
    /// A role by id or name: rows that target it.
    pub role: Option<String>,
}

/// An audit record and its actor's directory object (none for the service itself), shared by
/// every record of one listing that names the same actor.
pub type AuditedBy = (AuditRecord, Option<Arc<DirectoryObject>>);

impl Engine {
    pub fn requests(&mut self, f: &RequestFilter) -> Result<Vec<ScheduleRequest>, ApiError> {
        self.read(|tx, _| {
            Ok(tx.requests(&RequestQuery {
                kind: f.kind,
                principal_id: f.principal_id.as_deref(),
                role_definition_id: f.role_definition_id.as_deref(),
                status: f.status,
                created_by: f.created_by.as_deref(),
            })?)
        })
    }

    /// One request by id, of either kind unless `kind` is given.
    pub fn request(&mut self, id: &str, kind: Option<RequestKind>) -> Result<ScheduleRequest, ApiError> {
        self.read(|tx, _| {
            tx.request(id)?
                .filter(|q| kind.is_none_or(|k| k == q.kind))
                .ok_or_else(|| super::records::request_not_found(id))
        })
    }

    /// A request id as people type it: the whole id, any unique beginning of it (4 characters or
    /// more, as git takes commit ids), `last` for the newest request, or the name an ARM client
    /// PUT a request under. An id that matches nothing is returned as given, so that looking it up
    /// answers 404 as the service would.
    pub fn resolve_request_id(&mut self, text: &str) -> Result<String, ApiError> {
        let text = text.trim();
        self.lookup(|tx| {
            if text.eq_ignore_ascii_case("last") {
                return tx.newest_request_id()?.ok_or_else(|| {
                    ApiError::new(404, ErrorCode::RoleAssignmentRequestNotFound, "There are no requests yet.")
                });
            }
            if tx.request(text)?.is_none() {
                if let Some(id) = tx.request_id_by_client_name(text)? {
                    return Ok(id);
                }
            }
            let looks_like_prefix =
                text.len() >= 4 && text.len() < 36 && text.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
            if !looks_like_prefix || tx.request(text)?.is_some() {
                return Ok(text.to_string());
            }
            let matches = tx.request_ids_starting_with(text, 6)?;
            match matches.as_slice() {
                [] => Ok(text.to_string()),
                [one] => Ok(one.clone()),
                several => Err(ApiError::bad_request(
                    "id",
                    format!(
                        "'{text}' begins {} requests ({}{}); give more of the id",
                        if several.len() > 5 { "more than 5".to_string() } else { several.len().to_string() },
                        several.iter().take(5).cloned().collect::<Vec<_>>().join(", "),
                        if several.len() > 5 { ", ..." } else { "" }
                    ),
                )),
            }
        })
    }

    /// Current and future schedules of a kind.
    pub fn schedules(
        &mut self,
        kind: RequestKind,
        principal: Option<&str>,
        role: Option<&str>,
    ) -> Result<Vec<Schedule>, ApiError> {
        self.read(|tx, _| Ok(tx.live_schedules(kind, principal, role)?))
    }

    /// A live schedule by id.
    pub fn schedule(&mut self, kind: RequestKind, id: &str) -> Result<Option<Schedule>, ApiError> {
        self.read(|tx, _| {
            Ok(tx.schedule(id)?.filter(|s| s.kind == kind && s.state == crate::model::ScheduleState::Live))
        })
    }

    /// A schedule by id in any state (for `activatedUsing` and history).
    pub fn schedule_any(&mut self, id: &str) -> Result<Option<Schedule>, ApiError> {
        self.read(|tx, _| Ok(tx.schedule(id)?))
    }

    /// Schedules in effect now: the instances (and, for assignments, the role assignments).
    pub fn instances(
        &mut self,
        kind: RequestKind,
        principal: Option<&str>,
        role: Option<&str>,
    ) -> Result<Vec<Schedule>, ApiError> {
        self.read(|tx, _| {
            Ok(tx.live_schedules(kind, principal, role)?.into_iter().filter(|s| s.is_active()).collect())
        })
    }

    /// The schedule in effect whose instance (or role assignment) has this id.
    pub fn instance(&mut self, kind: RequestKind, id: &str) -> Result<Option<Schedule>, ApiError> {
        self.read(|tx, _| Ok(tx.active_schedule_by_instance(id)?.filter(|s| s.kind == kind)))
    }

    pub fn roles(&mut self) -> Result<Vec<RoleDefinition>, ApiError> {
        self.read(|tx, _| Ok(tx.roles()?))
    }

    /// A role by id, template id or display name.
    pub fn role(&mut self, text: &str) -> Result<RoleDefinition, ApiError> {
        self.resolve_role(text)
    }

    pub fn policies(&mut self, with_rules: bool) -> Result<Vec<Policy>, ApiError> {
        self.read(|tx, _| Ok(tx.policies(Surface::Directory.as_str(), with_rules)?))
    }

    pub fn policy(&mut self, id: &str) -> Result<Option<Policy>, ApiError> {
        self.read(|tx, _| Ok(tx.policy(id)?))
    }

    pub fn objects(&mut self, kind: PrincipalKind) -> Result<Vec<DirectoryObject>, ApiError> {
        self.read(|tx, _| Ok(tx.objects(kind)?))
    }

    pub fn object(&mut self, id: &str) -> Result<Option<DirectoryObject>, ApiError> {
        self.read(|tx, _| Ok(tx.object(id)?.map(std::rc::Rc::unwrap_or_clone)))
    }

    /// Direct members (or owners) of a group or unit.
    pub fn members(&mut self, container: &str, relation: &str) -> Result<Vec<DirectoryObject>, ApiError> {
        self.read(|tx, _| {
            let mut out = Vec::new();
            for id in tx.members(container, relation)? {
                if let Some(o) = tx.object(&id)? {
                    out.push(std::rc::Rc::unwrap_or_clone(o));
                }
            }
            Ok(out)
        })
    }

    /// The role-assignable groups a principal belongs to (for group-derived access).
    /// Every group `principal` is a member of (Azure RBAC counts any group).
    pub fn groups_of(&mut self, principal: &str) -> Result<Vec<String>, ApiError> {
        self.read(|tx, _| super::directory::user_groups_of(tx, principal))
    }

    pub fn role_assignable_groups_of(&mut self, principal: &str) -> Result<Vec<String>, ApiError> {
        self.read(|tx, _| role_assignable_groups_of(tx, principal))
    }

    pub fn audit(&mut self, q: &AuditQuery) -> Result<Vec<AuditRecord>, ApiError> {
        self.read(|tx, _| {
            let principal = match &q.principal {
                Some(p) => Some(resolve_object(tx, p, "Principal")?.id),
                None => None,
            };
            let role = match &q.role {
                Some(r) => Some(resolve_role(tx, r)?.id),
                None => None,
            };
            Ok(tx.audit_where(q.since, &mut |a| {
                principal.as_ref().is_none_or(|p| a.actor_id == *p || a.targets.iter().any(|t| t.id == *p))
                    && role.as_ref().is_none_or(|r| a.targets.iter().any(|t| t.id == *r))
            })?)
        })
    }

    /// [`Engine::audit`], each record with its actor's directory object (none for the service
    /// itself), as the surfaces show them. A year's trail names ten thousand actors nine million
    /// times: each is read once and shared by its records.
    pub fn audit_with_actors(&mut self, q: &AuditQuery) -> Result<Vec<AuditedBy>, ApiError> {
        let records = self.audit(q)?;
        let mut actors: HashMap<String, Option<Arc<DirectoryObject>>> = HashMap::new();
        let mut rows = Vec::with_capacity(records.len());
        for record in records {
            let actor = match actors.get(&record.actor_id) {
                Some(actor) => actor.clone(),
                None => {
                    let actor = self.object(&record.actor_id)?.map(Arc::new);
                    actors.insert(record.actor_id.clone(), actor.clone());
                    actor
                }
            };
            rows.push((record, actor));
        }
        Ok(rows)
    }
}

impl Engine {
    /// The notification outbox from `since`, for one recipient (by id, name or UPN) or everyone.
    pub fn notifications(
        &mut self,
        to: Option<&str>,
        since: Option<Timestamp>,
    ) -> Result<Vec<crate::model::approval::Notification>, ApiError> {
        self.read(|tx, _| {
            // A principal, or a plain address (rules and hooks may mail addresses outside the tenant).
            let (id, address) = match to {
                Some(p) => match resolve_object(tx, p, "Principal") {
                    Ok(o) => (Some(o.id), o.mail.or(o.user_principal_name)),
                    Err(_) if p.contains('@') => (None, Some(p.to_string())),
                    Err(e) => return Err(e),
                },
                None => (None, None),
            };
            Ok(tx
                .notifications(since)?
                .into_iter()
                .filter(|n| {
                    to.is_none()
                        || id
                            .as_ref()
                            .is_some_and(|id| n.recipient_ids.iter().any(|r| r.eq_ignore_ascii_case(id)))
                        || address
                            .as_ref()
                            .is_some_and(|a| n.recipients.iter().any(|r| r.eq_ignore_ascii_case(a)))
                })
                .collect())
        })
    }
}

impl Engine {
    /// Schedules of either kind, on every surface, whose window covers `at` (past: those that
    /// were in effect then, as long as the store keeps ended schedules; future: those already
    /// made), for a role, a principal or both. A future-dated update that has started by `at`
    /// hides the schedule it replaces.
    pub fn schedules_covering(
        &mut self,
        at: Timestamp,
        role: Option<&str>,
        principal: Option<&str>,
    ) -> Result<Vec<Schedule>, ApiError> {
        self.read(|tx, _| {
            let all = tx.schedules_covering(at, role, principal)?;
            let replaced: Vec<String> = all.iter().filter_map(|s| s.replaces.clone()).collect();
            Ok(all.into_iter().filter(|s| !replaced.contains(&s.id)).collect())
        })
    }

    /// Every schedule the store keeps, of any state, in start order: the history `check` walks.
    pub fn schedule_history(&mut self) -> Result<Vec<Schedule>, ApiError> {
        self.read(|tx, _| Ok(tx.all_schedules()?))
    }

    /// The instants in `(from, until]` at which a schedule starts or ends (see
    /// `Tx::schedule_boundaries`): where holdings can change.
    pub fn schedule_boundaries(
        &mut self,
        from: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<Timestamp>, ApiError> {
        self.read(|tx, _| Ok(tx.schedule_boundaries(from, until)?))
    }

    /// Who approves when a policy names no approvers: the Privileged Role Administrators and
    /// Global Administrators in effect now (ids).
    pub fn default_approvers(&mut self) -> Result<Vec<String>, ApiError> {
        self.read(|tx, _| super::approvals::default_approvers(tx))
    }
}
