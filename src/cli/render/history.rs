//! The reports over the store's history: `report activity` as a table, CSV or JSON, and what a
//! `timeline` wrote.

use std::io::Write;

use super::{finish, table};
use crate::model::time::format_timestamp;
use crate::ops::{Outcome, ReportFormat};
use crate::report::{ActivityReport, ActivityRow};

pub(super) fn render(outcome: &Outcome, out: &mut dyn Write) -> std::io::Result<()> {
    match outcome {
        Outcome::Activity { report, format: ReportFormat::Table } => activity_table(report, out),
        Outcome::Activity { report, format: ReportFormat::Csv } => activity_csv(report, out),
        Outcome::Activity { format: ReportFormat::Json, .. } => {
            let text = serde_json::to_string_pretty(&outcome.to_json()).map_err(std::io::Error::other)?;
            writeln!(out, "{text}")
        }
        Outcome::Timeline { timeline, written, picture, format } => {
            let bars = timeline.lanes.iter().flat_map(|l| &l.marks).filter(|m| m.kind.is_bar()).count();
            let marks = timeline.lanes.iter().map(|l| l.marks.len()).sum::<usize>() - bars;
            let what = format!(
                "{} lane(s), {bars} bar(s) and {marks} marker(s), {} to {}",
                timeline.lanes.len(),
                format_timestamp(timeline.period.since),
                format_timestamp(timeline.period.until)
            );
            match (written, picture) {
                (Some(path), _) => {
                    writeln!(
                        out,
                        "Wrote {} ({}): {}: {what}",
                        path.display(),
                        format.as_str(),
                        timeline.about
                    )
                }
                (None, Some(text)) => write!(out, "{text}"),
                (None, None) => writeln!(out, "{what}"),
            }
        }
        _ => Ok(()),
    }
}

/// The columns after the first, as the table and the CSV name them.
const COLUMNS: [&str; 10] = [
    "activations",
    "refused",
    "denied",
    "approved",
    "wait min",
    "wait median",
    "wait max",
    "peak holders",
    "standing h",
    "jit h",
];

fn cells(r: &ActivityRow) -> Vec<String> {
    let wait =
        |f: fn(&crate::report::Wait) -> &String| r.approval_wait.as_ref().map(f).cloned().unwrap_or_default();
    vec![
        r.activations.to_string(),
        r.refused.to_string(),
        r.denied.to_string(),
        r.approved.to_string(),
        wait(|w| &w.min),
        wait(|w| &w.median),
        wait(|w| &w.max),
        r.peak_holders.to_string(),
        format!("{:.2}", r.standing_hours),
        format!("{:.2}", r.jit_hours),
    ]
}

fn activity_table(r: &ActivityReport, out: &mut dyn Write) -> std::io::Result<()> {
    let by = r.by.as_str();
    writeln!(
        out,
        "Activity by {by}, {} to {}:",
        format_timestamp(r.period.since),
        format_timestamp(r.period.until)
    )?;
    if r.rows.is_empty() {
        return writeln!(out, "nothing happened");
    }
    let mut header = vec![by];
    header.extend(COLUMNS);
    let mut t = table(&header);
    for row in r.rows.iter().chain(std::iter::once(&r.total)) {
        let mut line = vec![row.key.clone()];
        line.extend(cells(row));
        t.add_row(line);
    }
    writeln!(out, "{}", finish(&t))
}

/// One record per row (no total: a program sums what it needs), with the row's id.
fn activity_csv(r: &ActivityReport, out: &mut dyn Write) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let mut header = vec![r.by.as_str().to_string(), "id".to_string()];
    header.extend(COLUMNS.iter().map(|c| c.replace(' ', "_")));
    w.write_record(&header)?;
    for row in &r.rows {
        let mut record = vec![row.key.clone(), row.id.clone().unwrap_or_default()];
        record.extend(cells(row));
        w.write_record(&record)?;
    }
    w.flush()
}
