//! Permanent active assignments of privileged roles (pimlab's own alert): standing privilege with
//! no end, outside just-in-time activation.

use super::tenant::{Holding, Tenant};
use super::{Fix, Found, Incident};
use crate::model::{IsoDuration, RequestKind};

/// How long the eligibility a fix proposes in place of a permanent assignment lasts.
const ELIGIBLE_FOR: IsoDuration = IsoDuration::from_days(180);

pub(super) fn found(t: &Tenant<'_>) -> Found {
    let mut incidents = Vec::new();
    for s in t.grants().filter(|s| {
        s.kind == RequestKind::Assignment && s.end_at.is_none() && t.is_privileged(&s.role_definition_id)
    }) {
        let h = Holding { principal: &s.principal_id, schedule: s, via: None };
        let fix = match t.fix_for(&h) {
            Fix::RemoveActive { principal, role, scope } => {
                Fix::MakeEligible { principal, role, scope, duration: ELIGIBLE_FOR }
            }
            other => other,
        };
        let mut i = Incident::new(s.instance_id.clone(), t.describe(&h), fix);
        i.principal = Some(t.named(&s.principal_id));
        i.role = Some(t.role(&s.role_definition_id));
        i.scope = Some(Tenant::scope(s));
        i.assignment_created = Some(s.created_at.unwrap_or(s.start()));
        incidents.push(i);
    }
    let measured = format!("{} permanent active assignment(s) of privileged roles", incidents.len());
    Found { measured, incidents }
}
