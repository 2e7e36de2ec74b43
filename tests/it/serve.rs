//! `pimlab serve` driven over real HTTP: the binary listens on an ephemeral port; a client sends
//! the calls a Graph or ARM client would, with bearer tokens from `pimlab token`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use serde_json::{Value, json};

use crate::harness::cli::Lab;

/// A running server, stopped when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(lab: &Lab, extra: &[&str]) -> Server {
    let mut c = lab.command();
    c.arg("--db").arg(&lab.db).args(["serve", "--port", "0"]).args(extra);
    c.stdout(Stdio::piped()).stderr(Stdio::null());
    let mut child = c.spawn().expect("start pimlab serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("the address line");
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("no address: {line:?}"))
        .to_string();
    Server { child, base }
}

fn token(lab: &Lab, args: &[&str]) -> String {
    let mut all = args.to_vec();
    all.push("token");
    lab.run(&all).ok().stdout.trim().to_string()
}

/// One call: its status and JSON body (null when empty).
fn send(
    server: &Server,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let url = format!("{}{path}", server.base);
    let request = ureq::http::Request::builder().method(method).uri(&url);
    let request = match token {
        Some(t) => request.header("Authorization", format!("Bearer {t}")),
        None => request,
    };
    let request = request.header("Content-Type", "application/json");
    let text = body.map(Value::to_string).unwrap_or_default();
    let mut response = agent.run(request.body(text).unwrap()).expect("the server answers");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (
        status,
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        },
    )
}

/// Without a token, Graph and ARM answer 401 in their own words; a token for another tenant, or
/// one that is not a token, is refused too.
#[test]
fn calls_without_a_usable_token_are_refused() {
    let lab = Lab::demo();
    let server = serve(&lab, &[]);
    let (status, body) = send(&server, "GET", "/v1.0/roleManagement/directory/roleDefinitions", None, None);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("InvalidAuthenticationToken")),
        "{body:#}"
    );
    let (status, body) = send(
        &server,
        "GET",
        "/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01",
        None,
        None,
    );
    assert_eq!((status, body["error"]["code"].as_str()), (401, Some("AuthenticationFailed")), "{body:#}");
    let alice = token(&lab, &["--as", "alice"]);
    let mut parts: Vec<String> = alice.split('.').map(str::to_string).collect();
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut claims: Value = serde_json::from_slice(&engine.decode(&parts[1]).unwrap()).unwrap();
    claims["tid"] = json!("11111111-1111-4111-8111-111111111111");
    parts[1] = engine.encode(claims.to_string());
    let foreign = parts.join(".");
    let (status, body) = send(&server, "GET", "/v1.0/me", Some(&foreign), None);
    assert_eq!(status, 401, "{body:#}");
    assert!(body.to_string().contains("not this one"), "{body:#}");
    let (status, _) = send(&server, "GET", "/v1.0/me", Some("not-a-token"), None);
    assert_eq!(status, 401);
    let (status, me) = send(&server, "GET", "/v1.0/me", Some(&alice), None);
    assert_eq!((status, me["userPrincipalName"].as_str()), (200, Some("alice@contoso.example")), "{me:#}");
}

