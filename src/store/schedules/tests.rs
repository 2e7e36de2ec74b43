//! The schedules' statements, and what the store remembers of live schedules: each cache
//! against its writes, and a generator of write sequences against a connection that remembers
//! nothing.

use super::*;
use crate::model::IsoDuration;
use crate::model::{AssignmentType, Expiration, ExpirationType, MemberType, ScheduleInfo, Surface};
use crate::store::{Batch, Store};

const PRINCIPAL: &str = "00000000-0000-0000-0000-0000000000a1";
const ROLE: &str = "62e90394-69f5-4237-9190-012177145e10";

fn schedule(id: &str, kind: RequestKind) -> Schedule {
    let start = from_millis(1_767_600_000_000);
    Schedule {
        id: id.into(),
        surface: Surface::Directory,
        kind,
        principal_id: PRINCIPAL.into(),
        role_definition_id: ROLE.into(),
        directory_scope_id: Some("/".into()),
        app_scope_id: None,
        member_type: MemberType::Direct,
        assignment_type: (kind == RequestKind::Assignment).then_some(AssignmentType::Activated),
        status: Status::Provisioned,
        state: ScheduleState::Live,
        created_using: None,
        created_at: Some(start),
        modified_at: None,
        schedule_info: ScheduleInfo {
            start: Some(start),
            expiration: Expiration { kind: ExpirationType::NoExpiration, end: None, duration: None },
        },
        end_at: None,
        activated_using: None,
        instance_id: format!("{id}-instance"),
        ended_at: None,
        replaces: None,
        warn_14_at: None,
        warn_1_at: None,
    }
}

fn live_eligibilities(tx: &Tx<'_>) -> Vec<String> {
    let live = tx.schedules_of(RequestKind::Eligibility, PRINCIPAL, ROLE, ScheduleState::Live).unwrap();
    live.into_iter().map(|s| s.id).collect()
}

fn remembered(store: &mut Store) -> usize {
    store.read().unwrap().caches().unwrap().eligibilities.len()
}

#[test]
fn a_remembered_eligibility_changes_with_every_write_of_an_eligibility() {
    let mut store = Store::open_in_memory().unwrap();
    assert!(live_eligibilities(&store.read().unwrap()).is_empty(), "none yet, and that is remembered");
    let e = schedule("00000000-0000-0000-0000-0000000000e1", RequestKind::Eligibility);
    let tx = store.write().unwrap();
    tx.insert_schedule(&e).unwrap();
    assert_eq!(live_eligibilities(&tx), [e.id.as_str()], "a new eligibility is seen at once");
    tx.commit().unwrap();
    assert_eq!(live_eligibilities(&store.read().unwrap()), [e.id.as_str()]);
    let tx = store.write().unwrap();
    tx.set_schedule_state(&e, e.status, ScheduleState::Expired, Some(e.start()), None).unwrap();
    assert!(live_eligibilities(&tx).is_empty(), "an expired eligibility is not live");
    tx.commit().unwrap();
    assert!(live_eligibilities(&store.read().unwrap()).is_empty());
}

#[test]
fn an_activation_and_its_expiry_keep_the_remembered_eligibilities() {
    let mut store = Store::open_in_memory().unwrap();
    let e = schedule("00000000-0000-0000-0000-0000000000e2", RequestKind::Eligibility);
    let tx = store.write().unwrap();
    tx.insert_schedule(&e).unwrap();
    tx.commit().unwrap();
    assert_eq!(live_eligibilities(&store.read().unwrap()), [e.id.as_str()]);
    assert_eq!(remembered(&mut store), 1);
    let a = schedule("00000000-0000-0000-0000-0000000000a2", RequestKind::Assignment);
    let tx = store.write().unwrap();
    tx.insert_schedule(&a).unwrap();
    tx.set_schedule_state(&a, a.status, ScheduleState::Expired, Some(a.start()), None).unwrap();
    tx.commit().unwrap();
    assert_eq!(remembered(&mut store), 1, "assignments are no eligibility's business");
    assert_eq!(live_eligibilities(&store.read().unwrap()), [e.id.as_str()]);
}

