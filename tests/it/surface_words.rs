//! One refusal, three surfaces, each in its own words (issue 7: "No engine message names a
//! command-line flag; Graph clients get property names"). For every refusal of [`REFUSALS`]:
//!
//! - the Graph error body (`pimlab::api::graph::handle`, in-process) names no flag (`--x`) and no
//!   `pimlab <command>`, and says what a Graph client can change;
//! - the command line's stderr names the flag or command that fixes it (`--justification`);
//! - a Lua script's error (`e.details[i].message`, and `e.hints` for a fix of the whole error)
//!   names the `pim` option (`justification = `), and no flag either;
//!
//! and all three report the same error code. Each refusal runs on a fresh demonstration store:
//! its setup command lines first, then the refused call through the router on the store file, the
//! binary, and `pimlab run` of a script.

use std::rc::Rc;

use pimlab::api::graph;
use pimlab::engine::{Engine, Session};
use pimlab::hooks::LuaHooks;
use serde_json::Value;

use crate::harness::cli::{Lab, command_line_advice};
use crate::harness::graph::{ASSIGN_REQS, ELIG_REQS};
use crate::harness::s;

/// A hook whose `validate` handler raises an error, in every lab's directory.
const FAILING_HOOK: (&str, &str) =
    ("failing-hook.lua", "return { validate = function(request, ctx) error(\"not today\") end }\n");

/// One refusal, as each surface asks for it. In `cli`, `graph` and `lua`, `<name>` stands for the
/// id of the demo user with that mail nickname, or of the group or role with that display name;
/// `<request>` for the request waiting for approval, `<step>` for its approval's open step.
struct Refusal {
    /// What is refused, for messages.
    what: &'static str,
    /// Command lines run first as the break-glass administrator, in the lab's directory.
    setup: &'static [&'static str],
    /// Who asks (a demo user's mail nickname), and whether the session satisfied MFA.
    who: &'static str,
    mfa: bool,
    /// The command line, after the global `--as WHO` (and `--no-mfa`).
    cli: &'static str,
    /// The Graph call: method, path, body ("" for none).
    graph: (&'static str, &'static str, &'static str),
    /// The `pim` call, run inside `pim.as(WHO, ...)`.
    lua: &'static str,
    /// What the command line's stderr, the Graph body and the script's error must each say.
    says: Says,
}

struct Says {
    cli: &'static [&'static str],
    graph: &'static [&'static str],
    lua: &'static [&'static str],
}

/// `selfActivate` of a role at the tenant scope, as a Graph body (`{who}` and `{role}` are
/// placeholders, `{more}` further properties).
macro_rules! self_activate {
    ($who:literal, $role:literal, $more:literal) => {
        concat!(
            r#"{"action": "selfActivate", "principalId": ""#,
            $who,
            r#"", "roleDefinitionId": ""#,
            $role,
            r#"", "directoryScopeId": "/""#,
            $more,
            "}"
        )
    };
}

