//! `pimlab mark` and `pimlab export --since`: the changes made in the lab as the real Graph and
//! ARM calls that make them. The strongest check replays an exported plan, call by call and
//! with its bindings, through pimlab's own routers on a second store that is as the first was at
//! the mark, and compares what both then hold.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::harness::cli::Lab;

const SUB: &str = "/subscriptions/8a1f3c52-6d0e-4b7a-9c21-5e4d3f2a1b00";
/// A group of the demonstration organisation, governed by PIM for Groups in the tests.
const HELPDESK: &str = "Helpdesk Tier 1";

/// The changes the tests make after the mark `before`.
fn change(lab: &Lab) {
    lab.run(&["user", "add", "Zed Zulu"]).ok();
    lab.run(&["group", "add", "Ops Admins", "--role-assignable"]).ok();
    lab.run(&["group", "add-member", "Ops Admins", "Zed Zulu"]).ok();
    lab.run(&["policy", "set", "User Administrator", "--activation-max", "PT2H"]).ok();
    lab.run(&[
        "eligible",
        "assign",
        "--principal",
        "Zed Zulu",
        "--role",
        "User Administrator",
        "--duration",
        "P90D",
    ])
    .ok();
    lab.run(&[
        "eligible",
        "assign",
        "--principal",
        "Ops Admins",
        "--role",
        "Reader",
        "--scope",
        SUB,
        "--duration",
        "P30D",
    ])
    .ok();
    lab.run(&["policy", "set", "Reader", "--scope", SUB, "--activation-max", "PT4H"]).ok();
    lab.run(&[
        "eligible",
        "assign",
        "--principal",
        "Zed Zulu",
        "--group",
        HELPDESK,
        "--access",
        "member",
        "--duration",
        "P30D",
    ])
    .ok();
    lab.run(&["policy", "set", "member", "--group", HELPDESK, "--require-justification", "false"]).ok();
}

fn marked_and_changed() -> Lab {
    let lab = Lab::demo();
    lab.run(&["mark", "before"]).ok().out_has("Set the mark 'before' at");
    change(&lab);
    lab
}

/// One call of a `--format graph` plan.
struct PlannedCall {
    title: String,
    method: String,
    url: String,
    body: Option<String>,
    binds: Option<(String, String)>,
}

/// Reads the `graph` format back: `# N. title`, `METHOD URL`, an optional JSON body, an optional
/// `# -> var = field`.
fn parse_plan(text: &str) -> Vec<PlannedCall> {
    let mut calls: Vec<PlannedCall> = Vec::new();
    let mut body = String::new();
    for line in text.lines() {
        if let Some(title) = line
            .strip_prefix("# ")
            .filter(|t| t.split_once(". ").is_some_and(|(n, _)| n.parse::<u32>().is_ok()))
        {
            calls.push(PlannedCall {
                title: title.to_string(),
                method: String::new(),
                url: String::new(),
                body: None,
                binds: None,
            });
            body.clear();
        } else if let Some(binding) = line.strip_prefix("# -> ") {
            let (var, field) = binding.split_once(" = ").expect("var = field");
            calls.last_mut().unwrap().binds = Some((var.to_string(), field.to_string()));
        } else if line.starts_with('#') || line.is_empty() {
            continue;
        } else if let Some(call) = calls.last_mut() {
            if call.method.is_empty() {
                let (method, url) = line.split_once(' ').expect("METHOD URL");
                call.method = method.to_string();
                call.url = url.to_string();
            } else {
                call.body.get_or_insert_with(String::new).push_str(line);
                call.body.as_mut().unwrap().push('\n');
            }
        }
    }
    calls
}

fn field<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(v, |v, part| match part.parse::<usize>() {
        Ok(i) => &v[i],
        Err(_) => &v[part],
    })
}

