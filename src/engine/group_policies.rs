//! A group's PIM settings (reference §6): its member and owner policies read (their defaults
//! until the group is onboarded), and changed by the group's administrators; the first change
//! onboards the group, which gives its policies their own ids.

use serde_json::Value;

use super::directory::resolve_object;
use super::group_access::{
    access, access_definition, governable_group, group_policy, group_policy_by_id, onboard,
};
use super::policies::{PolicyChange, apply_change};
use super::{Engine, Session};
use crate::model::group::GroupAccess;
use crate::model::policy::{Policy, PolicyRule};
use crate::model::{ApiError, DirectoryObject, ErrorCode, RoleDefinition};

impl Engine {
    /// A group PIM may govern, by id, or by name, and a relationship to it as a role definition.
    pub fn group_access(
        &mut self,
        group: &str,
        access_id: &str,
    ) -> Result<(DirectoryObject, RoleDefinition), ApiError> {
        self.lookup(|tx| {
            let named = resolve_object(tx, group, "Group")?;
            let group = governable_group(tx, &named.id)?;
            let definition = access_definition(access(access_id)?, &group);
            Ok((std::rc::Rc::unwrap_or_clone(group), definition))
        })
    }

    /// The member and owner policies of a group (by id), in that order.
    pub fn group_policies(&mut self, group_id: &str) -> Result<Vec<Policy>, ApiError> {
        self.read(|tx, _| {
            let group = governable_group(tx, group_id)?;
            GroupAccess::ALL.into_iter().map(|a| group_policy(tx, &group.id, a)).collect()
        })
    }

    /// One of a group's policies by its id (as it is before or after onboarding).
    pub fn group_policy_by_id(&mut self, id: &str) -> Result<Option<Policy>, ApiError> {
        self.read(|tx, _| group_policy_by_id(tx, id))
    }

    /// Changes a group's policy (named by id, as read before or after onboarding) with the
    /// portal's switches and raw rule patches, in one transaction; onboards the group first.
    /// Returns the rules that changed.
    pub fn change_group_policy(
        &mut self,
        session: &Session,
        policy_id: &str,
        change: &PolicyChange,
        patches: &[(String, Value)],
    ) -> Result<Vec<PolicyRule>, ApiError> {
        self.write(|tx, ctx| {
            let found = group_policy_by_id(tx, policy_id)?.ok_or_else(|| {
                ApiError::new(
                    404,
                    ErrorCode::ResourceNotFound,
                    format!("Policy '{policy_id}' does not exist."),
                )
            })?;
            let group = governable_group(tx, &found.scope_id)?;
            super::group_access::require_group_admin(tx, session, &group, "Changing PIM settings")?;
            let relation = access(&found.role_definition_id)?;
            onboard(tx, ctx, &group.id)?;
            let policy = group_policy(tx, &group.id, relation)?;
            apply_change(tx, ctx, session, policy, change, patches)
        })
    }
}
