//! The Lua sandbox against attack scripts, in all four places a script runs: as a hook's
//! handler, at a hook file's top level (`hook add`), as a scenario (`pimlab run`) and as a REPL
//! `lua` line. Each attack must end within its deadline with a clear error, the host alive and
//! the store unchanged. Small budgets and deadlines keep the suite fast.

use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

use pimlab::cli::scenario::Host;
use pimlab::cli::shell::Shell;
use pimlab::engine::InitOptions;
use pimlab::hooks::scenario::{self, LuaSession};
use pimlab::hooks::{Limits, LuaHooks};

use crate::harness::GLOBAL_ADMIN as GA;
use crate::harness::engine::{RequestExt, hours, req};
use crate::harness::store::{FileTenant, logical_dump};
use pimlab::model::{Action, RequestKind};

/// Small limits for the attacks: the budget or the deadline ends each of them quickly.
const LIMITS: Limits =
    Limits { memory: 8 * 1024 * 1024, instructions: 2_000_000, deadline: Duration::from_millis(1500) };
/// How long an attack may take, all told, in a loaded debug build (the deadline, and slack).
const WITHIN: Duration = Duration::from_secs(6);

/// Attack scripts (name, body). Each runs as a statement list; those whose one call would
/// return at once loop, so that every attack must be stopped.
const ATTACKS: &[(&str, &str)] = &[
    ("endless loop", "while true do end"),
    ("empty string.rep", "while true do local s = string.rep('', math.maxinteger) end"),
    ("huge table.move", "table.move({}, 1, 2^40, 1, {})"),
    ("lazy pattern on a megabyte", "local s = ('a'):rep(2^20):find('a-b')"),
    ("repetitive pattern", "local s = ('a'):rep(4096):find(('a*'):rep(10) .. 'b')"),
    ("backtracking gsub", "local s = ('a'):rep(512 * 1024):gsub('a*a*a*b', '')"),
    ("long os.date format", "local f = ('%Y'):rep(200000) while true do local d = os.date(f) end"),
    ("load of megabytes", "local src = ('x=1 '):rep(500000) while true do local f = load(src) end"),
    ("table.concat of a huge range", "local s = table.concat({}, '', 1, 2^40)"),
    ("table.unpack of a huge range", "while true do pcall(table.unpack, {}, 1, 1e7) end"),
    (
        "__close replacing the budget error",
        "while true do pcall(function() local x <close> = setmetatable({}, { __close = function() error('mine') end }) while true do end end) end",
    ),
    (
        "xpcall handler swallowing",
        "while true do xpcall(function() while true do end end, function(e) return 'caught' end) end",
    ),
    ("looping error handler", "xpcall(function() while true do end end, function() while true do end end)"),
    ("coroutine loop", "local co = coroutine.wrap(function() while true do end end) co()"),
    (
        "coroutine.close catching",
        "while true do local co = coroutine.create(function() local x <close> = setmetatable({}, { __close = function() error('x') end }) coroutine.yield() end) coroutine.resume(co) coroutine.close(co) end",
    ),
    (
        "__gc after replacing rawget",
        "rawget = function() return nil end setmetatable({}, { __gc = function() while true do end end })",
    ),
    ("deep recursion", "local function f() return 1 + f() end f()"),
];

/// What a stopped attack may say: the limit it met, named.
const CLEAR: &[&str] = &[
    "instruction budget exhausted",
    "time limit exceeded",
    "memory limit exceeded",
    "not enough memory",
    "__gc metamethods are not allowed",
    "os.date: the format is",
    "stack overflow",
];

#[track_caller]
fn assert_clear(mode: &str, name: &str, error: &str, took: Duration) {
    assert!(took < WITHIN, "{mode}: '{name}' took {took:?}");
    assert!(CLEAR.iter().any(|c| error.contains(c)), "{mode}: '{name}' ended with {error:?}");
}

/// alice activates Global Administrator for an hour.
fn activation(t: &mut FileTenant) -> Result<pimlab::model::ScheduleRequest, pimlab::model::ApiError> {
    let alice = pimlab::engine::Session::new(t.engine.resolve_object("alice").expect("alice").id);
    let r = req(RequestKind::Assignment, Action::SelfActivate, &alice.caller, GA).lasting(hours(1));
    t.engine.submit(&alice, &r)
}

fn lab() -> FileTenant {
    let mut t = FileTenant::new(&InitOptions { demo: true, ..Default::default() });
    t.engine.set_hook_runner(Rc::new(LuaHooks::with_limits(pimlab::api::views::REQUEST, LIMITS)));
    t
}

