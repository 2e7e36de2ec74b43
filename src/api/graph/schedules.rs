//! The read-only schedule and instance collections (`roleEligibilitySchedules`,
//! `roleAssignmentSchedules` and their `...Instances`), routed alike.

use crate::model::ErrorCode;
use serde_json::Value;

use super::{Call, Response, directory_only};
use crate::api::views;
use crate::model::{ApiError, RequestKind, Schedule, Surface};

/// Properties a schedule or instance can be expanded on (eligibilities: all but `activatedUsing`).
const SCHEDULE_EXPANDS: &[&str] =
    &["principal", "roleDefinition", "directoryScope", "appScope", "activatedUsing"];

impl Call<'_> {
    fn render_schedule(&mut self, s: &Schedule, instance: bool) -> Result<Value, ApiError> {
        let mut v = if instance { views::instance(s) } else { views::schedule(s) };
        self.expand_common(&mut v, &s.principal_id, &s.role_definition_id, s.directory_scope_id.as_deref())?;
        if self.query.expand_item("activatedUsing").is_some() {
            v["activatedUsing"] = match &s.activated_using {
                Some(id) => match self.engine.schedule_any(id)? {
                    Some(e) if instance => views::instance(&e),
                    Some(e) => views::schedule(&e),
                    None => Value::Null,
                },
                None => Value::Null,
            };
        }
        Ok(v)
    }

    pub(super) fn schedules(
        &mut self,
        kind: RequestKind,
        collection: &str,
        instances: bool,
        current_user: Option<()>,
    ) -> Result<Response, ApiError> {
        self.require_method(&["GET"])?;
        self.engine.require_pim_reader(self.session, current_user.is_some())?;
        let type_name = type_name_of(kind, instances);
        let expands: &[&str] =
            if kind == RequestKind::Assignment { SCHEDULE_EXPANDS } else { &SCHEDULE_EXPANDS[..4] };
        self.check_expands(expands, type_name)?;
        let mut fields = vec![
            "id",
            "principalId",
            "roleDefinitionId",
            "directoryScopeId",
            "appScopeId",
            "memberType",
            "principal",
            "roleDefinition",
        ];
        if kind == RequestKind::Assignment {
            fields.push("assignmentType");
        }
        if instances {
            fields.extend([
                "startDateTime",
                "endDateTime",
                "roleAssignmentOriginId",
                "roleAssignmentScheduleId",
                "roleEligibilityScheduleId",
            ]);
        } else {
            fields.extend(["createdUsing", "createdDateTime", "modifiedDateTime", "status", "scheduleInfo"]);
        }
        self.check_filter(&fields, type_name)?;
        let principal_filter = self.query.filter.as_ref().and_then(|f| f.required_eq("principalId"));
        let role_filter = self.query.filter.as_ref().and_then(|f| f.required_eq("roleDefinitionId"));
        let (mine, groups) = match current_user {
            Some(()) => {
                let caller = self.session.caller.clone();
                let groups = self.engine.role_assignable_groups_of(&caller)?;
                (Some(caller), groups)
            }
            None => (None, Vec::new()),
        };
        let rows = directory_only(if instances {
            self.engine.instances(
                kind,
                if mine.is_some() { None } else { principal_filter.as_deref() },
                role_filter.as_deref(),
            )?
        } else {
            self.engine.schedules(
                kind,
                if mine.is_some() { None } else { principal_filter.as_deref() },
                role_filter.as_deref(),
            )?
        });
        let mut items = Vec::new();
        for s in &rows {
            let via_group = match &mine {
                Some(me) if s.principal_id.eq_ignore_ascii_case(me) => false,
                Some(_) if groups.iter().any(|g| g.eq_ignore_ascii_case(&s.principal_id)) => true,
                Some(_) => continue,
                None => false,
            };
            let mut v = self.render_schedule(s, instances)?;
            if via_group {
                v["memberType"] = "Group".into();
            }
            items.push(v);
        }
        let context = if mine.is_some() {
            self.context(&format!("Collection({type_name})"))
        } else {
            self.context(&format!("roleManagement/directory/{collection}"))
        };
        self.collection(context, items)
    }

    pub(super) fn schedule_by_id(
        &mut self,
        kind: RequestKind,
        collection: &str,
        instances: bool,
        id: &str,
    ) -> Result<Response, ApiError> {
        self.require_method(&["GET"])?;
        let found =
            if instances { self.engine.instance(kind, id)? } else { self.engine.schedule(kind, id)? };
        let found = found.filter(|s| s.surface == Surface::Directory);
        let s = found.ok_or_else(|| {
            ApiError::not_found(ErrorCode::ResourceNotFound, type_name_of(kind, instances), id)
        })?;
        let own = self.engine.is_callers(self.session, &s.principal_id)?;
        self.engine.require_pim_reader(self.session, own)?;
        let v = self.render_schedule(&s, instances)?;
        self.entity(self.context(&format!("roleManagement/directory/{collection}/$entity")), v)
    }
}

fn type_name_of(kind: RequestKind, instances: bool) -> &'static str {
    match (kind, instances) {
        (RequestKind::Eligibility, false) => "unifiedRoleEligibilitySchedule",
        (RequestKind::Assignment, false) => "unifiedRoleAssignmentSchedule",
        (RequestKind::Eligibility, true) => "unifiedRoleEligibilityScheduleInstance",
        (RequestKind::Assignment, true) => "unifiedRoleAssignmentScheduleInstance",
    }
}
