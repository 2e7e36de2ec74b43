//! The steps `fuzz` takes: what each is (a user activating what they are eligible for, an
//! administrator assigning or removing, an approver deciding, the clock moving), how one is drawn
//! at random from what the tenant holds now, and how one is applied as a typed operation.

use std::collections::{BTreeSet, HashMap};

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::engine::{Engine, Session};
use crate::model::{ApiError, AssignmentType, PrincipalKind, RequestKind, Schedule, Surface};
use crate::ops::{AdminAction, ClockAction, Operation, SessionOptions};

/// How long an activation asks for (within every default policy's maximum).
pub(super) const ACTIVATIONS: &[&str] = &["PT1H", "PT2H", "PT4H", "PT8H"];
/// How long an administrator's eligibility lasts.
pub(super) const ELIGIBILITIES: &[&str] = &["P30D", "P90D", "P180D"];
/// How long an administrator's active assignment lasts.
pub(super) const ASSIGNMENTS: &[&str] = &["PT8H", "P1D", "P7D"];
/// How far the clock moves.
pub(super) const ADVANCES: &[&str] = &["PT15M", "PT1H", "PT4H", "PT12H", "P1D"];
/// The justification every step gives.
pub(super) const JUSTIFICATION: &str = "fuzz";
/// The role every run may assign, besides those the store's schedules name.
const ALWAYS: &str = "Global Administrator";

