//! The reading both reports share: a role's schedule turned into its holders (the principal
//! itself, or the members of the group it is on), each with its window and, for what must be
//! activated first, what stands in the way. Names, settings and hooks are looked up once per
//! report.

use std::collections::HashMap;

use super::chain::{Chain, GroupLink, Holder, Holding, Membership, Named, Obstacle, ObstacleKind, Window};
use crate::engine::Engine;
use crate::model::hook::Hook;
use crate::model::policy::{
    Approver, ENABLEMENT_END_USER_ASSIGNMENT, EXPIRATION_END_USER_ASSIGNMENT, Policy,
};
use crate::model::{ApiError, PrincipalKind, RequestKind, Schedule, ScheduleState, Surface, Timestamp};

/// The relationship PIM for Groups memberships are schedules of.
const MEMBER: &str = "member";

/// A report's view of the engine at one time, with what it has looked up so far.
pub(super) struct Reader<'e> {
    pub(super) engine: &'e mut Engine,
    pub(super) at: Timestamp,
    now: Timestamp,
    names: HashMap<String, Named>,
    roles: HashMap<String, Named>,
    policies: HashMap<(Surface, String, String), Policy>,
    hooks: Option<Vec<Hook>>,
    /// PIM for Groups membership schedules covering `at`, and those in effect now.
    memberships_at: Option<Vec<Schedule>>,
    memberships_now: Option<Vec<Schedule>>,
}

