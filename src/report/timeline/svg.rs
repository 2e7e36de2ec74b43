//! The timeline drawn as SVG: a title, the time axis with its ticks, one lane per principal or
//! role (bars for windows, markers for moments), the clock's "now" when it falls inside, and a
//! legend. Only a generic font family is named, nothing is fetched, and numbers are printed with
//! two decimals, so the same timeline always gives the same bytes.
//!
//! The root carries the geometry (`data-since`, `data-until`, `data-plot-left`,
//! `data-plot-right`, `data-lane-top`, `data-lane-height`), and every mark its hover text
//! (`data-tip`, and a `<title>` for viewers that show one), so a reader (the HTML page, a test)
//! can find where a time and a lane are drawn.

use std::fmt::Write;

use super::{Mark, MarkKind, Timeline, axis};
use crate::model::Timestamp;
use crate::model::time::format_timestamp;

pub const WIDTH: f64 = 1200.0;
/// Where the plot starts (the lane labels are to its left) and ends.
pub const PLOT_LEFT: f64 = 260.0;
pub const PLOT_RIGHT: f64 = 1180.0;
/// Where the first lane starts, and each lane's height.
pub const LANE_TOP: f64 = 70.0;
pub const LANE_HEIGHT: f64 = 32.0;

/// The colour of each kind of mark (ColorBrewer hues that stay apart for most readers).
pub fn colour(kind: MarkKind) -> &'static str {
    match kind {
        MarkKind::Eligible => "#9ecae1",
        MarkKind::Assigned => "#756bb1",
        MarkKind::Activated => "#31a354",
        MarkKind::Waiting => "#fd8d3c",
        MarkKind::Refused => "#e31a1c",
        MarkKind::Denied => "#67000d",
        MarkKind::Expired => "#525252",
    }
}

/// Text made safe inside an XML attribute or element.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push_str("&#10;"),
            // Control characters are not allowed in XML 1.0 at all.
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Where `t` is drawn (clamped to the plot).
fn x(t: &Timeline, at: Timestamp) -> f64 {
    let span = (t.period.until - t.period.since).num_milliseconds().max(1) as f64;
    let part = (at - t.period.since).num_milliseconds() as f64 / span;
    PLOT_LEFT + part.clamp(0.0, 1.0) * (PLOT_RIGHT - PLOT_LEFT)
}

/// The hover text of a mark: what it is, its times, and the request's details.
pub fn tip(m: &Mark) -> String {
    let mut lines = vec![m.detail.what.clone()];
    match (m.kind.is_bar(), m.end) {
        (false, _) => lines.push(format!("at {}", format_timestamp(m.start))),
        (true, Some(end)) => {
            lines.push(format!("{} to {}", format_timestamp(m.start), format_timestamp(end)))
        }
        (true, None) => lines.push(format!("from {} (permanent)", format_timestamp(m.start))),
    }
    let d = &m.detail;
    for (name, value) in [
        ("request", &d.request_id),
        ("justification", &d.justification),
        ("approver", &d.approver),
        ("reason", &d.reason),
    ] {
        if let Some(v) = value {
            lines.push(format!("{name}: {v}"));
        }
    }
    lines.join("\n")
}