/// Runs a plan's calls on `lab` through `pimlab graph` and `pimlab arm`, as a client following
/// it would: each binding's value replaces its `{{var}}` in later calls.
fn replay(lab: &Lab, plan: &str) {
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    let fill = |text: &str, vars: &BTreeMap<String, String>| {
        vars.iter().fold(text.to_string(), |t, (k, v)| t.replace(&format!("{{{{{k}}}}}"), v))
    };
    for call in parse_plan(plan) {
        let url = fill(&call.url, &vars);
        let (surface, path) = if let Some(p) = url.strip_prefix("https://graph.microsoft.com") {
            ("graph", p.to_string())
        } else {
            ("arm", url.strip_prefix("https://management.azure.com").expect("a Graph or ARM URL").to_string())
        };
        let mut args = vec![surface.to_string(), call.method.clone(), path];
        if let Some(body) = &call.body {
            args.push("--body".into());
            args.push(fill(body, &vars));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = lab.run(&args);
        assert_eq!(run.code, 0, "call '{}' failed{run}", call.title);
        if let Some((var, path)) = call.binds {
            let value =
                field(&run.json(), &path).as_str().unwrap_or_else(|| panic!("{path} in{run}")).to_string();
            vars.insert(var, value);
        }
    }
}

fn graph(lab: &Lab, path: &str) -> Value {
    lab.run(&["graph", "GET", path]).json()
}

/// What the tests compare between two stores, by names rather than ids (a replayed plan's new
/// objects have ids of their own).
fn state(lab: &Lab) -> BTreeSet<String> {
    let mut names = BTreeMap::new();
    let mut out = BTreeSet::new();
    for u in graph(lab, "/v1.0/users?$top=999")["value"].as_array().unwrap() {
        names.insert(
            u["id"].as_str().unwrap().to_string(),
            u["userPrincipalName"].as_str().unwrap().to_string(),
        );
        out.insert(format!("user {} {}", u["userPrincipalName"], u["displayName"]));
    }
    let groups = graph(lab, "/v1.0/groups?$top=999");
    for g in groups["value"].as_array().unwrap() {
        names.insert(g["id"].as_str().unwrap().to_string(), g["displayName"].as_str().unwrap().to_string());
        out.insert(format!("group {} assignable={}", g["displayName"], g["isAssignableToRole"]));
    }
    for g in groups["value"].as_array().unwrap() {
        let id = g["id"].as_str().unwrap();
        for m in graph(lab, &format!("/v1.0/groups/{id}/members"))["value"].as_array().unwrap() {
            out.insert(format!("member {} {}", g["displayName"], names[m["id"].as_str().unwrap()]));
        }
    }
    for s in graph(lab, "/v1.0/roleManagement/directory/roleEligibilitySchedules?$top=999")["value"]
        .as_array()
        .unwrap()
    {
        out.insert(format!(
            "eligible {} {} {} {}",
            names[s["principalId"].as_str().unwrap()],
            s["roleDefinitionId"],
            s["memberType"],
            s["scheduleInfo"]
        ));
    }
    let azure = lab
        .run(&[
            "arm",
            "GET",
            &format!(
                "{SUB}/providers/Microsoft.Authorization/roleEligibilitySchedules?api-version=2020-10-01"
            ),
        ])
        .json();
    for s in azure["value"].as_array().unwrap() {
        let p = &s["properties"];
        out.insert(format!(
            "azure eligible {} {} {} {}",
            names[p["principalId"].as_str().unwrap()],
            p["roleDefinitionId"],
            p["startDateTime"],
            p["endDateTime"]
        ));
    }
    let helpdesk = lab.object_id("group", HELPDESK);
    let filter = format!(
        "/v1.0/identityGovernance/privilegedAccess/group/eligibilitySchedules?$filter=groupId eq '{helpdesk}'"
    );
    for s in graph(lab, &filter)["value"].as_array().unwrap() {
        out.insert(format!(
            "group eligible {} {} {}",
            names[s["principalId"].as_str().unwrap()],
            s["accessId"],
            s["scheduleInfo"]
        ));
    }
    let member_policy = lab.run(&["policy", "show", "member", "--group", HELPDESK, "--json"]).json();
    out.insert(format!("group member policy {}", member_policy["rules"]));
    out.insert(format!("rules {}", lab.policy("User Administrator")["rules"]));
    let reader = lab.run(&["policy", "show", "Reader", "--scope", SUB, "--json"]).json();
    out.insert(format!("azure reader {}", reader));
    out
}

#[test]
fn a_plan_replayed_on_the_store_as_it_was_at_the_mark_makes_the_same_changes() {
    let lab = marked_and_changed();
    let plan = lab.run(&["export", "--since", "before"]).ok().stdout;
    let twin = Lab::demo();
    let before = state(&twin);
    replay(&twin, &plan);
    let (want, got) = (state(&lab), state(&twin));
    assert_ne!(before, want, "the changes change what is compared");
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "after replaying:\n{plan}\nmissing: {missing:#?}\nextra: {extra:#?}"
    );
}

#[test]
fn a_replayed_plan_leaves_nothing_more_to_export() {
    let lab = marked_and_changed();
    let plan = lab.run(&["export", "--since", "before"]).ok().stdout;
    let twin = Lab::demo();
    twin.run(&["mark", "before"]).ok();
    replay(&twin, &plan);
    // The twin's own export since the mark names the same calls (its new objects' ids differ).
    let again = twin.run(&["export", "--since", "before"]).ok().stdout;
    let titles = |p: &str| parse_plan(p).into_iter().map(|c| c.title).collect::<Vec<_>>();
    assert_eq!(titles(&again), titles(&plan));
}

#[test]
fn without_a_mark_the_changes_since_the_tenant_was_created_are_exported() {
    let lab = Lab::demo();
    lab.run(&["export"]).ok().out_has("Nothing to do: the tenant is as it was.");
    change(&lab);
    let since_created = lab.run(&["export"]).ok().stdout;
    assert!(since_created.contains("since the tenant was created (2025-01-06T09:00:00Z)"), "{since_created}");
    let titles: Vec<String> = parse_plan(&since_created).into_iter().map(|c| c.title).collect();
    assert!(
        titles.contains(&"1. Create the user Zed Zulu (zed.zulu@contoso.example)".to_string()),
        "{titles:#?}"
    );
}

