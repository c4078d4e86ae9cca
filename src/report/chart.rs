//! The picture of a package in the job summary: its versions by month, quarter or year of
//! creation before the run (bars) and after it (a line), as a Mermaid `xychart-beta` of at most
//! 12 columns, whole-number ticks, and colours that read on GitHub's light and dark themes.

use crate::model::Timestamp;
use chrono::Datelike;
use std::borrow::Borrow;
use std::fmt::Write as _;

/// The most columns a chart has, however many versions and years there are.
pub const MAX_COLUMNS: usize = 12;

/// The lowest top of the y-axis: Mermaid draws d3's ten ticks, whole numbers only from a
/// top of 10 on (a top of 4 would tick every 0.5).
const MIN_TOP: usize = 10;

/// Bars (before) and line (after): GitHub's blue and orange, which read on white and on
/// GitHub's dark background alike.
const PALETTE: &str = "#4493f8, #f0883e";

/// A Mermaid block charting the creation times `before` (bars) and `after` (a line) of the
/// versions of `what` (such as "active versions"); `None` when there is nothing to chart. Only
/// numbers and dates are drawn: the chart holds no text from the API. The times are walked
/// (twice), never collected: at 100,000 versions a copy of them would be megabytes.
pub fn versions_by_age<B, A>(what: &str, before: B, after: A) -> Option<String>
where
    B: IntoIterator + Clone,
    B::Item: Borrow<Timestamp>,
    A: IntoIterator + Clone,
    A::Item: Borrow<Timestamp>,
{
    let months_before = || {
        before
            .clone()
            .into_iter()
            .map(|at| month_index(*at.borrow()))
    };
    let months_after = || {
        after
            .clone()
            .into_iter()
            .map(|at| month_index(*at.borrow()))
    };
    let first = months_before().chain(months_after()).min()?;
    let last = months_before().chain(months_after()).max()?;
    let width = column_width(first, last);
    let start = first - first.rem_euclid(width);
    let columns = ((last - start) / width + 1) as usize;
    let count = |months: &mut dyn Iterator<Item = i64>| {
        let mut counts = vec![0usize; columns];
        for month in months {
            counts[((month - start) / width) as usize] += 1;
        }
        counts
    };
    let bars = count(&mut months_before());
    let line = count(&mut months_after());
    let top = bars
        .iter()
        .chain(&line)
        .copied()
        .max()
        .unwrap_or(0)
        .max(MIN_TOP);
    let labels: Vec<String> = (0..columns)
        .map(|column| format!("\"{}\"", label(start + column as i64 * width, width)))
        .collect();
    let numbers = |counts: &[usize]| {
        counts
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let unit = unit(width);
    let mut out = String::from("```mermaid\n---\nconfig:\n  themeVariables:\n    xyChart:\n");
    let _ = writeln!(
        out,
        "      plotColorPalette: \"{PALETTE}\"\n---\nxychart-beta"
    );
    let what = what.replace(['"', '\n'], "");
    let _ = writeln!(
        out,
        "    title \"{what} per {unit} created: before (bars), after (line)\""
    );
    let _ = writeln!(out, "    x-axis \"{unit} created\" [{}]", labels.join(", "));
    let _ = writeln!(out, "    y-axis \"versions\" 0 --> {top}");
    let _ = writeln!(out, "    bar [{}]", numbers(&bars));
    let _ = writeln!(out, "    line [{}]", numbers(&line));
    out.push_str("```\n");
    Some(out)
}

/// Months since year 0 (UTC) of a time in seconds since the epoch.
fn month_index(at: Timestamp) -> i64 {
    let date = chrono::DateTime::from_timestamp(at, 0).unwrap_or_default();
    i64::from(date.year()) * 12 + i64::from(date.month0())
}

/// Months per column: 1, a quarter, a year, or whole years, the smallest that fits the span in
/// [`MAX_COLUMNS`] columns aligned to the calendar.
fn column_width(first: i64, last: i64) -> i64 {
    let fits = |width: i64| (last - (first - first.rem_euclid(width))) / width < MAX_COLUMNS as i64;
    let mut width = [1, 3, 12]
        .into_iter()
        .find(|&width| fits(width))
        .unwrap_or(24);
    while !fits(width) {
        width += 12;
    }
    width
}

/// What a column is: a month, a quarter, a year, or several years.
fn unit(width: i64) -> &'static str {
    match width {
        1 => "month",
        3 => "quarter",
        12 => "year",
        _ => "years",
    }
}

