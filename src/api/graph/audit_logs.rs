//! `auditLogs/directoryAudits`: the audit log, newest first.

use super::{Call, Response};
use crate::api::views;
use crate::model::ApiError;

impl Call<'_> {
    pub(super) fn audit(&mut self) -> Result<Response, ApiError> {
        self.require_method(&["GET"])?;
        self.check_filter(
            &[
                "activityDateTime",
                "activityDisplayName",
                "category",
                "correlationId",
                "result",
                "targetResources",
                "initiatedBy",
                "loggedByService",
                "operationType",
                "id",
            ],
            "directoryAudit",
        )?;
        let rows = self.engine.audit_with_actors(&Default::default())?;
        let mut items: Vec<_> =
            rows.iter().map(|(a, actor)| views::audit_record(a, actor.as_deref())).collect();
        // Newest first, as the real log lists them.
        items.reverse();
        self.collection(self.context("auditLogs/directoryAudits"), items)
    }
}
