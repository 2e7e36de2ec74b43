//! The HTTP side of `serve`: one handler for every path, which sends the call to the engine
//! thread and writes its answer; keep-alive and concurrent connections are hyper's.

use std::io::Write;
use std::sync::mpsc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::oneshot;

use super::ServeOptions;
use super::worker::{Answer, Api, Job};

#[derive(Clone)]
struct Shared {
    jobs: mpsc::Sender<Job>,
}

pub(super) async fn serve(options: &ServeOptions, jobs: mpsc::Sender<Job>) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind((options.bind.as_str(), options.port))
        .await
        .map_err(|e| format!("could not listen on {}:{}: {e}", options.bind, options.port))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("listening on http://{addr}");
    let _ = std::io::stdout().flush();
    let app = Router::new().fallback(call).with_state(Shared { jobs });
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
            eprintln!("shutting down");
        })
        .await
        .map_err(|e| format!("the server failed: {e}"))
}

/// Which API a path is for: Graph's versions (or its `$batch`), else ARM's scopes and providers.
fn api_of(path: &str) -> Option<Api> {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    match first {
        "v1.0" | "beta" | "$batch" => Some(Api::Graph),
        f if f.eq_ignore_ascii_case("subscriptions") || f.eq_ignore_ascii_case("providers") => Some(Api::Arm),
        _ => None,
    }
}

async fn call(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let target = uri.path_and_query().map_or(uri.path().to_string(), |p| p.as_str().to_string());
    let Some(api) = api_of(uri.path()) else {
        let body = serde_json::json!({"error": {"code": "BadRequest",
            "message": format!("'{}' is neither a Microsoft Graph path (/v1.0, /beta) nor an Azure Resource Manager one (/subscriptions, /providers)", uri.path())}});
        eprintln!("{method} {target} 404 - {}ms", started.elapsed().as_millis());
        return (StatusCode::NOT_FOUND, axum::Json(body)).into_response();
    };
    let text = (!body.is_empty()).then(|| String::from_utf8_lossy(&body).into_owned());
    // Links in answers name the server as this client reached it.
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let root = format!("http://{host}");
    let (reply, answer) = oneshot::channel::<Answer>();
    let job = Job {
        api,
        method: method.to_string(),
        target: target.clone(),
        body: text,
        authorization: headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_string),
        root,
        reply,
    };
    if shared.jobs.send(job).is_err() {
        return (StatusCode::SERVICE_UNAVAILABLE, "the engine has stopped").into_response();
    }
    let Ok(answer) = answer.await else {
        return (StatusCode::SERVICE_UNAVAILABLE, "the engine has stopped").into_response();
    };
    eprintln!("{method} {target} {} {} {}ms", answer.status, answer.caller, started.elapsed().as_millis());
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match answer.body {
        Some(body) => {
            let mut r = (status, body.to_string()).into_response();
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            r
        }
        None => status.into_response(),
    }
}
