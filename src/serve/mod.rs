//! `pimlab serve`: an HTTP/1.1 server (axum on tokio) that answers Microsoft Graph (`/v1.0`,
//! `/beta`) and Azure Resource Manager (`/subscriptions/...`, `/providers/...`) on one port, over
//! the same routers as `pimlab graph` and `pimlab arm`. Every call's bearer token becomes its
//! session ([`token`]); one engine thread serves every connection in turn ([`worker`]); each call
//! is logged on stderr as one line.

mod http;
pub mod token;
mod worker;

use std::path::PathBuf;

/// How `serve` was asked to run.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub db: PathBuf,
    pub bind: String,
    /// 0: any free port (the address actually bound is printed).
    pub port: u16,
    pub allow_anonymous: bool,
    /// Serve HTTPS with a self-signed certificate made at start-up (the Azure and Graph SDKs
    /// send bearer tokens over HTTPS only), written to this file for clients to trust.
    pub tls_certificate: Option<PathBuf>,
}

/// Serves until Ctrl-C (or a failure to bind), printing `listening on http://ADDR` on stdout
/// first so a caller can find the port.
pub fn run(options: &ServeOptions) -> Result<(), String> {
    let jobs = worker::spawn(options.db.clone(), options.allow_anonymous)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("could not start the server's runtime: {e}"))?;
    runtime.block_on(http::serve(options, jobs))
}
