//! The directory and the role catalog: users, groups, service principals, administrative units,
//! role definitions.

use super::args::*;
use super::outcome::Outcome;
use crate::engine::{Engine, NewObject, NewRole, Session};
use crate::model::{ApiError, PrincipalKind, RequestKind};

pub(super) fn objects(
    engine: &mut Engine,
    session: &Session,
    kind: PrincipalKind,
    action: &ObjectAction,
) -> Result<Outcome, ApiError> {
    Ok(match action {
        ObjectAction::Add(a) => Outcome::ObjectCreated(engine.create_object(
            session,
            NewObject {
                kind: Some(kind),
                display_name: a.name.clone(),
                user_principal_name: a.upn.clone(),
                description: a.description.clone(),
                is_assignable_to_role: a.role_assignable,
                security_enabled: kind == PrincipalKind::Group,
                on_premises_sync_enabled: a.synced,
                ..Default::default()
            },
        )?),
        ObjectAction::List => {
            let rows = engine.objects(kind)?;
            let mut member_counts = Vec::new();
            if kind == PrincipalKind::Group {
                for o in &rows {
                    member_counts.push(engine.members(&o.id, "member")?.len());
                }
            }
            Outcome::Objects { kind, rows, member_counts }
        }
        ObjectAction::Show(a) => {
            let object = engine.resolve_object(&a.name)?;
            let eligible = engine.schedules(RequestKind::Eligibility, Some(&object.id), None)?;
            let active = engine.schedules(RequestKind::Assignment, Some(&object.id), None)?;
            Outcome::Object { object, eligible, active }
        }
        ObjectAction::AddMember(a) => {
            let relation = if a.owner { "owner" } else { "member" };
            engine.add_member(session, &a.container, &a.member, relation)?;
            Outcome::MemberAdded {
                container: engine.resolve_object(&a.container)?,
                member: engine.resolve_object(&a.member)?,
                relation,
                // As the command line was given them: the story repeats the user's own words.
                container_text: a.container.clone(),
                member_text: a.member.clone(),
            }
        }
        ObjectAction::Members(a) => {
            let c = engine.resolve_object(&a.container)?;
            Outcome::Members(engine.members(&c.id, "member")?)
        }
    })
}

pub(super) fn role(engine: &mut Engine, session: &Session, action: &RoleAction) -> Result<Outcome, ApiError> {
    Ok(match action {
        RoleAction::Add(a) if a.azure => {
            let draft = crate::model::azure_role::AzureRoleDraft {
                role_name: a.name.clone(),
                description: a.description.clone().unwrap_or_default(),
                permissions: vec![crate::model::azure_role::AzurePermissions {
                    actions: a.actions.clone(),
                    not_actions: a.not_actions.clone(),
                    data_actions: a.data_actions.clone(),
                    not_data_actions: Vec::new(),
                }],
                assignable_scopes: a.scopes.clone(),
            };
            let (role, _) = engine.define_azure_role(session, a.id.as_deref(), &draft)?;
            Outcome::AzureRoleDefined(role)
        }
        RoleAction::Add(a) => Outcome::RoleCreated(engine.create_role(
            session,
            NewRole {
                display_name: a.name.clone(),
                description: a.description.clone(),
                allowed_resource_actions: a.actions.clone(),
                is_enabled: !a.disabled,
                template_id: None,
            },
        )?),
        RoleAction::Delete(a) => match engine.role(&a.role) {
            Ok(r) => {
                engine.delete_role(session, &r.id)?;
                Outcome::RoleDeleted(r)
            }
            // Not a directory role: a custom Azure role by name or GUID.
            Err(e) => {
                let role = engine.azure_role(&a.role).map_err(|_| e)?;
                engine.delete_azure_role(session, &role.id)?;
                Outcome::RoleDeleted(crate::engine::azure_role_definition(&role))
            }
        },
        RoleAction::List(a) => {
            let roles = if a.azure {
                engine.azure_roles()?.iter().map(crate::engine::azure_role_definition).collect()
            } else {
                engine.roles()?
            };
            Outcome::Roles(roles.into_iter().filter(|r| !a.privileged || r.is_privileged).collect())
        }
        RoleAction::Show(a) => {
            // A directory role by name or id, else a built-in Azure role (their names differ).
            let role = match engine.role(&a.role) {
                Ok(r) => r,
                Err(e) => crate::engine::azure_role_definition(&engine.azure_role(&a.role).map_err(|_| e)?),
            };
            let eligible = engine.schedules(RequestKind::Eligibility, None, Some(&role.id))?;
            let active = engine.schedules(RequestKind::Assignment, None, Some(&role.id))?;
            Outcome::Role { role, eligible, active }
        }
    })
}