#[test]
fn attacks_in_a_hook_handler_fail_the_request_closed_within_the_deadline() {
    let mut t = lab();
    let admin = t.admin.clone();
    for (name, body) in ATTACKS {
        let source = format!("return {{ validate = function(request, ctx)\n{body}\nend }}\n");
        t.engine.add_hook(&admin, "Attack", &source, None, None).expect("the hook is added");
        let before = logical_dump(&t.db);
        let started = Instant::now();
        let err = activation(&mut t).expect_err("the hook fails closed");
        assert_clear("hook handler", name, &err.message, started.elapsed());
        assert_eq!(logical_dump(&t.db), before, "hook handler: '{name}' changed the store");
        t.engine.remove_hook(&admin, "Attack").expect("removed");
    }
    let ok = activation(&mut t).expect("pimlab still serves");
    assert_eq!(ok.status, pimlab::model::Status::Provisioned);
}

#[test]
fn attacks_at_a_hook_files_top_level_are_refused_by_hook_add_within_the_deadline() {
    let mut t = lab();
    let admin = t.admin.clone();
    let before = logical_dump(&t.db);
    for (name, body) in ATTACKS {
        let source = format!("{body}\nreturn {{ validate = function() end }}\n");
        let started = Instant::now();
        let err = t.engine.add_hook(&admin, "Attack", &source, None, None).expect_err("refused");
        assert_clear("hook top level", name, &err.message, started.elapsed());
    }
    assert_eq!(logical_dump(&t.db), before, "a refused hook add leaves nothing");
}

/// A shell on a demo tenant's store file (the engine that made it closed first).
fn shell(db: &Path) -> Shell {
    Shell::open(Some(db)).expect("the store opens")
}

fn tenant_file() -> (tempfile::TempDir, std::path::PathBuf) {
    let FileTenant { dir, db, engine, .. } =
        FileTenant::new(&InitOptions { demo: true, ..Default::default() });
    drop(engine);
    (dir, db)
}

#[test]
fn attacks_as_a_scenario_end_with_a_clear_error_within_the_deadline() {
    let (_dir, db) = tenant_file();
    let before = logical_dump(&db);
    let mut sh = shell(&db);
    for (name, body) in ATTACKS {
        let mut host = Host::new(&mut sh);
        let started = Instant::now();
        let outcome = scenario::run_with(LIMITS, body, "attack.lua", &mut host, &mut |_| {});
        let error = outcome.error.unwrap_or_default();
        assert_clear("scenario", name, &error, started.elapsed());
    }
    let mut host = Host::new(&mut sh);
    let outcome = scenario::run_with(
        LIMITS,
        "pim.expect(pim.principal('alice').id ~= nil)",
        "after.lua",
        &mut host,
        &mut |_| {},
    );
    assert!(outcome.ok(), "the host still runs scenarios: {outcome:?}");
    drop(sh);
    assert_eq!(logical_dump(&db), before, "an attack changed the store");
}

#[test]
fn attacks_as_repl_lua_lines_end_with_a_clear_error_and_the_session_goes_on() {
    let (_dir, db) = tenant_file();
    let before = logical_dump(&db);
    let mut sh = shell(&db);
    let session = LuaSession::new(&mut Host::new(&mut sh), LIMITS).expect("a session");
    session.run("kept = 41", "lua", &mut Host::new(&mut sh), &mut |_| {});
    for (name, body) in ATTACKS {
        let started = Instant::now();
        let outcome = session.run(body, "lua", &mut Host::new(&mut sh), &mut |_| {});
        assert_clear("repl line", name, &outcome.error.unwrap_or_default(), started.elapsed());
    }
    let outcome = session.run("return kept + 1", "lua", &mut Host::new(&mut sh), &mut |_| {});
    assert_eq!(outcome.value.as_deref(), Some("42"), "{outcome:?}");
    drop(sh);
    assert_eq!(logical_dump(&db), before, "an attack changed the store");
}

#[test]
fn a_table_nested_20000_deep_is_refused_not_a_crash() {
    let (_dir, db) = tenant_file();
    let mut sh = shell(&db);
    let deep = "local t = {} for i = 1, 20000 do t = { t } end";
    let session = LuaSession::new(&mut Host::new(&mut sh), LIMITS).expect("a session");
    for code in
        [format!("{deep} return t"), format!("{deep} return pim.json(t)"), format!("{deep} pim.principal(t)")]
    {
        let outcome = session.run(&code, "lua", &mut Host::new(&mut sh), &mut |_| {});
        let error = outcome.error.unwrap_or_default();
        // pim.json is Lua: its recursion meets Lua's own limits.
        let refused = error.contains("nested more than 100 deep");
        assert!(refused || CLEAR.iter().any(|c| error.contains(c)), "{code}: {error}");
    }
}

