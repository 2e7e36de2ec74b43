//! The one thread that owns the engine: the store stays single-writer, and the engine (which
//! holds the Lua hook runner) never crosses threads. HTTP handlers send it jobs and await the
//! answer.

use std::path::PathBuf;
use std::rc::Rc;
use std::sync::mpsc;

use serde_json::Value;
use tokio::sync::oneshot;

use super::token;
use crate::api::{arm, graph};
use crate::engine::{Engine, Session};
use crate::model::{ApiError, ErrorCode};

/// Which surface a call is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Api {
    Graph,
    Arm,
}

/// One HTTP call for the engine.
pub(super) struct Job {
    pub api: Api,
    pub method: String,
    /// The path with its query, as the client sent them.
    pub target: String,
    pub body: Option<String>,
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
    /// The server as the client reached it (`http://HOST`): Graph's links and ARM's next links
    /// point there.
    pub root: String,
    pub reply: oneshot::Sender<Answer>,
}

/// What the engine answered, and for whom (for the log line).
pub(super) struct Answer {
    pub status: u16,
    pub body: Option<Value>,
    pub caller: String,
}

/// Starts the engine thread on the store at `db`; returns where to send jobs once the store is
/// open, or why it could not be opened.
pub(super) fn spawn(db: PathBuf, allow_anonymous: bool) -> Result<mpsc::Sender<Job>, String> {
    let (jobs, inbox) = mpsc::channel::<Job>();
    let (ready, opened) = mpsc::channel::<Result<(), String>>();
    std::thread::spawn(move || {
        let mut engine = match Engine::open(&db) {
            Ok(e) => e,
            Err(e) => {
                let _ = ready.send(Err(format!("store {}: {e}", db.display())));
                return;
            }
        };
        match engine.is_initialized() {
            Ok(true) => {}
            Ok(false) => {
                let _ = ready.send(Err(format!(
                    "store {} holds no tenant yet: create one with `pimlab --db {} init --demo`",
                    db.display(),
                    db.display()
                )));
                return;
            }
            Err(e) => {
                let _ = ready.send(Err(e.message));
                return;
            }
        }
        engine.set_hook_runner(Rc::new(crate::hooks::LuaHooks::new(crate::api::views::REQUEST)));
        let _ = ready.send(Ok(()));
        for job in inbox {
            let answer = answer(&mut engine, &job, allow_anonymous);
            let _ = job.reply.send(answer);
        }
    });
    opened.recv().map_err(|_| "the engine thread ended before the store opened".to_string())??;
    Ok(jobs)
}

fn answer(engine: &mut Engine, job: &Job, allow_anonymous: bool) -> Answer {
    let session = match session(engine, job.authorization.as_deref(), allow_anonymous, job.api) {
        Ok(s) => s,
        Err(e) => {
            let r = match job.api {
                Api::Graph => graph::refusal(engine, &job.method, &job.target, e),
                Api::Arm => {
                    crate::api::response::Response { status: e.status, body: Some(arm::views::error(&e)) }
                }
            };
            return Answer { status: r.status, body: r.body, caller: "-".into() };
        }
    };
    let r = match job.api {
        Api::Graph => {
            graph::handle_at(engine, &session, &job.root, &job.method, &job.target, job.body.as_deref())
        }
        Api::Arm => {
            arm::handle_at(engine, &session, &job.root, &job.method, &job.target, job.body.as_deref())
        }
    };
    Answer { status: r.status, body: r.body, caller: session.caller }
}

/// The session of a call: its bearer token's, or with `--allow-anonymous` and no token, the
/// tenant's default caller through pimlab's own client.
fn session(
    engine: &mut Engine,
    authorization: Option<&str>,
    allow_anonymous: bool,
    api: Api,
) -> Result<Session, ApiError> {
    match authorization.map(str::trim).filter(|a| !a.is_empty()) {
        Some(header) => {
            let token = header
                .strip_prefix("Bearer ")
                .or_else(|| header.strip_prefix("bearer "))
                .ok_or_else(|| unauthenticated(api, "the Authorization header is not 'Bearer <token>'"))?;
            token::session(engine, token)
        }
        None if allow_anonymous => Ok(Session::new(engine.default_caller()?)),
        None => Err(unauthenticated(
            api,
            "no Authorization header: mint a token with `pimlab token --as USER`, or serve --allow-anonymous",
        )),
    }
}

/// Graph's and ARM's 401 for a call without a usable token.
fn unauthenticated(api: Api, why: &str) -> ApiError {
    let e = match api {
        Api::Graph => ApiError::new(401, ErrorCode::InvalidAuthenticationToken, "Access token is empty."),
        Api::Arm => ApiError::new(
            401,
            ErrorCode::AuthenticationFailed,
            "Authentication failed. The 'Authorization' header is missing.",
        ),
    };
    e.with_detail("Authorization", "Authorization", why)
}
