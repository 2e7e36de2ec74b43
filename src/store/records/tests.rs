//! Tests of the request, schedule and audit rows: decision traces and audit targets packed and
//! read back as they were written, the audit dictionary's growth, and audit queries' filters.

use super::*;
use crate::store::Store;
use proptest::prelude::*;

fn target(id: &str, kind: &str, name: Option<&str>) -> AuditTarget {
    AuditTarget { id: id.into(), kind: kind.into(), display_name: name.map(Into::into) }
}

fn row(targets: Vec<AuditTarget>) -> AuditRecord {
    AuditRecord {
        seq: 0,
        at: Timestamp::default(),
        actor_id: "system".into(),
        activity: "Add member to role".into(),
        category: "RoleManagement".into(),
        result: "success".into(),
        reason: None,
        request_id: None,
        targets,
    }
}

/// The whole audit trail, as the store reads it.
fn every_audit_record(tx: &Tx<'_>) -> rusqlite::Result<Vec<AuditRecord>> {
    tx.audit_where(None, &mut |_| true)
}

fn targets_read_back(store: &mut Store) -> Vec<Vec<AuditTarget>> {
    let tx = store.read().unwrap();
    every_audit_record(&tx).unwrap().into_iter().map(|a| a.targets).collect()
}

#[test]
fn an_audit_target_renamed_or_retyped_is_written_as_it_is_now() {
    let mut store = Store::open_in_memory().unwrap();
    let written = vec![
        vec![target("u1", "User", Some("Ada")), target("r1", "Role", Some("Helpdesk Administrator"))],
        vec![target("u1", "User", Some("Ada")), target("r1", "Role", Some("Helpdesk Administrator"))],
        vec![target("u1", "User", Some("Ada Lovelace"))],
        vec![target("u1", "User", None), target("u1", "Group", Some("Ada Lovelace"))],
        vec![target("u1", "User", Some("Ada"))],
    ];
    let tx = store.write().unwrap();
    for targets in &written {
        tx.insert_audit(&row(targets.clone())).unwrap();
    }
    tx.commit().unwrap();
    assert_eq!(targets_read_back(&mut store), written);
}

/// `audit --principal` on a year's store read all nine million records into memory (8.5 GB)
/// and filtered them afterwards; the filter now decides as each is read, and sees every one.
#[test]
fn an_audit_query_keeps_only_what_its_filter_keeps_and_offers_it_every_record() {
    let mut store = Store::open_in_memory().unwrap();
    let tx = store.write().unwrap();
    for i in 0..10 {
        tx.insert_audit(&row(vec![target(&format!("u{i}"), "User", None)])).unwrap();
    }
    tx.commit().unwrap();
    let tx = store.read().unwrap();
    let mut offered = 0;
    let kept = tx
        .audit_where(None, &mut |a| {
            offered += 1;
            a.targets[0].id.ends_with(['3', '7'])
        })
        .unwrap();
    assert_eq!(offered, 10);
    let ids: Vec<&str> = kept.iter().map(|a| a.targets[0].id.as_str()).collect();
    assert_eq!(ids, ["u3", "u7"]);
}

fn audit_words_kept(store: &mut Store) -> i64 {
    store.read().unwrap().tx.query_row("SELECT count(*) FROM audit_texts", [], |r| r.get(0)).unwrap()
}

#[test]
fn a_purge_naming_a_thousand_requests_adds_one_word_not_a_thousand() {
    let mut store = Store::open_in_memory().unwrap();
    let purged: Vec<AuditTarget> =
        (0..1000).map(|n| target(&format!("abcdef00-0000-0000-0002-{n:012x}"), "Request", None)).collect();
    let before = audit_words_kept(&mut store);
    let tx = store.write().unwrap();
    tx.insert_audit(&row(purged.clone())).unwrap();
    tx.commit().unwrap();
    // The row's actor, activity and category, and the targets' type.
    assert_eq!(audit_words_kept(&mut store) - before, 4);
    assert_eq!(targets_read_back(&mut store), [purged]);
}

#[test]
fn an_audit_row_whose_inline_target_is_cut_short_reads_as_damaged() {
    let mut store = Store::open_in_memory().unwrap();
    let tx = store.write().unwrap();
    tx.insert_audit(&row(vec![target("abcdef00-0000-0000-0002-000000000001", "Request", None)])).unwrap();
    tx.tx.execute("UPDATE audit SET targets = substr(targets, 1, length(targets) - 1)", []).unwrap();
    let err = every_audit_record(&tx).unwrap_err().to_string();
    assert!(err.contains("an audit row's targets"), "{err}");
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config::with_cases(64))]

    /// The generator for the packed targets: any mix of ids (GUIDs or not, upper-case ones
    /// among them), types and display names reads back as it was written, in a fresh store
    /// and again after the words are remembered.
    #[test]
    fn audit_targets_read_back_as_written(
        rows in proptest::collection::vec(proptest::collection::vec((
            proptest::prop_oneof![
                (0..4u8).prop_map(|n| format!("0000abcd-0000-0000-0002-00000000000{n}")),
                Just("0000000A-0000-0000-0002-000000000001".to_string()),
                Just("member".to_string()),
                Just("/".to_string()),
                Just(String::new()),
            ],
            proptest::prop_oneof![Just("Request"), Just("User"), Just("Role"), Just("")],
            proptest::option::of(proptest::prop_oneof![Just("Ada"), Just(""), Just("Ré \"x\"")]),
        ), 0..5), 1..6)
    ) {
        let written: Vec<Vec<AuditTarget>> = rows
            .iter()
            .map(|r| r.iter().map(|(id, kind, name)| target(id, kind, *name)).collect())
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("targets.db");
        let mut store = Store::open(&path).unwrap();
        let tx = store.write().unwrap();
        for targets in &written {
            tx.insert_audit(&row(targets.clone())).unwrap();
        }
        tx.commit().unwrap();
        prop_assert_eq!(&targets_read_back(&mut store), &written);
        drop(store);
        prop_assert_eq!(&targets_read_back(&mut Store::open(&path).unwrap()), &written);
    }
}