/// A whole activation with approval over HTTP: Alice asks, Kenji finds it waiting for him and
/// approves its step, Alice's request is then provisioned; a malformed body is a 400.
#[test]
fn an_activation_with_approval_over_http() {
    let lab = Lab::demo();
    lab.run(&["policy", "set", "Global Administrator", "--require-approval", "true", "--approver", "kenji"])
        .ok();
    let server = serve(&lab, &[]);
    let (alice, kenji) = (token(&lab, &["--as", "alice"]), token(&lab, &["--as", "kenji"]));
    let (_, me) = send(&server, "GET", "/v1.0/me", Some(&alice), None);
    let body = json!({"action": "selfActivate", "principalId": me["id"], "directoryScopeId": "/",
        "roleDefinitionId": "62e90394-69f5-4237-9190-012177145e10", "justification": "INC-42",
        "scheduleInfo": {"expiration": {"type": "afterDuration", "duration": "PT1H"}}});
    let requests = "/v1.0/roleManagement/directory/roleAssignmentScheduleRequests";
    let (status, asked) = send(&server, "POST", requests, Some(&alice), Some(&body));
    assert_eq!((status, asked["status"].as_str()), (201, Some("PendingApproval")), "{asked:#}");
    let approval = asked["approvalId"].as_str().unwrap().to_string();
    let (status, steps) = send(
        &server,
        "GET",
        &format!("/beta/roleManagement/directory/roleAssignmentApprovals/{approval}/steps"),
        Some(&kenji),
        None,
    );
    assert_eq!(status, 200, "{steps:#}");
    let step = steps["value"][0]["id"].as_str().unwrap().to_string();
    let decision = json!({"reviewResult": "Approve", "justification": "Looks right"});
    let (status, answer) = send(
        &server,
        "PATCH",
        &format!("/beta/roleManagement/directory/roleAssignmentApprovals/{approval}/steps/{step}"),
        Some(&kenji),
        Some(&decision),
    );
    assert_eq!(status, 204, "{answer:#}");
    let id = asked["id"].as_str().unwrap();
    let (status, done) = send(&server, "GET", &format!("{requests}/{id}"), Some(&alice), None);
    assert_eq!((status, done["status"].as_str()), (200, Some("Provisioned")), "{done:#}");
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut r = agent
        .post(format!("{}{requests}", server.base))
        .header("Authorization", format!("Bearer {alice}"))
        .send("{not json")
        .unwrap();
    assert_eq!(r.status().as_u16(), 400, "{}", r.body_mut().read_to_string().unwrap_or_default());
}

/// `$batch` answers its parts; several clients at once are all answered (one engine serves them
/// in turn); an application's token carries its application permissions.
#[test]
fn batch_concurrent_clients_and_app_tokens() {
    let lab = Lab::demo();
    lab.run(&["app", "grant", "Nightly Sync Automation", "RoleManagement.Read.Directory", "--application"])
        .ok();
    let server = serve(&lab, &[]);
    let admin = token(&lab, &["--as", "breakglass"]);
    let batch = json!({"requests": [
        {"id": "1", "method": "GET", "url": "/roleManagement/directory/roleDefinitions?$top=2"},
        {"id": "2", "method": "GET", "url": "/me"},
    ]});
    let (status, answer) = send(&server, "POST", "/v1.0/$batch", Some(&admin), Some(&batch));
    assert_eq!(status, 200, "{answer:#}");
    let statuses: Vec<i64> =
        answer["responses"].as_array().unwrap().iter().map(|r| r["status"].as_i64().unwrap()).collect();
    assert_eq!(statuses, [200, 200]);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..5 {
                    let (status, _) = send(
                        &server,
                        "GET",
                        "/v1.0/roleManagement/directory/roleDefinitions",
                        Some(&admin),
                        None,
                    );
                    assert_eq!(status, 200);
                }
            });
        }
    });
    let app = token(&lab, &["--app", "Nightly Sync Automation"]);
    let (status, _) =
        send(&server, "GET", "/v1.0/roleManagement/directory/roleEligibilitySchedules", Some(&app), None);
    assert_eq!(status, 200);
    let (status, body) = send(
        &server,
        "POST",
        "/v1.0/roleManagement/directory/roleEligibilityScheduleRequests",
        Some(&app),
        Some(&json!({})),
    );
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("UnknownError")), "{body:#}");
}

/// `--allow-anonymous`: a call without a token acts as the tenant's default caller.
#[test]
fn anonymous_calls_act_as_the_default_caller_when_allowed() {
    let lab = Lab::demo();
    let server = serve(&lab, &["--allow-anonymous"]);
    let (status, me) = send(&server, "GET", "/v1.0/me", None, None);
    assert_eq!(
        (status, me["userPrincipalName"].as_str()),
        (200, Some("breakglass@contoso.example")),
        "{me:#}"
    );
}

