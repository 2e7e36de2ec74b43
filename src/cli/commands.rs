//! Runs one parsed command line on an open store: `init` and `graph` here, every other command
//! through the typed operations of [`crate::ops`], rendered as a table or as JSON.

use crate::model::ErrorCode;
use std::io::Write;

use super::CliError;
use super::args::*;
use super::render;
use crate::api::graph;
use crate::engine::{Engine, InitOptions, Session};
use crate::model::ApiError;
use crate::model::time::format_timestamp;
use crate::ops::{self, Access};

type Out<'a> = &'a mut dyn Write;

/// Runs one parsed command on an open store (the shell keeps the store between commands).
pub(super) fn dispatch(
    engine: &mut Engine,
    store: &str,
    caller: Option<&str>,
    mfa: bool,
    cli: &Cli,
    out: Out<'_>,
    err: Out<'_>,
) -> Result<i32, CliError> {
    let Some(command) = &cli.command else {
        return Err(CliError::Usage("no command given".into()));
    };
    if let Command::Init(a) = command {
        return init(engine, store, a, out);
    }
    if let Command::Import(a) = command {
        // An import into a new store creates its tenant from the export's pimlab-tenant.json
        // (or, without one, as every new store is made) inside the import's transaction.
        if !engine.is_initialized()? {
            return super::exchange::import(engine, &Session::new(caller.unwrap_or_default()), a, out, err);
        }
    }
    ensure_tenant(engine, store, err)?;
    let base = Session {
        caller: match caller {
            Some(c) => c.to_string(),
            None => engine.default_caller()?,
        },
        mfa,
        auth_contexts: Vec::new(),
        client: crate::engine::Client::FirstParty,
    };
    let session = session_options(cli).session(engine, &base)?;
    match command {
        Command::Init(_) => unreachable!("handled above"),
        Command::Run(_) | Command::Repl => {
            Err(CliError::Usage("`run` and `repl` cannot be used from inside a session".into()))
        }
        Command::Whatif(_) => Err(CliError::Usage(
            "`whatif` forks a store file: run it as `pimlab whatif` from a terminal, not inside a session"
                .into(),
        )),
        Command::Completions(_) | Command::Man => Err(CliError::Usage(
            "`completions` and `man` write files for a shell or a manual: run them as `pimlab ...` from a \
             terminal, not inside a session"
                .into(),
        )),
        Command::Serve(_) => Err(CliError::Usage(
            "`serve` runs from a terminal as `pimlab serve`, not inside a session".into(),
        )),
        Command::Token(a) => {
            let request = crate::serve::token::TokenRequest {
                user: cli.as_principal.clone(),
                app: cli.app.clone(),
                mfa: !cli.no_mfa,
                auth_contexts: cli.auth_contexts.iter().chain(&a.acrs).cloned().collect(),
            };
            writeln!(out, "{}", crate::serve::token::mint(engine, &request)?)?;
            Ok(0)
        }
        Command::Import(a) => super::exchange::import(engine, &session, a, out, err),
        Command::Export(a) => super::exchange::export(engine, &session, a, out),
        Command::Mark(a) => super::exchange::mark(engine, &session, a, out),
        Command::Apply(a) => super::exchange::apply(engine, &session, a, out),
        Command::Graph(a) => graph_call(engine, &session, a, out, err),
        Command::Arm(a) => arm_call(engine, &session, a, out, err),
        Command::Op(op) => {
            // A replay and a clock advance report their progress: a bar on a terminal.
            let long = matches!(op, ops::Operation::Replay(_) | ops::Operation::Clock { action: Some(_) });
            let bar = long.then(super::exchange::Bar::on_terminal).flatten();
            let progress: &dyn crate::model::Progress = match &bar {
                Some(bar) => bar,
                None => &crate::model::NoProgress,
            };
            let outcome = ops::apply_with_progress(engine, &session, op, Access::TERMINAL, progress);
            if let Some(bar) = bar {
                bar.clear();
            }
            let outcome = outcome?;
            if cli.json {
                write_json(out, &outcome)?;
            } else {
                render::outcome(engine, &outcome, out)?;
            }
            Ok(outcome.exit_code())
        }
    }
}

/// A new store gets its tenant from its first command, with the defaults.
pub(super) fn ensure_tenant(engine: &mut Engine, store: &str, err: Out<'_>) -> Result<(), CliError> {
    if engine.is_initialized()? {
        return Ok(());
    }
    match engine.init(&InitOptions::default()) {
        Ok(summary) => writeln!(
            err,
            "pimlab: created a new tenant in {store} (seed 1, domain {}); `pimlab init --help` shows the options",
            summary.domain
        )?,
        // Another process created it a moment ago: use theirs.
        Err(e) if e.code == "StoreAlreadyInitialized" => {}
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

fn init(engine: &mut Engine, store: &str, a: &InitArgs, out: Out<'_>) -> Result<i32, CliError> {
    let at = a.at.unwrap_or(InitOptions::default().at);
    if engine.is_initialized()? {
        if !a.force {
            return Err(CliError::Api(ApiError::new(
                409,
                ErrorCode::StoreAlreadyInitialized,
                format!(
                    "{store} already holds a tenant; add --force to replace it (everything in it is lost)"
                ),
            )));
        }
        engine.wipe()?;
    }
    let summary = engine.init(&InitOptions { seed: a.seed, at, demo: a.demo, domain: a.domain.clone() })?;
    let admin =
        engine.object(&summary.break_glass_id)?.and_then(|o| o.user_principal_name).unwrap_or_default();
    writeln!(out, "Created tenant {} ({}) in {store}", summary.tenant_id, summary.domain)?;
    writeln!(out, "  clock      {}", format_timestamp(at))?;
    writeln!(out, "  roles      {} built-in, each with its default policy", summary.roles)?;
    writeln!(out, "  users      {}   groups {}", summary.users, summary.groups)?;
    writeln!(out, "  caller     {admin} (permanent Global Administrator; act as someone else with --as)")?;
    Ok(0)
}

/// The command line's global `--as`, `--no-mfa` and `--auth-context`, as any surface's call carries them.
pub(super) fn session_options(cli: &Cli) -> ops::SessionOptions {
    ops::SessionOptions {
        as_principal: cli.as_principal.clone(),
        no_mfa: cli.no_mfa,
        auth_contexts: cli.auth_contexts.clone(),
        app: cli.app.clone(),
    }
}

pub(super) fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|e| format!("\"{e}\""))
}

