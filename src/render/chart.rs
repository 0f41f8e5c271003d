//! The archive's history as a picture: a grouped bar chart of counts per year (issues opened,
//! issues closed, commits…), drawn at build time as inline SVG.
//!
//! The SVG has no script, no style attribute and no font of its own: colours come from the
//! series' CSS classes (the theme's stylesheet fills them, light and dark), text inherits the
//! page's font. Coordinates are printed with one decimal, so the same counts always give the
//! same bytes. It is an image to assistive technology (`role="img"`, `<title>`, `<desc>` with
//! the totals and peaks); [`history_table`] gives every number as an HTML table.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::ops::RangeInclusive;

use crate::text::escape;

/// One series of the chart: a count per year.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Series {
    /// What it counts, as the legend shows it: `Issues opened`.
    pub label: String,
    /// The CSS class its bars and legend swatch carry (`opened`); the stylesheet colours it.
    /// Only ASCII letters, digits, `-` and `_` are kept.
    pub css_class: String,
    /// Year → count. Years missing here count as 0; years outside the chart's range are ignored.
    pub counts: BTreeMap<i32, u64>,
}

impl Series {
    /// A series from its label, class and counts.
    pub fn new(label: &str, css_class: &str, counts: BTreeMap<i32, u64>) -> Self {
        Series {
            label: label.to_string(),
            css_class: css_class.to_string(),
            counts,
        }
    }

    fn count(&self, year: i32) -> u64 {
        self.counts.get(&year).copied().unwrap_or(0)
    }

    fn class(&self) -> String {
        self.css_class
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect()
    }
}

/// The smallest and largest year with a non-zero count in any series, if any.
pub fn year_span(series: &[Series]) -> Option<RangeInclusive<i32>> {
    let years = series
        .iter()
        .flat_map(|s| s.counts.iter().filter(|(_, &n)| n > 0).map(|(&y, _)| y));
    let (lo, hi) = years.fold(None, |acc: Option<(i32, i32)>, y| match acc {
        None => Some((y, y)),
        Some((lo, hi)) => Some((lo.min(y), hi.max(y))),
    })?;
    Some(lo..=hi)
}

// The drawing's own units (the viewBox); the page scales it to its width. The stylesheet sets
// the text's size: at most 16 units (the most it sets, on a phone, where the drawing shrinks).
const WIDTH: f64 = 560.0;
const HEIGHT: f64 = 240.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 32.0;
const BOTTOM: f64 = 26.0;
/// The widest a character of the labels can be: no font metrics at build time, so generous.
const CHAR: f64 = 9.0;
/// The most year labels under the axis before they are thinned out.
const MAX_YEAR_LABELS: u32 = 12;

