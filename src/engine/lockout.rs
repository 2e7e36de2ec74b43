//! Lock-out protection (reference §3.2): the tenant always keeps a way back in. One rule serves
//! every path that ends a Global Administrator assignment: a PIM removal, a removal outside PIM,
//! and expiry on the clock.

use super::fidelity;
use crate::model::builtin_roles::GLOBAL_ADMINISTRATOR;
use crate::model::{ApiError, AssignmentType, RequestKind, Schedule};
use crate::store::Tx;

/// How many `Assigned` Global Administrator assignments at the tenant scope, other than the
/// schedule `except`, are in effect. Activations do not count: they end within hours.
pub(crate) fn other_assigned_global_administrators(tx: &Tx<'_>, except: &str) -> Result<usize, ApiError> {
    Ok(tx
        .active_assignments_of_role(GLOBAL_ADMINISTRATOR, "/")?
        .iter()
        .filter(|o| o.id != except && o.assignment_type == Some(AssignmentType::Assigned))
        .count())
}

/// Whether `s` is a Global Administrator assignment or eligibility at the tenant scope.
pub(crate) fn is_tenant_global_administrator(s: &Schedule) -> bool {
    s.role_definition_id == GLOBAL_ADMINISTRATOR && s.directory_scope_id.as_deref() == Some("/")
}

/// The refusal to remove the last active Global Administrator (the real code is unknown).
pub(crate) fn last_global_administrator_error() -> ApiError {
    ApiError::new(
        400,
        fidelity::LAST_GLOBAL_ADMIN_CODE,
        "The last active Global Administrator assignment cannot be removed.",
    )
}

/// Whether the clock must keep `s` instead of expiring it. The last active `Assigned` Global
/// Administrator assignment does not expire; nor does a time-bound Global Administrator
/// eligibility that is the last way back in: no `Assigned` one is in effect and no other
/// eligibility remains.
pub(crate) fn keeps_from_expiring(tx: &Tx<'_>, s: &Schedule) -> Result<bool, ApiError> {
    if !is_tenant_global_administrator(s)
        || s.assignment_type == Some(AssignmentType::Activated)
        || !s.is_active()
    {
        return Ok(false);
    }
    let other_assigned = other_assigned_global_administrators(tx, &s.id)? > 0;
    if s.kind == RequestKind::Assignment {
        return Ok(!other_assigned);
    }
    let other_eligible = tx
        .live_schedules(RequestKind::Eligibility, None, Some(GLOBAL_ADMINISTRATOR))?
        .iter()
        .any(|o| o.id != s.id && o.is_active() && o.directory_scope_id.as_deref() == Some("/"));
    Ok(!other_assigned && !other_eligible)
}