/// How much of a listing's JSON is gathered before it is written (one write, not one per line).
const JSON_CHUNK: usize = 64 * 1024;

/// `outcome` as `--json` prints it: `pretty(&outcome.to_json())` and a newline, byte for byte. A
/// listing is written item by item: built whole, a year's audit trail (nine million records)
/// took gigabytes as one JSON value and again as one string.
pub(super) fn write_json(out: Out<'_>, outcome: &ops::Outcome) -> std::io::Result<()> {
    match outcome.items() {
        Some(items) => write_array(out, items),
        None => writeln!(out, "{}", pretty(&outcome.to_json())),
    }
}

/// `items` as `pretty` prints them in an array, and a newline, written a chunk at a time.
fn write_array(out: Out<'_>, items: impl Iterator<Item = serde_json::Value>) -> std::io::Result<()> {
    let mut chunk = String::with_capacity(JSON_CHUNK);
    let mut empty = true;
    for item in items {
        chunk.push_str(if empty { "[\n" } else { ",\n" });
        empty = false;
        // An item inside the array is indented one level: two spaces before each of its lines
        // (a string's own line breaks are escaped in JSON, so every line break is the layout's).
        for (i, line) in pretty(&item).split('\n').enumerate() {
            if i > 0 {
                chunk.push('\n');
            }
            chunk.push_str("  ");
            chunk.push_str(line);
        }
        if chunk.len() >= JSON_CHUNK {
            out.write_all(chunk.as_bytes())?;
            chunk.clear();
        }
    }
    chunk.push_str(if empty { "[]\n" } else { "\n]\n" });
    out.write_all(chunk.as_bytes())
}

fn arm_call(
    engine: &mut Engine,
    session: &Session,
    a: &super::args::ArmArgs,
    out: Out<'_>,
    err: Out<'_>,
) -> Result<i32, CliError> {
    let body = a.body.as_deref().map(|b| ops::body_text(b, Access::TERMINAL)).transpose()?;
    let response = crate::api::arm::handle(engine, session, &a.method, &a.path, body.as_deref());
    if let Some(b) = &response.body {
        writeln!(out, "{}", pretty(b))?;
    }
    writeln!(err, "{}", response.status_line())?;
    Ok(if response.is_success() { 0 } else { 1 })
}

fn graph_call(
    engine: &mut Engine,
    session: &Session,
    a: &GraphArgs,
    out: Out<'_>,
    err: Out<'_>,
) -> Result<i32, CliError> {
    let body = a.body.as_deref().map(|b| ops::body_text(b, Access::TERMINAL)).transpose()?;
    let response = graph::handle(engine, session, &a.method, &a.path, body.as_deref());
    if let Some(b) = &response.body {
        writeln!(out, "{}", pretty(b))?;
    }
    writeln!(err, "{}", graph::status_line(&response))?;
    Ok(if response.is_success() { 0 } else { 1 })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::Value;

    use super::*;

    /// Any JSON: nested arrays and objects, and strings with line breaks, quotes, control
    /// characters and non-ASCII text.
    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            "[a-z \n\t\"\\\\\u{1b}é→]{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 40, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                proptest::collection::vec(("[a-z\n]{0,6}", inner), 0..5)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// A listing written item by item is byte for byte the array `--json` printed whole.
        #[test]
        fn a_listing_written_item_by_item_is_the_array_printed_whole(
            items in proptest::collection::vec(json(), 0..8),
        ) {
            let mut streamed = Vec::new();
            write_array(&mut streamed, items.clone().into_iter()).unwrap();
            let whole = format!("{}\n", pretty(&Value::Array(items)));
            prop_assert_eq!(String::from_utf8(streamed).unwrap(), whole);
        }
    }

    #[test]
    fn a_listing_longer_than_a_chunk_is_written_whole() {
        let items: Vec<Value> =
            (0..5_000).map(|i| serde_json::json!({"n": i, "text": "x".repeat(40)})).collect();
        let mut streamed = Vec::new();
        write_array(&mut streamed, items.clone().into_iter()).unwrap();
        assert_eq!(String::from_utf8(streamed).unwrap(), format!("{}\n", pretty(&Value::Array(items))));
    }
}
