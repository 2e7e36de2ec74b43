//! A generator for PIM for Groups: random sequences of requests and clock moves against one group,
//! checking after every step that the group's members and owners are exactly who holds a
//! membership or ownership in effect (plus those added outside PIM), that nothing answers 5xx, and
//! that a refused request changes nothing.

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::harness::graph::{Lab, after, session};

const BASE: &str = "/v1.0/identityGovernance/privilegedAccess/group";

#[derive(Debug, Clone)]
enum Step {
    /// An administrator's request (`adminAssign`, `adminRemove`) for user `who`.
    Admin {
        eligible: bool,
        action: &'static str,
        who: usize,
        owner: bool,
        duration: &'static str,
    },
    /// The user's own request (`selfActivate`, `selfDeactivate`).
    Own {
        action: &'static str,
        who: usize,
        owner: bool,
        duration: &'static str,
    },
    Advance(&'static str),
}

fn step() -> impl Strategy<Value = Step> {
    let who = 0usize..3;
    let duration = prop_oneof![Just("PT1H"), Just("PT8H"), Just("P1D"), Just("P30D"), Just("P400D")];
    prop_oneof![
        (
            any::<bool>(),
            prop_oneof![Just("adminAssign"), Just("adminRemove")],
            who.clone(),
            any::<bool>(),
            duration.clone()
        )
            .prop_map(|(eligible, action, who, owner, duration)| Step::Admin {
                eligible,
                action,
                who,
                owner,
                duration
            }),
        (prop_oneof![Just("selfActivate"), Just("selfDeactivate")], who, any::<bool>(), duration)
            .prop_map(|(action, who, owner, duration)| Step::Own { action, who, owner, duration }),
        prop_oneof![Just("PT10M"), Just("PT2H"), Just("P2D")].prop_map(Step::Advance),
    ]
}

fn body(action: &str, principal: &str, group: &str, owner: bool, duration: &str) -> Value {
    json!({
        "action": action, "principalId": principal, "groupId": group,
        "accessId": if owner { "owner" } else { "member" },
        "justification": "generated", "scheduleInfo": {"expiration": after(duration)},
    })
}

/// Who holds `access` of `group` now, as the assignment instances say.
fn holders(lab: &mut Lab, group: &str, access: &str) -> Vec<String> {
    let path = format!("{BASE}/assignmentScheduleInstances?$filter=groupId eq '{group}'");
    let mut ids: Vec<String> = lab
        .list(&path)
        .iter()
        .filter(|i| i["accessId"] == access)
        .map(|i| i["principalId"].as_str().unwrap_or_default().to_string())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

fn listed(lab: &mut Lab, group: &str, relation: &str) -> Vec<String> {
    let mut ids: Vec<String> = lab
        .list(&format!("/v1.0/groups/{group}/{relation}"))
        .iter()
        .map(|m| m["id"].as_str().unwrap_or_default().to_string())
        .collect();
    ids.sort();
    ids
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
    #[test]
    fn group_membership_is_exactly_what_is_in_effect(steps in proptest::collection::vec(step(), 1..14)) {
        let mut lab = Lab::demo_on_file();
        let group = lab.group("Generated Ops", false);
        let users: Vec<String> = ["ben", "chloe", "dev"].iter().map(|u| lab.user_id(u)).collect();
        let admin = lab.admin.clone();
        for step in steps {
            let (who, path, body) = match &step {
                Step::Advance(d) => {
                    lab.advance(d);
                    (None, String::new(), Value::Null)
                }
                Step::Admin { eligible, action, who, owner, duration } => {
                    let c = if *eligible { "eligibilityScheduleRequests" } else { "assignmentScheduleRequests" };
                    (Some(admin.clone()), format!("{BASE}/{c}"), body(action, &users[*who], &group, *owner, duration))
                }
                Step::Own { action, who, owner, duration } => (
                    Some(session(&users[*who])),
                    format!("{BASE}/assignmentScheduleRequests"),
                    body(action, &users[*who], &group, *owner, duration),
                ),
            };
            if let Some(who) = who {
                let before = lab.dump();
                let (status, answer) = lab.send(&who, "POST", &path, &body);
                prop_assert!(status < 500, "{step:?}: {status} {answer:#}");
                if status >= 400 {
                    prop_assert!(answer["error"]["code"].is_string(), "{answer:#}");
                    prop_assert_eq!(lab.dump(), before, "a refused {:?} changed the store", step);
                }
            }
            for (access, relation) in [("member", "members"), ("owner", "owners")] {
                let held = holders(&mut lab, &group, access);
                let shown = listed(&mut lab, &group, relation);
                prop_assert_eq!(&held, &shown, "after {:?}: {} in effect vs listed", step, access);
            }
        }
    }
}
