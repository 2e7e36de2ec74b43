//! `roleManagement/directory/roleDefinitions`: the role catalog, custom roles (create, update,
//! delete) and `inheritsPermissionsFrom`.

use crate::model::ErrorCode;
use serde_json::Value;

use super::{Call, Response};
use crate::api::{body, views};
use crate::engine::Engine;
use crate::model::{ApiError, ids};

impl Call<'_> {
    pub(super) fn role_definitions(
        &mut self,
        id: Option<&str>,
        nav: Option<&str>,
    ) -> Result<Response, ApiError> {
        // Beta's role definitions carry two properties v1.0's lack.
        let view = match self.version {
            super::Version::V1 => views::role_definition,
            super::Version::Beta => views::role_definition_beta,
        };
        match (id, nav, self.method.as_str()) {
            (None, None, "POST") => {
                let new = body::new_role(self.body_text()?)?;
                let r = self.engine.create_role(self.session, new)?;
                let v = view(&r);
                return Ok(Response {
                    status: 201,
                    ..self.entity(self.context("roleManagement/directory/roleDefinitions/$entity"), v)?
                });
            }
            (Some(id), None, "PATCH") => {
                let change = body::role_change(self.body_text()?)?;
                self.engine.update_role(self.session, id, change)?;
                return Ok(Response::no_content());
            }
            (Some(id), None, "DELETE") => {
                self.engine.delete_role(self.session, id)?;
                return Ok(Response::no_content());
            }
            _ => self.require_method(&["GET"])?,
        }
        self.check_expands(&["inheritsPermissionsFrom"], "unifiedRoleDefinition")?;
        let expand = self.query.expand_item("inheritsPermissionsFrom").is_some();
        let render = |engine: &mut Engine, r: &crate::model::RoleDefinition| -> Result<Value, ApiError> {
            let mut v = view(r);
            if expand {
                let mut parents = Vec::new();
                for p in r.inherits_permissions_from.iter() {
                    parents.push(view(&engine.role(p)?));
                }
                v["inheritsPermissionsFrom"] = Value::Array(parents);
            }
            Ok(v)
        };
        match (id, nav) {
            (None, _) => {
                let mut filterable = vec![
                    "id",
                    "displayName",
                    "isBuiltIn",
                    "isEnabled",
                    "templateId",
                    "description",
                    "version",
                ];
                if self.version == super::Version::Beta {
                    filterable.push("isPrivileged");
                }
                self.check_filter(&filterable, "unifiedRoleDefinition")?;
                let roles = self.engine.roles()?;
                let mut items = Vec::new();
                for r in &roles {
                    items.push(render(self.engine, r)?);
                }
                self.collection(self.context("roleManagement/directory/roleDefinitions"), items)
            }
            (Some(id), None) => {
                let r = self.role_by_id(id)?;
                let v = render(self.engine, &r)?;
                self.entity(self.context("roleManagement/directory/roleDefinitions/$entity"), v)
            }
            (Some(id), Some(_)) => {
                let r = self.role_by_id(id)?;
                let mut items = Vec::new();
                for p in r.inherits_permissions_from.iter() {
                    items.push(view(&self.engine.role(p)?));
                }
                self.collection(
                    self.context(&format!(
                        "roleManagement/directory/roleDefinitions('{}')/inheritsPermissionsFrom",
                        r.id
                    )),
                    items,
                )
            }
        }
    }

    /// A role definition by id or template id only: Graph does not look roles up by name.
    fn role_by_id(&mut self, id: &str) -> Result<crate::model::RoleDefinition, ApiError> {
        let missing = || ApiError::not_found(ErrorCode::Request_ResourceNotFound, "Role definition", id);
        if !ids::is_guid(id) {
            return Err(missing());
        }
        self.engine.role(id).map_err(|_| missing())
    }
}
