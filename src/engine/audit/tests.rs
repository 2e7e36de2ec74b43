//! Tests of the audit trail's vocabulary and of its one way in: every activity's exact name,
//! category and result (a snapshot), and the write paths of `engine/mod.rs` (a write commits
//! exactly the rows it returns; a refusal is undone and leaves only its own row; an internal error
//! and a rehearsal leave nothing; savepoints inside a batch).

use super::*;

/// Every activity the finite variants can name, in a fixed order.
pub(super) fn vocabulary() -> Vec<Activity> {
    let kinds = [RequestKind::Eligibility, RequestKind::Assignment];
    let mut all = Vec::new();
    for kind in kinds {
        for action in Action::ALL {
            for permanent in [false, true] {
                for outcome in [Outcome::Requested, Outcome::Completed, Outcome::Failed] {
                    all.push(Activity::request(kind, action, permanent, outcome));
                }
            }
            all.push(Activity::Canceled { kind, action });
            for verdict in [
                Verdict::Approved { stage: None },
                Verdict::Approved { stage: Some((1, 2)) },
                Verdict::Denied,
                Verdict::TimedOut,
            ] {
                all.push(Activity::Decision { kind, action, verdict });
            }
        }
        for activation in [false, true] {
            all.push(Activity::Expired { kind, activation });
        }
    }
    for kind in [
        PrincipalKind::User,
        PrincipalKind::Group,
        PrincipalKind::ServicePrincipal,
        PrincipalKind::AdministrativeUnit,
    ] {
        all.push(Activity::ObjectAdded(kind));
    }
    all.extend([
        Activity::KeptLastGlobalAdministrator,
        Activity::StartFailed,
        Activity::Started,
        Activity::Escalated,
        Activity::RequestsPurged(3),
        Activity::SchedulesPurged(2),
        Activity::ClockAdvanced(crate::model::time::parse_timestamp("2025-01-06T10:00:00Z").unwrap()),
        Activity::FidelitySwitched {
            switch: crate::model::FidelitySwitch::GraphMultiStageApprovals,
            on: true,
        },
        Activity::FidelitySwitched {
            switch: crate::model::FidelitySwitch::PortalExtendRenewWindows,
            on: false,
        },
        Activity::RoleAssignmentAdded,
        Activity::AzureScopeAdded(crate::model::azure_scope::AzureScopeKind::ManagementGroup),
        Activity::AzureScopeAdded(crate::model::azure_scope::AzureScopeKind::Subscription),
        Activity::AzureScopeAdded(crate::model::azure_scope::AzureScopeKind::ResourceGroup),
        Activity::AzureScopeAdded(crate::model::azure_scope::AzureScopeKind::Resource),
        Activity::RoleAssignmentRemoved,
        Activity::RoleDefinitionAdded,
        Activity::RoleDefinitionUpdated,
        Activity::RoleDefinitionDeleted,
        Activity::RoleSettingUpdated,
        Activity::MemberAdded { owner: false, unit: false },
        Activity::MemberAdded { owner: false, unit: true },
        Activity::MemberAdded { owner: true, unit: false },
        Activity::MemberRemoved { owner: false },
        Activity::MemberRemoved { owner: true },
        Activity::HookAdded("Freeze".into()),
        Activity::HookRemoved("Freeze".into()),
        Activity::HookUpdated("Freeze".into()),
        Activity::HookFailed("Policy hook 'Boom' failed at line 4: offline".into()),
    ]);
    all
}