#[test]
fn an_eligibility_another_connection_adds_is_read_afresh() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("eligibilities.db");
    let mut ours = Store::open(&path).unwrap();
    assert!(live_eligibilities(&ours.read().unwrap()).is_empty());
    let mut theirs = Store::open(&path).unwrap();
    let tx = theirs.write().unwrap();
    tx.insert_schedule(&schedule("00000000-0000-0000-0000-0000000000e4", RequestKind::Eligibility)).unwrap();
    tx.commit().unwrap();
    assert_eq!(live_eligibilities(&ours.read().unwrap()).len(), 1);
}

fn directory_roles(tx: &Tx<'_>, principal: &str) -> Vec<(RequestKind, String)> {
    tx.live_directory_roles_of(principal).unwrap()
}

#[test]
fn a_principal_s_remembered_directory_roles_follow_its_directory_schedules() {
    let mut store = Store::open_in_memory().unwrap();
    assert!(directory_roles(&store.read().unwrap(), PRINCIPAL).is_empty(), "none yet, remembered");
    let a = schedule("00000000-0000-0000-0000-0000000000b1", RequestKind::Assignment);
    let tx = store.write().unwrap();
    tx.insert_schedule(&a).unwrap();
    assert_eq!(directory_roles(&tx, PRINCIPAL), [(RequestKind::Assignment, ROLE.to_string())]);
    tx.commit().unwrap();
    // Asked in upper case, it is the same principal and the same entry.
    assert_eq!(
        directory_roles(&store.read().unwrap(), &PRINCIPAL.to_ascii_uppercase()),
        [(RequestKind::Assignment, ROLE.to_string())]
    );
    // The schedule named in upper case, its expiry still drops the entry.
    let shouted = Schedule { principal_id: PRINCIPAL.to_ascii_uppercase(), ..a.clone() };
    let tx = store.write().unwrap();
    tx.set_schedule_state(&shouted, a.status, ScheduleState::Expired, Some(a.start()), None).unwrap();
    tx.commit().unwrap();
    assert!(
        directory_roles(&store.read().unwrap(), PRINCIPAL).is_empty(),
        "an expired assignment holds nothing"
    );
}

#[test]
fn a_group_membership_schedule_keeps_the_remembered_directory_roles() {
    let mut store = Store::open_in_memory().unwrap();
    let e = schedule("00000000-0000-0000-0000-0000000000b2", RequestKind::Eligibility);
    let tx = store.write().unwrap();
    tx.insert_schedule(&e).unwrap();
    tx.commit().unwrap();
    assert_eq!(
        directory_roles(&store.read().unwrap(), PRINCIPAL),
        [(RequestKind::Eligibility, ROLE.to_string())]
    );
    let membership = Schedule {
        surface: Surface::Group,
        role_definition_id: "member".into(),
        directory_scope_id: Some("00000000-0000-0000-0000-0000000000c1".into()),
        ..schedule("00000000-0000-0000-0000-0000000000b3", RequestKind::Assignment)
    };
    let tx = store.write().unwrap();
    tx.insert_schedule(&membership).unwrap();
    tx.commit().unwrap();
    assert_eq!(
        store.read().unwrap().caches().unwrap().directory_roles.len(),
        1,
        "a group's membership is not a directory role"
    );
    assert_eq!(
        directory_roles(&store.read().unwrap(), PRINCIPAL),
        [(RequestKind::Eligibility, ROLE.to_string())]
    );
}

fn holders(tx: &Tx<'_>, role: &str) -> Vec<String> {
    tx.active_principals_of_role(role, "/").unwrap().to_vec()
}

