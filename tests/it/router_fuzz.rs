//! Random input through the whole Graph router, as a client could send it: paths built from the
//! real routes with random segments, percent-escapes and non-ASCII text; query strings of real
//! and invented options with random values; and bodies, valid JSON of random shapes or text that
//! is not JSON, for every method. No input may panic, every answer is a real HTTP status with an
//! error body when it is not a success, and a refused write leaves the store as it was.
//!
//! The cases are the same on every run (a fixed seed); `PROPTEST_RNG_SEED` and `PROPTEST_CASES`
//! explore others.

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::Value;

use pimlab::api::graph;
use pimlab::engine::{Engine, InitOptions, Session};

fn config() -> Config {
    let mut config = Config { failure_persistence: None, ..Config::default() };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 1500;
    }
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = proptest::test_runner::RngSeed::Fixed(20_261_202);
    }
    config
}

/// Route prefixes the router knows, so that random tails reach the deeper handlers.
const ROUTES: &[&str] = &[
    "/v1.0/users",
    "/v1.0/groups",
    "/v1.0/servicePrincipals",
    "/v1.0/directory/administrativeUnits",
    "/v1.0/roleManagement/directory/roleDefinitions",
    "/v1.0/roleManagement/directory/roleAssignments",
    "/v1.0/roleManagement/directory/roleEligibilityScheduleRequests",
    "/v1.0/roleManagement/directory/roleAssignmentScheduleRequests",
    "/v1.0/roleManagement/directory/roleEligibilitySchedules",
    "/v1.0/roleManagement/directory/roleAssignmentScheduleInstances",
    "/v1.0/policies/roleManagementPolicies",
    "/v1.0/policies/roleManagementPolicyAssignments",
    "/beta/roleManagement/directory/roleAssignmentApprovals",
    "/v1.0/$batch",
    "/v1.0/me",
    "",
];

/// A path segment: ASCII words, ids, OData keys and functions, escapes (broken ones too) and
/// characters of several widths.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z]{1,12}",
        "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        "[a-zA-Z]{1,8}\\(([a-z]{1,5}='[^']{0,8}'|'[^']{0,8}')?\\)",
        "(%[0-9a-fA-F]{0,2}|%[g-z]|é|漢|🙂|\\$|'|\\(|\\)|,|=|[a-z]){1,10}",
        Just("filterByCurrentUser(on='principal')".to_string()),
        Just("$count".to_string()),
        Just("rules".to_string()),
        Just("cancel".to_string()),
    ]
}

fn query() -> impl Strategy<Value = String> {
    let option = prop_oneof![
        Just("$filter"),
        Just("$select"),
        Just("$expand"),
        Just("$top"),
        Just("$skip"),
        Just("$orderby"),
        Just("$count"),
        Just("$skiptoken"),
        Just("$search"),
        Just("bogus"),
    ];
    let value = prop_oneof![
        "[ -~]{0,40}",
        "(\\(|\\)|'|eq|and|or|not|any|all|/|:|%2|%28|é|[a-z]| ){0,30}",
        Just("principalId eq 'x' and (status eq 'Provisioned' or not startswith(id,'a'))".to_string()),
        Just("principal($select=id;$expand=x($top=1))".to_string()),
    ];
    prop::collection::vec((option, value), 0..4)
        .prop_map(|pairs| pairs.into_iter().map(|(o, v)| format!("{o}={v}")).collect::<Vec<_>>().join("&"))
}

/// JSON of random shape, with the properties real bodies carry so the parsers get past the
/// first check now and then.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[ -~]{0,20}".prop_map(Value::String),
        Just(Value::String("PT8H".into())),
        Just(Value::String("2025-01-06T09:00:00Z".into())),
        Just(Value::String("selfActivate".into())),
    ];
    let key = prop_oneof![
        Just("action"),
        Just("principalId"),
        Just("roleDefinitionId"),
        Just("directoryScopeId"),
        Just("justification"),
        Just("scheduleInfo"),
        Just("expiration"),
        Just("type"),
        Just("duration"),
        Just("startDateTime"),
        Just("displayName"),
        Just("@odata.type"),
        Just("requests"),
        Just("id"),
        Just("method"),
        Just("url"),
        Just("body"),
        Just("x"),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6).prop_map(|fields| {
                Value::Object(fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

fn body() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        json_value().prop_map(|v| Some(v.to_string())),
        "[ -~]{0,30}".prop_map(Some),
        Just(Some("{\"a\":1,\"a\":2}".to_string())),
        Just(Some("[".repeat(300))),
    ]
}

fn method() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("GET"),
        Just("POST"),
        Just("PATCH"),
        Just("DELETE"),
        Just("PUT"),
        Just("get"),
        Just("TRACE")
    ]
}

thread_local! {
    static TENANT: std::cell::RefCell<(Engine, Session)> = std::cell::RefCell::new({
        let mut engine = Engine::in_memory().expect("in-memory store");
        engine.init(&InitOptions { demo: true, ..InitOptions::default() }).expect("init");
        let admin = Session::new(engine.default_caller().expect("caller"));
        (engine, admin)
    });
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn no_request_panics_and_every_answer_is_a_real_status(
        route in prop::sample::select(ROUTES),
        tail in prop::collection::vec(segment(), 0..4),
        query in prop::option::of(query()),
        method in method(),
        body in body(),
    ) {
        let mut target = route.to_string();
        for s in &tail {
            target.push('/');
            target.push_str(s);
        }
        if let Some(q) = &query {
            target.push('?');
            target.push_str(q);
        }
        // One tenant for every case (a new one each time would cost most of the run): what the
        // accepted writes change only makes later cases meet a fuller store.
        let r = TENANT.with(|t| {
            let (engine, admin) = &mut *t.borrow_mut();
            graph::handle(engine, admin, method, &target, body.as_deref())
        });
        prop_assert!((200..600).contains(&r.status), "{method} {target}: status {}", r.status);
        if r.status >= 400 {
            let error = r.body.as_ref().and_then(|b| b.get("error"));
            prop_assert!(
                error.and_then(|e| e.get("code")).and_then(Value::as_str).is_some_and(|c| !c.is_empty()),
                "{method} {target}: an error without a code: {:?}", r.body
            );
            prop_assert!(r.status < 500, "{method} {target}: an internal error: {:?}", r.body);
        }
    }
}
