//! Shaping answers as Graph does: checking `$expand` and `$filter` against an entity type, applying
//! the query options to a collection (with `@odata.nextLink`) or one entity, and embedding the
//! expansions schedules, requests and role assignments share.

use crate::model::ErrorCode;
use serde_json::{Map, Value};

use super::{Call, Response};
use crate::api::odata::QueryOptions;
use crate::api::views;
use crate::model::{ApiError, ids};

impl Call<'_> {
    pub(super) fn check_expands(&self, allowed: &[&str], type_name: &str) -> Result<(), ApiError> {
        for e in &self.query.expand {
            if e.name != "*" && !allowed.iter().any(|a| a.eq_ignore_ascii_case(&e.name)) {
                return Err(ApiError::new(
                    400,
                    ErrorCode::BadRequest,
                    format!(
                        "Could not find a property named '{}' on type 'microsoft.graph.{type_name}'.",
                        e.name
                    ),
                ));
            }
        }
        Ok(())
    }

    pub(super) fn check_filter(&self, sample_fields: &[&str], type_name: &str) -> Result<(), ApiError> {
        *self.entity_type.borrow_mut() =
            Some((type_name.to_string(), sample_fields.iter().map(|f| f.to_string()).collect()));
        if let Some(f) = &self.query.filter {
            for p in f.properties() {
                let head = p.split('/').next().unwrap_or_default();
                if !sample_fields.iter().any(|k| k.eq_ignore_ascii_case(head)) {
                    return Err(ApiError::new(
                        400,
                        ErrorCode::BadRequest,
                        format!(
                            "Invalid filter clause: Could not find a property named '{head}' on type 'microsoft.graph.{type_name}'."
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Refuses a `$select` or `$orderby` naming a property the entity does not have, as Graph does
    /// (it does not answer empty objects): a name is known when the handler named it (see
    /// [`Call::check_filter`]), a rendered item has it, or it is expanded.
    fn check_selected_names(&self, items: &[Value]) -> Result<(), ApiError> {
        let select = self.query.select.iter().flatten().filter(|n| n.as_str() != "*");
        let orderby = self.query.orderby.iter().map(|(path, _)| path);
        let recorded = self.entity_type.borrow();
        for name in select.chain(orderby) {
            let head = name.split('/').next().unwrap_or_default();
            let known = |k: &str| k.eq_ignore_ascii_case(head);
            let named = recorded.as_ref().is_some_and(|(_, fields)| fields.iter().any(|f| known(f)));
            let rendered = items.iter().any(|i| i.as_object().is_some_and(|m| m.keys().any(|k| known(k))));
            let expanded = self.query.expand.iter().any(|e| known(&e.name));
            if !(named || rendered || expanded) {
                let type_name = recorded.as_ref().map_or("entity", |(t, _)| t.as_str());
                return Err(ApiError::new(
                    400,
                    ErrorCode::BadRequest,
                    format!(
                        "Could not find a property named '{head}' on type 'microsoft.graph.{type_name}'."
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Applies the query to a rendered collection and wraps it as Graph does, with a next link
    /// when `$top` cut it short.
    pub(super) fn collection(&self, context: String, items: Vec<Value>) -> Result<Response, ApiError> {
        self.check_selected_names(&items)?;
        if self.count_only {
            // The number of items the filter keeps, whatever `$top` and `$skip` say (OData's
            // `/$count`); a bare number, which is the plain-text body the service sends.
            return Ok(Response::ok(self.query.matching(items).len().into()));
        }
        let (page, count) = self.query.apply(items);
        let mut out = Map::new();
        out.insert("@odata.context".into(), context.into());
        if self.query.count {
            out.insert("@odata.count".into(), count.into());
        }
        let skip = self.query.skip.unwrap_or(0);
        if let Some(top) = self.query.top {
            if top > 0 && skip + top < count {
                let rest: Vec<&str> = self
                    .raw_query
                    .split('&')
                    .filter(|p| !p.to_ascii_lowercase().replace("%24", "$").starts_with("$skip="))
                    .collect();
                let mut q = rest.join("&");
                if !q.is_empty() {
                    q.push('&');
                }
                q.push_str(&format!("$skip={}", skip + top));
                out.insert(
                    "@odata.nextLink".into(),
                    format!("{}/{}/{}?{q}", self.root, self.version.as_str(), self.path()).into(),
                );
            }
        }
        out.insert("value".into(), Value::Array(page));
        Ok(Response::ok(Value::Object(out)))
    }

    pub(super) fn entity(&self, context: String, mut item: Value) -> Result<Response, ApiError> {
        if self.count_only {
            return Err(ApiError::new(
                400,
                ErrorCode::BadRequest,
                format!("'$count' counts a collection, and '{}' is one entity.", self.path()),
            ));
        }
        self.check_selected_names(std::slice::from_ref(&item))?;
        let (mut shaped, _) = QueryOptions {
            filter: None,
            top: None,
            skip: None,
            orderby: vec![],
            count: false,
            ..self.query.clone()
        }
        .apply(vec![item.take()]);
        Ok(Response::ok(super::context_first(context, shaped.pop().unwrap_or(Value::Null))))
    }

    /// Embeds the expansions a query asks for into one rendered item.
    pub(super) fn expand_common(
        &mut self,
        v: &mut Value,
        principal: &str,
        role: &str,
        directory_scope: Option<&str>,
    ) -> Result<(), ApiError> {
        if self.query.expand_item("principal").is_some() {
            v["principal"] = match self.engine.object(principal)? {
                Some(o) => views::directory_object(&o),
                None => Value::Null,
            };
        }
        if self.query.expand_item("roleDefinition").is_some() {
            v["roleDefinition"] =
                self.engine.role(role).map(|r| views::role_definition(&r)).unwrap_or(Value::Null);
        }
        if self.query.expand_item("directoryScope").is_some() {
            v["directoryScope"] = match directory_scope.and_then(ids::scope_object_id) {
                Some(id) => {
                    self.engine.object(id)?.map(|o| views::directory_object(&o)).unwrap_or(Value::Null)
                }
                None => Value::Null,
            };
        }
        if self.query.expand_item("appScope").is_some() {
            v["appScope"] = Value::Null;
        }
        Ok(())
    }
}
