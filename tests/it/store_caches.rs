//! The store remembers policies, roles and directory objects between transactions
//! (`src/store/cache.rs`). A long-lived process (the REPL, a scenario, a server) must still see
//! what another process commits to the same file, and never what was rolled back.

use pimlab::engine::{Engine, NewObject, NewRole};
use pimlab::model::PrincipalKind;
use pimlab::model::policy::PolicyRule;
use serde_json::json;

use crate::harness::HELPDESK_ADMIN;
use crate::harness::store::FileTenant;

fn maximum_activation(e: &mut Engine) -> String {
    let policy = e.policy_for_role(HELPDESK_ADMIN).expect("policy");
    match policy.rule("Expiration_EndUser_Assignment") {
        Some(PolicyRule::Expiration(r)) => r.maximum_duration.to_string(),
        other => panic!("unexpected rule {other:?}"),
    }
}

#[test]
fn a_long_lived_engine_sees_a_rule_another_process_changed() {
    let mut t = FileTenant::demo();
    assert_eq!(maximum_activation(&mut t.engine), "PT8H");

    let mut other = Engine::open(&t.db).expect("second connection");
    let policy = other.policy_for_role(HELPDESK_ADMIN).expect("policy");
    other
        .update_rule(
            &t.admin,
            &policy.id,
            "Expiration_EndUser_Assignment",
            &json!({"maximumDuration": "PT2H"}),
        )
        .expect("rule changed by the other process");

    assert_eq!(maximum_activation(&mut t.engine), "PT2H");
}

#[test]
fn a_long_lived_engine_sees_a_role_and_a_user_another_process_added() {
    let mut t = FileTenant::demo();
    assert!(t.engine.resolve_role("Desk Auditor").is_err(), "no such role yet");

    let mut other = Engine::open(&t.db).expect("second connection");
    let new_role = NewRole {
        display_name: "Desk Auditor".into(),
        description: None,
        allowed_resource_actions: ["microsoft.directory/users/standard/read".to_string()].into(),
        is_enabled: true,
        template_id: None,
    };
    let role = other.create_role(&t.admin, new_role).expect("custom role");
    let user = NewObject {
        kind: Some(PrincipalKind::User),
        display_name: "Late Joiner".into(),
        user_principal_name: Some("late@contoso.example".into()),
        ..Default::default()
    };
    let user = other.create_object(&t.admin, user).expect("user");

    assert_eq!(t.engine.resolve_role("desk auditor").expect("role seen").id, role.id);
    assert_eq!(t.engine.resolve_object(&user.id).expect("user seen").display_name, "Late Joiner");
}

#[test]
fn a_refused_rule_change_leaves_the_rule_as_it_was_for_the_same_engine() {
    let mut t = FileTenant::demo();
    let policy = t.engine.policy_for_role(HELPDESK_ADMIN).expect("policy");
    // The first patch is valid and written before the second is checked and refused: neither
    // may stay, in the file or in what the engine remembers.
    let refused = t.engine.update_rules(
        &t.admin,
        &policy.id,
        &[
            ("Expiration_EndUser_Assignment".into(), json!({"maximumDuration": "PT3H"})),
            ("Enablement_EndUser_Assignment".into(), json!({"target": {"operations": ["bogus"]}})),
        ],
    );
    assert!(refused.is_err());
    assert_eq!(maximum_activation(&mut t.engine), "PT8H");
    let mut fresh = Engine::open(&t.db).expect("second connection");
    assert_eq!(maximum_activation(&mut fresh), "PT8H");
}
