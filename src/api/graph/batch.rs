//! `POST /$batch`: several Graph calls answered one by one inside one store transaction.

use crate::model::ErrorCode;
use serde_json::{Map, Value};

use super::{Call, Response, error_response, handle_at};
use crate::api::body;
use crate::model::ApiError;

/// Graph's limit on requests in one `$batch`.
const MAX_BATCH: usize = 20;

/// What a request of a batch that is itself `$batch` gets: 400. Graph does not run nested
/// batches; its wording for refusing one is not documented, so this is pimlab's.
const NESTED_BATCH_MESSAGE: &str = "A batch request cannot contain another batch request ($batch).";

/// Whether a request of a batch targets `$batch` (with or without a leading `/` or a query).
fn is_batch(url: &str) -> bool {
    let path = url.split(['?', '#']).next().unwrap_or("");
    path.trim_matches('/').eq_ignore_ascii_case("$batch")
}

impl Call<'_> {
    /// `POST /$batch`: up to 20 requests, each answered on its own, all in one store transaction
    /// (each request in its own savepoint, so a refused one changes nothing).
    pub(super) fn batch(&mut self) -> Result<Response, ApiError> {
        self.require_method(&["POST"])?;
        let body = body::parse_object(self.body_text()?)?;
        let Some(Value::Array(requests)) = body.get("requests") else {
            return Err(ApiError::bad_request(
                "requests",
                "a batch body is {\"requests\": [{\"id\", \"method\", \"url\", \"body\"}]}",
            ));
        };
        if requests.len() > MAX_BATCH {
            return Err(ApiError::new(
                400,
                ErrorCode::BadRequest,
                format!(
                    "Number of requests in batch exceeds the maximum of {MAX_BATCH}: {} requests given.",
                    requests.len()
                ),
            ));
        }
        let mut parsed = Vec::new();
        for (i, r) in requests.iter().enumerate() {
            let field = |name: &str| format!("requests[{i}].{name}");
            let id = r
                .get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| ApiError::bad_request(&field("id"), "each request needs a string id"))?;
            let method = r
                .get("method")
                .and_then(Value::as_str)
                .ok_or_else(|| ApiError::bad_request(&field("method"), "each request needs a method"))?;
            let url = r
                .get("url")
                .and_then(Value::as_str)
                .ok_or_else(|| ApiError::bad_request(&field("url"), "each request needs a url"))?;
            let body = match r.get("body") {
                None | Some(Value::Null) => None,
                Some(b) => Some(b.to_string()),
            };
            if parsed.iter().any(|(other, ..): &(String, String, String, Option<String>)| other == id) {
                return Err(ApiError::bad_request(&field("id"), format!("the id '{id}' is used twice")));
            }
            parsed.push((id.to_string(), method.to_string(), url.to_string(), body));
        }
        let version = self.version;
        let session = self.session;
        let root = self.root;
        let responses = self.engine.batch(|engine| {
            parsed
                .iter()
                .map(|(id, method, url, body)| {
                    let target = format!("/{}/{}", version.as_str(), url.trim_start_matches('/'));
                    let r = if is_batch(url) {
                        // A batch inside a batch would run outside the 20-request limit.
                        let e = ApiError::bad_request("url", NESTED_BATCH_MESSAGE);
                        error_response(engine, method, &target, body.as_deref(), e)
                    } else {
                        handle_at(engine, session, root, method, &target, body.as_deref())
                    };
                    let mut out = Map::new();
                    out.insert("id".into(), id.clone().into());
                    out.insert("status".into(), r.status.into());
                    out.insert("headers".into(), serde_json::json!({"Content-Type": "application/json"}));
                    if let Some(b) = r.body {
                        out.insert("body".into(), b);
                    }
                    Value::Object(out)
                })
                .collect::<Vec<_>>()
        })?;
        Ok(Response::ok(serde_json::json!({ "responses": responses })))
    }
}
