//! PIM for Groups over Graph (reference §6): `identityGovernance/privilegedAccess/group/` with
//! its request, schedule and instance collections of both kinds and `assignmentApprovals`. The
//! requests go through the same engine as a directory role's (surface `group`); this file routes
//! them, requires the `$filter` on `groupId` or `principalId` the service requires of its lists,
//! and answers in the group API's own types (`group_views.rs`).

use crate::model::ErrorCode;
use serde_json::Value;

use super::approvals::decision_body;
use super::{Call, Response, Version, filter_by_current_user_on, group_views, not_found_path};
use crate::api::{body, views};
use crate::engine::{RequestFilter, fidelity};
use crate::model::approval::ApprovalChannel;
use crate::model::group::inner_id;
use crate::model::{ApiError, RequestKind, Schedule, ScheduleRequest, Status, Surface};

const BASE: &str = "identityGovernance/privilegedAccess/group";
const REQUESTS: [&str; 2] = ["eligibilityScheduleRequests", "assignmentScheduleRequests"];
const SCHEDULES: [&str; 4] = [
    "eligibilitySchedules",
    "assignmentSchedules",
    "eligibilityScheduleInstances",
    "assignmentScheduleInstances",
];

fn kind_of(collection: &str) -> RequestKind {
    if collection.starts_with("eligibility") { RequestKind::Eligibility } else { RequestKind::Assignment }
}

