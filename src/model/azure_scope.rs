//! Azure scopes as ARM writes them (reference arm-pim §2.1): management groups, subscriptions,
//! resource groups and resources, parsed once into one canonical spelling. ARM compares scopes
//! case-insensitively and accepts aliases (`providers/Microsoft.Subscription/subscriptions/{id}`
//! for `/subscriptions/{id}`, a trailing slash); pimlab stores the canonical path and compares by
//! [`AzureScope::key`].

use std::fmt;

/// The level of a scope in the Azure hierarchy, from the top.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AzureScopeKind {
    ManagementGroup,
    Subscription,
    ResourceGroup,
    Resource,
}

impl AzureScopeKind {
    /// The name pimlab's commands and the store use.
    pub fn as_str(self) -> &'static str {
        match self {
            AzureScopeKind::ManagementGroup => "managementGroup",
            AzureScopeKind::Subscription => "subscription",
            AzureScopeKind::ResourceGroup => "resourceGroup",
            AzureScopeKind::Resource => "resource",
        }
    }

    /// The `type` ARM gives a scope in `expandedProperties.scope` and `eligibleChildResources`.
    pub fn arm_type(self) -> &'static str {
        match self {
            AzureScopeKind::ManagementGroup => "managementgroup",
            AzureScopeKind::Subscription => "subscription",
            AzureScopeKind::ResourceGroup => "resourcegroup",
            AzureScopeKind::Resource => "resource",
        }
    }

    pub fn parse(s: &str) -> Option<AzureScopeKind> {
        [Self::ManagementGroup, Self::Subscription, Self::ResourceGroup, Self::Resource]
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s) || k.arm_type().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for AzureScopeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scope in its canonical spelling.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AzureScope {
    kind: AzureScopeKind,
    /// `/providers/Microsoft.Management/managementGroups/{mg}`, `/subscriptions/{sub}`,
    /// `/subscriptions/{sub}/resourceGroups/{rg}`, or a resource under a resource group.
    path: String,
}

/// Why a text is not an Azure scope: what was wrong, for a message naming the text.
pub type ScopeError = String;

/// What every management group's path starts with.
pub const MANAGEMENT_GROUP_PREFIX: &str = "/providers/Microsoft.Management/managementGroups/";

/// The display name Azure gives the tenant root management group.
pub const TENANT_ROOT_NAME: &str = "Tenant Root Group";

/// The longest name ARM gives a management group or a resource group.
pub const MAX_GROUP_NAME: usize = 90;

impl AzureScope {
    /// Parses any spelling ARM accepts: a leading slash optional, keywords in any case, the
    /// `providers/Microsoft.Subscription/` alias of a subscription, a trailing slash.
    pub fn parse(text: &str) -> Result<AzureScope, ScopeError> {
        let trimmed = text.trim();
        let segments: Vec<&str> = trimmed.trim_matches('/').split('/').collect();
        if trimmed.trim_matches('/').is_empty() {
            return Err(
                "an Azure scope is a management group, subscription, resource group or resource path; \
                        '/' alone is the directory's"
                    .into(),
            );
        }
        if segments.iter().any(|s| s.is_empty()) {
            return Err("it has an empty segment ('//')".into());
        }
        let is = |i: usize, word: &str| segments.get(i).is_some_and(|s| s.eq_ignore_ascii_case(word));
        // The subscription alias: providers/Microsoft.Subscription/subscriptions/{id}/...
        let segments: Vec<&str> =
            if is(0, "providers") && is(1, "Microsoft.Subscription") && is(2, "subscriptions") {
                segments[2..].to_vec()
            } else {
                segments
            };
        let is = |i: usize, word: &str| segments.get(i).is_some_and(|s| s.eq_ignore_ascii_case(word));
        if is(0, "providers") && is(1, "Microsoft.Management") && is(2, "managementGroups") {
            return match segments.as_slice() {
                [_, _, _, name] => {
                    check_group_name(name, "management group")?;
                    Ok(AzureScope {
                        kind: AzureScopeKind::ManagementGroup,
                        path: format!("{MANAGEMENT_GROUP_PREFIX}{name}"),
                    })
                }
                [_, _, _] => Err("the management group's name is missing".into()),
                _ => Err("nothing may follow a management group's name in a scope".into()),
            };
        }
        if !is(0, "subscriptions") {
            return Err(
                "it must start with /subscriptions/{id} or /providers/Microsoft.Management/managementGroups/{name}"
                    .into(),
            );
        }
        let Some(sub) = segments.get(1) else {
            return Err("the subscription id is missing".into());
        };
        if !is_guid(sub) {
            return Err(format!("the subscription id '{sub}' is not a GUID"));
        }
        let sub = sub.to_ascii_lowercase();
        if segments.len() == 2 {
            return Ok(AzureScope {
                kind: AzureScopeKind::Subscription,
                path: format!("/subscriptions/{sub}"),
            });
        }
        if !is(2, "resourceGroups") {
            return Err(format!(
                "after the subscription comes resourceGroups/{{name}}, not '{}'",
                segments[2]
            ));
        }
        let Some(rg) = segments.get(3) else {
            return Err("the resource group's name is missing".into());
        };
        check_group_name(rg, "resource group")?;
        let rg_path = format!("/subscriptions/{sub}/resourceGroups/{rg}");
        if segments.len() == 4 {
            return Ok(AzureScope { kind: AzureScopeKind::ResourceGroup, path: rg_path });
        }
        // A resource: providers/{namespace}/{type}/{name}, then {childType}/{childName} pairs.
        if !is(4, "providers") {
            return Err(format!(
                "after the resource group comes providers/{{namespace}}/..., not '{}'",
                segments[4]
            ));
        }
        let rest = &segments[5..];
        if rest.len() < 3 || rest.len() % 2 == 0 {
            return Err(
                "a resource is providers/{namespace}/{type}/{name}, then optional {type}/{name} pairs".into(),
            );
        }
        if !rest[0].contains('.') {
            return Err(format!(
                "'{}' is not a resource provider namespace (such as Microsoft.KeyVault)",
                rest[0]
            ));
        }
        Ok(AzureScope {
            kind: AzureScopeKind::Resource,
            path: format!("{rg_path}/providers/{}", rest.join("/")),
        })
    }

