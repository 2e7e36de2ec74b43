//! What both benches share: the tenant they measure, the two requests of a cycle, and the
//! parent/child plumbing (each measurement runs in its own process so that one figure's memory
//! and caches do not colour the next).

#![allow(dead_code)] // each bench uses its own subset

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use pimlab::engine::{Engine, InitOptions, NewObject, Session};
use pimlab::model::{
    Action, Expiration, IsoDuration, NewRequest, PrincipalKind, RequestKind, ScheduleInfo, Surface,
};

pub const SEED: u64 = 20_250_106;
pub const HELPDESK_ADMINISTRATOR: &str = "729827e3-9c14-49f7-bb1b-9608f156bbb8";
pub const ASSIGN_JUSTIFICATION: &str = "Helpdesk rota for the quarter";
pub const ACTIVATE_JUSTIFICATION: &str = "Ticket INC0012345: password resets for the service desk";

pub fn user_name(i: usize) -> String {
    format!("Bench User {i:05}")
}

pub fn user_principal_name(i: usize) -> String {
    format!("bench.user{i:05}@contoso.example")
}

/// The administrator makes `user` eligible for Helpdesk Administrator for 30 days.
pub fn assign_request(user: &str) -> NewRequest {
    helpdesk_request(
        user,
        RequestKind::Eligibility,
        Action::AdminAssign,
        ASSIGN_JUSTIFICATION,
        IsoDuration::from_days(30),
    )
}

/// `user` activates Helpdesk Administrator for an hour.
pub fn activate_request(user: &str) -> NewRequest {
    helpdesk_request(
        user,
        RequestKind::Assignment,
        Action::SelfActivate,
        ACTIVATE_JUSTIFICATION,
        IsoDuration::from_hours(1),
    )
}

fn helpdesk_request(
    user: &str,
    kind: RequestKind,
    action: Action,
    justification: &str,
    lasting: IsoDuration,
) -> NewRequest {
    NewRequest {
        surface: Surface::Directory,
        kind,
        action,
        principal_id: user.to_string(),
        role_definition_id: HELPDESK_ADMINISTRATOR.into(),
        directory_scope_id: Some("/".into()),
        app_scope_id: None,
        justification: Some(justification.into()),
        schedule_info: Some(ScheduleInfo { start: None, expiration: Expiration::after(lasting) }),
        ticket_info: None,
        is_validation_only: false,
    }
}

/// The administrator makes `principal` eligible for `role` at the tenant scope for 180 days (the
/// large tenants the report benches read).
pub fn eligibility(principal: &str, role: &str) -> NewRequest {
    NewRequest {
        role_definition_id: role.to_string(),
        ..helpdesk_request(
            principal,
            RequestKind::Eligibility,
            Action::AdminAssign,
            ASSIGN_JUSTIFICATION,
            IsoDuration::from_days(180),
        )
    }
}

/// The fastest of `runs` runs of `f` (each a fresh report), and the rows the last one returned.
pub fn best(runs: usize, mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let mut fastest = Duration::MAX;
    let mut rows = 0;
    for _ in 0..runs {
        let t = std::time::Instant::now();
        rows = f();
        fastest = fastest.min(t.elapsed());
    }
    (fastest, rows)
}

/// A duration in milliseconds, as the report benches print them.
pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// A fresh tenant in `path` with `users` users; returns the engine, the administrator and the ids.
pub fn tenant(path: &Path, users: usize) -> (Engine, Session, Vec<String>) {
    let mut engine = Engine::open(path).expect("open the bench store");
    engine.init(&InitOptions { seed: SEED, ..InitOptions::default() }).expect("init the tenant");
    let admin = Session::new(engine.default_caller().expect("default caller"));
    let ids = (0..users)
        .map(|i| {
            engine
                .create_object(
                    &admin,
                    NewObject {
                        kind: Some(PrincipalKind::User),
                        display_name: user_name(i),
                        user_principal_name: Some(user_principal_name(i)),
                        ..NewObject::default()
                    },
                )
                .unwrap_or_else(|e| panic!("create user {i}: {e:?}"))
                .id
        })
        .collect();
    (engine, admin, ids)
}

/// Re-runs this bench binary with `--child args`, and parses the `RESULT k=v ...` line it prints.
pub fn run_child(args: &[&str]) -> HashMap<String, String> {
    let exe = std::env::current_exe().expect("the bench knows its own path");
    let out = Command::new(exe)
        .arg("--child")
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .expect("the bench can re-execute itself");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "child {args:?} failed ({}); its output:\n{stdout}", out.status);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap_or_else(|| panic!("child {args:?} printed no RESULT line:\n{stdout}"));
    line.split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn get<T: std::str::FromStr>(r: &HashMap<String, String>, key: &str) -> T {
    r.get(key).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("child result lacks {key}: {r:?}"))
}

/// `12345678` → `12,345,678`.
pub fn int(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The CPU time this thread has run (Linux: `/proc/thread-self/schedstat`, nanoseconds), or `None`
/// where that is not available. On a machine shared with other work, wall-clock time also counts
/// the time a measurement waited for a core; CPU time does not, so figures taken under load stay
/// comparable (this store's commits do not wait for the disk: WAL with `synchronous=NORMAL`).
/// Reading it costs a few microseconds: take it around batches, not single requests.
pub fn thread_cpu() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}
