//! Shrinking a failing run: delta debugging over the steps (drop chunks, halving their size,
//! while the failure still reproduces on a fresh copy of the store), then each step alone, then
//! simpler values (the shortest duration of each kind).

use super::steps::{ACTIVATIONS, ADVANCES, ASSIGNMENTS, Act, ELIGIBILITIES, Step};
use crate::model::ApiError;

/// The shortest list of `steps` found for which `fails` still holds (`fails(steps)` is assumed).
pub(super) fn shrink(
    mut steps: Vec<Step>,
    fails: &mut dyn FnMut(&[Step]) -> Result<bool, ApiError>,
) -> Result<Vec<Step>, ApiError> {
    let mut parts = 2;
    while steps.len() >= 2 {
        let chunk = steps.len().div_ceil(parts);
        let mut dropped = false;
        for start in (0..steps.len()).step_by(chunk) {
            let candidate: Vec<Step> = steps[..start]
                .iter()
                .chain(steps[(start + chunk).min(steps.len())..].iter())
                .cloned()
                .collect();
            if fails(&candidate)? {
                steps = candidate;
                parts = (parts - 1).max(2);
                dropped = true;
                break;
            }
        }
        if !dropped {
            if parts >= steps.len() {
                break;
            }
            parts = (parts * 2).min(steps.len());
        }
    }
    // One step at a time, from the end (a later step often depends on an earlier one).
    let mut i = steps.len();
    while i > 0 {
        i -= 1;
        let mut candidate = steps.clone();
        candidate.remove(i);
        if fails(&candidate)? {
            steps = candidate;
        }
    }
    // Simpler values: the shortest duration of each step's kind.
    for i in 0..steps.len() {
        if let Some(simpler) = simpler(&steps[i]) {
            let mut candidate = steps.clone();
            candidate[i] = simpler;
            if fails(&candidate)? {
                steps = candidate;
            }
        }
    }
    Ok(steps)
}

/// The step with the shortest duration of its kind, if it has a longer one.
fn simpler(step: &Step) -> Option<Step> {
    let mut act = step.act.clone();
    let (duration, shortest) = match &mut act {
        Act::Activate { duration, .. } => (duration, ACTIVATIONS[0]),
        Act::Assign { eligible: true, duration, .. } => (duration, ELIGIBILITIES[0]),
        Act::Assign { duration, .. } => (duration, ASSIGNMENTS[0]),
        Act::Advance { duration } => (duration, ADVANCES[0]),
        Act::Remove { .. } | Act::Decide { .. } => return None,
    };
    if *duration == shortest {
        return None;
    }
    *duration = shortest;
    Some(Step { act, ..step.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn advance(id: usize) -> Step {
        Step { id, by: None, act: Act::Advance { duration: "P1D" } }
    }

    #[test]
    fn shrinking_keeps_only_the_steps_the_failure_needs() {
        let steps: Vec<Step> = (1..=40).map(advance).collect();
        // Fails when steps 7 and 31 are both there, in that order.
        let mut fails = |s: &[Step]| -> Result<bool, ApiError> {
            let ids: Vec<usize> = s.iter().map(|s| s.id).collect();
            Ok(ids.iter().position(|i| *i == 7) < ids.iter().position(|i| *i == 31) && ids.contains(&7))
        };
        let shrunk = shrink(steps, &mut fails).expect("shrinks");
        assert_eq!(shrunk.iter().map(|s| s.id).collect::<Vec<_>>(), [7, 31]);
        assert!(shrunk.iter().all(|s| s.act == Act::Advance { duration: ADVANCES[0] }), "values simplified");
    }
}