#[test]
fn each_format_of_a_plan_is_snapshotted() {
    let lab = marked_and_changed();
    lab.run(&[
        "hook",
        "add",
        "tickets",
        "--file",
        &lab.file("tickets", "return { validate = function(request, ctx) end }"),
    ])
    .ok();
    for format in ["graph", "http", "powershell", "az"] {
        let out = lab.run(&["export", "--since", "before", "--format", format]).ok().stdout;
        insta::assert_snapshot!(format!("export_{format}"), out);
    }
}

#[test]
fn the_az_script_is_valid_shell() {
    let lab = marked_and_changed();
    let script = lab.path("plan.sh");
    lab.run(&["export", "--since", "before", "--format", "az", "--out", script.to_str().unwrap()]).ok();
    let status = std::process::Command::new("sh").arg("-n").arg(&script).status().expect("sh runs");
    assert!(status.success(), "sh -n refused:\n{}", std::fs::read_to_string(&script).unwrap());
}

#[test]
fn the_az_script_gives_each_call_the_values_earlier_calls_returned() {
    // A stand-in `az` that logs its arguments and answers a query with a made-up id.
    let lab = marked_and_changed();
    let bin = lab.path("bin");
    std::fs::create_dir(&bin).unwrap();
    let log = lab.path("az.log");
    let fake = format!(
        "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\" >> '{}'; done\nprintf '%s\\n' '--end--' >> '{}'\necho fake-id-$$\n",
        log.display(),
        log.display()
    );
    let az = bin.join("az");
    std::fs::write(&az, fake).unwrap();
    std::fs::set_permissions(&az, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let script = lab.run(&["export", "--since", "before", "--format", "az"]).ok().stdout;
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(&script)
        .env("PATH", path)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let logged = std::fs::read_to_string(&log).unwrap();
    let calls: Vec<Vec<&str>> =
        logged.split("--end--\n").filter(|c| !c.is_empty()).map(|c| c.lines().collect()).collect();
    assert_eq!(calls.len(), parse_plan(&lab.run(&["export", "--since", "before"]).ok().stdout).len());
    for call in &calls {
        if let Some(i) = call.iter().position(|a| *a == "--body") {
            let body: Value =
                serde_json::from_str(call[i + 1]).unwrap_or_else(|e| panic!("{e}: {}", call[i + 1]));
            let text = body.to_string();
            assert!(!text.contains("{{") && !text.contains('$'), "an unfilled reference: {text}");
        }
        let url = call[call.iter().position(|a| *a == "--url").unwrap() + 1];
        assert!(!url.contains("{{"), "an unfilled reference: {url}");
    }
    assert!(
        logged.contains("\"principalId\":\"fake-id-"),
        "a new user's id reaches its eligibility:\n{logged}"
    );
}

#[test]
fn an_unknown_mark_is_refused_naming_the_marks_there_are() {
    let lab = Lab::demo();
    lab.run(&["mark", "sprint-1"]).ok();
    lab.fails_unchanged(&["export", "--since", "sprint-2"])
        .refused("PimlabMarkNotFound", 404)
        .err_has("the store has no mark 'sprint-2' (marks: sprint-1)");
}

#[test]
fn marks_are_listed_and_a_mark_of_the_same_name_moves() {
    let lab = Lab::demo();
    lab.run(&["mark"]).ok().out_has("No marks yet");
    lab.run(&["mark", "one"]).ok();
    lab.run(&["clock", "advance", "P1D"]).ok();
    lab.run(&["mark", "ONE"]).ok().out_has("Moved the mark 'ONE' at 2025-01-07");
    let list = lab.run(&["mark"]).ok().stdout;
    assert_eq!(list.lines().count(), 1, "{list}");
    let long = "m".repeat(101);
    lab.fails_unchanged(&["mark", &long]).err_has("a mark's name has 1 to 100 characters");
}

#[test]
fn since_is_refused_with_formats_that_write_the_whole_tenant() {
    let lab = Lab::demo();
    lab.run(&["mark", "m"]).ok();
    for format in ["json", "easypim"] {
        lab.fails_unchanged(&["export", "--since", "m", "--format", format])
            .err_has("--format json and easypim write the whole tenant");
    }
}

/// `pimlab export --format json | head -1` ends quietly, as every command does when its reader goes away (it
/// reported an internal error of the library: the plan was written by the exchange layer, which
/// turned the closed pipe into a 500).
#[test]
fn an_export_whose_reader_goes_away_ends_quietly() {
    let lab = marked_and_changed();
    let script = format!(
        "'{}' --db '{}' export --format json | head -1 >/dev/null; echo \"${{PIPESTATUS[0]}}\"",
        crate::harness::cli::BIN,
        lab.db.display()
    );
    let run = std::process::Command::new("bash").arg("-c").arg(&script).output().unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!stderr.contains("error"), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&run.stdout).trim(), "0", "{stderr}");
}
