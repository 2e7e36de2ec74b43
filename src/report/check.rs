//! `check PROPS.lua`: properties judged at every instant of the store's history, in time order;
//! for each, the first instant that violates it (or where it fails) with the events that led
//! there, or how many instants it held at.

use serde::Serialize;

use super::chain::When;
use super::instants::{Event, history, leading_to};
use crate::engine::Engine;
use crate::model::property::{Judge, Question, TenantAt, Verdict};
use crate::model::time::format_timestamp;
use crate::model::{ApiError, Timestamp};

/// How a question about the tenant at an instant is answered (the operations layer runs the
/// report a script's `pim` call runs, so a property reads the same JSON everywhere).
pub type Answer<'a> =
    &'a mut dyn FnMut(&mut Engine, Timestamp, &Question) -> Result<serde_json::Value, ApiError>;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckReport {
    /// The property file, as named.
    pub file: String,
    /// How many instants the history has.
    pub instants: usize,
    #[serde(serialize_with = "maybe_time")]
    pub from: Option<Timestamp>,
    #[serde(serialize_with = "maybe_time")]
    pub to: Option<Timestamp>,
    pub properties: Vec<PropertyResult>,
}

impl CheckReport {
    /// Whether every property held at every instant.
    pub fn all_held(&self) -> bool {
        self.properties.iter().all(|p| p.status == Status::Held)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Status {
    /// True at every instant.
    Held,
    /// False at `at` (the first such instant).
    Violated,
    /// Raised an error (or ran out of its budget) at `at`.
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PropertyResult {
    pub name: String,
    pub status: Status,
    /// The instants it was judged at (all of them when it held; up to and including `at` when not).
    pub judged: usize,
    /// The first instant it did not hold at.
    #[serde(serialize_with = "maybe_time")]
    pub at: Option<Timestamp>,
    /// Whether `at` is before the store's clock, at it, or after it (a schedule already made).
    pub when: Option<When>,
    /// What the property said (its message when it returned false and one, the error when it failed).
    pub message: Option<String>,
    /// The events at `at` and the last few before it.
    pub events: Vec<Event>,
}

fn maybe_time<S: serde::Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&format_timestamp(*t)),
        None => s.serialize_none(),
    }
}

/// The tenant at one instant, its questions answered by `answer`.
struct AsOf<'a, 'b> {
    engine: &'a mut Engine,
    at: Timestamp,
    answer: &'a mut Answer<'b>,
}

impl TenantAt for AsOf<'_, '_> {
    fn at(&self) -> Timestamp {
        self.at
    }
    fn ask(&mut self, question: &Question) -> Result<serde_json::Value, ApiError> {
        (self.answer)(self.engine, self.at, question)
    }
}

/// Property `index` of `judge` at `at`.
pub fn judge_at(
    engine: &mut Engine,
    judge: &dyn Judge,
    index: usize,
    at: Timestamp,
    mut answer: Answer<'_>,
) -> Verdict {
    judge.judge(index, &mut AsOf { engine, at, answer: &mut answer })
}

/// Judges every property of `judge` at every instant of the history until it first fails.
pub fn check(
    engine: &mut Engine,
    judge: &dyn Judge,
    file: &str,
    mut answer: Answer<'_>,
) -> Result<CheckReport, ApiError> {
    let history = history(engine)?;
    let now = engine.now()?;
    let names = judge.names();
    let mut ended: Vec<Option<PropertyResult>> = vec![None; names.len()];
    for (i, moment) in history.iter().enumerate() {
        for (p, name) in names.iter().enumerate() {
            if ended[p].is_some() {
                continue;
            }
            let verdict = judge.judge(p, &mut AsOf { engine, at: moment.at, answer: &mut answer });
            let (status, message) = match verdict {
                Verdict::Holds => continue,
                Verdict::Violated(m) => (Status::Violated, m),
                Verdict::Failed(m) => (Status::Failed, Some(m)),
            };
            ended[p] = Some(PropertyResult {
                name: name.clone(),
                status,
                judged: i + 1,
                at: Some(moment.at),
                when: Some(When::of(moment.at, now)),
                message,
                events: leading_to(&history, i),
            });
        }
        if ended.iter().all(Option::is_some) {
            break;
        }
    }
    let properties = names
        .into_iter()
        .zip(ended)
        .map(|(name, ended)| {
            ended.unwrap_or(PropertyResult {
                name,
                status: Status::Held,
                judged: history.len(),
                at: None,
                when: None,
                message: None,
                events: Vec::new(),
            })
        })
        .collect();
    Ok(CheckReport {
        file: file.to_string(),
        instants: history.len(),
        from: history.first().map(|m| m.at),
        to: history.last().map(|m| m.at),
        properties,
    })
}
