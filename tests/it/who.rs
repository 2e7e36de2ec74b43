//! `who` and `access`: who holds a role at a time (and who could, through which chain, with what
//! stands in the way), and the same from a principal's side, on a scenario with known answers:
//! the demo organisation (eligibilities direct and through role-assignable groups), a PIM for
//! Groups membership chain, an Azure eligibility at a subscription asked about at a resource
//! group, a removal (history) and a future-dated eligibility.

use serde_json::Value;

use crate::harness::cli::Lab;
use crate::harness::s;

const DESK: &str = "Security Desk";
const WEEKEND_FREEZE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/hooks/weekend-freeze.lua");

/// The demo organisation (clock 2025-01-06T09:00Z) and:
/// - "Security Desk", a role-assignable group holding Security Reader; ben eligible for its
///   membership (approval by kenji), lena an active member for 30 days;
/// - isla eligible for Owner at the Contoso Production subscription;
/// - grace eligible for Security Administrator from 2025-02-01 for 30 days (future-dated);
/// - the weekend-freeze hook on Global Administrator.
fn org() -> Lab {
    let lab = Lab::demo();
    for args in [
        &["group", "add", DESK, "--role-assignable"][..],
        &["active", "assign", "-p", DESK, "-r", "Security Reader", "--permanent", "-j", "desk"],
        &[
            "eligible",
            "assign",
            "-p",
            "ben",
            "--group",
            DESK,
            "--access",
            "member",
            "--duration",
            "P90D",
            "-j",
            "rota",
        ],
        &[
            "active",
            "assign",
            "-p",
            "lena",
            "--group",
            DESK,
            "--access",
            "member",
            "--duration",
            "P30D",
            "-j",
            "cover",
        ],
        &["policy", "set", "member", "--group", DESK, "--require-approval", "true", "--approver", "kenji"],
        &[
            "eligible",
            "assign",
            "-p",
            "isla",
            "-r",
            "Owner",
            "--scope",
            "Contoso Production",
            "--duration",
            "P90D",
            "-j",
            "on call",
        ],
        &[
            "eligible",
            "assign",
            "-p",
            "grace",
            "-r",
            "Security Administrator",
            "--start",
            "2025-02-01T00:00:00Z",
            "--duration",
            "P30D",
            "-j",
            "from February",
        ],
        &["hook", "add", "weekend-freeze", "--file", WEEKEND_FREEZE, "--role", "Global Administrator"],
    ] {
        lab.run(args).ok();
    }
    lab
}

/// `(principal name without the domain, holds, the chain in short)` of each holder.
fn rows(report: &Value, list: &str, name: &str) -> Vec<(String, String, String)> {
    report[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list} in {report}"))
        .iter()
        .map(|h| {
            let who = s(&h[name]["name"]);
            let who = who.split('@').next().unwrap_or_default().to_string();
            let via = &h["via"];
            let mut chain = s(&via["kind"]);
            if let Some(g) = via["group"].as_object() {
                chain = format!("{} of {} -> {chain}", s(&g["membership"]), s(&g["group"]["name"]));
            }
            if via["inherited"] == true {
                chain.push_str(&format!(" inherited from {}", s(&via["scope"])));
            }
            (who, s(&h["holds"]), chain)
        })
        .collect()
}

fn row(who: &str, holds: &str, chain: &str) -> (String, String, String) {
    (who.to_string(), holds.to_string(), chain.to_string())
}

fn who(lab: &Lab, args: &[&str]) -> Value {
    let mut all = vec!["--json", "who"];
    all.extend_from_slice(args);
    lab.run(&all).ok().json()
}

#[test]
fn who_holds_a_role_now_counts_active_holders_directly_and_through_a_pim_membership() {
    let lab = org();
    let r = who(&lab, &["Security Reader"]);
    assert_eq!(
        rows(&r, "holders", "principal"),
        vec![
            row("chloe", "active", "assignment"),
            row("lena", "active", "pimActive of Security Desk -> assignment")
        ]
    );
    assert_eq!(r["when"], "now");
}

#[test]
fn an_activation_makes_its_principal_an_active_holder_for_the_activation_window() {
    let lab = org();
    lab.run(&[
        "--as",
        "dev",
        "activate",
        "--role",
        "Privileged Role Administrator",
        "--duration",
        "2h",
        "-j",
        "Audit",
    ])
    .ok();
    let r = who(&lab, &["Privileged Role Administrator"]);
    assert_eq!(rows(&r, "holders", "principal"), vec![row("dev", "active", "assignment")]);
    assert_eq!(r["holders"][0]["via"]["assignmentType"], "Activated");
    assert_eq!(r["holders"][0]["window"]["end"], "2025-01-06T11:00:00Z");
    lab.run(&["who", "Privileged Role Administrator"]).ok().out_has("direct activation");
    // Two hours later it is over; the group's eligibility remains, for both members.
    lab.run(&["clock", "advance", "2h"]).ok();
    assert_eq!(rows(&who(&lab, &["Privileged Role Administrator"]), "holders", "principal"), vec![]);
    let could = who(&lab, &["Privileged Role Administrator", "--could"]);
    assert_eq!(rows(&could, "holders", "principal").len(), 2);
}