    pub fn kind(&self) -> AzureScopeKind {
        self.kind
    }

    /// The canonical spelling.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What two spellings of the same scope share: the canonical path in lower case.
    pub fn key(&self) -> String {
        self.path.to_ascii_lowercase()
    }

    /// The last segment: the management group's, resource group's or resource's name, the
    /// subscription's id.
    pub fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or_default()
    }

    /// The scope this one sits in by its path alone: a resource's resource group (or, for a child
    /// resource, its parent resource), a resource group's subscription. None for a subscription
    /// and a management group, whose parents are the tree's to say.
    pub fn path_parent(&self) -> Option<AzureScope> {
        match self.kind {
            AzureScopeKind::ManagementGroup | AzureScopeKind::Subscription => None,
            AzureScopeKind::ResourceGroup => {
                let sub = self.path.split('/').nth(2)?;
                Some(AzureScope { kind: AzureScopeKind::Subscription, path: format!("/subscriptions/{sub}") })
            }
            AzureScopeKind::Resource => {
                let (head, tail) = self.path.split_once("/providers/")?;
                let parts: Vec<&str> = tail.split('/').collect();
                if parts.len() > 3 {
                    // A child resource: drop its {type}/{name} pair.
                    let parent = parts[..parts.len() - 2].join("/");
                    Some(AzureScope {
                        kind: AzureScopeKind::Resource,
                        path: format!("{head}/providers/{parent}"),
                    })
                } else {
                    Some(AzureScope { kind: AzureScopeKind::ResourceGroup, path: head.to_string() })
                }
            }
        }
    }

    /// The management group id for the tenant root group (Azure names it after the tenant).
    pub fn tenant_root(tenant_id: &str) -> AzureScope {
        AzureScope {
            kind: AzureScopeKind::ManagementGroup,
            path: format!("{MANAGEMENT_GROUP_PREFIX}{tenant_id}"),
        }
    }

    /// A resource's `{namespace}/{type}` (child types joined by `/`), e.g. `Microsoft.KeyVault/vaults`.
    pub fn resource_type(&self) -> Option<String> {
        if self.kind != AzureScopeKind::Resource {
            return None;
        }
        let (_, tail) = self.path.split_once("/providers/")?;
        let parts: Vec<&str> = tail.split('/').collect();
        let mut t = vec![parts[0]];
        t.extend(parts[1..].iter().step_by(2));
        Some(t.join("/"))
    }
}

impl fmt::Display for AzureScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path)
    }
}

/// A scope of the lab's Azure estate, as the tree holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AzureScopeNode {
    pub scope: AzureScope,
    pub display_name: String,
    /// None only for the tenant root management group.
    pub parent: Option<AzureScope>,
    pub created_at: super::Timestamp,
}