/// Which request a decision is about: one a step made (by the step's id), or one the store had.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum RequestRef {
    Step(usize),
    Existing(String),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Act {
    Activate { role: String, duration: &'static str },
    Assign { eligible: bool, principal: String, role: String, duration: &'static str },
    Remove { eligible: bool, principal: String, role: String },
    Decide { request: RequestRef, approve: bool },
    Advance { duration: &'static str },
}

/// One step: its id (its place in the run that found it, kept while shrinking), who takes it
/// (`None`: the tenant's administrator, the default caller) and what it does.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Step {
    pub id: usize,
    pub by: Option<String>,
    pub act: Act,
}

impl Step {
    /// The arguments as a script's table has them (and as the operation reads them).
    pub(super) fn args(&self, requests: &HashMap<usize, String>) -> Result<Value, ApiError> {
        let j = JUSTIFICATION;
        Ok(match &self.act {
            Act::Activate { role, duration } => {
                json!({"role": role, "duration": duration, "justification": j})
            }
            Act::Assign { principal, role, duration, .. } => {
                json!({"principal": principal, "role": role, "duration": duration, "justification": j})
            }
            Act::Remove { principal, role, .. } => {
                json!({"principal": principal, "role": role, "justification": j})
            }
            Act::Decide { request, .. } => json!({"id": request_id(request, requests)?, "justification": j}),
            Act::Advance { duration } => json!({"duration": duration}),
        })
    }

    /// The typed operation the step runs.
    fn operation(&self, requests: &HashMap<usize, String>) -> Result<Operation, ApiError> {
        let args = self.args(requests)?;
        let parse =
            |what: &str| ApiError::internal(format!("fuzz made arguments {what} cannot read: {args}"));
        let admin = |args: Value| -> Result<AdminAction, ApiError> {
            let a = serde_json::from_value(args).map_err(|_| parse("an assignment"))?;
            Ok(match &self.act {
                Act::Remove { .. } => AdminAction::Remove(a),
                _ => AdminAction::Assign(a),
            })
        };
        Ok(match &self.act {
            Act::Activate { .. } => {
                Operation::Activate(serde_json::from_value(args.clone()).map_err(|_| parse("activate"))?)
            }
            Act::Assign { eligible: true, .. } | Act::Remove { eligible: true, .. } => {
                Operation::Eligible { action: admin(args.clone())? }
            }
            Act::Assign { .. } | Act::Remove { .. } => Operation::Active { action: admin(args.clone())? },
            Act::Decide { approve, .. } => {
                let a = serde_json::from_value(args.clone()).map_err(|_| parse("a decision"))?;
                if *approve { Operation::Approve(a) } else { Operation::Deny(a) }
            }
            Act::Advance { .. } => Operation::Clock {
                action: Some(ClockAction::Advance(
                    serde_json::from_value(args.clone()).map_err(|_| parse("clock advance"))?,
                )),
            },
        })
    }

    /// Runs the step on `engine`; an activation's request is remembered under the step's id.
    pub(super) fn apply(
        &self,
        engine: &mut Engine,
        admin: &Session,
        requests: &mut HashMap<usize, String>,
    ) -> Result<(), ApiError> {
        let op = self.operation(requests)?;
        let session = match &self.by {
            Some(p) => SessionOptions { as_principal: Some(p.clone()), ..Default::default() }
                .session(engine, admin)?,
            None => admin.clone(),
        };
        let made = super::super::run(engine, &session, &op, super::super::Access::SCRIPT)?.to_json();
        if let (Act::Activate { .. }, Some(id)) = (&self.act, made.get("id").and_then(Value::as_str)) {
            requests.insert(self.id, id.to_string());
        }
        Ok(())
    }
}

fn request_id(r: &RequestRef, requests: &HashMap<usize, String>) -> Result<String, ApiError> {
    match r {
        RequestRef::Existing(id) => Ok(id.clone()),
        RequestRef::Step(step) => requests
            .get(step)
            .cloned()
            .ok_or_else(|| ApiError::usage(format!("step {step}'s request was not made"))),
    }
}

/// Draws steps from a seeded generator of its own (never the store's: the engine's ids come from
/// the store's generator, and must not depend on how many steps were drawn).
pub(super) struct Generator {
    rng: ChaCha8Rng,
    roles: Vec<String>,
    next: usize,
}

/// What the tenant holds now that a step can act on.
struct Holdings {
    users: Vec<String>,
    eligible: Vec<(String, String)>,
    assigned: Vec<(String, String)>,
    pending: Vec<(String, Vec<String>)>,
}

impl Generator {
    /// A generator for `seed`; the roles it assigns are those the store's schedules name, and
    /// Global Administrator.
    pub(super) fn new(seed: u64, engine: &mut Engine) -> Result<Generator, ApiError> {
        let mut roles = BTreeSet::from([ALWAYS.to_string()]);
        for kind in [RequestKind::Eligibility, RequestKind::Assignment] {
            for s in engine.schedules(kind, None, None)? {
                if at_root(&s) {
                    roles.insert(engine.role(&s.role_definition_id)?.display_name);
                }
            }
        }
        Ok(Generator { rng: ChaCha8Rng::seed_from_u64(seed), roles: roles.into_iter().collect(), next: 1 })
    }

    fn below(&mut self, n: usize) -> usize {
        (self.rng.next_u64() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        (!items.is_empty()).then(|| &items[self.below(items.len())])
    }

    /// A step that always runs: the clock moves an hour (when no draw found one the tenant takes).
    pub(super) fn fallback(&mut self) -> Step {
        self.next += 1;
        Step { id: self.next - 1, by: None, act: Act::Advance { duration: "PT1H" } }
    }

    /// One step drawn at random from what the tenant holds now (`made`: the request each step
    /// made, by request id), or `None` when the kind drawn has nothing to act on.
    pub(super) fn draw(
        &mut self,
        engine: &mut Engine,
        made: &HashMap<String, usize>,
    ) -> Result<Option<Step>, ApiError> {
        let h = holdings(engine)?;
        let roll = self.below(12);
        let id = self.next;
        let step = |by: Option<String>, act| Some(Step { id, by, act });
        let drawn = match roll {
            0..=2 => match self.pick(&h.eligible).cloned() {
                Some((principal, role)) => {
                    let duration = *self.pick(ACTIVATIONS).unwrap_or(&ACTIVATIONS[0]);
                    step(Some(principal), Act::Activate { role, duration })
                }
                None => None,
            },
            3..=5 => {
                let eligible = roll != 5;
                let (Some(principal), Some(role)) =
                    (self.pick(&h.users).cloned(), self.pick(&self.roles.clone()).cloned())
                else {
                    return Ok(None);
                };
                let durations = if eligible { ELIGIBILITIES } else { ASSIGNMENTS };
                let duration = *self.pick(durations).unwrap_or(&durations[0]);
                step(None, Act::Assign { eligible, principal, role, duration })
            }
            6 | 7 => {
                let eligible = roll == 6;
                let from = if eligible { &h.eligible } else { &h.assigned };
                match self.pick(from).cloned() {
                    Some((principal, role)) => step(None, Act::Remove { eligible, principal, role }),
                    None => None,
                }
            }
            8 | 9 => match self.pick(&h.pending).cloned() {
                Some((request, approvers)) => match self.pick(&approvers).cloned() {
                    Some(approver) => {
                        let approve = self.below(4) != 0;
                        let request = made
                            .get(&request)
                            .map_or(RequestRef::Existing(request), |s| RequestRef::Step(*s));
                        step(Some(approver), Act::Decide { request, approve })
                    }
                    None => None,
                },
                None => None,
            },
            _ => step(None, Act::Advance { duration: self.pick(ADVANCES).unwrap_or(&ADVANCES[0]) }),
        };
        if drawn.is_some() {
            self.next += 1;
        }
        Ok(drawn)
    }
}

/// A directory role's schedule made at the tenant's root.
fn at_root(s: &Schedule) -> bool {
    s.surface == Surface::Directory && s.directory_scope_id.as_deref() == Some("/")
}

fn holdings(engine: &mut Engine) -> Result<Holdings, ApiError> {
    let mut upn = HashMap::new();
    for u in engine.objects(PrincipalKind::User)? {
        if let (true, Some(name)) = (u.account_enabled, u.user_principal_name) {
            upn.insert(u.id.to_ascii_lowercase(), name);
        }
    }
    let mut users: Vec<String> = upn.values().cloned().collect();
    users.sort();
    let now = engine.now()?;
    let of_users = |engine: &mut Engine, kind, assigned: bool| -> Result<Vec<(String, String)>, ApiError> {
        let mut out = Vec::new();
        for s in engine.schedules(kind, None, None)? {
            let user = upn.get(&s.principal_id.to_ascii_lowercase());
            let wanted = !assigned || s.assignment_type == Some(AssignmentType::Assigned);
            if let (true, true, Some(user)) = (at_root(&s) && s.start() <= now, wanted, user) {
                out.push((user.clone(), engine.role(&s.role_definition_id)?.display_name));
            }
        }
        out.sort();
        Ok(out)
    };
    let eligible = of_users(engine, RequestKind::Eligibility, false)?;
    let assigned = of_users(engine, RequestKind::Assignment, true)?;
    let mut pending = Vec::new();
    for (request, approvers) in engine.pending_decisions()? {
        let mut names: Vec<String> =
            approvers.iter().filter_map(|a| upn.get(&a.to_ascii_lowercase()).cloned()).collect();
        names.sort();
        pending.push((request.id, names));
    }
    pending.sort();
    Ok(Holdings { users, eligible, assigned, pending })
}