/// Links point at the server that answered, and following `@odata.nextLink` gets every item.
#[test]
fn links_name_the_server_and_next_links_page_through_everything() {
    let lab = Lab::demo();
    let server = serve(&lab, &[]);
    let admin = token(&lab, &["--as", "breakglass"]);
    let (_, all) = send(&server, "GET", "/v1.0/roleManagement/directory/roleDefinitions", Some(&admin), None);
    let total = all["value"].as_array().unwrap().len();
    assert!(
        all["@odata.context"].as_str().unwrap().starts_with(&format!("{}/v1.0/$metadata#", server.base)),
        "{}",
        all["@odata.context"]
    );
    let mut path = "/v1.0/roleManagement/directory/roleDefinitions?$top=25".to_string();
    let mut seen = 0;
    let mut pages = 0;
    loop {
        let (status, page) = send(&server, "GET", &path, Some(&admin), None);
        assert_eq!(status, 200, "{page:#}");
        seen += page["value"].as_array().unwrap().len();
        pages += 1;
        match page["@odata.nextLink"].as_str() {
            Some(next) => {
                assert!(next.starts_with(&server.base), "{next}");
                path = next[server.base.len()..].to_string();
            }
            None => break,
        }
        assert!(pages < 100, "next links never end");
    }
    assert_eq!(seen, total);
    assert!(pages > 1);
}

/// The real azure-mgmt-authorization client, unmodified, against `serve --tls`: it trusts the
/// certificate the server wrote, sends a token from `pimlab token`, lists role definitions,
/// assigns an eligibility and reads it back, lists role settings.
#[test]
fn the_real_azure_sdk_talks_to_serve_over_https() {
    let Some(python) = crate::arm_router::sdk_python() else {
        eprintln!("skipped: no Python with azure-mgmt-authorization");
        return;
    };
    let lab = Lab::demo();
    let cert = lab.dir.path().join("server.pem");
    let server = serve(&lab, &["--tls", "--certificate", cert.to_str().unwrap()]);
    let base = server.base.split_whitespace().next().unwrap().to_string();
    assert!(base.starts_with("https://127.0.0.1:"), "{}", server.base);
    let admin = token(&lab, &["--as", "breakglass"]);
    let alice = lab.run(&["--json", "user", "show", "alice"]).ok().json()["id"].as_str().unwrap().to_string();
    let script = crate::harness::root().join("tests/it/sdk/drive_arm_server.py");
    let out = std::process::Command::new(&python)
        .arg(&script)
        .args([
            base.as_str(),
            admin.as_str(),
            cert.to_str().unwrap(),
            "8a1f3c52-6d0e-4b7a-9c21-5e4d3f2a1b00",
            alice.as_str(),
        ])
        .output()
        .expect("run the SDK script");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}");
    assert!(text.contains("eligibility request") && text.contains("Provisioned"), "{text}");
}

/// The real msgraph-sdk client against `serve --tls`: pointed at the server (base URL, trusted
/// certificate, the host its authentication provider may send the token to), it reads a user, the
/// role definitions and the caller's own eligibilities.
#[test]
fn the_real_graph_sdk_talks_to_serve_over_https() {
    let Some(python) = crate::groups_graph::graph_sdk_python() else {
        eprintln!("skipped: no Python with msgraph-sdk");
        return;
    };
    let lab = Lab::demo();
    let cert = lab.dir.path().join("server.pem");
    let server = serve(&lab, &["--tls", "--certificate", cert.to_str().unwrap()]);
    let base = server.base.split_whitespace().next().unwrap().to_string();
    let alice = token(&lab, &["--as", "alice"]);
    let script = crate::harness::root().join("tests/it/sdk/drive_graph_server.py");
    let out = std::process::Command::new(&python)
        .arg(&script)
        .args([base.as_str(), alice.as_str(), cert.to_str().unwrap(), "alice@contoso.example"])
        .output()
        .expect("run the SDK script");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}");
    assert!(text.contains("my eligibilities:"), "{text}");
}

/// `serve` is a terminal's command: inside a REPL session it is refused as a usage error, not
/// run (and nothing panics).
#[test]
fn serve_inside_a_session_is_a_usage_error() {
    let lab = Lab::demo();
    let mut c = lab.command();
    c.arg("--db").arg(&lab.db).arg("repl");
    let run = crate::harness::repl::pipe(c, "repl".into(), "serve --port 0\n");
    assert_ne!(run.code, 0, "{run}");
    assert!(run.stderr.contains("`serve` runs from a terminal"), "{run}");
}
