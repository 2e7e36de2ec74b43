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

    /// Applies the query to a rendered collection and wraps it as Graph does, with a next link
    /// when `$top` cut it short.
    pub(super) fn collection(&self, context: String, items: Vec<Value>) -> Response {
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
                    format!("{}/{}/{}?{q}", views::GRAPH_ROOT, self.version.as_str(), self.path()).into(),
                );
            }
        }
        out.insert("value".into(), Value::Array(page));
        Response::ok(Value::Object(out))
    }

    pub(super) fn entity(&self, context: String, mut item: Value) -> Response {
        let (mut shaped, _) = QueryOptions {
            filter: None,
            top: None,
            skip: None,
            orderby: vec![],
            count: false,
            ..self.query.clone()
        }
        .apply(vec![item.take()]);
        let mut v = shaped.pop().unwrap_or(Value::Null);
        if let Value::Object(m) = &mut v {
            let mut out = Map::new();
            out.insert("@odata.context".into(), context.into());
            out.extend(std::mem::take(m));
            v = Value::Object(out);
        }
        Response::ok(v)
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