#[test]
fn who_could_adds_eligible_principals_with_their_chain_and_what_stands_in_the_way() {
    let lab = org();
    let r = who(&lab, &["Security Reader", "--could"]);
    assert_eq!(
        rows(&r, "holders", "principal"),
        vec![
            row("ben", "eligible", "pimEligible of Security Desk -> assignment"),
            row("chloe", "active", "assignment"),
            row("lena", "active", "pimActive of Security Desk -> assignment"),
        ]
    );
    // Ben activates the membership, whose policy wants kenji's approval; the role is then active.
    let ben = &r["holders"][0]["obstacles"];
    let approval = ben.as_array().unwrap().iter().find(|o| o["kind"] == "approval").expect("an approval");
    assert_eq!(approval["on"], "membership");
    assert_eq!(s(&approval["approvers"][0]["name"]), "kenji@contoso.example");
    assert_eq!(approval["defaultApprovers"], false);
    assert!(r["holders"][1]["obstacles"].as_array().unwrap().is_empty(), "an active holder meets nothing");

    // Through a role-assignable group's eligibility: every member, each with the role's settings.
    let r = who(&lab, &["Privileged Role Administrator", "--could"]);
    assert_eq!(
        rows(&r, "holders", "principal"),
        vec![
            row("alice", "eligible", "direct of Tier-0 Admins -> eligibility"),
            row("dev", "eligible", "direct of Tier-0 Admins -> eligibility"),
        ]
    );
    let kinds: Vec<String> =
        r["holders"][0]["obstacles"].as_array().unwrap().iter().map(|o| s(&o["kind"])).collect();
    assert_eq!(kinds, ["mfa", "justification", "maximumDuration"]);
}

#[test]
fn who_could_names_the_hooks_and_the_default_approvers_that_would_apply() {
    let lab = org();
    lab.run(&["policy", "set", "Global Administrator", "--require-approval", "true"]).ok();
    let r = who(&lab, &["Global Administrator", "--could"]);
    let alice =
        r["holders"].as_array().unwrap().iter().find(|h| h["principal"]["name"] == "alice@contoso.example");
    let obstacles = alice.expect("alice is eligible")["obstacles"].as_array().unwrap().clone();
    let hook = obstacles.iter().find(|o| o["kind"] == "hook").expect("the hook");
    assert_eq!(hook["name"], "weekend-freeze");
    let approval = obstacles.iter().find(|o| o["kind"] == "approval").expect("approval");
    assert_eq!(approval["defaultApprovers"], true);
    // The default approvers are the Privileged Role and Global Administrators in effect: the
    // break-glass account.
    assert_eq!(s(&approval["approvers"][0]["name"]), "breakglass@contoso.example");
    // A hook on another role is not named.
    let r = who(&lab, &["Security Reader", "--could"]);
    assert!(!r.to_string().contains("weekend-freeze"));
}

#[test]
fn an_azure_eligibility_at_a_subscription_is_inherited_at_its_resource_groups_only() {
    let lab = org();
    let sub = "/subscriptions/8a1f3c52-6d0e-4b7a-9c21-5e4d3f2a1b00";
    let r = who(&lab, &["Owner", "--scope", "rg-prod-app", "--could"]);
    assert_eq!(
        rows(&r, "holders", "principal"),
        vec![row("isla", "eligible", &format!("eligibility inherited from {sub}"))]
    );
    assert_eq!(s(&r["scope"]), format!("{sub}/resourceGroups/rg-prod-app"));
    let r = who(&lab, &["Owner", "--scope", "Contoso Production", "--could"]);
    assert_eq!(rows(&r, "holders", "principal"), vec![row("isla", "eligible", "eligibility")]);
    // Not at a sibling subscription, not without --could (she is only eligible).
    assert_eq!(
        rows(&who(&lab, &["Owner", "--scope", "rg-dev-app", "--could"]), "holders", "principal"),
        vec![]
    );
    assert_eq!(rows(&who(&lab, &["Owner", "--scope", "rg-prod-app"]), "holders", "principal"), vec![]);
}

