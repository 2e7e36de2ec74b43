//! Graph and ARM JSON collections (`{"value": [...]}`) exactly as the real APIs return them, and as
//! `export --format json` writes them: which collection a file is follows from its
//! `@odata.context` (Graph), its items' `type` (ARM) or else their shape. The real ids are kept.
//! A file may also be `pimlab-tenant.json` (the lab's own facts) or the one document `export`
//! writes without `--out` (`{"collections": [...]}`).

mod apply;
mod arm_form;
mod convert;

use std::path::Path;

use serde_json::Value;

use super::{Summary, invalid};
use crate::engine::{Engine, Session, TenantFacts};
use crate::exchange::Progress;
use crate::model::ApiError;

pub use apply::apply;

/// The collections pimlab reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    AzureEstate,
    Users,
    Groups,
    ServicePrincipals,
    AdministrativeUnits,
    AppRoleAssignments,
    PermissionGrants,
    RoleDefinitions,
    AzureRoleDefinitions,
    RoleEligibilitySchedules,
    RoleAssignmentSchedules,
    PolicyAssignments,
    GroupEligibilitySchedules,
    GroupAssignmentSchedules,
    AzureEligibilitySchedules,
    AzureAssignmentSchedules,
    AzurePolicies,
    AzurePolicyAssignments,
}

impl Kind {
    /// How the summary names it.
    pub fn label(self) -> &'static str {
        match self {
            Kind::AzureEstate => "Azure scopes",
            Kind::Users => "users",
            Kind::Groups => "groups",
            Kind::ServicePrincipals => "service principals",
            Kind::AdministrativeUnits => "administrative units",
            Kind::AppRoleAssignments => "application permissions",
            Kind::PermissionGrants => "delegated permissions",
            Kind::RoleDefinitions => "custom roles",
            Kind::AzureRoleDefinitions => "custom Azure roles",
            Kind::RoleEligibilitySchedules => "eligibility schedules",
            Kind::RoleAssignmentSchedules => "assignment schedules",
            Kind::PolicyAssignments => "role settings",
            Kind::GroupEligibilitySchedules => "group eligibility schedules",
            Kind::GroupAssignmentSchedules => "group assignment schedules",
            Kind::AzureEligibilitySchedules => "Azure eligibility schedules",
            Kind::AzureAssignmentSchedules => "Azure assignment schedules",
            Kind::AzurePolicies => "Azure role settings",
            Kind::AzurePolicyAssignments => "Azure role settings' assignments",
        }
    }
}

/// One collection of a file: where it came from (for messages), what it is, its items.
pub struct Part {
    pub origin: String,
    pub kind: Kind,
    pub items: Vec<Value>,
}

/// One JSON file, read and checked.
pub struct JsonFile {
    pub parts: Vec<Part>,
    /// What `pimlab-tenant.json` says, when this is that file.
    pub tenant: Option<Box<TenantRecord>>,
}

/// `pimlab-tenant.json`: the lab's own facts about the tenant, and what the wire does not show.
pub struct TenantRecord {
    pub facts: TenantFacts,
    /// The permissions applications hold, with their own ids, when and by whom granted.
    pub grants: Vec<crate::model::permissions::AppPermission>,
    /// The memberships added outside PIM that a PIM for Groups assignment also makes: (group,
    /// member, relation).
    pub beside_pim: Vec<(String, String, String)>,
}

/// Reads and checks one JSON file.
pub fn parse(path: &Path, text: &str) -> Result<JsonFile, ApiError> {
    let name = path.display().to_string();
    let value: Value = serde_json::from_str(text)
        .map_err(|e| invalid(format!("{name}: line {}, column {}: not JSON: {e}", e.line(), e.column())))?;
    let mut file = JsonFile { parts: Vec::new(), tenant: None };
    match value.get("collections") {
        Some(Value::Array(all)) => {
            for (i, c) in all.iter().enumerate() {
                let origin = format!("{name}: collections[{i}] ({})", c["file"].as_str().unwrap_or("?"));
                place(&origin, c.get("document").unwrap_or(&Value::Null), &mut file)?;
            }
        }
        _ => place(&name, &value, &mut file)?,
    }
    for part in &file.parts {
        convert::check(part)?;
    }
    Ok(file)
}

/// Tells what one document is and adds it to `file`.
fn place(origin: &str, document: &Value, file: &mut JsonFile) -> Result<(), ApiError> {
    if document.get("pimlab").and_then(Value::as_str) == Some("tenant") {
        file.tenant = Some(Box::new(TenantRecord {
            facts: convert::tenant(origin, document)?,
            grants: convert::grant_facts(origin, document)?,
            beside_pim: convert::beside_pim(origin, document)?,
        }));
        return Ok(());
    }
    let items = match document.get("value") {
        Some(Value::Array(items)) => items.clone(),
        _ => {
            return Err(invalid(format!(
                "{origin}: not a Graph or ARM collection (an object with a \"value\" array), nor pimlab-tenant.json"
            )));
        }
    };
    if items.is_empty() {
        return Ok(());
    }
    let context = document.get("@odata.context").and_then(Value::as_str);
    let kind = context.and_then(by_context).or_else(|| by_shape(&items[0])).ok_or_else(|| {
        invalid(format!(
            "{origin}: cannot tell which collection this is (@odata.context {}, first item's type {}); pimlab reads users, groups, servicePrincipals, administrativeUnits, roleDefinitions, role schedules, role management policy assignments, app permissions and their ARM equivalents",
            context.map_or("absent".to_string(), |c| format!("'{c}'")),
            items[0].get("type").or(items[0].get("@odata.type")).map_or("absent".to_string(), Value::to_string),
        ))
    })?;
    file.parts.push(Part { origin: origin.to_string(), kind, items });
    Ok(())
}