/// The picture as an SVG document.
pub fn write(t: &Timeline) -> String {
    let lanes = t.lanes.len().max(1) as f64;
    let legend_top = LANE_TOP + lanes * LANE_HEIGHT + 24.0;
    let height = legend_top + 40.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH:.0}" height="{height:.0}" viewBox="0 0 {WIDTH:.0} {height:.0}" font-family="sans-serif" font-size="12" data-since="{}" data-until="{}" data-plot-left="{PLOT_LEFT:.0}" data-plot-right="{PLOT_RIGHT:.0}" data-lane-top="{LANE_TOP:.0}" data-lane-height="{LANE_HEIGHT:.0}">"##,
        format_timestamp(t.period.since),
        format_timestamp(t.period.until)
    );
    let _ = writeln!(s, r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);
    let _ = writeln!(
        s,
        r##"<text x="12" y="24" font-size="16" font-weight="bold">{}</text>"##,
        escape(&format!(
            "{} — {} to {}",
            t.about,
            format_timestamp(t.period.since),
            format_timestamp(t.period.until)
        ))
    );
    let bottom = LANE_TOP + lanes * LANE_HEIGHT;
    // Lanes' backgrounds and labels, then the grid over them, then the marks.
    for (i, lane) in t.lanes.iter().enumerate() {
        let top = LANE_TOP + i as f64 * LANE_HEIGHT;
        let fill = if i % 2 == 0 { "#f4f4f4" } else { "#ffffff" };
        let _ = writeln!(
            s,
            r##"<g class="lane" data-lane="{}" data-top="{top:.0}"><rect x="0" y="{top:.2}" width="{WIDTH:.0}" height="{LANE_HEIGHT:.0}" fill="{fill}"/><text x="12" y="{:.2}">{}</text></g>"##,
            escape(&lane.label),
            top + 20.0,
            escape(&truncate(&lane.label, 36))
        );
    }
    if t.lanes.is_empty() {
        let _ = writeln!(
            s,
            r##"<text x="{PLOT_LEFT:.0}" y="{:.2}" fill="#525252">nothing to show in this period</text>"##,
            LANE_TOP + 20.0
        );
    }
    for tick in axis::ticks(t.period.since, t.period.until) {
        let at = x(t, tick.at);
        let _ = writeln!(
            s,
            r##"<line x1="{at:.2}" y1="{:.2}" x2="{at:.2}" y2="{bottom:.2}" stroke="#d0d0d0" stroke-width="1"/><text x="{at:.2}" y="{:.2}" text-anchor="middle" fill="#525252">{}</text>"##,
            LANE_TOP - 4.0,
            LANE_TOP - 10.0,
            escape(&tick.label)
        );
    }
    for (i, lane) in t.lanes.iter().enumerate() {
        let top = LANE_TOP + i as f64 * LANE_HEIGHT;
        for m in &lane.marks {
            mark(&mut s, t, top, m);
        }
    }
    if t.period.contains(t.now) {
        let at = x(t, t.now);
        let _ = writeln!(
            s,
            r##"<line class="now" x1="{at:.2}" y1="{:.2}" x2="{at:.2}" y2="{bottom:.2}" stroke="#000000" stroke-width="1" stroke-dasharray="4 3"><title>now: {}</title></line>"##,
            LANE_TOP - 4.0,
            format_timestamp(t.now)
        );
    }
    legend(&mut s, legend_top);
    s.push_str("</svg>\n");
    s
}

fn mark(s: &mut String, t: &Timeline, top: f64, m: &Mark) {
    let fill = colour(m.kind);
    let tip = escape(&tip(m));
    let class = m.kind.as_str();
    let request = m.detail.request_id.as_deref().map(|id| format!(r#" data-request="{}""#, escape(id)));
    let request = request.unwrap_or_default();
    if m.kind.is_bar() {
        let (x1, x2) = (x(t, m.start), x(t, m.end.unwrap_or(t.period.until)));
        // Even an instant's bar is wide enough to be seen and hovered.
        let width = (x2 - x1).max(2.0);
        let (y, h) = match m.kind {
            MarkKind::Eligible => (top + 22.0, 7.0),
            _ => (top + 6.0, 14.0),
        };
        let _ = writeln!(
            s,
            r#"<rect class="mark {class}" x="{x1:.2}" y="{y:.2}" width="{width:.2}" height="{h:.2}" fill="{fill}" data-start="{}" data-tip="{tip}"{request}><title>{tip}</title></rect>"#,
            format_timestamp(m.start)
        );
    } else {
        let at = x(t, m.start);
        let mid = top + 13.0;
        let shape = match m.kind {
            MarkKind::Expired => format!(
                r#"<rect x="{:.2}" y="{:.2}" width="3" height="{:.2}""#,
                at - 1.5,
                top + 3.0,
                LANE_HEIGHT - 6.0
            ),
            _ => format!(
                r#"<polygon points="{at:.2},{:.2} {:.2},{mid:.2} {at:.2},{:.2} {:.2},{mid:.2}""#,
                mid - 7.0,
                at + 7.0,
                mid + 7.0,
                at - 7.0
            ),
        };
        let _ = writeln!(
            s,
            r#"<g class="mark {class}" data-at="{}" data-tip="{tip}"{request}>{shape} fill="{fill}"/><title>{tip}</title></g>"#,
            format_timestamp(m.start)
        );
    }
}

fn legend(s: &mut String, top: f64) {
    let mut at = 12.0;
    for kind in MarkKind::ALL {
        let _ = writeln!(
            s,
            r#"<g class="legend" data-kind="{}"><rect x="{at:.2}" y="{top:.2}" width="14" height="14" fill="{}"/><text x="{:.2}" y="{:.2}">{}</text></g>"#,
            kind.as_str(),
            colour(kind),
            at + 20.0,
            top + 12.0,
            kind.legend()
        );
        at += 30.0 + 7.0 * kind.legend().chars().count() as f64;
    }
}

/// A label cut to `n` characters, with an ellipsis when it was longer.
fn truncate(text: &str, n: usize) -> String {
    if text.chars().count() <= n {
        return text.to_string();
    }
    let mut out: String = text.chars().take(n - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_users_cannot_break_out_of_the_markup() {
        assert_eq!(
            escape(r#"<script>"a" & 'b'</script>"#),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
        assert_eq!(escape("bell\u{7}"), "bell\u{fffd}");
        assert_eq!(truncate("abcdef", 4), "abc…");
    }
}