#[test]
fn a_role_s_remembered_holders_follow_its_assignments_alone() {
    let mut store = Store::open_in_memory().unwrap();
    assert!(holders(&store.read().unwrap(), ROLE).is_empty(), "none yet, remembered");
    let a = schedule("00000000-0000-0000-0000-0000000000d1", RequestKind::Assignment);
    let tx = store.write().unwrap();
    tx.insert_schedule(&a).unwrap();
    assert_eq!(holders(&tx, ROLE), [PRINCIPAL], "a new assignment is seen at once");
    tx.commit().unwrap();
    assert_eq!(holders(&store.read().unwrap(), ROLE), [PRINCIPAL]);
    // An eligibility of the role and an assignment of another role leave the entry be.
    let other_role = "fe930be7-5e62-47db-91af-98c3a49a38b1";
    let tx = store.write().unwrap();
    tx.insert_schedule(&schedule("00000000-0000-0000-0000-0000000000d2", RequestKind::Eligibility)).unwrap();
    tx.insert_schedule(&Schedule {
        role_definition_id: other_role.into(),
        ..schedule("00000000-0000-0000-0000-0000000000d3", RequestKind::Assignment)
    })
    .unwrap();
    tx.commit().unwrap();
    assert!(store.read().unwrap().caches().unwrap().role_holders.contains_key(ROLE));
    assert_eq!(holders(&store.read().unwrap(), other_role), [PRINCIPAL]);
    // The assignment expires, named in upper case: the role's entry goes all the same.
    let shouted = Schedule { role_definition_id: ROLE.to_ascii_uppercase(), ..a.clone() };
    let tx = store.write().unwrap();
    tx.set_schedule_state(&shouted, a.status, ScheduleState::Expired, Some(a.start()), None).unwrap();
    tx.commit().unwrap();
    assert!(holders(&store.read().unwrap(), ROLE).is_empty(), "an expired assignment holds nothing");
    assert_eq!(holders(&store.read().unwrap(), other_role), [PRINCIPAL]);
}

#[test]
fn a_rewind_drops_every_remembered_live_schedule_it_brings_back() {
    let mut store = Store::open_in_memory().unwrap();
    let mut a = schedule("00000000-0000-0000-0000-0000000000f1", RequestKind::Assignment);
    a.created_using = Some(a.id.clone());
    let mut e = schedule("00000000-0000-0000-0000-0000000000f2", RequestKind::Eligibility);
    e.created_using = Some(e.id.clone());
    let ended = from_millis(1_767_700_000_000);
    let tx = store.write().unwrap();
    for s in [&a, &e] {
        tx.insert_schedule(s).unwrap();
        tx.set_schedule_state(s, s.status, ScheduleState::Expired, Some(ended), None).unwrap();
    }
    tx.commit().unwrap();
    let remembered_now = |store: &mut Store| {
        let tx = store.read().unwrap();
        (live_eligibilities(&tx).len(), directory_roles(&tx, PRINCIPAL).len(), holders(&tx, ROLE).len())
    };
    assert_eq!(remembered_now(&mut store), (0, 0, 0), "both ended, and that is remembered");
    let tx = store.write().unwrap();
    let rewound = tx.rewind_requests(from_millis(1_767_650_000_000)).unwrap();
    tx.commit().unwrap();
    assert_eq!(rewound.schedules_restored, 2);
    assert_eq!(remembered_now(&mut store), (1, 2, 1), "what the rewind brought back is live again");
}

/// A step of the remembered-schedules generator: a schedule added (of a principal, a
/// directory role or a group's membership, either kind), one ended, a rewind to before the
/// `n`th step, or a schedule added in a savepoint rolled back.
#[derive(Debug, Clone)]
enum Step {
    Add {
        principal: usize,
        role: usize,
        eligibility: bool,
    },
    End(usize),
    /// A schedule granted for later starts: it stays live, provisioned now.
    Start(usize),
    Rewind(usize),
    RolledBack {
        principal: usize,
        role: usize,
        eligibility: bool,
    },
    /// The principal is made a direct member of the group, outside PIM.
    Member(usize),
    /// A schedule written again under its id: the statement fails, and the transaction commits.
    Again(usize),
    /// A schedule's expiry notice (of one day) is marked sent, as the clock does.
    Notice(usize),
    /// From now on every answer is also asked with the principals' ids in upper case: an entry
    /// under such a key must not keep a row that a write names by its own ids.
    AskInUpperCase,
}