/// A Graph collection by its `@odata.context` (`...$metadata#users`, `#users(id,displayName)`).
fn by_context(context: &str) -> Option<Kind> {
    let fragment = context.rsplit_once("$metadata#").map(|(_, f)| f)?;
    // Drop `$select` lists and keys: `users(id,displayName)`, `servicePrincipals('x')/...`.
    let mut path = String::new();
    let mut depth = 0;
    for c in fragment.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ if depth == 0 => path.push(c),
            _ => {}
        }
    }
    let path = path.trim_end_matches("/$entity");
    Some(match path {
        "users" => Kind::Users,
        "groups" => Kind::Groups,
        "servicePrincipals" => Kind::ServicePrincipals,
        "directory/administrativeUnits" | "administrativeUnits" => Kind::AdministrativeUnits,
        "roleManagement/directory/roleDefinitions" => Kind::RoleDefinitions,
        "roleManagement/directory/roleEligibilitySchedules" => Kind::RoleEligibilitySchedules,
        "roleManagement/directory/roleAssignmentSchedules" => Kind::RoleAssignmentSchedules,
        "policies/roleManagementPolicyAssignments" => Kind::PolicyAssignments,
        "identityGovernance/privilegedAccess/group/eligibilitySchedules" => Kind::GroupEligibilitySchedules,
        "identityGovernance/privilegedAccess/group/assignmentSchedules" => Kind::GroupAssignmentSchedules,
        "oauth2PermissionGrants" => Kind::PermissionGrants,
        p if p.ends_with("appRoleAssignments") => Kind::AppRoleAssignments,
        _ => return None,
    })
}

/// A collection by what its items are: ARM's `type`, Graph's `@odata.type`, or their properties.
fn by_shape(item: &Value) -> Option<Kind> {
    if let Some(t) = item.get("type").and_then(Value::as_str) {
        let t = t.to_ascii_lowercase();
        let authorization = |name: &str| t.starts_with(&format!("microsoft.authorization/{name}"));
        return Some(match () {
            _ if authorization("roleeligibilityschedules") => Kind::AzureEligibilitySchedules,
            _ if authorization("roleassignmentschedules") => Kind::AzureAssignmentSchedules,
            _ if authorization("roledefinitions") => Kind::AzureRoleDefinitions,
            _ if authorization("rolemanagementpolicyassignment") => Kind::AzurePolicyAssignments,
            _ if authorization("rolemanagementpolic") => Kind::AzurePolicies,
            _ if !t.starts_with("microsoft.authorization/")
                && item["id"].as_str().is_some_and(|id| id.starts_with('/')) =>
            {
                Kind::AzureEstate
            }
            _ => return None,
        });
    }
    let odata = item.get("@odata.type").and_then(Value::as_str).unwrap_or("");
    Some(match odata {
        "#microsoft.graph.user" => Kind::Users,
        "#microsoft.graph.group" => Kind::Groups,
        "#microsoft.graph.servicePrincipal" => Kind::ServicePrincipals,
        "#microsoft.graph.administrativeUnit" => Kind::AdministrativeUnits,
        "#microsoft.graph.unifiedRoleEligibilitySchedule" => Kind::RoleEligibilitySchedules,
        "#microsoft.graph.unifiedRoleAssignmentSchedule" => Kind::RoleAssignmentSchedules,
        "#microsoft.graph.unifiedRoleDefinition" => Kind::RoleDefinitions,
        _ if item.get("userPrincipalName").is_some() => Kind::Users,
        _ if item.get("appRoleId").is_some() => Kind::AppRoleAssignments,
        _ if item.get("consentType").is_some() => Kind::PermissionGrants,
        _ if item.get("policy").is_some() && item.get("policyId").is_some() => Kind::PolicyAssignments,
        _ => return None,
    })
}

/// Creates the tenant a new store gets from an export's `pimlab-tenant.json`: returns the facts
/// to finish it with once everything is in, and the session to import as (its default caller).
pub fn prepare(
    engine: &mut Engine,
    session: &Session,
    files: &[JsonFile],
) -> Result<(Session, Option<TenantFacts>), ApiError> {
    if engine.is_initialized()? {
        return Ok((session.clone(), None));
    }
    match files.iter().find_map(|f| f.tenant.as_ref().map(|t| t.facts.clone())) {
        Some(facts) => {
            engine.create_tenant(&facts)?;
            Ok((Session::new(facts.default_caller.clone()), Some(facts)))
        }
        None => {
            let summary = engine.init(&crate::engine::InitOptions::default())?;
            Ok((Session::new(summary.break_glass_id), None))
        }
    }
}

/// Counts for the summary.
pub(super) fn tally(summary: &mut Summary, label: &str, changes: &[crate::engine::Change]) {
    use crate::engine::Change;
    for (change, word) in
        [(Change::Created, "created"), (Change::Updated, "updated"), (Change::Unchanged, "unchanged")]
    {
        let n = changes.iter().filter(|c| **c == change).count();
        if n > 0 {
            summary.add(&format!("{label} {word}"), n);
        }
    }
}

/// Reports progress through one phase.
pub(super) fn phase(progress: &dyn Progress, label: &str, total: usize) {
    progress.start(label, total as u64);
}