#[test]
fn a_directory_role_held_tenant_wide_is_held_at_an_administrative_unit_too() {
    let lab = org();
    let r = who(&lab, &["User Administrator", "--scope", "Europe", "--could"]);
    assert_eq!(rows(&r, "holders", "principal"), vec![row("farid", "eligible", "eligibility")]);
    lab.run(&["eligible", "assign", "-p", "hugo", "-r", "User Administrator", "--permanent", "-j", "all"])
        .ok();
    let r = who(&lab, &["User Administrator", "--scope", "Europe", "--could"]);
    assert_eq!(
        rows(&r, "holders", "principal"),
        vec![
            row("farid", "eligible", "eligibility"),
            row("hugo", "eligible", "eligibility inherited from /")
        ]
    );
    // Asked at the tenant scope, the unit's eligibility does not count.
    let r = who(&lab, &["User Administrator", "--scope", "/", "--could"]);
    assert_eq!(rows(&r, "holders", "principal"), vec![row("hugo", "eligible", "eligibility")]);
}

#[test]
fn a_past_time_reads_history_with_the_window_a_removal_cut_short() {
    let lab = org();
    lab.run(&["clock", "advance", "1h"]).ok();
    lab.run(&["eligible", "remove", "-p", "chloe", "-r", "Security Administrator", "-j", "left"]).ok();
    lab.run(&["clock", "advance", "1d"]).ok();
    let now = who(&lab, &["Security Administrator", "--could"]);
    assert_eq!(rows(&now, "holders", "principal"), vec![]);
    let then = who(&lab, &["Security Administrator", "--could", "--at", "2025-01-06T09:30:00Z"]);
    assert_eq!(then["when"], "past");
    assert_eq!(rows(&then, "holders", "principal"), vec![row("chloe", "eligible", "eligibility")]);
    assert_eq!(then["holders"][0]["window"]["end"], "2025-01-06T10:00:00Z", "ended by the removal");
    // After the removal, nobody (the same history, one hour later).
    let after = who(&lab, &["Security Administrator", "--could", "--at", "2025-01-06T10:00:00Z"]);
    assert_eq!(rows(&after, "holders", "principal"), vec![]);
}

#[test]
fn a_future_time_uses_the_schedules_already_made() {
    let lab = org();
    let r = who(&lab, &["Security Administrator", "--could", "--at", "2025-02-10T00:00:00Z"]);
    assert_eq!(r["when"], "future");
    assert_eq!(
        rows(&r, "holders", "principal"),
        vec![row("chloe", "eligible", "eligibility"), row("grace", "eligible", "eligibility")]
    );
    assert_eq!(r["holders"][1]["window"]["start"], "2025-02-01T00:00:00Z");
    // After grace's 30 days and chloe's 90, nobody; lena's 30-day membership is over by March.
    let r = who(&lab, &["Security Administrator", "--could", "--at", "2025-06-01T00:00:00Z"]);
    assert_eq!(rows(&r, "holders", "principal"), vec![]);
    let r = who(&lab, &["Security Reader", "--at", "2025-03-01T00:00:00Z"]);
    assert_eq!(rows(&r, "holders", "principal"), vec![row("chloe", "active", "assignment")]);
}

#[test]
fn access_shows_the_same_chains_from_the_principal_side() {
    let lab = org();
    let r = lab.run(&["--json", "access", "ben"]).ok().json();
    assert_eq!(
        rows(&r, "holdings", "role"),
        vec![
            row("Helpdesk Administrator", "eligible", "direct of Helpdesk Tier 1 -> eligibility"),
            row("Security Reader", "eligible", "pimEligible of Security Desk -> assignment"),
        ]
    );
    let r = lab.run(&["--json", "access", "isla"]).ok().json();
    assert_eq!(
        rows(&r, "holdings", "role"),
        vec![
            row("Conditional Access Administrator", "eligible", "eligibility"),
            row("Owner", "eligible", "eligibility")
        ]
    );
    // In the future, grace's eligibility is there; today it is not.
    let now = lab.run(&["--json", "access", "grace"]).ok().json();
    assert_eq!(
        rows(&now, "holdings", "role"),
        vec![row("Exchange Administrator", "eligible", "eligibility")]
    );
    let later = lab.run(&["--json", "access", "grace", "--at", "2025-02-02T00:00:00Z"]).ok().json();
    assert_eq!(rows(&later, "holdings", "role").len(), 2);
}

#[test]
fn unknown_roles_principals_and_scopes_are_refused_by_name() {
    let lab = org();
    lab.fails_unchanged(&["who", "Chief Everything Officer"]).err_has("Chief Everything Officer");
    lab.fails_unchanged(&["access", "nobody-here"]).err_has("nobody-here");
    lab.fails_unchanged(&["who", "Owner"]).err_has("'Owner' is an Azure role: give --scope");
    lab.fails_unchanged(&["who", "Owner", "--scope", "/subscriptions/00000000-0000-0000-0000-000000000000"])
        .err_has("00000000-0000-0000-0000-000000000000");
    lab.run(&["who", "Owner", "--at", "yesterday"]).usage();
}