/// The names, categories and results of the whole vocabulary. Tests, the README's fidelity
/// table and users' filters depend on these words: a change here must be deliberate.
#[test]
fn every_activity_renders_its_entra_name_category_and_result() {
    let mut seen = std::collections::BTreeSet::new();
    let mut lines = String::new();
    for a in vocabulary() {
        let line = format!("{a} | {} | {}\n", a.category().as_str(), a.result());
        if seen.insert(line.clone()) {
            lines.push_str(&line);
        }
    }
    insta::assert_snapshot!(lines, @r"
Add eligible member to role in PIM requested (timebound) | RoleManagement | success
Add eligible member to role in PIM completed (timebound) | RoleManagement | success
Add eligible member to role in PIM failed (timebound) | RoleManagement | failure
Add eligible member to role in PIM requested (permanent) | RoleManagement | success
Add eligible member to role in PIM completed (permanent) | RoleManagement | success
Add eligible member to role in PIM failed (permanent) | RoleManagement | failure
Add eligible member to role in PIM canceled | RoleManagement | success
adminAssign request approved | RoleManagement | success
adminAssign request approved (stage 1 of 2) | RoleManagement | success
adminAssign request denied | RoleManagement | success
adminAssign request timed out | RoleManagement | failure
Update eligible member in role in PIM requested (timebound) | RoleManagement | success
Update eligible member in role in PIM completed (timebound) | RoleManagement | success
Update eligible member in role in PIM failed (timebound) | RoleManagement | failure
Update eligible member in role in PIM requested (permanent) | RoleManagement | success
Update eligible member in role in PIM completed (permanent) | RoleManagement | success
Update eligible member in role in PIM failed (permanent) | RoleManagement | failure
adminUpdate request approved | RoleManagement | success
adminUpdate request approved (stage 1 of 2) | RoleManagement | success
adminUpdate request denied | RoleManagement | success
adminUpdate request timed out | RoleManagement | failure
Remove eligible member from role in PIM requested (timebound) | RoleManagement | success
Remove eligible member from role in PIM completed (timebound) | RoleManagement | success
Remove eligible member from role in PIM failed (timebound) | RoleManagement | failure
Remove eligible member from role in PIM requested (permanent) | RoleManagement | success
Remove eligible member from role in PIM completed (permanent) | RoleManagement | success
Remove eligible member from role in PIM failed (permanent) | RoleManagement | failure
adminRemove request approved | RoleManagement | success
adminRemove request approved (stage 1 of 2) | RoleManagement | success
adminRemove request denied | RoleManagement | success
adminRemove request timed out | RoleManagement | failure
Add member to role requested (PIM activation) | RoleManagement | success
Add member to role completed (PIM activation) | RoleManagement | success
Add member to role failed (PIM activation) | RoleManagement | failure
Add member to role canceled (PIM activation) | RoleManagement | success
Add member to role request approved (PIM activation) | RoleManagement | success
Add member to role request approved (stage 1 of 2) (PIM activation) | RoleManagement | success
Add member to role request denied (PIM activation) | RoleManagement | success
Add member to role request timed out (PIM activation) | RoleManagement | failure
Remove member from role requested (PIM deactivate) | RoleManagement | success
Remove member from role completed (PIM deactivate) | RoleManagement | success
Remove member from role failed (PIM deactivate) | RoleManagement | failure
selfDeactivate request approved | RoleManagement | success
selfDeactivate request approved (stage 1 of 2) | RoleManagement | success
selfDeactivate request denied | RoleManagement | success
selfDeactivate request timed out | RoleManagement | failure
Extend eligible member in role in PIM requested | RoleManagement | success
Extend eligible member in role in PIM completed | RoleManagement | success
Extend eligible member in role in PIM failed | RoleManagement | failure
adminExtend request approved | RoleManagement | success
adminExtend request approved (stage 1 of 2) | RoleManagement | success
adminExtend request denied | RoleManagement | success
adminExtend request timed out | RoleManagement | failure
Renew eligible member in role in PIM requested | RoleManagement | success
Renew eligible member in role in PIM completed | RoleManagement | success
Renew eligible member in role in PIM failed | RoleManagement | failure
adminRenew request approved | RoleManagement | success
adminRenew request approved (stage 1 of 2) | RoleManagement | success
adminRenew request denied | RoleManagement | success
adminRenew request timed out | RoleManagement | failure
Extend eligible role assignment requested | RoleManagement | success
Extend eligible role assignment completed | RoleManagement | success
Extend eligible role assignment failed | RoleManagement | failure
Extend eligible role assignment request approved | RoleManagement | success
Extend eligible role assignment request approved (stage 1 of 2) | RoleManagement | success
Extend eligible role assignment request denied | RoleManagement | success
Extend eligible role assignment request timed out | RoleManagement | failure
Renew eligible role assignment requested | RoleManagement | success
Renew eligible role assignment completed | RoleManagement | success
Renew eligible role assignment failed | RoleManagement | failure
Renew eligible role assignment request approved | RoleManagement | success
Renew eligible role assignment request approved (stage 1 of 2) | RoleManagement | success
Renew eligible role assignment request denied | RoleManagement | success
Renew eligible role assignment request timed out | RoleManagement | failure
Add member to role in PIM requested (timebound) | RoleManagement | success
Add member to role in PIM completed (timebound) | RoleManagement | success
Add member to role in PIM failed (timebound) | RoleManagement | failure
Add member to role in PIM requested (permanent) | RoleManagement | success
Add member to role in PIM completed (permanent) | RoleManagement | success
Add member to role in PIM failed (permanent) | RoleManagement | failure
Add member to role in PIM canceled | RoleManagement | success
Update member in role in PIM requested (timebound) | RoleManagement | success
Update member in role in PIM completed (timebound) | RoleManagement | success
Update member in role in PIM failed (timebound) | RoleManagement | failure
Update member in role in PIM requested (permanent) | RoleManagement | success
Update member in role in PIM completed (permanent) | RoleManagement | success
Update member in role in PIM failed (permanent) | RoleManagement | failure
Remove member from role in PIM requested (timebound) | RoleManagement | success
Remove member from role in PIM completed (timebound) | RoleManagement | success
Remove member from role in PIM failed (timebound) | RoleManagement | failure
Remove member from role in PIM requested (permanent) | RoleManagement | success
Remove member from role in PIM completed (permanent) | RoleManagement | success
Remove member from role in PIM failed (permanent) | RoleManagement | failure
Extend member in role in PIM requested | RoleManagement | success
Extend member in role in PIM completed | RoleManagement | success
Extend member in role in PIM failed | RoleManagement | failure
Renew member in role in PIM requested | RoleManagement | success
Renew member in role in PIM completed | RoleManagement | success
Renew member in role in PIM failed | RoleManagement | failure
Extend role assignment requested | RoleManagement | success
Extend role assignment completed | RoleManagement | success
Extend role assignment failed | RoleManagement | failure
Extend role assignment request approved | RoleManagement | success
Extend role assignment request approved (stage 1 of 2) | RoleManagement | success
Extend role assignment request denied | RoleManagement | success
Extend role assignment request timed out | RoleManagement | failure
Renew role assignment requested | RoleManagement | success
Renew role assignment completed | RoleManagement | success
Renew role assignment failed | RoleManagement | failure
Renew role assignment request approved | RoleManagement | success
Renew role assignment request approved (stage 1 of 2) | RoleManagement | success
Renew role assignment request denied | RoleManagement | success
Renew role assignment request timed out | RoleManagement | failure
Remove member from role (PIM activation expired) | RoleManagement | success
Add user | Directory | success
Add group | Directory | success
Add service principal | Directory | success
Add administrative unit | Directory | success
Keep member in role in PIM (last Global Administrator) | RoleManagement | success
Add member to role in PIM failed | RoleManagement | success
Schedule started in PIM | RoleManagement | success
Approval request escalated in PIM | RoleManagement | success
Purge 3 schedule request(s) past retention | RoleManagement | success
Purge 2 ended schedule(s) past retention | RoleManagement | success
Advance simulated clock to 2025-01-06T10:00:00Z | Simulation | success
Turn fidelity switch 'graph-multi-stage-approvals' on | Simulation | success
Turn fidelity switch 'portal-extend-renew-windows' off | Simulation | success
Add member to role | RoleManagement | success
Add management group | ResourceManagement | success
Add subscription | ResourceManagement | success
Add resource group | ResourceManagement | success
Add resource | ResourceManagement | success
Remove member from role | RoleManagement | success
Add role definition | RoleManagement | success
Update role definition | RoleManagement | success
Delete role definition | RoleManagement | success
Update role setting in PIM | RoleManagement | success
Add member to group | GroupManagement | success
Add member to administrative unit | AdministrativeUnit | success
Add owner to group | GroupManagement | success
Remove member from group | GroupManagement | success
Remove owner from group | GroupManagement | success
Add policy hook 'Freeze' | Policy | success
Remove policy hook 'Freeze' | Policy | success
Update policy hook 'Freeze' | Policy | success
Policy hook failed: Policy hook 'Boom' failed at line 4: offline | Policy | success
");
}

// ---- The write path: rows are part of the commit -------------------------------------------

use crate::engine::{Engine, InitOptions};

fn engine() -> Engine {
    let mut e = Engine::in_memory().unwrap();
    e.init(&InitOptions::default()).unwrap();
    e
}

/// `(seq, activity, result)` of every row.
fn rows(e: &mut Engine) -> Vec<(i64, String, String)> {
    e.audit(&Default::default()).unwrap().into_iter().map(|r| (r.seq, r.activity, r.result)).collect()
}

fn meta(e: &mut Engine, key: &str) -> Option<String> {
    e.read(|tx, _| Ok(tx.meta(key)?)).unwrap()
}

fn nothing(activity: Activity) -> impl Fn(&Tx<'_>, &Ctx) -> Result<Entry, ApiError> {
    move |tx, ctx| Entry::new(tx, ctx, "tester", activity.clone(), About::Targets(Vec::new()))
}

fn assert_gapless(e: &mut Engine) {
    let seqs: Vec<i64> = rows(e).iter().map(|r| r.0).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "audit sequence numbers have gaps");
}

