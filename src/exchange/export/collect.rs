//! The tenant as the collections the real Graph and ARM APIs return: each read with GETs through
//! the routers (the one place the wire format is made), every page followed, and the pages of a
//! collection read per group, service principal or Azure scope merged into one document.
//!
//! The Azure estate (management groups, subscriptions, resource groups, resources) has no
//! `Microsoft.Authorization` API: [`estate`] writes it from the engine's estate, each scope in the
//! shape of ARM's management group `descendants` list (see README, "Graph and ARM JSON").

use serde_json::{Map, Value, json};

use crate::api::{arm, graph};
use crate::engine::{Engine, Session};
use crate::model::{ApiError, ErrorCode};

/// One collection of the export: a file of `export --format json --out DIR`.
#[derive(Debug, Clone, PartialEq)]
pub struct Collection {
    /// The file it is written to (`users.json`).
    pub file: String,
    /// The GET (or GETs, one per group, service principal or scope) it came from.
    pub path: String,
    /// `{"@odata.context": ..., "value": [...]}` (ARM: `{"value": [...]}`), every page merged, no
    /// next link.
    pub document: Value,
}

/// The Graph version every export reads.
const GRAPH: &str = "/v1.0";
/// The `api-version`s the ARM reads use.
const PIM_VERSION: &str = "2020-10-01";
const RBAC_VERSION: &str = "2022-04-01";

/// Reads the whole tenant, in the order `import` applies it.
pub fn collect(engine: &mut Engine, session: &Session) -> Result<Vec<Collection>, ApiError> {
    let mut out = Vec::new();
    let mut graph_list = |engine: &mut Engine, file: &str, path: &str| -> Result<Value, ApiError> {
        let doc = graph_all(engine, session, path)?;
        out.push(Collection { file: file.into(), path: format!("GET {path}"), document: doc.clone() });
        Ok(doc)
    };
    graph_list(engine, "users.json", &format!("{GRAPH}/users"))?;
    let groups = graph_list(engine, "groups.json", &format!("{GRAPH}/groups?$expand=members,owners"))?;
    let apps = graph_list(engine, "servicePrincipals.json", &format!("{GRAPH}/servicePrincipals"))?;
    graph_list(
        engine,
        "administrativeUnits.json",
        &format!("{GRAPH}/directory/administrativeUnits?$expand=members"),
    )?;
    let directory = "roleManagement/directory";
    graph_list(
        engine,
        "roleDefinitions.json",
        &format!("{GRAPH}/{directory}/roleDefinitions?$filter=isBuiltIn eq false"),
    )?;
    graph_list(
        engine,
        "roleEligibilitySchedules.json",
        &format!("{GRAPH}/{directory}/roleEligibilitySchedules"),
    )?;
    graph_list(
        engine,
        "roleAssignmentSchedules.json",
        &format!("{GRAPH}/{directory}/roleAssignmentSchedules"),
    )?;
    graph_list(
        engine,
        "roleManagementPolicyAssignments.json",
        &format!(
            "{GRAPH}/policies/roleManagementPolicyAssignments?$filter=scopeId eq '/' and scopeType eq 'DirectoryRole'&$expand=policy($expand=rules)"
        ),
    )?;
    let app_ids = ids_of(&apps);
    let group_ids = ids_of(&groups);
    let merged = [
        (
            "appRoleAssignments.json",
            "appRoleAssignments",
            "GET /v1.0/servicePrincipals/{id}/appRoleAssignments, for each service principal",
            app_ids.iter().map(|id| format!("{GRAPH}/servicePrincipals/{id}/appRoleAssignments")).collect::<Vec<_>>(),
        ),
        (
            "oauth2PermissionGrants.json",
            "oauth2PermissionGrants",
            "GET /v1.0/oauth2PermissionGrants?$filter=clientId eq '{id}', for each service principal",
            app_ids.iter().map(|id| format!("{GRAPH}/oauth2PermissionGrants?$filter=clientId eq '{id}'")).collect(),
        ),
        (
            "groupEligibilitySchedules.json",
            "identityGovernance/privilegedAccess/group/eligibilitySchedules",
            "GET /v1.0/identityGovernance/privilegedAccess/group/eligibilitySchedules?$filter=groupId eq '{id}', for each group",
            group_ids.iter().map(|id| format!("{GRAPH}/identityGovernance/privilegedAccess/group/eligibilitySchedules?$filter=groupId eq '{id}'")).collect(),
        ),
        (
            "groupAssignmentSchedules.json",
            "identityGovernance/privilegedAccess/group/assignmentSchedules",
            "GET /v1.0/identityGovernance/privilegedAccess/group/assignmentSchedules?$filter=groupId eq '{id}', for each group",
            group_ids.iter().map(|id| format!("{GRAPH}/identityGovernance/privilegedAccess/group/assignmentSchedules?$filter=groupId eq '{id}'")).collect(),
        ),
        (
            "groupPolicyAssignments.json",
            "policies/roleManagementPolicyAssignments",
            "GET /v1.0/policies/roleManagementPolicyAssignments?$filter=scopeId eq '{id}' and scopeType eq 'Group'&$expand=policy($expand=rules), for each group",
            group_ids.iter().map(|id| format!("{GRAPH}/policies/roleManagementPolicyAssignments?$filter=scopeId eq '{id}' and scopeType eq 'Group'&$expand=policy($expand=rules)")).collect(),
        ),
    ];
    for (file, fragment, path, calls) in merged {
        let mut items = Vec::new();
        for call in &calls {
            items.extend(items_of(graph_all(engine, session, call)?));
        }
        let context = format!("{}/v1.0/$metadata#{fragment}", crate::api::views::GRAPH_ROOT);
        out.push(Collection {
            file: file.into(),
            path: path.into(),
            document: json!({ "@odata.context": context, "value": items }),
        });
    }
    out.extend(azure(engine, session)?);
    Ok(out)
}

