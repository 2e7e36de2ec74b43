//! The lookups every alert shares over the facts read once: roles and whether they are
//! privileged, principals' names, which schedules are in effect, and who holds what (a group's
//! members hold what the group holds).

use std::collections::HashMap;

use super::{Fix, Named};
use crate::engine::AlertFacts;
use crate::model::time::format_timestamp;
use crate::model::{AssignmentType, PrincipalKind, RequestKind, RoleDefinition, Schedule};

pub(super) struct Tenant<'a> {
    pub f: &'a AlertFacts,
    roles: HashMap<&'a str, &'a RoleDefinition>,
}

/// A principal holding (or eligible for) a role, directly or through a group.
pub(super) struct Holding<'a> {
    pub principal: &'a str,
    pub schedule: &'a Schedule,
    /// The group the principal is a member of, which holds the role.
    pub via: Option<&'a str>,
}

impl<'a> Tenant<'a> {
    pub fn new(f: &'a AlertFacts) -> Self {
        Tenant { f, roles: f.roles.iter().map(|r| (r.id.as_str(), r)).collect() }
    }

    pub fn is_privileged(&self, role: &str) -> bool {
        self.roles.get(role).is_some_and(|r| r.is_privileged)
    }

    pub fn role(&self, id: &str) -> Named {
        Named { id: id.to_string(), name: self.role_name(id), user_principal_name: None }
    }

    pub fn role_name(&self, id: &str) -> String {
        self.roles.get(id).map_or_else(|| id.to_string(), |r| r.display_name.clone())
    }

    pub fn named(&self, id: &str) -> Named {
        match self.f.objects.get(id) {
            Some(o) => Named {
                id: o.id.clone(),
                name: o.display_name.clone(),
                user_principal_name: o.user_principal_name.clone(),
            },
            None => Named { id: id.to_string(), name: id.to_string(), user_principal_name: None },
        }
    }

    /// How a principal is named in a fix: a user by sign-in name, anything else by display name.
    pub fn principal_text(&self, id: &str) -> String {
        let n = self.named(id);
        n.user_principal_name.unwrap_or(n.name)
    }

    pub fn is_group(&self, id: &str) -> bool {
        self.f.objects.get(id).is_some_and(|o| o.kind == PrincipalKind::Group)
    }

    /// In effect at the tenant's clock (not one made for later).
    pub fn in_effect(&self, s: &Schedule) -> bool {
        s.is_active() && s.start() <= self.f.now && s.end_at.is_none_or(|e| e > self.f.now)
    }

    /// An activation: the eligibility it came from is the holding, not it.
    pub fn is_activation(s: &Schedule) -> bool {
        s.assignment_type == Some(AssignmentType::Activated) || s.activated_using.is_some()
    }

    /// Schedules in effect that give a role (eligibilities and assignments, not activations).
    pub fn grants(&self) -> impl Iterator<Item = &'a Schedule> + '_ {
        self.f.schedules.iter().filter(|s| self.in_effect(s) && !Self::is_activation(s))
    }

    /// Every principal holding or eligible for a role in effect, a group's members in its place.
    pub fn holdings(&self) -> Vec<Holding<'a>> {
        let mut out = Vec::new();
        for s in self.grants() {
            match self.f.group_members.get(&s.principal_id).filter(|_| self.is_group(&s.principal_id)) {
                Some(members) => out.extend(members.iter().map(|(m, _)| Holding {
                    principal: m,
                    schedule: s,
                    via: Some(&s.principal_id),
                })),
                None => out.push(Holding { principal: &s.principal_id, schedule: s, via: None }),
            }
        }
        out
    }

    pub fn scope(s: &Schedule) -> String {
        s.directory_scope_id.clone().or_else(|| s.app_scope_id.clone()).unwrap_or_else(|| "/".to_string())
    }

    /// What a holding is, in plain words: "eligible since X until Y", "active since X, no expiry",
    /// and the group it comes through.
    pub fn describe(&self, h: &Holding<'_>) -> String {
        let s = h.schedule;
        let what = match s.kind {
            RequestKind::Eligibility => "eligible",
            RequestKind::Assignment => "active",
        };
        let end =
            s.end_at.map_or_else(|| "no expiry".to_string(), |e| format!("until {}", format_timestamp(e)));
        let via = h.via.map_or_else(String::new, |g| format!(" through the group {}", self.named(g).name));
        format!("{what}{via} since {}, {end}", format_timestamp(s.start()))
    }

    /// The fix that takes the holding away: leave the group, remove the eligibility, remove the
    /// active assignment (one made outside PIM by its id).
    pub fn fix_for(&self, h: &Holding<'_>) -> Fix {
        let s = h.schedule;
        let (principal, role, scope) =
            (self.principal_text(h.principal), self.role_name(&s.role_definition_id), Self::scope(s));
        if let Some(g) = h.via {
            let outside = self
                .f
                .group_members
                .get(g)
                .is_some_and(|m| m.iter().any(|(id, outside)| id == h.principal && *outside));
            let group = self.named(g).name;
            return if outside {
                Fix::RemoveMembership { group, member: principal }
            } else {
                Fix::LeaveGroup { group, member: principal }
            };
        }
        match (s.kind, &s.created_using) {
            (RequestKind::Eligibility, _) => Fix::RemoveEligibility { principal, role, scope },
            (RequestKind::Assignment, None) => {
                Fix::ReplaceOutsideAssignment { assignment_id: s.instance_id.clone(), principal, role, scope }
            }
            (RequestKind::Assignment, Some(_)) => Fix::RemoveActive { principal, role, scope },
        }
    }
}
