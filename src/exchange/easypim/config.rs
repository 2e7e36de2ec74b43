//! The configuration as the orchestrator resolves it (reference §2, §5, §6): the root sections
//! told apart, the policy entries of every form (object and array, templates with shallow
//! overlay, inline `Policy`, flattened `PolicySource: "inline"`), the pre-run validation errors
//! under EasyPIM's names. What it makes is the desired state the plan compares with the store.

use serde_json::{Map, Value};

use super::assignments::{self, Assignment};
use super::body::{self, Body, Kind};
use super::fidelity;
use super::source::{field, invalid, text};
use crate::model::ApiError;

/// Which domains a run touches (`--operations`); cleanup needs all three.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Domains {
    pub entra: bool,
    pub azure: bool,
    pub groups: bool,
}

impl Domains {
    pub const ALL: Domains = Domains { entra: true, azure: true, groups: true };
    pub fn has(self, kind: Kind) -> bool {
        match kind {
            Kind::Entra => self.entra,
            Kind::Azure => self.azure,
            Kind::Group => self.groups,
        }
    }
    pub fn all(self) -> bool {
        self == Domains::ALL
    }
}

/// A group as a policy entry names it: an object id, or a display name resolved at run time.
#[derive(Debug, Clone, PartialEq)]
pub enum GroupRef {
    Id(String),
    Name(String),
}

/// What a policy or an assignment is about.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Entra {
        role: String,
    },
    Azure {
        role: String,
        scope: String,
    },
    /// `access` is `member` or `owner`; `None` when the entry gave none (it then fails).
    Group {
        group: GroupRef,
        access: Option<String>,
    },
}

impl Target {
    pub fn kind(&self) -> Kind {
        match self {
            Target::Entra { .. } => Kind::Entra,
            Target::Azure { .. } => Kind::Azure,
            Target::Group { .. } => Kind::Group,
        }
    }
}

/// One policy entry, resolved.
#[derive(Debug, Clone)]
pub struct PolicyEntry {
    /// Where it is in the file, for messages (`EntraRoles.Policies["User Administrator"]`).
    pub origin: String,
    pub target: Target,
    pub template: Option<String>,
    pub body: Body,
}

/// The desired state a configuration declares.
#[derive(Debug, Default)]
pub struct Config {
    pub protected_users: Vec<String>,
    pub policies: Vec<PolicyEntry>,
    pub assignments: Vec<Assignment>,
    /// Every object id principal validation looks up (reference §8.2).
    pub principal_ids: Vec<String>,
    /// What reading relied on: quirks, ignored sections, auto-corrections.
    pub notes: Vec<String>,
}

/// Resolves a parsed configuration.
pub fn read(root: &Map<String, Value>, domains: Domains, notes: Vec<String>) -> Result<Config, ApiError> {
    let mut config = Config { notes, ..Default::default() };
    config.protected_users = match field(root, "ProtectedUsers") {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(ids)) => ids
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| invalid("ProtectedUsers", format!("{v} is not an object id")))
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(invalid("ProtectedUsers", format!("must be an array of object ids, not {other}")));
        }
    };
    let templates = match field(root, "PolicyTemplates") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(t)) => t.clone(),
        Some(other) => {
            return Err(invalid(
                "PolicyTemplates",
                format!("must be an object of named policies, not {other}"),
            ));
        }
    };
    let reader = Reader { templates: &templates };
    for (kind, sections) in [
        (Kind::Entra, &[("EntraRoles", true), ("EntraRolePolicies", false)][..]),
        (Kind::Azure, &[("AzureRoles", true), ("AzureRolePolicies", false)][..]),
        (Kind::Group, &[("GroupRoles", true), ("Groups", true), ("GroupPolicies", false)][..]),
    ] {
        let found: Vec<(String, &Value)> = sections
            .iter()
            .filter_map(|(key, nested)| {
                let v = field(root, key)?;
                if *nested {
                    let Value::Object(section) = v else { return None };
                    field(section, "Policies").map(|p| (format!("{key}.Policies"), p))
                } else {
                    Some((key.to_string(), v))
                }
            })
            .collect();
        if !domains.has(kind) {
            continue;
        }
        if found.len() > 1 {
            let names: Vec<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
            return Err(invalid(
                &names.join(" and "),
                "Conflicting policy definitions: use only one of these sections for the same kind of policy",
            ));
        }
        if let Some((section, value)) = found.into_iter().next() {
            if section.starts_with("EntraRolePolicies")
                || section.starts_with("AzureRolePolicies")
                || section.starts_with("GroupPolicies")
            {
                config
                    .notes
                    .push(format!("{section} is a deprecated top-level section; EasyPIM still reads it"));
            }
            reader.section(kind, &section, value, &mut config)?;
        }
    }
    if field(root, "Policies").is_some() {
        config.notes.push(
            "'Policies' (the consolidated legacy block) is ignored by current EasyPIM; nothing in it is applied".into(),
        );
    }
    assignments::read(root, &mut config)?;
    config.principal_ids = principal_ids(root, &config);
    Ok(config)
}