#[test]
fn a_write_commits_exactly_the_rows_it_returns_in_their_order() {
    let mut e = engine();
    let before = rows(&mut e);
    let first = nothing(Activity::RoleSettingUpdated);
    let second = nothing(Activity::HookFailed("boom".into()));
    e.write(|tx, ctx| {
        tx.set_meta("probe", "kept")?;
        let mut audit = Audit::of(first(tx, ctx)?);
        audit.push(second(tx, ctx)?);
        Ok(((), audit))
    })
    .unwrap();
    let after = rows(&mut e);
    let n = before.len() as i64;
    assert_eq!(
        after[before.len()..],
        [
            (n + 1, "Update role setting in PIM".to_string(), "success".to_string()),
            (n + 2, "Policy hook failed: boom".to_string(), "success".to_string()),
        ]
    );
    assert_eq!(meta(&mut e, "probe").as_deref(), Some("kept"));
    assert_gapless(&mut e);
}

#[test]
fn a_write_that_says_it_audits_nothing_commits_its_change_and_no_row() {
    let mut e = engine();
    let before = rows(&mut e);
    e.write(|tx, _| {
        tx.set_meta("probe", "kept")?;
        Ok(((), Audit::none("a test of the quiet path")))
    })
    .unwrap();
    assert_eq!(rows(&mut e), before);
    assert_eq!(meta(&mut e, "probe").as_deref(), Some("kept"));
}