/// The label of the column starting at `month` that is `width` months wide.
fn label(month: i64, width: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (year, month0) = (month.div_euclid(12), month.rem_euclid(12));
    match width {
        1 => format!("{} {year}", MONTHS[month0 as usize]),
        3 => format!("{year} Q{}", month0 / 3 + 1),
        12 => year.to_string(),
        _ => format!("{year}–{}", (month + width - 1).div_euclid(12)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Seconds since the epoch at noon of this day (UTC).
    fn at(year: i32, month: u32, day: u32) -> Timestamp {
        chrono::NaiveDate::from_ymd_opt(year, month, day)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp()
    }

    fn line<'a>(chart: &'a str, start: &str) -> &'a str {
        chart
            .lines()
            .find_map(|l| l.trim().strip_prefix(start))
            .unwrap_or_else(|| panic!("no {start:?} in {chart}"))
    }

    #[test]
    fn months_named_whole_ticks_and_both_themes_colours() {
        let before = [
            at(2026, 1, 5),
            at(2026, 1, 20),
            at(2026, 3, 1),
            at(2026, 3, 31),
        ];
        let after = [at(2026, 1, 20), at(2026, 3, 31)];
        let chart = versions_by_age("active versions", &before, &after).unwrap();
        assert!(chart.starts_with("```mermaid\n---\nconfig:\n"), "{chart}");
        assert!(chart.contains(&format!("plotColorPalette: \"{PALETTE}\"")));
        assert!(chart.ends_with("```\n"));
        assert_eq!(
            line(&chart, "title "),
            "\"active versions per month created: before (bars), after (line)\""
        );
        assert_eq!(
            line(&chart, "x-axis "),
            "\"month created\" [\"Jan 2026\", \"Feb 2026\", \"Mar 2026\"]"
        );
        assert_eq!(line(&chart, "y-axis "), "\"versions\" 0 --> 10");
        assert_eq!(line(&chart, "bar "), "[2, 0, 2]");
        assert_eq!(line(&chart, "line "), "[1, 0, 1]");
        let many: Vec<Timestamp> = (0..37).map(|i| at(2026, 1, 1) + i).collect();
        let chart = versions_by_age("t", &many, &many[..3]).unwrap();
        assert_eq!(line(&chart, "y-axis "), "\"versions\" 0 --> 37");
    }

    #[test]
    fn nothing_to_chart_without_versions() {
        assert_eq!(versions_by_age("t", &[], &[]), None);
        let chart = versions_by_age("t", &[at(2025, 12, 31)], &[]).unwrap();
        assert_eq!(line(&chart, "bar "), "[1]");
        assert_eq!(line(&chart, "line "), "[0]");
    }

    #[test]
    fn long_spans_use_quarters_years_then_several_years_never_more_than_12_columns() {
        let span = |from: (i32, u32), to: (i32, u32)| {
            let chart =
                versions_by_age("t", &[at(from.0, from.1, 1), at(to.0, to.1, 28)], &[]).unwrap();
            let axis = line(&chart, "x-axis ").to_string();
            let columns = axis.matches('"').count() / 2 - 1;
            assert!(columns <= MAX_COLUMNS, "{axis}");
            let bars: usize = line(&chart, "bar ")
                .trim_matches(['[', ']'])
                .split(", ")
                .map(|n| n.parse::<usize>().unwrap())
                .sum();
            assert_eq!(bars, 2, "every version counted once: {chart}");
            (columns, axis)
        };
        let (columns, axis) = span((2025, 1), (2025, 12));
        assert_eq!(columns, 12);
        assert!(
            axis.starts_with("\"month created\" [\"Jan 2025\""),
            "{axis}"
        );
        let (columns, axis) = span((2024, 2), (2026, 2));
        assert_eq!(columns, 9, "{axis}");
        assert!(
            axis.contains("\"quarter created\" [\"2024 Q1\"") && axis.ends_with("\"2026 Q1\"]")
        );
        let (columns, axis) = span((2020, 5), (2027, 8));
        assert_eq!(columns, 8, "{axis}");
        assert!(axis.contains("\"year created\" [\"2020\"") && axis.ends_with("\"2027\"]"));
        let (_, axis) = span((1971, 3), (2026, 11));
        assert!(axis.contains("\"years created\" [\"1970–1974\""), "{axis}");
    }

    #[test]
    fn a_hundred_thousand_versions_make_a_chart_as_small_as_a_few() {
        let before: Vec<Timestamp> = (0..100_000).map(|i| at(2016, 1, 1) + i * 3_000).collect();
        let chart = versions_by_age("t", &before, &before[..10]).unwrap();
        assert!(chart.len() < 1_000, "{} bytes", chart.len());
    }
}
