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
    tls: bool,
}

pub(super) async fn serve(options: &ServeOptions, jobs: mpsc::Sender<Job>) -> Result<(), String> {
    let app =
        Router::new().fallback(call).with_state(Shared { jobs, tls: options.tls_certificate.is_some() });
    if let Some(file) = &options.tls_certificate {
        return serve_tls(options, file, app).await;
    }
    let listener = tokio::net::TcpListener::bind((options.bind.as_str(), options.port))
        .await
        .map_err(|e| format!("could not listen on {}:{}: {e}", options.bind, options.port))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    announce(&format!("http://{addr}"));
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
            eprintln!("shutting down");
        })
        .await
        .map_err(|e| format!("the server failed: {e}"))
}

/// HTTPS with a certificate made now for `localhost` and the bound address, its PEM written to
/// `file` for clients to trust.
async fn serve_tls(options: &ServeOptions, file: &std::path::Path, app: Router) -> Result<(), String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let names = vec!["localhost".to_string(), options.bind.clone()];
    let made = rcgen::generate_simple_self_signed(names)
        .map_err(|e| format!("could not make a certificate: {e}"))?;
    let (cert, key) = (made.cert.pem(), made.key_pair.serialize_pem());
    std::fs::write(file, &cert)
        .map_err(|e| format!("could not write the certificate to {}: {e}", file.display()))?;
    let config = axum_server::tls_rustls::RustlsConfig::from_pem(cert.into_bytes(), key.into_bytes())
        .await
        .map_err(|e| format!("could not use the certificate: {e}"))?;
    let ip: std::net::IpAddr = options.bind.parse().map_err(|e| format!("--bind {}: {e}", options.bind))?;
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("shutting down");
        stopper.graceful_shutdown(Some(std::time::Duration::from_secs(5)));
    });
    let waiter = handle.clone();
    let certificate = file.display().to_string();
    tokio::spawn(async move {
        if let Some(addr) = waiter.listening().await {
            announce(&format!("https://{addr} (certificate: {certificate})"));
        }
    });
    axum_server::bind_rustls(std::net::SocketAddr::new(ip, options.port), config)
        .handle(handle)
        .serve(app.into_make_service())
        .await
        .map_err(|e| format!("could not serve on {}:{}: {e}", options.bind, options.port))
}

/// The first line on stdout: where the server listens, so a caller can find an ephemeral port.
fn announce(url: &str) {
    println!("listening on {url}");
    let _ = std::io::stdout().flush();
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
    // HTTP/2 names the server in the URI's authority, HTTP/1.1 in the Host header.
    let host = uri
        .authority()
        .map(|a| a.as_str())
        .or_else(|| headers.get(header::HOST).and_then(|h| h.to_str().ok()))
        .unwrap_or("localhost");
    let scheme = if shared.tls { "https" } else { "http" };
    let root = format!("{scheme}://{host}");
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
