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
        let mut items = Vec::new();
        for a in self.engine.audit(&Default::default())? {
            let actor = self.engine.object(&a.actor_id)?;
            items.push(views::audit_record(&a, actor.as_ref()));
        }
        // Newest first, as the real log lists them.
        items.reverse();
        self.collection(self.context("auditLogs/directoryAudits"), items)
    }
}