/// The Azure collections: the estate, custom roles, and at each scope the schedules and the
/// changed role settings made there (`atScope()`: not the inherited copies).
fn azure(engine: &mut Engine, session: &Session) -> Result<Vec<Collection>, ApiError> {
    let mut nodes = engine.azure_scopes()?;
    nodes.sort_by_key(|n| n.scope.key());
    let provider = "providers/Microsoft.Authorization";
    let roles = arm_all(
        engine,
        session,
        &format!("/{provider}/roleDefinitions?api-version={RBAC_VERSION}&$filter=type eq 'CustomRole'"),
    )?;
    let mut out = vec![
        estate(&nodes),
        Collection {
            file: "azure-roleDefinitions.json".into(),
            path: format!("GET /{provider}/roleDefinitions?$filter=type eq 'CustomRole'"),
            document: roles,
        },
    ];
    let per_scope = [
        ("azure-roleEligibilitySchedules.json", "roleEligibilitySchedules", "&$filter=atScope()"),
        ("azure-roleAssignmentSchedules.json", "roleAssignmentSchedules", "&$filter=atScope()"),
        ("azure-roleManagementPolicies.json", "roleManagementPolicies", ""),
        ("azure-roleManagementPolicyAssignments.json", "roleManagementPolicyAssignments", ""),
    ];
    for (file, resource, filter) in per_scope {
        let mut items = Vec::new();
        for node in &nodes {
            let path =
                format!("{}/{provider}/{resource}?api-version={PIM_VERSION}{filter}", node.scope.path());
            items.extend(items_of(arm_all(engine, session, &path)?));
        }
        // A schedule is listed at every scope below the one it lives at too (`Inherited`): keep
        // it where it lives.
        items.retain(|s| s["properties"]["memberType"] != "Inherited");
        if resource.starts_with("roleManagementPolicies") {
            // ARM lists every role's settings at every scope, at the defaults until changed; the
            // export keeps those someone changed.
            items.retain(|p| !p["properties"]["lastModifiedDateTime"].is_null());
        }
        out.push(Collection {
            file: file.into(),
            path: format!("GET {{scope}}/{provider}/{resource}{}, for each scope", filter.replace('&', "?")),
            document: json!({ "value": items }),
        });
    }
    // A policy assignment names the role of a changed policy; the others would only repeat the
    // defaults.
    let changed: Vec<String> = out
        .iter()
        .find(|c| c.file == "azure-roleManagementPolicies.json")
        .map(|c| ids_of(&c.document))
        .unwrap_or_default();
    if let Some(c) = out.iter_mut().find(|c| c.file == "azure-roleManagementPolicyAssignments.json") {
        let kept: Vec<Value> = items_of(c.document.clone())
            .into_iter()
            .filter(|a| a["properties"]["policyId"].as_str().is_some_and(|p| changed.iter().any(|c| c == p)))
            .collect();
        c.document = json!({ "value": kept });
    }
    Ok(out)
}

