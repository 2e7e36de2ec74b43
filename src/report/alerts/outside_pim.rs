//! Roles assigned outside PIM: privileged role assignments made directly (no request created
//! them), and members added directly (not through PIM for Groups) to a group that holds a
//! privileged role.

use std::collections::BTreeSet;

use super::tenant::Tenant;
use super::{Fix, Found, Incident};
use crate::model::RequestKind;
use crate::model::ids::derived_guid;
use crate::model::time::format_timestamp;

pub(super) fn found(t: &Tenant<'_>) -> Found {
    let mut incidents = Vec::new();
    let mut seen = BTreeSet::new();
    for s in t.grants().filter(|s| t.is_privileged(&s.role_definition_id)) {
        let role = t.role(&s.role_definition_id);
        let scope = Tenant::scope(s);
        if s.kind == RequestKind::Assignment && s.created_using.is_none() {
            let created = s.created_at.unwrap_or(s.start());
            let mut i = Incident::new(
                s.instance_id.clone(),
                format!(
                    "assigned directly, not through PIM, on {}: active, no expiry",
                    format_timestamp(created)
                ),
                Fix::ReplaceOutsideAssignment {
                    assignment_id: s.instance_id.clone(),
                    principal: t.principal_text(&s.principal_id),
                    role: role.name.clone(),
                    scope: scope.clone(),
                },
            );
            i.principal = Some(t.named(&s.principal_id));
            i.role = Some(role.clone());
            i.scope = Some(scope.clone());
            i.assignment_created = Some(created);
            incidents.push(i);
        }
        let Some(members) = t.f.group_members.get(&s.principal_id) else { continue };
        let group = t.named(&s.principal_id);
        for (m, _) in members.iter().filter(|(_, outside)| *outside) {
            if !seen.insert((s.principal_id.clone(), m.clone(), s.role_definition_id.clone())) {
                continue;
            }
            let held = if s.kind == RequestKind::Eligibility { "is eligible for" } else { "holds" };
            let mut i = Incident::new(
                derived_guid(&format!("outsidePim\0{}\0{m}\0{}", s.principal_id, s.role_definition_id)),
                format!(
                    "added to the group {} directly, not through PIM; the group {held} the role",
                    group.name
                ),
                Fix::RemoveMembership { group: group.name.clone(), member: t.principal_text(m) },
            );
            i.principal = Some(t.named(m));
            i.role = Some(role.clone());
            i.scope = Some(scope.clone());
            i.via_group = Some(group.clone());
            incidents.push(i);
        }
    }
    let measured = format!("{} privileged assignment(s) made outside PIM", incidents.len());
    Found { measured, incidents }
}