struct Reader<'a> {
    templates: &'a Map<String, Value>,
}

/// Keys of an entry that say what it is about or where its body comes from, not policy fields.
const ENTRY_KEYS: [&str; 8] =
    ["Template", "PolicyTemplate", "Policy", "PolicySource", "RoleName", "Scope", "GroupId", "GroupName"];

impl Reader<'_> {
    fn section(&self, kind: Kind, section: &str, value: &Value, config: &mut Config) -> Result<(), ApiError> {
        match value {
            Value::Object(entries) => {
                for (key, v) in entries {
                    let origin = format!("{section}[\"{key}\"]");
                    let Value::Object(entry) = v else {
                        return Err(invalid(&origin, format!("must be an object, not {v}")));
                    };
                    match kind {
                        Kind::Entra => self.entry(
                            Target::Entra { role: key.clone() },
                            &origin,
                            entry,
                            kind,
                            false,
                            config,
                        )?,
                        Kind::Azure => {
                            let scope = required_scope(entry, &origin)?;
                            let target = Target::Azure { role: key.clone(), scope };
                            self.entry(target, &origin, entry, kind, true, config)?
                        }
                        Kind::Group => self.group_object(key, &origin, entry, config)?,
                    }
                }
                Ok(())
            }
            Value::Array(items) => {
                if kind == Kind::Azure && !fidelity::AZURE_POLICY_ARRAY_FORM {
                    return Err(invalid(section, "the array form is not read for Azure role policies"));
                }
                for (i, item) in items.iter().enumerate() {
                    let origin = format!("{section}[{i}]");
                    let Value::Object(entry) = item else {
                        return Err(invalid(&origin, format!("must be an object, not {item}")));
                    };
                    let role = text(entry, "RoleName")
                        .ok_or_else(|| invalid(&origin, "RoleName is required"))?
                        .to_string();
                    let target = match kind {
                        Kind::Entra => Target::Entra { role },
                        Kind::Azure => Target::Azure { role, scope: required_scope(entry, &origin)? },
                        Kind::Group => {
                            let access = group_access(&role).ok_or_else(|| {
                                invalid(
                                    &origin,
                                    format!("RoleName '{role}' must be Member or Owner for a group policy"),
                                )
                            })?;
                            let group = match (text(entry, "GroupId"), text(entry, "GroupName")) {
                                (Some(id), _) => GroupRef::Id(id.to_string()),
                                (None, Some(name)) => GroupRef::Name(name.to_string()),
                                (None, None) => {
                                    return Err(invalid(&origin, "GroupId or GroupName is required"));
                                }
                            };
                            Target::Group { group, access: Some(access) }
                        }
                    };
                    self.array_entry(target, &origin, entry, kind, config)?;
                }
                Ok(())
            }
            other => Err(invalid(section, format!("must be an object or an array, not {other}"))),
        }
    }

    /// A group in object form: only its `Member` and `Owner` keys are read.
    fn group_object(
        &self,
        key: &str,
        origin: &str,
        entry: &Map<String, Value>,
        config: &mut Config,
    ) -> Result<(), ApiError> {
        let group =
            if is_guid(key) { GroupRef::Id(key.to_string()) } else { GroupRef::Name(key.to_string()) };
        let mut read_any = false;
        for (k, v) in entry {
            let Some(access) = group_access(k) else { continue };
            let origin = format!("{origin}.{k}");
            let Value::Object(body) = v else {
                return Err(invalid(&origin, format!("must be an object, not {v}")));
            };
            let target = Target::Group { group: group.clone(), access: Some(access) };
            self.entry(target, &origin, body, Kind::Group, false, config)?;
            read_any = true;
        }
        if !read_any {
            config.notes.push(format!(
                "{origin} has no Member or Owner key; EasyPIM applies nothing for it (keys under a group other than Member/Owner are ignored)"
            ));
        }
        Ok(())
    }

    /// An array-form entry: a template reference, an inline `Policy`, or flattened fields.
    fn array_entry(
        &self,
        target: Target,
        origin: &str,
        entry: &Map<String, Value>,
        kind: Kind,
        config: &mut Config,
    ) -> Result<(), ApiError> {
        if template_name(entry, kind == Kind::Azure).is_some() {
            return self.entry(target, origin, entry, kind, kind == Kind::Azure, config);
        }
        if let Some(policy) = field(entry, "Policy") {
            let Value::Object(inline) = policy else {
                return Err(invalid(origin, format!("Policy must be an object, not {policy}")));
            };
            return self.entry(target, origin, inline, kind, false, config);
        }
        match text(entry, "PolicySource") {
            Some(s) if s.eq_ignore_ascii_case("inline") => {
                self.entry(target, origin, entry, kind, false, config)
            }
            _ => Err(invalid(
                origin,
                "requires Template or inline Policy (PolicySource \"file\" is no longer read)",
            )),
        }
    }

    /// Resolves one entry's body: the template's fields overlaid by the entry's (shallow), then
    /// the permanent-flag defaulting; reads it into typed settings.
    fn entry(
        &self,
        target: Target,
        origin: &str,
        entry: &Map<String, Value>,
        kind: Kind,
        policy_template_key: bool,
        config: &mut Config,
    ) -> Result<(), ApiError> {
        let template = template_name(entry, policy_template_key);
        let mut resolved = match template {
            None => Map::new(),
            Some(name) => match self.templates.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
                Some((_, Value::Object(t))) => t.clone(),
                Some((_, other)) => {
                    return Err(invalid(
                        &format!("PolicyTemplates[\"{name}\"]"),
                        format!("must be an object, not {other}"),
                    ));
                }
                None => {
                    return Err(invalid(
                        origin,
                        format!(
                            "InvalidTemplateReference: template '{name}' is not defined in PolicyTemplates"
                        ),
                    ));
                }
            },
        };
        for (k, v) in entry {
            if ENTRY_KEYS.iter().any(|e| e.eq_ignore_ascii_case(k)) {
                continue;
            }
            resolved.retain(|existing, _| !existing.eq_ignore_ascii_case(k));
            resolved.insert(k.clone(), v.clone());
        }
        if template.is_none() {
            missing_approvers(&resolved, origin)?;
        }
        for (max, allow) in [
            ("MaximumEligibilityDuration", "AllowPermanentEligibility"),
            ("MaximumActiveAssignmentDuration", "AllowPermanentActiveAssignment"),
        ] {
            if text(&resolved, max).is_some() && field(&resolved, allow).is_none() {
                resolved.insert(allow.to_string(), Value::Bool(false));
            }
        }
        let body = body::read(&resolved, kind, origin, &mut config.notes)?;
        if body.approvers.is_some() && body.approval_required.is_none() {
            config
                .notes
                .push(format!("{origin}: quirk: Approvers without ApprovalRequired switches approval on"));
        }
        if kind != Kind::Azure {
            if let Some(list) = &body.approvers {
                if body.approval_required != Some(false) && list.iter().any(|a| a.group.is_none()) {
                    config.notes.push(format!(
                        "{origin}: quirk: approvers without \"Type\" are sent as users; a group approver needs \"Type\": \"Group\""
                    ));
                }
            }
        }
        config.policies.push(PolicyEntry {
            origin: origin.to_string(),
            target,
            template: template.map(str::to_string),
            body,
        });
        Ok(())
    }
}