/// A grouped bar chart of `series` over `years`, one group of bars per year, as an `<svg>`
/// element to put inline in a page. Every series gets a bar in every year (a zero count
/// draws nothing); the legend sits above the plot; the y axis has round gridlines; the x axis
/// labels every year, or every 2nd, 5th, 10th… when there are many.
pub fn history_svg(series: &[Series], years: RangeInclusive<i32>) -> String {
    let (first, last) = (*years.start(), *years.end().max(years.start()));
    let n_years = (i64::from(last) - i64::from(first) + 1) as f64;
    let max = series
        .iter()
        .flat_map(|s| (first..=last).map(move |y| s.count(y)))
        .max()
        .unwrap_or(0);
    let (step, top) = y_scale(max);
    // Room for the longest y label.
    let left = (10.0 + CHAR * thousands(top).len() as f64).max(30.0);
    let plot_w = WIDTH - left - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let base = TOP + plot_h;
    let group_w = plot_w / n_years;
    let n_series = series.len().max(1) as f64;
    let bar_w = group_w * 0.8 / n_series;
    let y_of = |v: u64| base - plot_h * v as f64 / top as f64;

    let title = title(series, first, last);
    let id = format!(
        "chart-{:08x}",
        xxhash_rust::xxh3::xxh3_64(title.as_bytes()) as u32
    );
    let (left_n, right, base) = (N(left), N(WIDTH - RIGHT), N(base));
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg class=\"history-chart\" viewBox=\"0 0 {} {}\" role=\"img\" \
         aria-labelledby=\"{id}-t {id}-d\" xmlns=\"http://www.w3.org/2000/svg\">\n\
         <title id=\"{id}-t\">{}</title>\n<desc id=\"{id}-d\">{}</desc>\n",
        N(WIDTH),
        N(HEIGHT),
        escape(&title),
        escape(&describe(series, first, last)),
    );

    // Gridlines and y labels.
    out.push_str("<g class=\"axis y-axis\">\n");
    let mut v = 0;
    while v <= top {
        let y = y_of(v);
        let _ = writeln!(
            out,
            "<line class=\"grid\" x1=\"{left_n}\" x2=\"{right}\" y1=\"{0}\" y2=\"{0}\"/>\
             <text x=\"{1}\" y=\"{2}\" text-anchor=\"end\">{3}</text>",
            N(y),
            N(left - 6.0),
            N(y + 4.0),
            thousands(v),
        );
        v += step;
    }
    out.push_str("</g>\n");

    // Year labels.
    let every = label_every(last - first + 1);
    out.push_str("<g class=\"axis x-axis\">\n");
    for year in first..=last {
        if year.rem_euclid(every) != 0 {
            continue;
        }
        let x = N(left + group_w * (f64::from(year - first) + 0.5));
        let _ = writeln!(
            out,
            "<line class=\"tick\" x1=\"{x}\" x2=\"{x}\" y1=\"{base}\" y2=\"{}\"/>\
             <text x=\"{x}\" y=\"{}\" text-anchor=\"middle\">{year}</text>",
            N(base.0 + 4.0),
            N(HEIGHT - 6.0),
        );
    }
    out.push_str("</g>\n");

    // Bars.
    for (i, s) in series.iter().enumerate() {
        let _ = writeln!(out, "<g class=\"series {}\">", s.class());
        for year in first..=last {
            let n = s.count(year);
            if n == 0 {
                continue;
            }
            let x = left + group_w * (f64::from(year - first) + 0.1) + bar_w * i as f64;
            let y = y_of(n);
            let _ = writeln!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\">\
                 <title>{year}: {} {}</title></rect>",
                N(x),
                N(y),
                N(bar_w),
                N(base.0 - y),
                thousands(n),
                escape(&lower_first(&s.label)),
            );
        }
        out.push_str("</g>\n");
    }
    let _ = writeln!(
        out,
        "<line class=\"baseline\" x1=\"{left_n}\" x2=\"{right}\" y1=\"{base}\" y2=\"{base}\"/>"
    );

    // Legend, left to right above the plot.
    out.push_str("<g class=\"legend\">\n");
    let mut x = left;
    for s in series {
        let _ = writeln!(
            out,
            "<g class=\"series {}\"><rect x=\"{}\" y=\"6\" width=\"13\" height=\"13\"/></g>\
             <text x=\"{}\" y=\"18\">{}</text>",
            s.class(),
            N(x),
            N(x + 17.0),
            escape(&s.label),
        );
        x += 17.0 + CHAR * s.label.chars().count() as f64 + 16.0;
    }
    out.push_str("</g>\n</svg>");
    out
}

/// A coordinate, printed with at most one decimal (`12`, `12.5`): the same value always gives
/// the same bytes.
#[derive(Clone, Copy)]
struct N(f64);

impl std::fmt::Display for N {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = format!("{:.1}", self.0);
        let s = s.strip_suffix(".0").unwrap_or(&s);
        f.write_str(if s == "-0" { "0" } else { s })
    }
}