/// The id of the role assignment that gives a tenant's break-glass administrator User Access
/// Administrator at the tenant root management group (the engine makes it for a new tenant, the
/// schema's 2 → 3 step for an existing one): derived from what it grants, as an ARM role
/// assignment's GUID.
pub fn elevated_access_id(root_path: &str, admin: &str) -> String {
    super::ids::derived_guid(&format!(
        "{}\u{0}{}\u{0}{admin}",
        root_path.to_ascii_lowercase(),
        super::azure_roles::USER_ACCESS_ADMINISTRATOR
    ))
}

/// Whether `text` is a GUID in the 8-4-4-4-12 form.
pub fn is_guid(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Management and resource group names: 1 to 90 letters, digits, `-`, `_`, `.`, `(`, `)`, not
/// ending in a dot (ARM's rule for resource groups; management groups allow a subset of it).
fn check_group_name(name: &str, what: &str) -> Result<(), ScopeError> {
    let ok_char = |c: char| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '(' | ')');
    if name.chars().count() > MAX_GROUP_NAME {
        return Err(format!("the {what} name '{name}' is longer than {MAX_GROUP_NAME} characters"));
    }
    if !name.chars().all(ok_char) || name.ends_with('.') {
        return Err(format!(
            "the {what} name '{name}' may use only letters, digits, '-', '_', '.', '(' and ')', and may not end in '.'"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SUB: &str = "a1b2c3d4-0000-4000-8000-00000000000a";

    #[test]
    fn every_level_parses_to_its_canonical_spelling() {
        let cases = [
            (
                "/providers/Microsoft.Management/managementGroups/contoso",
                AzureScopeKind::ManagementGroup,
                "/providers/Microsoft.Management/managementGroups/contoso",
            ),
            (
                "/subscriptions/A1B2C3D4-0000-4000-8000-00000000000A",
                AzureScopeKind::Subscription,
                "/subscriptions/a1b2c3d4-0000-4000-8000-00000000000a",
            ),
            (
                "providers/Microsoft.Subscription/subscriptions/a1b2c3d4-0000-4000-8000-00000000000a/",
                AzureScopeKind::Subscription,
                "/subscriptions/a1b2c3d4-0000-4000-8000-00000000000a",
            ),
            (
                "/SUBSCRIPTIONS/a1b2c3d4-0000-4000-8000-00000000000a/resourcegroups/rg-Prod",
                AzureScopeKind::ResourceGroup,
                "/subscriptions/a1b2c3d4-0000-4000-8000-00000000000a/resourceGroups/rg-Prod",
            ),
            (
                "/subscriptions/a1b2c3d4-0000-4000-8000-00000000000a/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1",
                AzureScopeKind::Resource,
                "/subscriptions/a1b2c3d4-0000-4000-8000-00000000000a/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1",
            ),
        ];
        for (text, kind, path) in cases {
            let s = AzureScope::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!((s.kind(), s.path()), (kind, path), "{text}");
        }
    }

    #[test]
    fn spellings_of_one_scope_share_a_key() {
        let a = AzureScope::parse(&format!("/subscriptions/{SUB}/resourceGroups/RG")).unwrap();
        let b = AzureScope::parse(&format!(
            "providers/Microsoft.Subscription/subscriptions/{}/resourcegroups/rg/",
            SUB.to_uppercase()
        ))
        .unwrap();
        assert_eq!(a.key(), b.key());
    }

    #[test]
    fn parents_by_path_climb_to_the_subscription() {
        let child = AzureScope::parse(&format!(
            "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Sql/servers/s1/databases/db1"
        ))
        .unwrap();
        assert_eq!(child.resource_type().as_deref(), Some("Microsoft.Sql/servers/databases"));
        let server = child.path_parent().unwrap();
        assert_eq!(
            server.path(),
            format!("/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Sql/servers/s1")
        );
        let rg = server.path_parent().unwrap();
        assert_eq!(rg.kind(), AzureScopeKind::ResourceGroup);
        let sub = rg.path_parent().unwrap();
        assert_eq!(sub.kind(), AzureScopeKind::Subscription);
        assert_eq!(sub.path_parent(), None);
    }

    #[test]
    fn what_is_not_a_scope_says_why() {
        let cases = [
            ("/", "directory"),
            ("", "directory"),
            ("/subscriptions/not-a-guid", "not a GUID"),
            ("/subscriptions", "missing"),
            (&format!("/subscriptions/{SUB}/resourceGroups"), "missing"),
            (&format!("/subscriptions/{SUB}/things/x"), "resourceGroups"),
            (&format!("/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults"), "pairs"),
            (&format!("/subscriptions/{SUB}/resourceGroups/rg/providers/KeyVault/vaults/v"), "namespace"),
            (&format!("/subscriptions/{SUB}/resourceGroups/rg."), "may not end"),
            (&format!("/subscriptions/{SUB}/resourceGroups/r g"), "only letters"),
            ("/providers/Microsoft.Management/managementGroups", "missing"),
            ("/providers/Microsoft.Management/managementGroups/a/b", "nothing may follow"),
            ("/administrativeUnits/x", "must start"),
            ("/subscriptions//x", "empty segment"),
        ];
        for (text, says) in cases {
            let e = AzureScope::parse(text).expect_err(text);
            assert!(e.contains(says), "{text}: {e}");
        }
        let long = "a".repeat(MAX_GROUP_NAME + 1);
        assert!(
            AzureScope::parse(&format!("/subscriptions/{SUB}/resourceGroups/{long}"))
                .unwrap_err()
                .contains("90")
        );
    }

    proptest! {
        /// Any text parses or is refused (never a panic); what parses is canonical: parsing its
        /// path again gives the same scope, and its parent chain ends.
        #[test]
        fn parsing_is_total_and_canonical(text in "(/?(subscriptions|providers|resourceGroups|Microsoft\\.[A-Za-z]{1,6}|[A-Za-z0-9.\\-]{0,12}|a1b2c3d4-0000-4000-8000-00000000000a)){0,9}/?") {
            if let Ok(s) = AzureScope::parse(&text) {
                let again = AzureScope::parse(s.path()).expect("a canonical path parses");
                prop_assert_eq!(&again, &s);
                let mut steps = 0;
                let mut at = s;
                while let Some(p) = at.path_parent() {
                    prop_assert!(p.kind() <= at.kind());
                    prop_assert!(at.key().starts_with(&p.key()));
                    at = p;
                    steps += 1;
                    prop_assert!(steps < 10);
                }
            }
        }

        /// Every spelling ARM accepts of one scope (keywords in any case, the subscription alias,
        /// slashes at either end) parses to the same key, and its canonical path to itself.
        #[test]
        fn every_spelling_of_a_scope_has_one_key(
            depth in 0usize..4,
            rg in "[A-Za-z0-9_()\\-]{1,20}",
            names in prop::collection::vec("[a-z0-9]{1,8}", 2),
            upper in prop::collection::vec(any::<bool>(), 6),
            alias in any::<bool>(),
            slashes in (any::<bool>(), any::<bool>()),
        ) {
            let case = |i: usize, w: &str| if upper[i] { w.to_ascii_uppercase() } else { w.to_string() };
            let canonical_rg = format!("/subscriptions/{SUB}/resourceGroups/{rg}");
            let (canonical, mut spelled) = (
                match depth {
                    0 => format!("/subscriptions/{SUB}"),
                    1 => canonical_rg.clone(),
                    2 => format!("{canonical_rg}/providers/Microsoft.Web/sites/{}", names[0]),
                    _ => format!("{canonical_rg}/providers/Microsoft.Web/sites/{}/slots/{}", names[0], names[1]),
                },
                String::new(),
            );
            if alias {
                spelled.push_str(&format!("providers/{}/", case(0, "Microsoft.Subscription")));
            }
            spelled.push_str(&format!("{}/{}", case(1, "subscriptions"), if upper[2] { SUB.to_uppercase() } else { SUB.to_string() }));
            if depth >= 1 {
                spelled.push_str(&format!("/{}/{rg}", case(3, "resourceGroups")));
            }
            if depth >= 2 {
                spelled.push_str(&format!("/{}/Microsoft.Web/sites/{}", case(4, "providers"), names[0]));
            }
            if depth >= 3 {
                spelled.push_str(&format!("/slots/{}", names[1]));
            }
            let spelled = format!("{}{spelled}{}", if slashes.0 { "/" } else { "" }, if slashes.1 { "/" } else { "" });
            let parsed = AzureScope::parse(&spelled).map_err(|e| TestCaseError::fail(format!("{spelled}: {e}")))?;
            let reference = AzureScope::parse(&canonical).expect("canonical parses");
            prop_assert_eq!(parsed.key(), reference.key());
            prop_assert_eq!(reference.path(), canonical.as_str());
        }

        #[test]
        fn arbitrary_text_never_panics(text in ".{0,200}") {
            let _ = AzureScope::parse(&text);
        }
    }
}