const PRINCIPALS: [&str; 2] =
    ["00000000-0000-0000-0000-0000000000a1", "00000000-0000-0000-0000-0000000000a2"];
const ROLES: [&str; 2] = ["62e90394-69f5-4237-9190-012177145e10", "fe930be7-5e62-47db-91af-98c3a49a38b1"];
const STATUSES: [Status; 4] =
    [Status::PendingApproval, Status::Provisioned, Status::PendingAdminDecision, Status::Denied];

fn request(n: usize, principal: usize, role: usize, status: Status) -> ScheduleRequest {
    let id = format!("00000000-0000-0000-0002-{n:012}");
    let at = crate::model::time::from_millis(1_767_600_000_000 + n as i64);
    crate::model::request::sample::request(&id, PRINCIPALS[principal], ROLES[role], status, at)
}

/// The ids of the requests waiting for each target, as `tx` gives them.
fn every_pending(tx: &Tx<'_>) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for p in PRINCIPALS {
        for r in ROLES {
            let pending = tx.pending_requests_for(RequestKind::Assignment, p, r, "/").unwrap();
            out.push(pending.into_iter().map(|q| q.id).collect());
        }
    }
    out
}

#[test]
fn a_target_known_to_have_no_waiting_request_sees_one_written_at_once() {
    let mut store = Store::open_in_memory().unwrap();
    assert!(every_pending(&store.read().unwrap()).iter().all(Vec::is_empty), "none, remembered");
    let mut waiting = request(1, 0, 1, Status::PendingApproval);
    let tx = store.write().unwrap();
    tx.insert_request(&waiting).unwrap();
    assert_eq!(every_pending(&tx)[1], [waiting.id.clone()], "seen in the same transaction");
    tx.commit().unwrap();
    let others = every_pending(&store.read().unwrap());
    assert!(others[0].is_empty() && others[2].is_empty() && others[3].is_empty());
    waiting.status = Status::Provisioned;
    let tx = store.write().unwrap();
    tx.update_request(&waiting).unwrap();
    tx.commit().unwrap();
    assert!(every_pending(&store.read().unwrap())[1].is_empty(), "decided, it waits no more");
}

/// A step of the waiting-requests generator: a request written (new, or an earlier one's
/// status changed), alone or in a savepoint rolled back.
#[derive(Debug, Clone)]
enum Step {
    New { principal: usize, role: usize, status: usize },
    Status { which: usize, status: usize },
    RolledBack { principal: usize, role: usize },
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config::with_cases(48))]

    /// The generator for a stale "none waiting": whatever requests are written, the store's
    /// answer is the one a connection that remembers nothing gives.
    #[test]
    fn waiting_requests_are_what_a_fresh_connection_reads(
        steps in proptest::collection::vec(proptest::prop_oneof![
            3 => (0..2usize, 0..2usize, 0..4usize)
                .prop_map(|(principal, role, status)| Step::New { principal, role, status }),
            3 => (0..8usize, 0..4usize).prop_map(|(which, status)| Step::Status { which, status }),
            1 => (0..2usize, 0..2usize).prop_map(|(principal, role)| Step::RolledBack { principal, role }),
        ], 1..14)
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pending.db");
        let mut ours = Store::open(&path).unwrap();
        let mut written: Vec<ScheduleRequest> = Vec::new();
        for (n, step) in steps.iter().enumerate() {
            every_pending(&ours.read().unwrap());
            match *step {
                Step::New { principal, role, status } => {
                    let q = request(n, principal, role, STATUSES[status]);
                    let tx = ours.write().unwrap();
                    tx.insert_request(&q).unwrap();
                    tx.commit().unwrap();
                    written.push(q);
                }
                Step::Status { which, status } if !written.is_empty() => {
                    let i = which % written.len();
                    written[i].status = STATUSES[status];
                    let tx = ours.write().unwrap();
                    tx.update_request(&written[i]).unwrap();
                    tx.commit().unwrap();
                }
                Step::Status { .. } => {}
                Step::RolledBack { principal, role } => {
                    ours.begin_batch(crate::store::Batch::Savepoints).unwrap();
                    {
                        let tx = ours.write().unwrap();
                        tx.insert_request(&request(n, principal, role, Status::PendingApproval)).unwrap();
                        every_pending(&tx);
                    }
                    ours.end_batch(true).unwrap();
                }
            }
            let remembered = every_pending(&ours.read().unwrap());
            let fresh = every_pending(&Store::open(&path).unwrap().read().unwrap());
            prop_assert_eq!(remembered, fresh, "after step {} ({:?})", n, step);
        }
    }
}

#[test]
fn an_audit_target_first_written_in_a_rolled_back_transaction_is_written_again() {
    let mut store = Store::open_in_memory().unwrap();
    {
        let tx = store.write().unwrap();
        tx.insert_audit(&row(vec![target("u1", "User", Some("Ada"))])).unwrap();
        // Dropped without commit: the row and its dictionary word are rolled back.
    }
    let tx = store.write().unwrap();
    // Takes the number the lost word had: a remembered target would now name this.
    tx.word_id(Dictionary::Audit, "an unrelated word").unwrap();
    tx.insert_audit(&row(vec![target("u1", "User", Some("Ada"))])).unwrap();
    tx.commit().unwrap();
    assert_eq!(targets_read_back(&mut store), vec![vec![target("u1", "User", Some("Ada"))]]);
}