/// `ApprovalRequired: true` with no approvers in an entry that references no template.
fn missing_approvers(resolved: &Map<String, Value>, origin: &str) -> Result<(), ApiError> {
    let required = field(resolved, "ApprovalRequired").is_some_and(|v| super::source::truthy(v).0);
    let none = match field(resolved, "Approvers") {
        None | Some(Value::Null) => true,
        Some(Value::Array(a)) => a.is_empty(),
        Some(_) => false,
    };
    if required && none {
        return Err(invalid(origin, "MissingApprovers: ApprovalRequired is true but no Approvers are given"));
    }
    Ok(())
}

fn template_name(entry: &Map<String, Value>, policy_template_key: bool) -> Option<&str> {
    text(entry, "Template").or_else(|| if policy_template_key { text(entry, "PolicyTemplate") } else { None })
}

fn required_scope(entry: &Map<String, Value>, origin: &str) -> Result<String, ApiError> {
    text(entry, "Scope").map(str::to_string).ok_or_else(|| {
        invalid(origin, "Scope is required for an Azure role policy (it is never taken from a template)")
    })
}

/// `Member`/`Owner` (any case) as the group API spells them.
pub fn group_access(text: &str) -> Option<String> {
    ["member", "owner"].into_iter().find(|a| a.eq_ignore_ascii_case(text.trim())).map(str::to_string)
}

pub use crate::model::azure_scope::is_guid;

/// The root sections EasyPIM reads (unknown keys such as `TenantId` or `_metadata` are not).
const READ_SECTIONS: [&str; 14] = [
    "ProtectedUsers",
    "PolicyTemplates",
    "EntraRoles",
    "AzureRoles",
    "GroupRoles",
    "Groups",
    "GroupPolicies",
    "EntraRolePolicies",
    "AzureRolePolicies",
    "Assignments",
    "AzureRolesActive",
    "EntraIDRoles",
    "EntraIDRolesActive",
    "GroupRolesActive",
];

/// Every GUID of the configuration that names a directory object: keys and whole string values,
/// except on scope paths (reference §8.2). Sorted, without duplicates.
fn principal_ids(root: &Map<String, Value>, config: &Config) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) if is_guid(s) => out.push(s.to_ascii_lowercase()),
            Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            Value::Object(m) => {
                for (k, v) in m {
                    if is_guid(k) {
                        out.push(k.to_ascii_lowercase());
                    }
                    // ABAC conditions name role definitions; scopes name subscriptions.
                    if !k.eq_ignore_ascii_case("condition") {
                        walk(v, out);
                    }
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (key, value) in root {
        if READ_SECTIONS.iter().any(|s| s.eq_ignore_ascii_case(key)) {
            walk(value, &mut out);
        }
    }
    out.extend(config.assignments.iter().map(|a| a.principal.to_ascii_lowercase()));
    out.sort();
    out.dedup();
    out
}