const REFUSALS: &[Refusal] = &[
    Refusal {
        what: "an extension months before the end, with the portal's windows switched on",
        setup: &["config fidelity set portal-extend-renew-windows on"],
        who: "alice",
        mfa: true,
        cli: "extend --role 'Global Administrator' --justification 'Project runs long'",
        graph: (
            "POST",
            ELIG_REQS,
            r#"{"action": "selfExtend", "principalId": "<alice>", "roleDefinitionId": "<Global Administrator>", "directoryScopeId": "/", "justification": "Project runs long"}"#,
        ),
        lua: r#"pim.extend{role = "Global Administrator", justification = "Project runs long"}"#,
        says: Says {
            cli: &["pimlab config fidelity set portal-extend-renew-windows off"],
            graph: &["fidelity switch 'portal-extend-renew-windows'"],
            lua: &["pim.fidelity.set(\"portal-extend-renew-windows\", false)"],
        },
    },
    Refusal {
        what: "an activation breaking every rule of its policy",
        setup: &["policy set 'Global Administrator' --require-ticket true"],
        who: "alice",
        mfa: false,
        cli: "activate --role 'Global Administrator' --duration 10h",
        graph: (
            "POST",
            ASSIGN_REQS,
            self_activate!(
                "<alice>",
                "<Global Administrator>",
                r#", "scheduleInfo": {"expiration": {"type": "afterDuration", "duration": "PT10H"}}"#
            ),
        ),
        lua: r#"pim.activate{role = "Global Administrator", duration = "PT10H"}"#,
        says: Says {
            cli: &["--duration PT8H", "--no-mfa", "--justification", "--ticket"],
            graph: &["\"scheduleInfo\"", "multi-factor", "\"justification\"", "\"ticketInfo\""],
            lua: &["duration = \"PT8H\"", "mfa = false", "justification = ", "ticket = "],
        },
    },
    Refusal {
        what: "an administrator's action by someone who is not one",
        setup: &[],
        who: "alice",
        mfa: true,
        cli: "eligible assign --principal ben --role 'Security Reader' --justification 'Needs it'",
        graph: (
            "POST",
            ELIG_REQS,
            r#"{"action": "adminAssign", "principalId": "<ben>", "roleDefinitionId": "<Security Reader>", "directoryScopeId": "/", "justification": "Needs it", "scheduleInfo": {"expiration": {"type": "noExpiration"}}}"#,
        ),
        lua: r#"pim.eligible.assign{principal = "ben", role = "Security Reader", justification = "Needs it"}"#,
        says: Says {
            cli: &["--as an administrator"],
            graph: &["sign in as an administrator"],
            lua: &["act as an administrator (pim.as)"],
        },
    },
    Refusal {
        what: "self-service for someone else (a group the caller is not in)",
        setup: &[],
        who: "ben",
        mfa: true,
        cli: "activate --for-group 'Tier-0 Admins' --role 'Privileged Role Administrator' --justification Mine",
        graph: (
            "POST",
            ASSIGN_REQS,
            self_activate!(
                "<Tier-0 Admins>",
                "<Privileged Role Administrator>",
                r#", "justification": "Mine""#
            ),
        ),
        lua: r#"pim.activate{for_group = "Tier-0 Admins", role = "Privileged Role Administrator", justification = "Mine"}"#,
        says: Says {
            cli: &["act --as that principal"],
            graph: &["sign in as that principal"],
            lua: &["act as that principal (pim.as)"],
        },
    },
    Refusal {
        what: "an approval without the justification its stage requires",
        setup: &[
            "policy set 'Security Administrator' --require-approval true --approver 'PIM Approvers'",
            "--as chloe activate --role 'Security Administrator' --duration 2h --justification 'Alert 7731'",
        ],
        who: "kenji",
        mfa: true,
        cli: "approve <request>",
        graph: (
            "PATCH",
            "/beta/roleManagement/directory/roleAssignmentApprovals/<request>/steps/<step>",
            r#"{"reviewResult": "Approve"}"#,
        ),
        lua: r#"pim.approve("<request>")"#,
        says: Says {
            cli: &["--justification"],
            graph: &["\"justification\""],
            lua: &["pim.approve(id, \"why\")"],
        },
    },
    Refusal {
        what: "an activation of a role that does not exist",
        setup: &[],
        who: "alice",
        mfa: true,
        cli: "activate --role 'Chief Coffee Officer' --justification Coffee",
        graph: (
            "POST",
            ASSIGN_REQS,
            self_activate!(
                "<alice>",
                "0000c0ff-0000-4000-8000-000000000000",
                r#", "justification": "Coffee""#
            ),
        ),
        lua: r#"pim.activate{role = "Chief Coffee Officer", justification = "Coffee"}"#,
        says: Says { cli: &["pimlab role list"], graph: &["role definition"], lua: &["pim.role.list()"] },
    },
    Refusal {
        what: "an activation without the authentication context its policy requires (ACRS)",
        setup: &[
            "policy set 'Global Reader' --require-auth-context c1",
            "eligible assign --principal ben --role 'Global Reader'",
        ],
        who: "ben",
        mfa: true,
        cli: "activate --role 'Global Reader' --justification 'Audit review'",
        graph: (
            "POST",
            ASSIGN_REQS,
            self_activate!("<ben>", "<Global Reader>", r#", "justification": "Audit review""#),
        ),
        lua: r#"pim.activate{role = "Global Reader", justification = "Audit review"}"#,
        says: Says {
            cli: &["--auth-context c1"],
            graph: &["authentication context 'c1'"],
            lua: &["auth_context = \"c1\""],
        },
    },
    Refusal {
        what: "an activation that a failing policy hook refuses",
        setup: &[
            "eligible assign --principal ben --role 'Reports Reader'",
            "hook add failing --file failing-hook.lua --role 'Reports Reader'",
        ],
        who: "ben",
        mfa: true,
        cli: "activate --role 'Reports Reader' --justification 'Quarterly report'",
        graph: (
            "POST",
            ASSIGN_REQS,
            self_activate!("<ben>", "<Reports Reader>", r#", "justification": "Quarterly report""#),
        ),
        lua: r#"pim.activate{role = "Reports Reader", justification = "Quarterly report"}"#,
        says: Says {
            cli: &["pimlab hook show failing"],
            graph: &["policy hook 'failing'"],
            lua: &["pim.hook.show(\"failing\")"],
        },
    },
];

/// The names `<...>` stands for, and their ids, read through the router as the administrator.
struct Names(Vec<(String, String)>);

impl Names {
    fn read(engine: &mut Engine, admin: &Session) -> Names {
        let mut names = Vec::new();
        let mut list = |path: &str, name: &dyn Fn(&Value) -> String| {
            let r = graph::handle(engine, admin, "GET", path, None);
            let body = r.body.unwrap_or(Value::Null);
            for item in body["value"].as_array().unwrap_or_else(|| panic!("GET {path}: {body:#}")) {
                names.push((name(item), s(&item["id"])));
            }
        };
        list("/v1.0/users", &|u| s(&u["userPrincipalName"]).split('@').next().unwrap().to_string());
        list("/v1.0/groups", &|g| s(&g["displayName"]));
        list("/v1.0/roleManagement/directory/roleDefinitions", &|r| s(&r["displayName"]));
        let pending = format!("{ASSIGN_REQS}?$filter=status eq 'PendingApproval'");
        list(&pending, &|_| "request".to_string());
        if let Some((_, request)) = names.iter().find(|(n, _)| n == "request").cloned() {
            let path = format!("/beta/roleManagement/directory/roleAssignmentApprovals/{request}");
            let approval = graph::handle(engine, admin, "GET", &path, None).body.unwrap_or(Value::Null);
            let steps = approval["steps"].as_array().cloned().unwrap_or_default();
            if let Some(step) = steps.iter().find(|st| st["status"] == "InProgress") {
                names.push(("step".to_string(), s(&step["id"])));
            }
        }
        Names(names)
    }

    fn id(&self, name: &str) -> &str {
        let found = self.0.iter().find(|(n, _)| n == name);
        &found.unwrap_or_else(|| panic!("no user, group, role or request called <{name}>")).1
    }

    /// `text` with every `<name>` replaced by its id.
    fn fill(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(open) = rest.find('<') {
            let close = rest[open..].find('>').map(|c| open + c).expect("a closing '>'");
            out.push_str(&rest[..open]);
            out.push_str(self.id(&rest[open + 1..close]));
            rest = &rest[close + 1..];
        }
        out.push_str(rest);
        out
    }
}

/// Every string of a JSON value, one a line: what a Graph client reads.
fn strings_of(v: &Value, out: &mut String) {
    match v {
        Value::String(t) => {
            out.push_str(t);
            out.push('\n');
        }
        Value::Array(items) => items.iter().for_each(|i| strings_of(i, out)),
        Value::Object(m) => m.values().for_each(|i| strings_of(i, out)),
        _ => {}
    }
}

/// The script that makes the call and prints what its error says, one line each.
fn script(r: &Refusal, names: &Names) -> String {
    let mfa = if r.mfa { "" } else { ", {mfa = false}" };
    format!(
        r#"local ok, e = pcall(function()
  return pim.as("{who}", function() return {call} end{mfa})
end)
if ok then print("it succeeded") return end
if type(e) ~= "table" then print("not a pimlab error: " .. tostring(e)) return end
print("code: " .. e.code)
for _, d in ipairs(e.details) do print("detail: " .. d.message) end
for _, h in ipairs(e.hints) do print("hint: " .. h) end
"#,
        who = r.who,
        call = names.fill(r.lua),
    )
}

/// What went wrong with one refusal, or nothing.
fn check(r: &Refusal) -> Vec<String> {
    let lab = Lab::demo();
    std::fs::write(lab.path(FAILING_HOOK.0), FAILING_HOOK.1).unwrap();
    for line in r.setup {
        let words = shlex::split(line).expect("a setup line that splits");
        lab.run(&words.iter().map(String::as_str).collect::<Vec<_>>()).ok();
    }
    let mut problems = Vec::new();

    // Graph, through the router on the store file, with the Lua host as the binary installs it.
    let (graph_code, graph_text, names) = {
        let mut engine = Engine::open(&lab.db).expect("open the store");
        engine.set_hook_runner(Rc::new(LuaHooks::new(pimlab::api::views::REQUEST)));
        let admin = Session::new(engine.default_caller().expect("default caller"));
        let names = Names::read(&mut engine, &admin);
        let session = Session { mfa: r.mfa, ..Session::new(names.id(r.who)) };
        let (method, path, body) = r.graph;
        let body = (!body.is_empty()).then(|| names.fill(body));
        let resp = graph::handle(&mut engine, &session, method, &names.fill(path), body.as_deref());
        let body = resp.body.unwrap_or(Value::Null);
        if resp.status < 400 {
            problems.push(format!("Graph accepted it ({}): {body:#}", resp.status));
        }
        let mut text = String::new();
        strings_of(&body, &mut text);
        (body["error"]["code"].as_str().unwrap_or_default().to_string(), text, names)
    };
    let advice = command_line_advice(&graph_text);
    if !advice.is_empty() {
        problems.push(format!("the Graph body names command-line advice {advice:?}:\n{graph_text}"));
    }
    for want in r.says.graph {
        if !graph_text.contains(want) {
            problems.push(format!("the Graph body does not say {want:?}:\n{graph_text}"));
        }
    }

    // The command line.
    let mut args = vec!["--as".to_string(), r.who.to_string()];
    if !r.mfa {
        args.push("--no-mfa".into());
    }
    args.extend(shlex::split(&names.fill(r.cli)).expect("a command line that splits"));
    let run = lab.run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let cli_code = run.stderr.strip_prefix("error: ").and_then(|e| e.split(' ').next()).unwrap_or_default();
    if run.code != 1 || cli_code.is_empty() {
        problems.push(format!("the command line did not refuse it:{run}"));
    }
    for want in r.says.cli {
        if !run.stderr.contains(want) {
            problems.push(format!("stderr does not say {want:?}:{run}"));
        }
    }

    // A script.
    std::fs::write(lab.path("refusal.lua"), script(r, &names)).unwrap();
    let lua = lab.run(&["run", "refusal.lua"]);
    let lua_code = lua.stdout.lines().next().and_then(|l| l.strip_prefix("code: ")).unwrap_or_default();
    if lua.code != 0 || lua_code.is_empty() {
        problems.push(format!("the script did not catch a pimlab error:{lua}"));
    }
    let advice = command_line_advice(&lua.stdout);
    if !advice.is_empty() {
        problems.push(format!("the script's error names command-line advice {advice:?}:{lua}"));
    }
    for want in r.says.lua {
        if !lua.stdout.contains(want) {
            problems.push(format!("the script's error does not say {want:?}:{lua}"));
        }
    }

    if !(graph_code == cli_code && cli_code == lua_code) {
        problems.push(format!(
            "the codes differ: Graph {graph_code:?}, command line {cli_code:?}, script {lua_code:?}"
        ));
    }
    problems
}

#[test]
fn each_surface_words_a_refusal_in_its_own_terms() {
    let mut report = Vec::new();
    for r in REFUSALS {
        let problems = check(r);
        if !problems.is_empty() {
            report.push(format!("== {}\n{}", r.what, problems.join("\n")));
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n\n"));
}