impl<'e> Reader<'e> {
    pub(super) fn new(engine: &'e mut Engine, at: Option<Timestamp>) -> Result<Reader<'e>, ApiError> {
        let now = engine.now()?;
        Ok(Reader {
            engine,
            at: at.unwrap_or(now),
            now,
            names: HashMap::new(),
            roles: HashMap::new(),
            policies: HashMap::new(),
            hooks: None,
            memberships_at: None,
            memberships_now: None,
        })
    }

    pub(super) fn now(&self) -> Timestamp {
        self.now
    }

    /// Reads at another time from now on, keeping the names, settings and hooks looked up.
    pub(super) fn move_to(&mut self, at: Timestamp) {
        self.at = at;
        self.memberships_at = None;
    }

    /// A directory object's name (a user's principal name when it has one), by id.
    pub(super) fn object(&mut self, id: &str) -> Result<Named, ApiError> {
        if let Some(n) = self.names.get(id) {
            return Ok(n.clone());
        }
        let name = match self.engine.object(id)? {
            Some(o) => o.user_principal_name.unwrap_or(o.display_name),
            None => id.to_string(),
        };
        let named = Named { id: id.to_string(), name };
        self.names.insert(id.to_string(), named.clone());
        Ok(named)
    }

    /// A role's name, by the id its schedules carry (a directory role or an Azure role).
    pub(super) fn role(&mut self, surface: Surface, id: &str) -> Result<Named, ApiError> {
        if let Some(n) = self.roles.get(id) {
            return Ok(n.clone());
        }
        let name = match surface {
            Surface::AzureResource => self.engine.azure_role(id)?.role_name,
            _ => self.engine.role(id)?.display_name,
        };
        let named = Named { id: id.to_string(), name };
        self.roles.insert(id.to_string(), named.clone());
        Ok(named)
    }

    fn memberships(&mut self, now: bool) -> Result<&[Schedule], ApiError> {
        let (slot, at) =
            if now { (&mut self.memberships_now, self.now) } else { (&mut self.memberships_at, self.at) };
        if slot.is_none() {
            let all = self.engine.schedules_covering(at, Some(MEMBER), None)?;
            *slot = Some(all.into_iter().filter(|s| s.surface == Surface::Group).collect());
        }
        Ok(slot.as_deref().unwrap_or_default())
    }

    /// The members of a group at the time: those added outside PIM (as they are now: the store
    /// keeps no history of them), and PIM for Groups memberships active or eligible then.
    pub(super) fn members_of(
        &mut self,
        group: &str,
    ) -> Result<Vec<(String, Membership, Option<Window>)>, ApiError> {
        let pim_now: Vec<String> = self
            .memberships(true)?
            .iter()
            .filter(|s| s.kind == RequestKind::Assignment && in_group(s, group))
            .map(|s| s.principal_id.clone())
            .collect();
        let mut out: Vec<(String, Membership, Option<Window>)> = self
            .engine
            .members(group, MEMBER)?
            .into_iter()
            .filter(|o| !pim_now.contains(&o.id))
            .map(|o| (o.id, Membership::Direct, None))
            .collect();
        for s in self.memberships(false)?.iter().filter(|s| in_group(s, group)) {
            out.push((s.principal_id.clone(), pim_membership(s), Some(window(s))));
        }
        Ok(out)
    }

    /// The groups a principal belongs to at the time, as [`Reader::members_of`] counts them;
    /// `own` are the principal's own schedules covering the time.
    pub(super) fn groups_of(
        &mut self,
        principal: &str,
        own: &[Schedule],
    ) -> Result<Vec<(String, Membership, Option<Window>)>, ApiError> {
        let pim_now: Vec<String> = self
            .memberships(true)?
            .iter()
            .filter(|s| s.kind == RequestKind::Assignment && s.principal_id.eq_ignore_ascii_case(principal))
            .filter_map(|s| s.directory_scope_id.clone())
            .collect();
        let mut out: Vec<(String, Membership, Option<Window>)> = self
            .engine
            .groups_of(principal)?
            .into_iter()
            .filter(|g| !pim_now.contains(g))
            .map(|g| (g, Membership::Direct, None))
            .collect();
        for s in own.iter().filter(|s| s.surface == Surface::Group && s.role_definition_id == MEMBER) {
            if let Some(g) = &s.directory_scope_id {
                out.push((g.clone(), pim_membership(s), Some(window(s))));
            }
        }
        Ok(out)
    }

    /// Whether a principal is a group (whose members hold what it holds).
    pub(super) fn is_group(&mut self, id: &str) -> Result<bool, ApiError> {
        Ok(self.engine.object(id)?.is_some_and(|o| o.kind == PrincipalKind::Group))
    }

    /// The holders a role's schedule `s` gives: its principal, or, when that is a group, each of
    /// the group's members at the time (a member that is itself a group is not followed further).
    pub(super) fn holders_of(
        &mut self,
        s: &Schedule,
        role: &Named,
        inherited: bool,
    ) -> Result<Vec<Holder>, ApiError> {
        if !self.is_group(&s.principal_id)? {
            let principal = self.object(&s.principal_id)?;
            return Ok(vec![self.holder(principal, role, s, inherited, None)?]);
        }
        let group = self.object(&s.principal_id)?;
        let mut out = Vec::new();
        for (member, membership, span) in self.members_of(&s.principal_id)? {
            if self.is_group(&member)? {
                continue;
            }
            let principal = self.object(&member)?;
            let link = GroupLink { group: group.clone(), membership };
            out.push(self.holder(principal, role, s, inherited, Some((link, span)))?);
        }
        Ok(out)
    }

    /// One holder of `role` through schedule `s` (and the group link, when there is one).
    pub(super) fn holder(
        &mut self,
        principal: Named,
        role: &Named,
        s: &Schedule,
        inherited: bool,
        link: Option<(GroupLink, Option<Window>)>,
    ) -> Result<Holder, ApiError> {
        let mut span = window(s);
        let mut obstacles = Vec::new();
        let mut membership_eligible = false;
        if let Some((link, membership_span)) = &link {
            if let Some(w) = membership_span {
                span = span.and(*w);
            }
            if link.membership == Membership::PimEligible {
                membership_eligible = true;
                obstacles.extend(self.obstacles("membership", Surface::Group, &link.group.id, MEMBER)?);
            }
        }
        let scope = s.directory_scope_id.clone().or_else(|| s.app_scope_id.clone()).unwrap_or_default();
        if s.kind == RequestKind::Eligibility {
            obstacles.extend(self.obstacles("role", s.surface, &scope, &s.role_definition_id)?);
        }
        let holds = if s.kind == RequestKind::Assignment && !membership_eligible {
            Holding::Active
        } else {
            Holding::Eligible
        };
        Ok(Holder {
            principal,
            role: role.clone(),
            holds,
            via: Chain {
                schedule_id: s.id.clone(),
                kind: s.kind.as_str(),
                assignment_type: s.assignment_type.map(|a| a.as_str()),
                scope,
                inherited,
                group: link.map(|(l, _)| l),
            },
            window: span,
            obstacles,
        })
    }

    fn policy(&mut self, surface: Surface, scope: &str, role: &str) -> Result<Policy, ApiError> {
        let key = (surface, scope.to_string(), role.to_string());
        if let Some(p) = self.policies.get(&key) {
            return Ok(p.clone());
        }
        let policy = match surface {
            Surface::Directory => self.engine.policy_for_role(role)?,
            Surface::AzureResource => self.engine.azure_policy(scope, role)?.1,
            Surface::Group => {
                let all = self.engine.group_policies(scope)?;
                all.into_iter()
                    .find(|p| p.role_definition_id.eq_ignore_ascii_case(role))
                    .ok_or_else(|| ApiError::internal(format!("group '{scope}' has no {role} policy")))?
            }
        };
        self.policies.insert(key, policy.clone());
        Ok(policy)
    }

    /// What an activation of `role` at `scope` meets, as its settings and hooks say now.
    fn obstacles(
        &mut self,
        on: &'static str,
        surface: Surface,
        scope: &str,
        role: &str,
    ) -> Result<Vec<Obstacle>, ApiError> {
        let policy = self.policy(surface, scope, role)?;
        let mut kinds = Vec::new();
        if let Some(rule) = policy.approval().filter(|r| r.setting.is_approval_required) {
            let named: Vec<&Approver> =
                rule.setting.approval_stages.iter().flat_map(|s| s.primary_approvers.iter()).collect();
            let default_approvers = named.is_empty();
            let mut approvers = Vec::new();
            for a in named {
                let mut who = self.object(a.object_id())?;
                if matches!(a, Approver::GroupMembers { .. }) {
                    who.name = format!("members of {}", who.name);
                }
                approvers.push(who);
            }
            if default_approvers {
                for id in self.engine.default_approvers()? {
                    approvers.push(self.object(&id)?);
                }
            }
            kinds.push(ObstacleKind::Approval { approvers, default_approvers });
        }
        if let Some(rule) = policy.enablement(ENABLEMENT_END_USER_ASSIGNMENT) {
            if rule.requires("MultiFactorAuthentication") {
                kinds.push(ObstacleKind::Mfa);
            }
            if rule.requires("Justification") {
                kinds.push(ObstacleKind::Justification);
            }
            if rule.requires("Ticketing") {
                kinds.push(ObstacleKind::Ticket);
            }
        }
        if let Some(rule) = policy.authentication_context().filter(|r| r.is_enabled) {
            kinds.push(ObstacleKind::AuthenticationContext {
                claim: rule.claim_value.clone().unwrap_or_default(),
            });
        }
        if let Some(rule) = policy.expiration(EXPIRATION_END_USER_ASSIGNMENT) {
            kinds.push(ObstacleKind::MaximumDuration { duration: rule.maximum_duration.to_string() });
        }
        if self.hooks.is_none() {
            self.hooks = Some(self.engine.hooks()?);
        }
        for h in self.hooks.iter().flatten().filter(|h| h.applies_to(role, scope)) {
            kinds.push(ObstacleKind::Hook { name: h.name.clone() });
        }
        Ok(kinds.into_iter().map(|kind| Obstacle { on, kind }).collect())
    }
}

fn in_group(s: &Schedule, group: &str) -> bool {
    s.directory_scope_id.as_deref().is_some_and(|g| g.eq_ignore_ascii_case(group))
}

fn pim_membership(s: &Schedule) -> Membership {
    match s.kind {
        RequestKind::Assignment => Membership::PimActive,
        RequestKind::Eligibility => Membership::PimEligible,
    }
}

/// When a schedule gives access: from its start to its end, or to when it ended early.
pub(super) fn window(s: &Schedule) -> Window {
    let ended = if s.state == ScheduleState::Live { None } else { s.ended_at };
    Window { start: s.start(), end: super::chain::earlier_end(s.end_at, ended) }
}
