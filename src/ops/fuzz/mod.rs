//! `fuzz --seed N --steps K --props PROPS.lua`: random but valid steps (users activating what
//! they are eligible for, administrators assigning and removing, approvers deciding, the clock
//! moving) on a private in-memory copy of the store, every property judged after each step. The
//! first violation is shrunk (`shrink`) on fresh copies to the shortest list of steps that still
//! breaks the property, and printed as a Lua scenario `pimlab run` replays (`script`). The store
//! itself never changes: every step runs on a copy.

mod script;
mod shrink;
mod steps;

use std::collections::HashMap;

use self::steps::{Act, Generator, RequestRef, Step};
use super::{FuzzArgs, Outcome};
use crate::engine::{Engine, Session};
use crate::model::ApiError;
use crate::model::property::{Judge, Verdict};
use crate::report::{FuzzReport, FuzzStep, Status, Violation};

/// The most steps one run may take.
pub const MAX_STEPS: usize = 10_000;
/// How many draws a step may take before the clock moves instead (a draw can find nothing to act
/// on, or a step the tenant refuses: a role already active, an approval needed first).
const DRAWS_PER_STEP: usize = 8;

/// What a fuzz run shares: the store, the caller, the administrator, the properties.
struct Run<'a> {
    session: &'a Session,
    admin: Session,
    judge: &'a dyn Judge,
}

impl Run<'_> {
    /// The first property that does not hold on `engine` now, with its verdict.
    fn broken(&self, engine: &mut Engine, only: Option<usize>) -> Result<Option<(usize, Verdict)>, ApiError> {
        let now = engine.now()?;
        let session = self.session;
        let mut answer = |engine: &mut Engine, at, q: &_| super::check::answer(engine, session, at, q);
        for p in (0..self.judge.names().len()).filter(|p| only.is_none_or(|o| o == *p)) {
            match crate::report::judge_at(engine, self.judge, p, now, &mut answer) {
                Verdict::Holds => {}
                v => return Ok(Some((p, v))),
            }
        }
        Ok(None)
    }

    /// Whether `steps`, replayed on a fresh copy of `store`, all run and leave property `p`
    /// broken the same way.
    fn reproduces(&self, store: &Engine, steps: &[Step], p: usize, like: &Verdict) -> Result<bool, ApiError> {
        let mut fork = copy(store)?;
        let mut requests = HashMap::new();
        for s in steps {
            if s.apply(&mut fork, &self.admin, &mut requests).is_err() {
                return Ok(false);
            }
        }
        Ok(matches!(
            (self.broken(&mut fork, Some(p))?, like),
            (Some((_, Verdict::Violated(_))), Verdict::Violated(_))
                | (Some((_, Verdict::Failed(_))), Verdict::Failed(_))
        ))
    }
}

fn copy(engine: &Engine) -> Result<Engine, ApiError> {
    engine.fork_in_memory().map_err(|e| ApiError::internal(format!("cannot copy the store: {e}")))
}

pub(super) fn fuzz(
    engine: &mut Engine,
    session: &Session,
    a: &FuzzArgs,
    access: super::Access,
) -> Result<Outcome, ApiError> {
    if a.steps > MAX_STEPS {
        return Err(ApiError::usage(format!("--steps {}: at most {MAX_STEPS} steps", a.steps)));
    }
    let (file, judge) = super::check::load(engine, &a.props, &a.source, access)?;
    let run = Run { session, admin: Session::new(engine.default_caller()?), judge: judge.as_ref() };
    let mut fork = copy(engine)?;
    let mut generator = Generator::new(a.seed, &mut fork)?;
    let (mut taken, mut requests, mut made) = (Vec::<Step>::new(), HashMap::new(), HashMap::new());
    let mut broken = run.broken(&mut fork, None)?;
    while broken.is_none() && taken.len() < a.steps {
        let mut step = None;
        for _ in 0..DRAWS_PER_STEP {
            let Some(drawn) = generator.draw(&mut fork, &made)? else { continue };
            if drawn.apply(&mut fork, &run.admin, &mut requests).is_ok() {
                step = Some(drawn);
                break;
            }
        }
        let step = match step {
            Some(s) => s,
            None => {
                let s = generator.fallback();
                s.apply(&mut fork, &run.admin, &mut requests)?;
                s
            }
        };
        if let Some(id) = requests.get(&step.id) {
            made.insert(id.clone(), step.id);
        }
        taken.push(step);
        broken = run.broken(&mut fork, None)?;
    }
    let names = judge.names();
    let violation = match broken {
        None => None,
        Some((p, verdict)) => {
            let at = fork.now()?;
            let after_step = taken.len();
            let mut fails = |steps: &[Step]| run.reproduces(engine, steps, p, &verdict);
            // Replayed without the refused draws, the run must still break it; if it does not
            // (a refusal's audit row mattered), the steps are kept as they are.
            let shrunk =
                if fails(&taken)? { shrink::shrink(taken.clone(), &mut fails)? } else { taken.clone() };
            let header = format!(
                "pimlab fuzz --seed {} --steps {} --props {file}: the shortest steps found that break\n\"{}\".\nReplay on a copy of the store: pimlab --db COPY.db run THIS.lua",
                a.seed, a.steps, names[p]
            );
            let script = script::script(&header, &shrunk, &judge.check_script(p))?;
            let (status, message) = match verdict {
                Verdict::Failed(m) => (Status::Failed, Some(m)),
                Verdict::Violated(m) => (Status::Violated, m),
                Verdict::Holds => (Status::Held, None),
            };
            Some(Violation {
                property: names[p].clone(),
                status,
                message,
                after_step,
                at,
                shrunk: shrunk.iter().map(|s| described(s, &shrunk)).collect(),
                script,
            })
        }
    };
    let taken = taken.len();
    Ok(Outcome::Fuzz(FuzzReport { file, seed: a.seed, steps: a.steps, taken, properties: names, violation }))
}

/// A step in words, its decision naming the step (of `steps`) that made the request.
fn described(step: &Step, steps: &[Step]) -> FuzzStep {
    let does = match &step.act {
        Act::Activate { role, duration } => format!("activates {role} for {duration}"),
        Act::Assign { eligible, principal, role, duration } => {
            let kind = if *eligible { "eligible" } else { "active" };
            format!("makes {principal} {kind} for {role} for {duration}")
        }
        Act::Remove { eligible, principal, role } => {
            let kind = if *eligible { "eligibility" } else { "active assignment" };
            format!("removes {principal}'s {kind} for {role}")
        }
        Act::Decide { request, approve } => {
            let verb = if *approve { "approves" } else { "denies" };
            match request {
                RequestRef::Step(s) => {
                    let n = steps.iter().position(|x| x.id == *s).map_or(0, |i| i + 1);
                    format!("{verb} the request of step {n}")
                }
                RequestRef::Existing(id) => format!("{verb} request {id}"),
            }
        }
        Act::Advance { duration } => format!("moves the clock {duration}"),
    };
    FuzzStep { by: step.by.clone(), does }
}