const PRINCIPALS: [&str; 2] = [PRINCIPAL, "00000000-0000-0000-0000-0000000000a2"];
/// Two directory roles, and the membership of a group.
const ROLES: [&str; 3] = [ROLE, "fe930be7-5e62-47db-91af-98c3a49a38b1", "member"];
const GROUP: &str = "00000000-0000-0000-0000-0000000000c9";

fn at_step(n: usize) -> crate::model::Timestamp {
    from_millis(1_767_600_000_000 + 1_000 * n as i64)
}

fn made(n: usize, principal: usize, role: usize, eligibility: bool) -> Schedule {
    let kind = if eligibility { RequestKind::Eligibility } else { RequestKind::Assignment };
    let mut s = schedule(&format!("00000000-0000-0000-0001-{n:012}"), kind);
    s.principal_id = PRINCIPALS[principal].into();
    s.role_definition_id = ROLES[role].into();
    if ROLES[role] == "member" {
        s.surface = Surface::Group;
        s.directory_scope_id = Some(GROUP.into());
    }
    s.created_using = Some(s.id.clone());
    s.created_at = Some(at_step(n));
    // Finer than the millisecond the store keeps, and with an end and a duration, every other
    // step: what is remembered of a written row must be what a read of it gives.
    let start = at_step(n) + chrono::Duration::microseconds(if n % 2 == 0 { 0 } else { 1_234 });
    s.schedule_info.start = Some(start);
    if n % 3 == 1 {
        let end = start + chrono::Duration::hours(8);
        s.schedule_info.expiration = Expiration {
            kind: ExpirationType::AfterDuration,
            end: None,
            duration: IsoDuration::parse("PT8H").ok(),
        };
        s.end_at = Some(end);
        s.ended_at = Some(end);
        // Due at once, as an eight-hour activation's notice is: the clock marks it sent.
        s.warn_1_at = Some(start);
    }
    // Every fourth is granted, to start later (`Step::Start` provisions it).
    if n % 4 == 3 {
        s.status = Status::Granted;
    }
    s
}

/// Every answer the caches keep, as `tx` gives it; the live schedules asked for again with
/// the principals' ids in upper case when `upper`.
fn every_answer(tx: &Tx<'_>, upper: bool) -> Vec<String> {
    let mut out = Vec::new();
    for p in PRINCIPALS {
        out.push(format!("{:?}", tx.live_directory_roles_of(p).unwrap()));
        let asked = if upper { vec![p.to_string(), p.to_ascii_uppercase()] } else { vec![p.to_string()] };
        for r in ROLES {
            for p in &asked {
                // The live schedules whole: a row written through must read as a read gives it.
                for kind in [RequestKind::Eligibility, RequestKind::Assignment] {
                    out.push(format!("{:?}", tx.schedules_of(kind, p, r, ScheduleState::Live).unwrap()));
                }
            }
        }
        out.push(format!("holds the group: {}", tx.is_group_holder(GROUP, p, "member").unwrap()));
    }
    for r in ROLES {
        out.push(format!("{:?}", tx.active_principals_of_role(r, "/").unwrap()));
    }
    out
}