#[test]
fn who_and_access_read_as_tables() {
    let lab = org();
    let text = [
        lab.run(&["who", "Security Reader", "--could"]).ok().stdout,
        lab.run(&["who", "Owner", "--scope", "rg-prod-app", "--could"]).ok().stdout,
        lab.run(&["who", "Security Administrator", "--could", "--at", "2025-02-10T00:00:00Z"]).ok().stdout,
        lab.run(&["who", "Owner", "--scope", "rg-dev-app"]).ok().stdout,
        lab.run(&["access", "ben"]).ok().stdout,
    ]
    .join("\n");
    insta::assert_snapshot!(text);
}

#[test]
fn who_and_access_as_json() {
    let lab = org();
    insta::assert_json_snapshot!("who_could_security_reader", who(&lab, &["Security Reader", "--could"]));
    insta::assert_json_snapshot!("access_ben", lab.run(&["--json", "access", "ben"]).ok().json());
}

// ---------------------------------------------------------------------------------------------
// The generator: `who --could` at any time agrees with the windows the schedules were made with
// ---------------------------------------------------------------------------------------------

mod windows {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use pimlab::engine::{Engine, InitOptions, Session};
    use pimlab::model::{Action, Expiration, IsoDuration, NewRequest, RequestKind, ScheduleInfo, Surface};
    use pimlab::report::{Place, WhoQuery};

    const ROLE: &str = "Teams Administrator";
    const USERS: [&str; 4] = ["ben", "chloe", "hugo", "isla"];

    /// One schedule to make: who, eligible or active, starting `start` hours after the clock, for
    /// `hours` hours.
    fn plan() -> impl Strategy<Value = Vec<(usize, bool, i64, i64)>> {
        prop::collection::vec((0..USERS.len(), any::<bool>(), 0i64..100, 6i64..200), 1..6)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        /// Schedules made (some refused, as overlapping ones are), the clock moved on (some start,
        /// some expire), then asked about times past, present and future: the holders are exactly
        /// those whose window covers the time, active or eligible as made.
        #[test]
        fn who_could_at_any_time_is_the_schedules_whose_window_covers_it(
            plan in plan(),
            moved in 0i64..150,
            asked in prop::collection::vec(0i64..320, 1..5),
        ) {
            let mut engine = Engine::in_memory().expect("in-memory store");
            let summary = engine.init(&InitOptions { demo: true, ..InitOptions::default() }).expect("init --demo");
            let admin = Session::new(summary.break_glass_id);
            let role = engine.role(ROLE).expect("the role").id;
            let t0 = engine.now().expect("clock");
            let hours = |h: i64| IsoDuration::from_hours(h).as_delta();
            let mut made = Vec::new();
            for (user, eligible, start, lasting) in plan {
                let principal = engine.resolve_object(USERS[user]).expect("a demo user");
                let kind = if eligible { RequestKind::Eligibility } else { RequestKind::Assignment };
                let req = NewRequest {
                    surface: Surface::Directory,
                    kind,
                    action: Action::AdminAssign,
                    principal_id: principal.id,
                    role_definition_id: role.clone(),
                    directory_scope_id: Some("/".into()),
                    app_scope_id: None,
                    justification: Some("generated".into()),
                    schedule_info: Some(ScheduleInfo {
                        start: Some(t0 + hours(start)),
                        expiration: Expiration::after(IsoDuration::from_hours(lasting)),
                    }),
                    ticket_info: None,
                    is_validation_only: false,
                };
                if engine.submit(&admin, &req).is_ok() {
                    let name = principal.user_principal_name.unwrap_or_default();
                    made.push((name, eligible, t0 + hours(start), t0 + hours(start + lasting)));
                }
            }
            prop_assert!(!made.is_empty(), "the first schedule made is never refused");
            engine.advance_by(&admin, IsoDuration::from_hours(moved)).expect("the clock moves");
            for at in asked {
                let at = t0 + hours(at);
                let q = WhoQuery { role: ROLE.into(), place: Place::Directory(Some("/".into())), at: Some(at), could: true };
                let report = pimlab::report::who(&mut engine, &q).expect("who");
                let got: BTreeSet<(String, String)> = report
                    .holders
                    .iter()
                    .map(|h| (h.principal.name.clone(), format!("{:?}", h.holds)))
                    .collect();
                let expected: BTreeSet<(String, String)> = made
                    .iter()
                    .filter(|(_, _, start, end)| *start <= at && at < *end)
                    .map(|(name, eligible, _, _)| {
                        (name.clone(), if *eligible { "Eligible" } else { "Active" }.to_string())
                    })
                    .collect();
                prop_assert_eq!(got, expected, "at {} (clock moved {}h)", at, moved);
            }
        }
    }
}
