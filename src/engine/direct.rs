//! Role assignments made outside PIM (`POST`/`DELETE /roleManagement/directory/roleAssignments`):
//! permanent, active, and surfacing as a schedule and instance with the assignment's own id.

use super::audit::{About, Activity, Audit, Entry};
use super::directory::{require_admin, resolve_object, resolve_role};
use super::records::{
    end_schedule, outside_pim_assignment, role_assignment_does_not_exist, role_assignment_exists,
};
use super::{Engine, Session, fidelity, lockout};
use crate::model::{ApiError, PrincipalKind, RequestKind, Schedule, ScheduleState, ids};

impl Engine {
    /// Creates a permanent active assignment outside PIM.
    pub fn create_role_assignment(
        &mut self,
        session: &Session,
        principal: &str,
        role: &str,
        directory_scope: Option<&str>,
        app_scope: Option<&str>,
    ) -> Result<Schedule, ApiError> {
        let scope = directory_scope.or(app_scope).unwrap_or("/");
        self.write(|tx, ctx| {
            require_admin(tx, session, "Creating role assignments")?;
            let p = resolve_object(tx, principal, "Principal")?;
            let r = resolve_role(tx, role)?;
            if p.kind == PrincipalKind::AdministrativeUnit
                || (p.kind == PrincipalKind::Group && !p.is_assignable_to_role)
            {
                return Err(ApiError::new(
                    400,
                    fidelity::INVALID_PRINCIPAL_CODE,
                    format!("'{}' cannot hold directory roles", p.display_name),
                ));
            }
            if directory_scope.is_some()
                && scope != "/"
                && ids::scope_object_id(scope).and_then(|id| tx.object(id).ok().flatten()).is_none()
            {
                return Err(ApiError::bad_request(
                    "directoryScopeId",
                    format!("the scope '{scope}' names no object in this tenant"),
                ));
            }
            super::target::check_role_at_scope(&r, scope)?;
            let id = ids::role_assignment_id(&r.id, &p.id, Some(scope), false);
            if tx.active_schedule_by_instance(&id)?.is_some() {
                return Err(role_assignment_exists());
            }
            let s = outside_pim_assignment(
                id,
                &p.id,
                &r.id,
                directory_scope.map(str::to_string),
                app_scope.map(str::to_string),
                ctx.now,
            );
            // A PIM schedule for the same target would collide with this instance.
            if !tx
                .schedules_of(RequestKind::Assignment, &p.id, &r.id, ScheduleState::Live)?
                .iter()
                .all(|o| o.directory_scope_id.as_deref() != Some(scope))
            {
                return Err(role_assignment_exists());
            }
            // The service gives a target's assignment the same id every time it is made; an ended
            // one of earlier days gives way (its history stays in the audit trail).
            tx.forget_ended_schedule(&s.id)?;
            tx.insert_schedule(&s)?;
            let about = About::RoleOf { principal: &p.id, role: &r.id };
            let row = Entry::new(tx, ctx, &session.caller, Activity::RoleAssignmentAdded, about)?;
            Ok((s, Audit::of(row)))
        })
    }

    /// Deletes an active role assignment by its id.
    pub fn delete_role_assignment(&mut self, session: &Session, id: &str) -> Result<(), ApiError> {
        self.write(|tx, ctx| {
            require_admin(tx, session, "Deleting role assignments")?;
            let s = tx
                .active_schedule_by_instance(id)?
                .filter(|s| s.kind == RequestKind::Assignment)
                .ok_or_else(|| {
                    role_assignment_does_not_exist().with_detail(
                        "NotFound",
                        "id",
                        format!("no active role assignment '{id}'"),
                    )
                })?;
            if lockout::is_tenant_global_administrator(&s)
                && lockout::other_assigned_global_administrators(tx, &s.id)? == 0
            {
                return Err(lockout::last_global_administrator_error());
            }
            end_schedule(tx, ctx, &s, ScheduleState::Removed)?;
            let about = About::RoleOf { principal: &s.principal_id, role: &s.role_definition_id };
            let row = Entry::new(tx, ctx, &session.caller, Activity::RoleAssignmentRemoved, about)?;
            Ok(((), Audit::of(row)))
        })
    }
}