#[test]
fn a_failed_write_leaves_neither_its_change_nor_its_rows() {
    let mut e = engine();
    let before = rows(&mut e);
    let id_before = meta(&mut e, "next_id");
    let row = nothing(Activity::RoleSettingUpdated);
    let err = e
        .write(|tx, ctx| {
            tx.set_meta("probe", "lost")?;
            crate::engine::new_id(tx, ctx)?;
            let _rows = Audit::of(row(tx, ctx)?);
            Err::<Audited<()>, _>(ApiError::bad_request("probe", "refused"))
        })
        .unwrap_err();
    assert_eq!(err.status, 400);
    assert_eq!(rows(&mut e), before);
    assert_eq!(meta(&mut e, "probe"), None);
    assert_eq!(meta(&mut e, "next_id"), id_before);
}

#[test]
fn a_refusal_is_undone_and_leaves_exactly_its_own_row() {
    let mut e = engine();
    let before = rows(&mut e);
    let (id_before, clock_before) = (meta(&mut e, "next_id"), meta(&mut e, "clock"));
    let attempted = nothing(Activity::RoleSettingUpdated);
    let refused = nothing(Activity::StartFailed);
    let err = e
        .write_or_refuse(
            |tx, ctx| {
                tx.set_meta("probe", "lost")?;
                crate::engine::new_id(tx, ctx)?;
                crate::engine::set_clock(tx, ctx.now + chrono::TimeDelta::hours(1))?;
                let _rows = Audit::of(attempted(tx, ctx)?);
                Err::<Audited<()>, _>(ApiError::bad_request("probe", "refused"))
            },
            |tx, ctx, error| {
                assert_eq!(error.status, 400);
                // The refusal sees the store as it was before the attempt.
                assert_eq!(tx.meta("probe")?, None);
                Ok(Audit::of(refused(tx, ctx)?))
            },
        )
        .unwrap_err();
    assert_eq!(err.status, 400, "the refusal is still the caller's error");
    let after = rows(&mut e);
    assert_eq!(after.len(), before.len() + 1, "{after:?}");
    assert_eq!(after.last().unwrap().1, "Add member to role in PIM failed");
    assert_eq!(meta(&mut e, "probe"), None);
    assert_eq!(meta(&mut e, "next_id"), id_before, "a refusal consumes no id");
    assert_eq!(meta(&mut e, "clock"), clock_before, "a refusal does not move the clock");
    assert_gapless(&mut e);
}