fn step() -> impl proptest::strategy::Strategy<Value = Step> {
    use proptest::prelude::*;
    prop_oneof![
        4 => (0..2usize, 0..3usize, any::<bool>())
            .prop_map(|(principal, role, eligibility)| Step::Add { principal, role, eligibility }),
        3 => (0..16usize).prop_map(Step::End),
        1 => (0..16usize).prop_map(Step::Start),
        1 => (0..16usize).prop_map(Step::Rewind),
        1 => (0..2usize, 0..3usize, any::<bool>())
            .prop_map(|(principal, role, eligibility)| Step::RolledBack { principal, role, eligibility }),
        1 => (0..2usize).prop_map(Step::Member),
        1 => (0..16usize).prop_map(Step::Again),
        2 => (0..16usize).prop_map(Step::Notice),
        1 => Just(Step::AskInUpperCase),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config::with_cases(48))]

    /// The generator for stale cache entries: whatever the store writes, what it remembers
    /// of its live schedules is what a connection that remembers nothing reads.
    #[test]
    fn remembered_live_schedules_are_what_a_fresh_connection_reads(
        steps in proptest::collection::vec(step(), 1..16)
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("remembered.db");
        let mut ours = Store::open(&path).unwrap();
        {
            // The principals and the group, for the memberships outside PIM.
            let tx = ours.write().unwrap();
            for (n, id) in PRINCIPALS.iter().chain([&GROUP]).enumerate() {
                let mut object = crate::store::tests::user(id);
                object.user_principal_name = Some(format!("user{n}@contoso.example"));
                tx.insert_object(&object).unwrap();
            }
            tx.commit().unwrap();
        }
        let mut added: Vec<Schedule> = Vec::new();
        let mut upper = false;
        for (n, step) in steps.iter().enumerate() {
            // Read everything first, so that the step has entries to drop.
            every_answer(&ours.read().unwrap(), upper);
            match *step {
                Step::Add { principal, role, eligibility } => {
                    let s = made(n, principal, role, eligibility);
                    let tx = ours.write().unwrap();
                    tx.insert_schedule(&s).unwrap();
                    tx.commit().unwrap();
                    added.push(s);
                }
                Step::End(i) if !added.is_empty() => {
                    let s = added[i % added.len()].clone();
                    let tx = ours.write().unwrap();
                    tx.set_schedule_state(&s, s.status, ScheduleState::Expired, Some(at_step(n)), None).unwrap();
                    tx.commit().unwrap();
                }
                Step::Start(i) if !added.is_empty() => {
                    let s = added[i % added.len()].clone();
                    let tx = ours.write().unwrap();
                    tx.set_schedule_state(&s, Status::Provisioned, ScheduleState::Live, None, Some(at_step(n))).unwrap();
                    tx.commit().unwrap();
                }
                Step::Again(i) if !added.is_empty() => {
                    let mut s = added[i % added.len()].clone();
                    s.state = ScheduleState::Live;
                    let tx = ours.write().unwrap();
                    every_answer(&tx, upper);
                    // (Unless a rewind took the row away: then it is written afresh.)
                    let _ = tx.insert_schedule(&s);
                    tx.commit().unwrap();
                }
                Step::Notice(i) if !added.is_empty() => {
                    let s = added[i % added.len()].clone();
                    let tx = ours.write().unwrap();
                    tx.clear_expiry_warning(&s, 1).unwrap();
                    tx.commit().unwrap();
                }
                Step::AskInUpperCase => upper = true,
                Step::End(_) | Step::Start(_) | Step::Again(_) | Step::Notice(_) => {}
                Step::Member(principal) => {
                    let tx = ours.write().unwrap();
                    tx.add_membership(GROUP, PRINCIPALS[principal], "member").unwrap();
                    tx.commit().unwrap();
                }
                Step::Rewind(to) => {
                    let tx = ours.write().unwrap();
                    tx.rewind_requests(at_step(to)).unwrap();
                    tx.commit().unwrap();
                }
                Step::RolledBack { principal, role, eligibility } => {
                    ours.begin_batch(Batch::Savepoints).unwrap();
                    {
                        let tx = ours.write().unwrap();
                        tx.insert_schedule(&made(n, principal, role, eligibility)).unwrap();
                        every_answer(&tx, upper);
                    }
                    ours.end_batch(true).unwrap();
                }
            }
            let remembered = every_answer(&ours.read().unwrap(), upper);
            let fresh = every_answer(&Store::open(&path).unwrap().read().unwrap(), upper);
            proptest::prop_assert_eq!(remembered, fresh, "after step {} ({:?})", n, step);
        }
    }
}