/// Every number of the chart as an HTML table: a row per year, a column per series.
pub fn history_table(series: &[Series], years: RangeInclusive<i32>) -> String {
    let (first, last) = (*years.start(), *years.end().max(years.start()));
    let mut out =
        String::from("<table class=\"chart-data\">\n<thead><tr><th scope=\"col\">Year</th>");
    for s in series {
        let _ = write!(out, "<th scope=\"col\">{}</th>", escape(&s.label));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for year in first..=last {
        let _ = write!(out, "<tr><th scope=\"row\">{year}</th>");
        for s in series {
            let _ = write!(out, "<td>{}</td>", thousands(s.count(year)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>");
    out
}

/// `Issues opened and issues closed per year, 2010–2023`.
fn title(series: &[Series], first: i32, last: i32) -> String {
    let labels: Vec<String> = series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            if i == 0 {
                s.label.clone()
            } else {
                lower_first(&s.label)
            }
        })
        .collect();
    let what = match labels.as_slice() {
        [] => "Counts".to_string(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {}", init.join(", "), last),
    };
    if first == last {
        format!("{what} in {first}")
    } else {
        format!("{what} per year, {first}–{last}")
    }
}

/// The numbers in words: each series' total and its busiest year.
fn describe(series: &[Series], first: i32, last: i32) -> String {
    let parts: Vec<String> = series
        .iter()
        .map(|s| {
            let total: u64 = (first..=last).map(|y| s.count(y)).sum();
            // The earliest of the busiest years.
            let peak = (first..=last)
                .map(|y| (s.count(y), std::cmp::Reverse(y)))
                .max()
                .filter(|(n, _)| *n > 0);
            match peak {
                Some((n, std::cmp::Reverse(y))) => format!(
                    "{}: {} in all, most in {y} ({}).",
                    s.label,
                    thousands(total),
                    thousands(n)
                ),
                None => format!("{}: none.", s.label),
            }
        })
        .collect();
    parts.join(" ")
}

/// Gridline step and the axis top (a multiple of the step, at least `max`): steps of 1, 2 or
/// 5 times a power of ten, about four gridlines.
fn y_scale(max: u64) -> (u64, u64) {
    if max == 0 {
        return (1, 1);
    }
    let rough = max.div_ceil(4).max(1);
    let mut magnitude = 1u64;
    while magnitude.saturating_mul(10) <= rough {
        magnitude *= 10;
    }
    let step = [1, 2, 5, 10]
        .iter()
        .map(|m| m * magnitude)
        .find(|&s| s >= rough)
        .unwrap_or(10 * magnitude);
    (step, max.div_ceil(step) * step)
}

/// Label every year, or every 2nd, 5th, 10th, 20th… so that at most a dozen labels show.
fn label_every(n_years: i32) -> i32 {
    let n = n_years.max(1) as u32;
    let mut every = 1u32;
    for m in [2u32, 5, 10, 20, 50, 100, 200, 500, 1000].iter() {
        if n.div_ceil(every) <= MAX_YEAR_LABELS {
            break;
        }
        every = *m;
    }
    every as i32
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        // Keep acronyms (`LU issues`, `JIRA`) as they are.
        Some(c) if c.is_uppercase() && !chars.clone().next().is_some_and(char::is_uppercase) => {
            c.to_lowercase().chain(chars).collect()
        }
        _ => s.to_string(),
    }
}

/// `12345` → `12,345`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(label: &str, class: &str, counts: &[(i32, u64)]) -> Series {
        Series::new(label, class, counts.iter().copied().collect())
    }

    fn sample() -> Vec<Series> {
        vec![
            series(
                "Issues opened",
                "opened",
                &[(2010, 3), (2011, 12), (2012, 7)],
            ),
            series(
                "Issues closed",
                "closed",
                &[(2011, 4), (2012, 9), (2013, 2)],
            ),
        ]
    }

    #[test]
    fn small_chart() {
        insta::assert_snapshot!(history_svg(&sample(), 2010..=2013));
    }

    #[test]
    fn small_table() {
        insta::assert_snapshot!(history_table(&sample(), 2010..=2013));
    }

    #[test]
    fn output_is_deterministic_and_self_contained() {
        let a = history_svg(&sample(), 2010..=2013);
        assert_eq!(a, history_svg(&sample(), 2010..=2013));
        assert!(a.starts_with("<svg ") && a.ends_with("</svg>"));
        for banned in ["style", "<script", "font-family", "href", "fill="] {
            assert!(!a.contains(banned), "{banned} in {a}");
        }
        // One bar per non-zero count, each with its number.
        assert_eq!(a.matches("<rect ").count(), 6 + 2);
        assert!(a.contains("<title>2011: 12 issues opened</title>"));
    }

    #[test]
    fn description_gives_totals_and_peaks() {
        let a = history_svg(&sample(), 2010..=2013);
        assert!(a.contains("<title id=\"chart-"));
        assert!(a.contains("Issues opened and issues closed per year, 2010–2013</title>"));
        assert!(a.contains(
            "Issues opened: 22 in all, most in 2011 (12). Issues closed: 15 in all, most in 2012 (9).</desc>"
        ));
    }

    #[test]
    fn any_number_of_series() {
        let mut s = sample();
        s.push(series("Commits", "commits", &[(2012, 1500)]));
        let svg = history_svg(&s, 2010..=2013);
        assert_eq!(svg.matches("class=\"series commits\"").count(), 2);
        assert!(svg.contains("Issues opened, issues closed and commits per year"));
        assert!(svg.contains(">1,500<") || svg.contains(">2,000<"));
        assert!(history_svg(&[], 2010..=2010).contains("<svg "));
    }

    #[test]
    fn labels_thin_out_over_many_years() {
        assert_eq!(label_every(1), 1);
        assert_eq!(label_every(12), 1);
        assert_eq!(label_every(14), 2);
        assert_eq!(label_every(28), 5);
        assert_eq!(label_every(100), 10);
        let s = vec![series("Commits", "commits", &[(1999, 5), (2026, 9)])];
        let svg = history_svg(&s, 1999..=2026);
        assert!(svg.contains(">2000</text>") && svg.contains(">2025</text>"));
        assert!(!svg.contains(">2001</text>"));
    }

    #[test]
    fn scales_are_round() {
        assert_eq!(y_scale(0), (1, 1));
        assert_eq!(y_scale(3), (1, 3));
        assert_eq!(y_scale(12), (5, 15));
        assert_eq!(y_scale(17), (5, 20));
        assert_eq!(y_scale(1234), (500, 1500));
        assert_eq!(y_scale(20_000), (5000, 20_000));
    }

    #[test]
    fn classes_and_labels_are_escaped() {
        let s = vec![series("<b>&", "x\" onload=\"y", &[(2020, 1)])];
        let svg = history_svg(&s, 2020..=2020);
        assert!(svg.contains("class=\"series xonloady\""));
        assert!(svg.contains("&lt;b&gt;&amp;"));
        assert!(!svg.contains("<b>"));
        assert_eq!(year_span(&s), Some(2020..=2020));
        assert_eq!(year_span(&[]), None);
    }
}