#[test]
fn an_internal_error_is_not_a_refusal_and_leaves_nothing() {
    let mut e = engine();
    let before = rows(&mut e);
    let err = e
        .write_or_refuse(
            |tx, _| {
                tx.set_meta("probe", "lost")?;
                Err::<Audited<()>, _>(ApiError::internal("a bug"))
            },
            |_, _, _| panic!("an internal error is not recorded as a refusal"),
        )
        .unwrap_err();
    assert_eq!(err.status, 500);
    assert_eq!(rows(&mut e), before);
    assert_eq!(meta(&mut e, "probe"), None);
}

#[test]
fn a_rehearsal_keeps_nothing_not_even_its_rows() {
    let mut e = engine();
    let before = rows(&mut e);
    let id_before = meta(&mut e, "next_id");
    let row = nothing(Activity::RoleSettingUpdated);
    let value = e
        .rehearse(|tx, ctx| {
            tx.set_meta("probe", "lost")?;
            crate::engine::new_id(tx, ctx)?;
            Ok((7, Audit::of(row(tx, ctx)?)))
        })
        .unwrap();
    assert_eq!(value, 7);
    assert_eq!(rows(&mut e), before);
    assert_eq!(meta(&mut e, "probe"), None);
    assert_eq!(meta(&mut e, "next_id"), id_before);
}

#[test]
fn in_a_batch_a_refusal_undoes_only_itself_and_its_row_commits_with_the_batch() {
    let mut e = engine();
    let before = rows(&mut e).len();
    let kept = nothing(Activity::RoleSettingUpdated);
    let refused = nothing(Activity::StartFailed);
    let outcomes = e
        .batch(|e| {
            let first = e.write(|tx, ctx| {
                tx.set_meta("first", "kept")?;
                Ok(((), Audit::of(kept(tx, ctx)?)))
            });
            let second = e.write_or_refuse(
                |tx, _| {
                    tx.set_meta("second", "lost")?;
                    Err::<Audited<()>, _>(ApiError::bad_request("probe", "refused"))
                },
                |tx, ctx, _| Ok(Audit::of(refused(tx, ctx)?)),
            );
            let third = e.write(|tx, ctx| {
                tx.set_meta("third", "kept")?;
                Ok(((), Audit::of(kept(tx, ctx)?)))
            });
            (first.is_ok(), second.is_ok(), third.is_ok())
        })
        .unwrap();
    assert_eq!(outcomes, (true, false, true));
    let activities: Vec<String> = rows(&mut e)[before..].iter().map(|r| r.1.clone()).collect();
    assert_eq!(
        activities,
        ["Update role setting in PIM", "Add member to role in PIM failed", "Update role setting in PIM"]
    );
    assert_eq!(meta(&mut e, "first").as_deref(), Some("kept"));
    assert_eq!(meta(&mut e, "second"), None);
    assert_eq!(meta(&mut e, "third").as_deref(), Some("kept"));
    assert_gapless(&mut e);
}

/// The one way in: no engine file but this one inserts audit rows, and no engine file but
/// `mod.rs` (its `commit`) commits.
#[test]
fn only_the_commit_writes_audit_rows() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/engine");
    let mut files = vec![root.clone()];
    let mut offenders = Vec::new();
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
        if name != "audit.rs" && text.contains(&["insert", "_audit("].concat()) {
            offenders.push(format!("{name} inserts audit rows"));
        }
        if name != "mod.rs" && text.contains(&[".com", "mit()"].concat()) {
            offenders.push(format!("{name} commits"));
        }
    }
    assert!(offenders.is_empty(), "{offenders:?}");
}
