//! Properties over time as stories: `check` (each property held, or the first instant that broke
//! it and the events that led there) and `fuzz` (the steps taken, the shrunk steps, the script).

use std::io::Write;

use super::{finish, table};
use crate::model::time::format_timestamp;
use crate::ops::{FuzzReport, Outcome};
use crate::report::{CheckReport, Event, PropertyResult, Status, When};

pub(super) fn render(outcome: &Outcome, out: &mut dyn Write) -> std::io::Result<()> {
    match outcome {
        Outcome::Check(r) => check(r, out),
        Outcome::Fuzz(r) => fuzz(r, out),
        _ => Ok(()),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {many}") }
}

fn check(r: &CheckReport, out: &mut dyn Write) -> std::io::Result<()> {
    let span = match (r.from, r.to) {
        (Some(from), Some(to)) => format!(", {} to {}", format_timestamp(from), format_timestamp(to)),
        _ => String::new(),
    };
    writeln!(
        out,
        "{}: {} judged at {}{span}.",
        r.file,
        plural(r.properties.len(), "property", "properties"),
        plural(r.instants, "instant", "instants")
    )?;
    for p in &r.properties {
        writeln!(out)?;
        property(p, r.instants, out)?;
    }
    Ok(())
}

fn property(p: &PropertyResult, instants: usize, out: &mut dyn Write) -> std::io::Result<()> {
    let Some(at) = p.at else {
        writeln!(out, "held      {}", p.name)?;
        return writeln!(out, "          at every one of {}", plural(instants, "instant", "instants"));
    };
    let word = if p.status == Status::Failed { "FAILED  " } else { "VIOLATED" };
    writeln!(out, "{word}  {}", p.name)?;
    let when = match p.when {
        Some(When::Past) => "past",
        Some(When::Now) => "now",
        Some(When::Future) => "future: the schedules already made",
        None => "",
    };
    let said = p.message.as_deref().map_or(String::new(), |m| format!(": {m}"));
    writeln!(
        out,
        "          first at {} (instant {} of {instants}, {when}){said}",
        format_timestamp(at),
        p.judged
    )?;
    writeln!(out, "          what led to it:")?;
    events(&p.events, out)
}

fn events(events: &[Event], out: &mut dyn Write) -> std::io::Result<()> {
    let mut t = table(&["time", "who", "what", "about"]);
    for e in events {
        t.add_row(vec![
            format_timestamp(e.at),
            e.actor.clone().unwrap_or_else(|| "(schedule)".into()),
            match e.result.as_deref() {
                Some("failure") => format!("{} (refused)", e.what),
                _ => e.what.clone(),
            },
            e.targets.join(", "),
        ]);
    }
    for line in finish(&t).lines() {
        writeln!(out, "          {line}")?;
    }
    Ok(())
}

fn fuzz(r: &FuzzReport, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "fuzz {}, seed {}: {} of {} taken on a private copy of the store; the properties judged after each.",
        r.file,
        r.seed,
        plural(r.taken, "step", "steps"),
        r.steps
    )?;
    let Some(v) = &r.violation else {
        return writeln!(out, "Every property held after every step: {}.", r.properties.join("; "));
    };
    let word = if v.status == Status::Failed { "FAILED" } else { "VIOLATED" };
    let said = v.message.as_deref().map_or(String::new(), |m| format!(": {m}"));
    let after = match v.after_step {
        0 => "before any step (the store breaks it already)".to_string(),
        n => format!("after step {n}"),
    };
    writeln!(out, "{word} {}, {after}, at {}{said}", v.property, format_timestamp(v.at))?;
    writeln!(out, "Shrunk to {}:", plural(v.shrunk.len(), "step", "steps"))?;
    for (i, s) in v.shrunk.iter().enumerate() {
        writeln!(out, "  {}. {} {}", i + 1, s.by.as_deref().unwrap_or("the administrator"), s.does)?;
    }
    writeln!(out, "A script that replays it (pimlab --db COPY.db run SCRIPT.lua, on a copy of the store):")?;
    writeln!(out)?;
    write!(out, "{}", v.script)
}