#[test]
fn a_hook_cannot_store_an_overlong_rule_name_or_message() {
    let mut t = lab();
    let admin = t.admin.clone();
    let source = "return { validate = function() return { deny = ('R'):rep(300), message = 'no' } end }";
    t.engine.add_hook(&admin, "Long", source, None, None).expect("added");
    let err = activation(&mut t).expect_err("fails closed");
    assert!(err.message.contains("field 'deny' is 300 bytes long; at most 256"), "{err:?}");
    t.engine.remove_hook(&admin, "Long").expect("removed");
    let source = "return { validate = function() return { deny = 'R', message = ('m'):rep(9000) } end }";
    t.engine.add_hook(&admin, "Long", source, None, None).expect("added");
    let err = activation(&mut t).expect_err("fails closed");
    assert!(err.message.contains("field 'message' is 9000 bytes long; at most 8192"), "{err:?}");
}

#[test]
fn scripts_read_no_file_through_commands_graph_bodies_or_hook_files() {
    let (dir, db) = tenant_file();
    let secret = dir.path().join("secret.lua");
    std::fs::write(&secret, "return { validate = function() end } -- SECRET-CONTENT").expect("written");
    let path = secret.display().to_string();
    let mut sh = shell(&db);
    let attempts = [
        format!("return pim.run{{'hook', 'add', 'x', '--file', '{path}'}}"),
        format!("return pim.run('hook add x --file {path}')"),
        format!("return pim.graph('POST', '/users', '@{path}')"),
        format!("return pim.run{{'graph', 'GET', '/users', '--body', '@{path}'}}"),
        format!("return pim.op('hook.add', {{ name = 'x', file = '{path}' }})"),
    ];
    for code in attempts {
        let mut printed = Vec::new();
        let outcome = scenario::run_with(LIMITS, &code, "read.lua", &mut Host::new(&mut sh), &mut |l| {
            printed.push(l.to_string())
        });
        let all = format!("{outcome:?} {printed:?}");
        assert!(!all.contains("SECRET-CONTENT"), "{code} read the file: {all}");
        assert!(!all.contains("validate = function"), "{code} read the file: {all}");
    }
    let hooks = sh.engine().hooks().expect("hooks");
    assert!(hooks.is_empty(), "a script added a hook from a file: {hooks:?}");
}

/// Lua source for a random value: numbers, strings, booleans and tables nesting them, sometimes
/// deeper than the converters accept.
fn lua_value() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        any::<i64>().prop_map(|i| format!("math.tointeger({i})")),
        any::<f64>().prop_map(|f| if f.is_finite() { format!("{f:e}") } else { "0/0".into() }),
        "[a-z\"\\\\\\n ]{0,12}".prop_map(|s| format!("{s:?}")),
        any::<bool>().prop_map(|b| b.to_string()),
    ];
    leaf.prop_recursive(120, 400, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5)
                .prop_map(|items| format!("{{{}}}", items.join(", "))),
            proptest::collection::vec(("[a-z]{1,6}", inner), 0..5).prop_map(|fields| {
                let fields: Vec<String> = fields.into_iter().map(|(k, v)| format!("{k} = {v}")).collect();
                format!("{{{}}}", fields.join(", "))
            }),
        ]
    })
}

#[test]
fn converting_random_lua_values_to_text_and_json_never_panics() {
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let (_dir, db) = tenant_file();
    let sh = std::cell::RefCell::new(shell(&db));
    let session = LuaSession::new(&mut Host::new(&mut sh.borrow_mut()), LIMITS).expect("a session");
    let config = Config { cases: 200, failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &[3; 32]));
    runner
        .run(&lua_value(), |value| {
            for code in [format!("return {value}"), format!("return pim.json({value})")] {
                let outcome = session.run(&code, "lua", &mut Host::new(&mut sh.borrow_mut()), &mut |_| {});
                if let Some(e) = outcome.error {
                    // Only limits may refuse a value; a syntax error would mean a bad generator.
                    let known =
                        e.contains("nested more than") || e.contains("cannot encode") || e.contains("NaN");
                    proptest::prop_assert!(known || CLEAR.iter().any(|c| e.contains(c)), "{code}: {e}");
                }
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
}
