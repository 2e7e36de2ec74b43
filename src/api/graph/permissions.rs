//! Which Microsoft Graph permission each route needs when it comes through an application
//! (reference §8, addendum §6). The router asks before it dispatches; the table of permissions
//! per kind of call is `model::permissions`.

use crate::model::permissions::Access;

/// The kind of call `method` on `segments` (the path after the version) is, for permissions;
/// None for what needs none (`$batch`, whose parts are checked one by one, and unknown paths,
/// which answer 404 anyway).
pub(super) fn access_for(method: &str, segments: &[&str], raw_query: &str) -> Option<Access> {
    let read = method == "GET";
    // A group's policies share the routes of the directory's: the id (`Group_...`) or the
    // filter (`scopeType eq 'Group'`) tells them apart.
    let about_group = |id: Option<&&str>| {
        id.is_some_and(|i| i.starts_with("Group_"))
            || percent_encoding::percent_decode_str(raw_query)
                .decode_utf8_lossy()
                .replace('+', " ")
                .to_ascii_lowercase()
                .contains("scopetype eq 'group'")
    };
    Some(match segments {
        ["policies", "roleManagementPolicies" | "roleManagementPolicyAssignments", rest @ ..]
            if about_group(rest.first()) =>
        {
            if read {
                Access::ReadGroupPolicy
            } else {
                Access::WriteGroupPolicy
            }
        }
        ["roleManagement", "directory", rest @ ..] => match rest {
            ["roleDefinitions", ..] | ["roleAssignments", ..] => {
                if read {
                    Access::ReadRoles
                } else {
                    Access::WriteRoles
                }
            }
            ["roleAssignmentApprovals", ..] => Access::Approvals,
            [c, tail @ ..] if c.starts_with("roleEligibilityScheduleRequests") => match (read, tail) {
                (true, _) => Access::ReadEligibilityRequests,
                _ => Access::WriteEligibility,
            },
            [c, tail @ ..] if c.starts_with("roleAssignmentScheduleRequests") => match (read, tail) {
                (true, _) => Access::ReadAssignmentRequests,
                _ => Access::WriteAssignment,
            },
            [c, ..] if c.starts_with("roleEligibilitySchedule") => Access::ReadEligibility,
            [c, ..] if c.starts_with("roleAssignmentSchedule") => Access::ReadAssignment,
            _ => return None,
        },
        ["policies", "roleManagementPolicies" | "roleManagementPolicyAssignments", ..] => {
            if read {
                Access::ReadPolicy
            } else {
                Access::WritePolicy
            }
        }
        ["identityGovernance", "privilegedAccess", "group", ..] => {
            if read {
                Access::ReadGroupAccess
            } else {
                Access::WriteGroupAccess
            }
        }
        ["users" | "groups" | "servicePrincipals", ..] | ["directory", "administrativeUnits", ..] => {
            if read {
                Access::ReadDirectory
            } else {
                Access::WriteDirectory
            }
        }
        ["me", ..] => Access::Me,
        ["oauth2PermissionGrants", ..] => Access::ReadDirectory,
        ["auditLogs", ..] => Access::ReadAudit,
        ["identityGovernance", "roleManagementAlerts", ..] => {
            if read {
                Access::ReadAlerts
            } else {
                Access::WriteAlerts
            }
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_read_with_the_write_scopes_and_schedules_with_the_read_ones() {
        let path = |p: &str| p.split('/').map(str::to_string).collect::<Vec<_>>();
        let at = |m: &str, p: &str| {
            let segs = path(p);
            access_for(m, &segs.iter().map(String::as_str).collect::<Vec<_>>(), "")
        };
        assert_eq!(
            at("GET", "roleManagement/directory/roleEligibilityScheduleRequests"),
            Some(Access::ReadEligibilityRequests)
        );
        assert_eq!(
            at("POST", "roleManagement/directory/roleEligibilityScheduleRequests"),
            Some(Access::WriteEligibility)
        );
        assert_eq!(
            at("GET", "roleManagement/directory/roleEligibilitySchedules"),
            Some(Access::ReadEligibility)
        );
        assert_eq!(
            at("GET", "roleManagement/directory/roleAssignmentScheduleInstances"),
            Some(Access::ReadAssignment)
        );
        assert_eq!(at("PATCH", "policies/roleManagementPolicies/x/rules/y"), Some(Access::WritePolicy));
        assert_eq!(at("POST", "$batch"), None);
        assert_eq!(
            at("PATCH", "policies/roleManagementPolicies/Group_x_y/rules/z"),
            Some(Access::WriteGroupPolicy)
        );
    }
}