/// The estate, each scope as ARM's management group `descendants` list writes one: `id`, `type`,
/// `name`, `properties.displayName` and `properties.parent.id` (the tenant root has none).
fn estate(nodes: &[crate::model::azure_scope::AzureScopeNode]) -> Collection {
    let items: Vec<Value> = nodes
        .iter()
        .map(|n| {
            let mut properties = Map::new();
            properties.insert("displayName".into(), n.display_name.clone().into());
            if let Some(parent) = &n.parent {
                properties.insert("parent".into(), json!({ "id": parent.path() }));
            }
            json!({
                "id": n.scope.path(),
                "type": estate_type(&n.scope),
                "name": n.scope.name(),
                "properties": properties,
            })
        })
        .collect();
    Collection {
        file: "azure-estate.json".into(),
        path: "the Azure estate (management groups, subscriptions, resource groups, resources)".into(),
        document: json!({ "value": items }),
    }
}

/// The resource type ARM gives a scope of the estate.
pub fn estate_type(scope: &crate::model::azure_scope::AzureScope) -> String {
    use crate::model::azure_scope::AzureScopeKind;
    match scope.kind() {
        AzureScopeKind::ManagementGroup => "Microsoft.Management/managementGroups".into(),
        AzureScopeKind::Subscription => "Microsoft.Resources/subscriptions".into(),
        AzureScopeKind::ResourceGroup => "Microsoft.Resources/resourceGroups".into(),
        AzureScopeKind::Resource => scope.resource_type().unwrap_or_default(),
    }
}

/// The ids of a collection's items.
fn ids_of(document: &Value) -> Vec<String> {
    document["value"]
        .as_array()
        .map(|v| v.iter().filter_map(|i| i["id"].as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

fn items_of(document: Value) -> Vec<Value> {
    match document {
        Value::Object(mut m) => match m.remove("value") {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// Every page of a Graph list, merged: the first page's `@odata.context`, then all the items.
fn graph_all(engine: &mut Engine, session: &Session, path: &str) -> Result<Value, ApiError> {
    all_pages(path, "@odata.nextLink", |target| graph::handle(engine, session, "GET", target, None))
}

/// Every page of an ARM list, merged.
fn arm_all(engine: &mut Engine, session: &Session, path: &str) -> Result<Value, ApiError> {
    all_pages(path, "nextLink", |target| arm::handle(engine, session, "GET", target, None))
}

/// Follows `next` links from `path` until the last page; a refusal stops the export, naming the
/// call.
fn all_pages(
    path: &str,
    next: &str,
    mut get: impl FnMut(&str) -> crate::api::response::Response,
) -> Result<Value, ApiError> {
    let mut target = path.to_string();
    let mut merged: Option<Map<String, Value>> = None;
    let mut items = Vec::new();
    loop {
        let response = get(&target);
        let body = response.body.unwrap_or(Value::Null);
        if response.status != 200 {
            return Err(ApiError::new(
                response.status,
                ErrorCode::InternalServerError,
                format!("export: GET {target} answered {}: {body}", response.status),
            ));
        }
        let Value::Object(mut page) = body else {
            return Err(ApiError::internal(format!("export: GET {target} answered no JSON object")));
        };
        if let Some(Value::Array(v)) = page.remove("value") {
            items.extend(v);
        }
        let link = page.remove(next).and_then(|l| l.as_str().map(str::to_string));
        merged.get_or_insert(page);
        match link {
            Some(l) => target = l,
            None => break,
        }
    }
    let mut doc = merged.unwrap_or_default();
    doc.insert("value".into(), Value::Array(items));
    Ok(Value::Object(doc))
}
