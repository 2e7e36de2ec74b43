//! `roleManagement/directory/roleAssignments`: active assignments as the directory sees them, and
//! assignments made outside PIM (create, delete).

use super::{Call, Response, directory_only, method_not_allowed};
use crate::api::{body, views};
use crate::model::ErrorCode;
use crate::model::{ApiError, RequestKind, ids};

/// Properties a role assignment can be expanded on.
const ASSIGNMENT_EXPANDS: &[&str] = &["principal", "roleDefinition", "directoryScope", "appScope"];

impl Call<'_> {
    pub(super) fn role_assignments(&mut self, id: Option<&str>) -> Result<Response, ApiError> {
        let tenant = self.engine.tenant_id()?;
        match (id, self.method.as_str()) {
            (None, "POST") => {
                let (principal, role, directory_scope, app_scope) = body::role_assignment(self.body_text()?)?;
                for (field, value) in [("principalId", &principal), ("roleDefinitionId", &role)] {
                    if !ids::is_guid(value) {
                        return Err(ApiError::bad_request(
                            field,
                            format!("'{value}' is not an object id (a GUID)"),
                        ));
                    }
                }
                let s = self.engine.create_role_assignment(
                    self.session,
                    &principal,
                    &role,
                    directory_scope.as_deref(),
                    app_scope.as_deref(),
                )?;
                let v = views::role_assignment(&s, &tenant);
                Ok(Response::created(self.created_entity("roleManagement/directory/roleAssignments", v)))
            }
            (Some(id), "DELETE") => {
                self.engine.delete_role_assignment(self.session, id)?;
                Ok(Response::no_content())
            }
            (None, "GET") => {
                self.check_expands(ASSIGNMENT_EXPANDS, "unifiedRoleAssignment")?;
                self.check_filter(
                    &[
                        "id",
                        "principalId",
                        "roleDefinitionId",
                        "directoryScopeId",
                        "appScopeId",
                        "principalOrganizationId",
                        "condition",
                        "principal",
                        "roleDefinition",
                    ],
                    "unifiedRoleAssignment",
                )?;
                let principal = self.query.filter.as_ref().and_then(|f| f.required_eq("principalId"));
                let role = self.query.filter.as_ref().and_then(|f| f.required_eq("roleDefinitionId"));
                let rows = directory_only(self.engine.instances(
                    RequestKind::Assignment,
                    principal.as_deref(),
                    role.as_deref(),
                )?);
                let mut items = Vec::new();
                for s in &rows {
                    let mut v = views::role_assignment(s, &tenant);
                    self.expand_common(
                        &mut v,
                        &s.principal_id,
                        &s.role_definition_id,
                        s.directory_scope_id.as_deref(),
                    )?;
                    items.push(v);
                }
                self.collection(self.context("roleManagement/directory/roleAssignments"), items)
            }
            (Some(id), "GET") => {
                self.check_expands(ASSIGNMENT_EXPANDS, "unifiedRoleAssignment")?;
                let s = self.engine.instance(RequestKind::Assignment, id)?.ok_or_else(|| {
                    ApiError::not_found(ErrorCode::Request_ResourceNotFound, "Role assignment", id)
                })?;
                let mut v = views::role_assignment(&s, &tenant);
                self.expand_common(
                    &mut v,
                    &s.principal_id,
                    &s.role_definition_id,
                    s.directory_scope_id.as_deref(),
                )?;
                self.entity(self.context("roleManagement/directory/roleAssignments/$entity"), v)
            }
            _ => Err(method_not_allowed(&self.method, &self.path())),
        }
    }
}