impl Call<'_> {
    /// The routes under `identityGovernance/privilegedAccess/group`.
    pub(super) fn groups(&mut self, rest: &[&str]) -> Result<Response, ApiError> {
        match rest {
            ["assignmentApprovals", tail @ ..] => self.group_approvals(tail),
            [c] if REQUESTS.contains(c) => self.group_requests(kind_of(c), c, None),
            [c, f] if REQUESTS.contains(c) && f.starts_with("filterByCurrentUser") => {
                let on = filter_by_current_user_on(f, &["principal", "createdBy", "approver"])?;
                self.group_requests(kind_of(c), c, Some(on))
            }
            [c, id] if REQUESTS.contains(c) => {
                self.require_method(&["GET"])?;
                self.check_expands(REQUEST_EXPANDS, group_views::request_type(kind_of(c)))?;
                let q = self.group_request(kind_of(c), id)?;
                let v = self.render_group_request(&q)?;
                self.entity(self.context(&format!("{BASE}/{c}/$entity")), v)
            }
            [c, id, "cancel"] if REQUESTS.contains(c) => {
                self.require_method(&["POST"])?;
                let q = self.group_request(kind_of(c), id)?;
                self.engine.cancel(self.session, q.kind, &q.id)?;
                Ok(Response::no_content())
            }
            [c, tail @ ..] if SCHEDULES.contains(c) => {
                let (kind, instances) = (kind_of(c), c.ends_with("Instances"));
                match tail {
                    [] => self.group_schedules(kind, c, instances, false),
                    [f] if f.starts_with("filterByCurrentUser") => {
                        filter_by_current_user_on(f, &["principal"])?;
                        self.group_schedules(kind, c, instances, true)
                    }
                    [id] => self.group_schedule_by_id(kind, c, instances, id),
                    _ => Err(not_found_path(&self.path())),
                }
            }
            _ => Err(not_found_path(&self.path())),
        }
    }

    /// A group request by id: another surface's answers as if it did not exist.
    fn group_request(&mut self, kind: RequestKind, id: &str) -> Result<ScheduleRequest, ApiError> {
        let q = self.engine.request(id, Some(kind))?;
        if q.surface != Surface::Group {
            return Err(crate::engine::request_not_found(id));
        }
        Ok(q)
    }

    /// The value of `groupId eq` or `principalId eq` a list must be filtered on, refused without
    /// either as the service refuses it.
    fn required_group_filter(&self) -> Result<(Option<String>, Option<String>), ApiError> {
        let f = self.query.filter.as_ref();
        let group = f.and_then(|f| f.required_eq("groupId")).map(|g| g.to_ascii_lowercase());
        let principal = f.and_then(|f| f.required_eq("principalId")).map(|p| p.to_ascii_lowercase());
        if group.is_none() && principal.is_none() {
            return Err(ApiError::new(
                400,
                fidelity::GROUP_LIST_FILTER_MISSING_CODE,
                "The request requires a filter on groupId or principalId.",
            )
            .with_detail(
                "MissingFilter",
                "$filter",
                format!(
                    "add $filter=groupId eq '{{groupId}}' or $filter=principalId eq '{{principalId}}' ({})",
                    self.query.filter.as_ref().map_or("no $filter was given".to_string(), |_| {
                        "the $filter given names neither with eq at its top level".to_string()
                    })
                ),
            ));
        }
        Ok((group, principal))
    }

    fn group_requests(
        &mut self,
        kind: RequestKind,
        collection: &str,
        current_user: Option<String>,
    ) -> Result<Response, ApiError> {
        let type_name = group_views::request_type(kind);
        if current_user.is_none() && self.method == "POST" {
            let mut req =
                body::group_schedule_request(kind, self.body_text()?, self.version == Version::Beta)?;
            // The group as the directory spells its id, so the membership it grants is found by it.
            if let Some(g) = req.directory_scope_id.as_deref().map(|g| self.engine.object(g)).transpose()? {
                req.directory_scope_id = g.map(|g| g.id).or(req.directory_scope_id);
            }
            let q = self.engine.submit(self.session, &req)?;
            let v = self.created_entity(&format!("{BASE}/{collection}"), self.group_request_view(&q));
            return Ok(Response::created(v));
        }
        self.require_method(&["GET"])?;
        self.check_expands(REQUEST_EXPANDS, type_name)?;
        let filterable: Vec<&str> = group_views::REQUEST_PROPERTIES
            .iter()
            .copied()
            .filter(|p| *p != "customData")
            .chain(["principal", "group"])
            .collect();
        self.check_filter(&filterable, type_name)?;
        let (group, mut principal) = match current_user {
            Some(_) => (None, None),
            None => self.required_group_filter()?,
        };
        let caller = self.session.caller.clone();
        let mut f = RequestFilter { kind: Some(kind), ..Default::default() };
        match current_user.as_deref() {
            Some("principal") => principal = Some(caller.clone()),
            Some("createdBy") => f.created_by = Some(caller.clone()),
            _ => {}
        }
        f.principal_id = principal;
        let mut items = Vec::new();
        for q in self.engine.requests(&f)?.into_iter().filter(|q| q.surface == Surface::Group) {
            if group.as_deref().is_some_and(|g| q.directory_scope_id.as_deref() != Some(g)) {
                continue;
            }
            if current_user.as_deref() == Some("approver")
                && (q.status != Status::PendingApproval || !self.engine.is_approver(&caller, &q)?)
            {
                continue;
            }
            items.push(self.render_group_request(&q)?);
        }
        let context = match current_user {
            Some(_) => self.context(&format!("Collection({type_name})")),
            None => self.context(&format!("{BASE}/{collection}")),
        };
        self.collection(context, items)
    }

    fn group_request_view(&self, q: &ScheduleRequest) -> Value {
        group_views::request(q, self.version == Version::Beta)
    }

    fn render_group_request(&mut self, q: &ScheduleRequest) -> Result<Value, ApiError> {
        let mut v = self.group_request_view(q);
        self.expand_group_common(&mut v, &q.principal_id, q.directory_scope_id.as_deref())?;
        if self.query.expand_item("targetSchedule").is_some() {
            let target = match &q.target_schedule_id {
                Some(id) => self.engine.schedule_any(id)?,
                None => None,
            };
            v["targetSchedule"] = target.map_or(Value::Null, |s| group_views::schedule(&s));
        }
        if self.query.expand_item("activatedUsing").is_some() {
            if q.kind == RequestKind::Eligibility {
                return Err(no_such_property("activatedUsing", group_views::request_type(q.kind)));
            }
            let used = match &q.activated_using {
                Some(id) => self.engine.schedule_any(id)?,
                None => None,
            };
            v["activatedUsing"] = used.map_or(Value::Null, |s| group_views::schedule(&s));
        }
        Ok(v)
    }

    /// The `principal` and `group` expansions every group entity has.
    fn expand_group_common(
        &mut self,
        v: &mut Value,
        principal: &str,
        group: Option<&str>,
    ) -> Result<(), ApiError> {
        if self.query.expand_item("principal").is_some() {
            v["principal"] =
                self.engine.object(principal)?.map_or(Value::Null, |o| views::directory_object(&o));
        }
        if self.query.expand_item("group").is_some() {
            let found = match group {
                Some(g) => self.engine.object(g)?,
                None => None,
            };
            v["group"] = found.map_or(Value::Null, |o| views::directory_object(&o));
        }
        Ok(())
    }

    fn render_group_schedule(&mut self, s: &Schedule, instance: bool) -> Result<Value, ApiError> {
        let mut v = if instance { group_views::instance(s) } else { group_views::schedule(s) };
        self.expand_group_common(&mut v, &s.principal_id, s.directory_scope_id.as_deref())?;
        if self.query.expand_item("activatedUsing").is_some() {
            let used = match &s.activated_using {
                Some(id) => self.engine.schedule_any(id)?,
                None => None,
            };
            v["activatedUsing"] = match used {
                Some(e) if instance => group_views::instance(&e),
                Some(e) => group_views::schedule(&e),
                None => Value::Null,
            };
        }
        Ok(v)
    }

    fn group_schedules(
        &mut self,
        kind: RequestKind,
        collection: &str,
        instances: bool,
        mine: bool,
    ) -> Result<Response, ApiError> {
        self.require_method(&["GET"])?;
        let type_name = group_views::schedule_type(kind, instances);
        let expands: &[&str] =
            if kind == RequestKind::Assignment { SCHEDULE_EXPANDS } else { &SCHEDULE_EXPANDS[..2] };
        self.check_expands(expands, type_name)?;
        let mut fields = vec!["id", "principalId", "accessId", "groupId", "memberType", "principal", "group"];
        if kind == RequestKind::Assignment {
            fields.push("assignmentType");
        }
        if instances {
            fields.extend(["startDateTime", "endDateTime", "assignmentScheduleId", "eligibilityScheduleId"]);
        } else {
            fields.extend(["createdUsing", "createdDateTime", "modifiedDateTime", "status", "scheduleInfo"]);
        }
        self.check_filter(&fields, type_name)?;
        let (group, principal) =
            if mine { (None, Some(self.session.caller.clone())) } else { self.required_group_filter()? };
        let rows = if instances {
            self.engine.instances(kind, principal.as_deref(), None)?
        } else {
            self.engine.schedules(kind, principal.as_deref(), None)?
        };
        let mut items = Vec::new();
        for s in rows.iter().filter(|s| s.surface == Surface::Group) {
            if group.as_deref().is_some_and(|g| s.directory_scope_id.as_deref() != Some(g)) {
                continue;
            }
            items.push(self.render_group_schedule(s, instances)?);
        }
        let context = if mine {
            self.context(&format!("Collection({type_name})"))
        } else {
            self.context(&format!("{BASE}/{collection}"))
        };
        self.collection(context, items)
    }

    fn group_schedule_by_id(
        &mut self,
        kind: RequestKind,
        collection: &str,
        instances: bool,
        id: &str,
    ) -> Result<Response, ApiError> {
        self.require_method(&["GET"])?;
        let type_name = group_views::schedule_type(kind, instances);
        let inner = inner_id(id);
        let found =
            if instances { self.engine.instance(kind, inner)? } else { self.engine.schedule(kind, inner)? };
        // The whole composite id must match: the group and relationship are part of it.
        let found = found.filter(|s| {
            let own = if instances { &s.instance_id } else { &s.id };
            s.surface == Surface::Group
                && group_views::schedule_id(s.directory_scope_id.as_deref(), &s.role_definition_id, own)
                    .eq_ignore_ascii_case(id)
        });
        let s = found.ok_or_else(|| ApiError::not_found(ErrorCode::ResourceNotFound, type_name, id))?;
        let v = self.render_group_schedule(&s, instances)?;
        self.entity(self.context(&format!("{BASE}/{collection}/$entity")), v)
    }

    /// `assignmentApprovals`: a group request's approval (its id the request's) with its stages
    /// (v1.0) or steps (beta), and deciding one with a PATCH.
    fn group_approvals(&mut self, rest: &[&str]) -> Result<Response, ApiError> {
        let stages = if self.version == Version::Beta { "steps" } else { "stages" };
        match rest {
            [f] if f.starts_with("filterByCurrentUser") => {
                let mut items = Vec::new();
                for id in self.current_users_approvals(f, Surface::Group)? {
                    items.push(self.group_approval_json(&id)?);
                }
                self.collection(self.context("Collection(approval)"), items)
            }
            [id] => {
                self.require_method(&["GET"])?;
                let v = self.group_approval_json(id)?;
                self.entity(self.context(&format!("{BASE}/assignmentApprovals/$entity")), v)
            }
            [id, s] if *s == stages => {
                self.require_method(&["GET"])?;
                let v = self.group_approval_json(id)?;
                let items = v[stages].as_array().cloned().unwrap_or_default();
                self.collection(self.context(&format!("{BASE}/assignmentApprovals('{id}')/{stages}")), items)
            }
            [id, s, stage_id] if *s == stages && self.method == "PATCH" => {
                let type_name = if stages == "steps" { "approvalStep" } else { "approvalStage" };
                let (decision, justification) = decision_body(self.body_text()?, type_name)?;
                self.group_approval_json(id)?;
                self.engine.decide(
                    self.session,
                    id,
                    Some(stage_id),
                    decision,
                    justification.as_deref(),
                    ApprovalChannel::GraphStepApi,
                )?;
                Ok(Response::no_content())
            }
            [id, s, stage_id] if *s == stages => {
                self.require_method(&["GET", "PATCH"])?;
                let v = self.group_approval_json(id)?;
                let found = v[stages].as_array().and_then(|all| {
                    all.iter().find(|s| s["id"].as_str().is_some_and(|s| s.eq_ignore_ascii_case(stage_id)))
                });
                let stage = found.cloned().ok_or_else(|| {
                    ApiError::new(
                        404,
                        ErrorCode::ResourceNotFound,
                        format!("Approval stage '{stage_id}' does not exist."),
                    )
                })?;
                let context = format!("{BASE}/assignmentApprovals('{id}')/{stages}/$entity");
                self.entity(self.context(&context), stage)
            }
            _ => Err(not_found_path(&self.path())),
        }
    }

    /// A group request's approval with its stages as the caller sees them (`assignedToMe`); any
    /// other surface's approval answers as if it did not exist.
    fn group_approval_json(&mut self, id: &str) -> Result<Value, ApiError> {
        let steps = match self.engine.request(id, None) {
            Ok(q) if q.surface == Surface::Group => self.engine.approval_steps(&q.id)?,
            _ => Vec::new(),
        };
        let rendered = self.render_steps(id, &steps)?;
        Ok(group_views::approval(&steps[0].approval_id, rendered, self.version == Version::Beta))
    }
}

/// Properties a group request can be expanded on.
const REQUEST_EXPANDS: &[&str] = &["principal", "group", "targetSchedule", "activatedUsing"];

/// Properties a group schedule or instance can be expanded on (eligibilities: the first two).
const SCHEDULE_EXPANDS: &[&str] = &["principal", "group", "activatedUsing"];

fn no_such_property(name: &str, type_name: &str) -> ApiError {
    ApiError::new(
        400,
        ErrorCode::BadRequest,
        format!("Could not find a property named '{name}' on type 'microsoft.graph.{type_name}'."),
    )
}
