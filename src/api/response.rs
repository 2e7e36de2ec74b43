//! What a Graph or ARM call answers: an HTTP status and a JSON body. Both routers return it, and
//! every surface (the `graph` and `arm` commands, scripts, a server) sends it on as it is.

use serde_json::Value;

/// A response: the HTTP status and the JSON body (none for 204, and for ARM's bodiless 200s).
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    pub body: Option<Value>,
}

impl Response {
    pub(crate) fn ok(body: Value) -> Self {
        Response { status: 200, body: Some(body) }
    }
    pub(crate) fn created(body: Value) -> Self {
        Response { status: 201, body: Some(body) }
    }
    pub(crate) fn no_content() -> Self {
        Response { status: 204, body: None }
    }
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
    /// `HTTP <status>`, as the `graph` and `arm` commands print it on stderr.
    pub fn status_line(&self) -> String {
        format!("HTTP {}", self.status)
    }
}
