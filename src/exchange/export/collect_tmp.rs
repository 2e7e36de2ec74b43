//! Stand-in for `json::collect` until it lands: the tenant's collections through the routers.

use serde_json::Value;

use crate::api::{arm, graph};
use crate::engine::{Engine, Session};
use crate::model::ApiError;

pub fn collect(engine: &mut Engine, session: &Session) -> Result<Vec<Value>, ApiError> {
    let mut docs = Vec::new();
    for path in [
        "/v1.0/users",
        "/v1.0/groups",
        "/v1.0/roleManagement/directory/roleEligibilitySchedules",
        "/v1.0/roleManagement/directory/roleAssignmentSchedules",
        "/v1.0/policies/roleManagementPolicyAssignments?$filter=scopeId eq '/' and scopeType eq 'DirectoryRole'&$expand=policy($expand=rules)",
    ] {
        let r = graph::handle(engine, session, "GET", path, None);
        docs.push(r.body.unwrap_or(Value::Null));
    }
    let scopes = engine.azure_scopes()?;
    for scope in scopes {
        for kind in ["roleEligibilitySchedules", "roleAssignmentSchedules", "roleManagementPolicyAssignments"]
        {
            let path = format!(
                "{}/providers/Microsoft.Authorization/{kind}?api-version=2020-10-01",
                scope.scope.path()
            );
            let r = arm::handle(engine, session, "GET", &path, None);
            docs.push(r.body.unwrap_or(Value::Null));
        }
    }
    Ok(docs)
}