#[test]
fn a_schedule_added_in_a_rolled_back_savepoint_is_remembered_by_neither_cache() {
    let mut store = Store::open_in_memory().unwrap();
    assert!(directory_roles(&store.read().unwrap(), PRINCIPAL).is_empty());
    store.begin_batch(Batch::Savepoints).unwrap();
    {
        // A directory eligibility: both the eligibilities and the directory roles see it.
        let tx = store.write().unwrap();
        tx.insert_schedule(&schedule("00000000-0000-0000-0000-0000000000e3", RequestKind::Eligibility))
            .unwrap();
        assert_eq!(live_eligibilities(&tx).len(), 1);
        assert_eq!(directory_roles(&tx, PRINCIPAL).len(), 1);
        // Dropped without commit: this savepoint is rolled back, the batch goes on.
    }
    let read_back = |store: &mut Store| {
        let tx = store.read().unwrap();
        (live_eligibilities(&tx).len(), directory_roles(&tx, PRINCIPAL).len())
    };
    assert_eq!(read_back(&mut store), (0, 0));
    store.end_batch(true).unwrap();
    assert_eq!(read_back(&mut store), (0, 0));
}

#[test]
fn a_schedule_whose_insert_fails_is_not_remembered_as_live() {
    let mut store = Store::open_in_memory().unwrap();
    let first = schedule("00000000-0000-0000-0000-0000000000f1", RequestKind::Assignment);
    let tx = store.write().unwrap();
    tx.insert_schedule(&first).unwrap();
    let live = |tx: &Tx<'_>| {
        let rows = tx.schedules_of(RequestKind::Assignment, PRINCIPAL, ROLE, ScheduleState::Live).unwrap();
        rows.into_iter().map(|s| s.instance_id).collect::<Vec<_>>()
    };
    assert_eq!(live(&tx), ["00000000-0000-0000-0000-0000000000f1-instance"], "remembered now");
    // The same id again: the statement fails, and the transaction goes on without the row.
    let mut again = first.clone();
    again.instance_id = "another instance".into();
    assert!(tx.insert_schedule(&again).is_err());
    assert_eq!(live(&tx), ["00000000-0000-0000-0000-0000000000f1-instance"]);
    tx.commit().unwrap();
    assert_eq!(live(&store.read().unwrap()), ["00000000-0000-0000-0000-0000000000f1-instance"]);
}

#[test]
fn an_expiry_notice_marked_sent_forgets_its_own_target_and_no_other() {
    let mut store = Store::open_in_memory().unwrap();
    let mut mine = schedule("00000000-0000-0000-0000-0000000000d1", RequestKind::Eligibility);
    mine.warn_1_at = Some(from_millis(1_767_600_000_000));
    let mut theirs = mine.clone();
    theirs.id = "00000000-0000-0000-0000-0000000000d2".into();
    theirs.instance_id = format!("{}-instance", theirs.id);
    theirs.principal_id = "00000000-0000-0000-0000-0000000000a2".into();
    let tx = store.write().unwrap();
    tx.insert_schedule(&mine).unwrap();
    tx.insert_schedule(&theirs).unwrap();
    tx.commit().unwrap();
    let live = |store: &mut Store, principal: &str| {
        store
            .read()
            .unwrap()
            .schedules_of(RequestKind::Eligibility, principal, ROLE, ScheduleState::Live)
            .unwrap()
    };
    assert_eq!(live(&mut store, PRINCIPAL)[0].warn_1_at, mine.warn_1_at);
    live(&mut store, &theirs.principal_id);
    let tx = store.write().unwrap();
    tx.clear_expiry_warning(&mine, 1).unwrap();
    tx.commit().unwrap();
    let remembered = |store: &Store, principal: &str| {
        store.caches.borrow().eligibilities.contains_key(&joined_key(&[principal, ROLE]))
    };
    // Every eligibility was forgotten before: each activation read its own again.
    assert!(remembered(&store, &theirs.principal_id), "another target's eligibilities were forgotten");
    assert!(!remembered(&store, PRINCIPAL), "the marked schedule's target was remembered as it was");
    assert_eq!(live(&mut store, PRINCIPAL)[0].warn_1_at, None);
}
