//! The geometry of a 2-D plot, once for every chart perfbundle draws — the
//! SVG charts ([`super::chart`]), the trend page ([`super::trend`]) and the
//! viewer's interactive charts: the picture's size and the plot area's
//! margins, the x and y ranges (y from 0 to a "nice" maximum), the value →
//! pixel mapping both ways, where the ticks go and how their labels are
//! anchored and written.

use crate::k6::text::format_value;

/// Space around the plot area, in pixels (or SVG units).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Margins {
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
}

/// Where the x ticks go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XTicks {
    /// `n + 1` ticks splitting the x range into `n` equal parts.
    Even(u32),
    /// Time axes (x in ms): ticks at round intervals (1, 2, 5, 10, 15, 30 s,
    /// 1, 2, 5, 10, 15, 30 min, 1, 2, 3, 6, 12 h, days), at most `max` of them.
    Time { max: u32 },
    /// Every whole x that is a multiple of `every`, and the last whole x of
    /// the range (one point per run on the trend page).
    Whole { every: usize },
}

/// How a tick label is anchored on its tick (SVG `text-anchor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    pub fn as_str(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// One tick: its value on the axis, its position in pixels, and its label's anchor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tick {
    pub value: f64,
    pub px: f64,
    pub anchor: Anchor,
}

/// A plot's geometry: the picture's size, the plot area's margins, the x and
/// y ranges, and where the ticks go.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotGeometry {
    pub width: f64,
    pub height: f64,
    pub margins: Margins,
    /// The x range shown (`x_px(x.0)` is the plot's left edge). A range
    /// narrower than 1 is drawn as if it were 1 wide.
    pub x: (f64, f64),
    /// The y range: from 0 to [`nice_max`] of the largest value shown.
    pub y: (f64, f64),
    pub x_ticks: XTicks,
    /// The number of equal parts the y ticks split the y range into.
    pub y_ticks: u32,
}

impl PlotGeometry {
    /// A plot of `x` against values from 0 up to `max_value` (rounded up by
    /// [`nice_max`]), with five y ticks.
    pub fn new(width: f64, height: f64, margins: Margins, x: (f64, f64), max_value: f64, x_ticks: XTicks) -> Self {
        PlotGeometry { width, height, margins, x, y: (0.0, nice_max(max_value)), x_ticks, y_ticks: 4 }
    }

    /// The plot area's left edge.
    pub fn left(&self) -> f64 {
        self.margins.left
    }
    /// The plot area's right edge.
    pub fn right(&self) -> f64 {
        self.width - self.margins.right
    }
    /// The plot area's top edge.
    pub fn top(&self) -> f64 {
        self.margins.top
    }
    /// The plot area's bottom edge (the x axis).
    pub fn bottom(&self) -> f64 {
        self.height - self.margins.bottom
    }

    fn x_span(&self) -> f64 {
        (self.x.1 - self.x.0).max(1.0)
    }

    /// The horizontal pixel of `x`.
    pub fn x_px(&self, x: f64) -> f64 {
        self.left() + (x - self.x.0) / self.x_span() * (self.right() - self.left())
    }

    /// The x at a horizontal pixel (the inverse of [`Self::x_px`]).
    pub fn x_at(&self, px: f64) -> f64 {
        self.x.0 + (px - self.left()) / (self.right() - self.left()) * self.x_span()
    }

    /// The vertical pixel of the value `v`.
    pub fn y_px(&self, v: f64) -> f64 {
        let (lo, hi) = self.y;
        self.top() + (1.0 - (v - lo) / (hi - lo)) * (self.bottom() - self.top())
    }

    /// The y ticks, from the bottom up (their labels are end-anchored left of the axis).
    pub fn y_ticks(&self) -> Vec<Tick> {
        let (lo, hi) = self.y;
        let n = self.y_ticks.max(1);
        (0..=n)
            .map(|i| {
                let value = lo + (hi - lo) * f64::from(i) / f64::from(n);
                Tick { value, px: self.y_px(value), anchor: Anchor::End }
            })
            .collect()
    }

    /// The x ticks, left to right: the first label starts at its tick, the
    /// last ends at it, the others (and a lone one) are centred.
    pub fn x_ticks(&self) -> Vec<Tick> {
        let values: Vec<f64> = match self.x_ticks {
            XTicks::Even(n) => {
                let n = n.max(1);
                (0..=n).map(|i| self.x.0 + self.x_span() * f64::from(i) / f64::from(n)).collect()
            }
            XTicks::Time { max } => round_time_ticks(self.x, max.max(2)),
            XTicks::Whole { every } => {
                let (first, last) = (self.x.0.ceil().max(0.0) as usize, self.x.1.floor().max(0.0) as usize);
                let every = every.max(1);
                let mut v: Vec<usize> = (first..=last).filter(|i| i % every == 0).collect();
                // The last one is always labelled; a multiple closer to it than `every` makes way for it.
                if v.last() != Some(&last) {
                    if v.last().is_some_and(|l| last - l < every) {
                        v.pop();
                    }
                    v.push(last);
                }
                v.into_iter().map(|i| i as f64).collect()
            }
        };
        let n = values.len();
        let (left, right) = (self.left(), self.right());
        values
            .into_iter()
            .map(|value| {
                let px = self.x_px(value);
                // A label at an end of the axis does not run past it.
                let anchor = match () {
                    _ if n == 1 => Anchor::Middle,
                    _ if px - left < 24.0 => Anchor::Start,
                    _ if right - px < 24.0 => Anchor::End,
                    _ => Anchor::Middle,
                };
                Tick { value, px, anchor }
            })
            .collect()
    }

    /// Where a y tick's label goes: its end 6 px left of the axis, its
    /// baseline 4 px below the tick.
    pub fn y_label_at(&self, t: &Tick) -> (f64, f64) {
        (self.left() - 6.0, t.px + 4.0)
    }

    /// An SVG path through `points` (x, value), one decimal:
    /// `M x,y L x,y L x,y…` (empty without points).
    pub fn path(&self, points: impl IntoIterator<Item = (f64, f64)>) -> String {
        let mut d = String::new();
        for (x, v) in points {
            d.push_str(if d.is_empty() { "M" } else { " L" });
            d.push_str(&format!("{:.1},{:.1}", self.x_px(x), self.y_px(v)));
        }
        d
    }
}

/// The smallest of 1, 2, 2.5, 5 × 10^k at or above `v` (1 for nothing to show).
pub fn nice_max(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if v <= m * p {
            return m * p;
        }
    }
    10.0 * p
}

/// `HH:MM:SS` (UTC) of a Unix ms time.
pub fn clock_label(ms: f64) -> String {
    let s = crate::time::format_rfc3339_ms((ms * 1e6) as i64);
    s[11..19].to_string()
}

/// `M:SS` (or `H:MM:SS`) of a time since the start, ms.
pub fn elapsed_label(ms: f64) -> String {
    let s = (ms / 1000.0).round().max(0.0) as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// The label of a tick on a time axis: the UTC clock, or the time since the
/// run's start when `elapsed`.
pub fn time_label(ms: f64, elapsed: bool) -> String {
    if elapsed {
        elapsed_label(ms)
    } else {
        clock_label(ms)
    }
}

/// Ticks at the first round interval that gives at most `max` of them over `x` (ms).
fn round_time_ticks(x: (f64, f64), max: u32) -> Vec<f64> {
    const STEPS_S: [f64; 20] = [
        0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0,
        10800.0, 21600.0, 43200.0,
    ];
    let span = (x.1 - x.0).max(0.0);
    // Round steps up to days, then doubling days (a finite list: a span
    // past it, from a hostile file, gets `max` even steps).
    let step = STEPS_S
        .iter()
        .map(|s| s * 1000.0)
        .chain((0..31).map(|d| 86_400_000.0 * f64::from(1u32 << d)))
        .find(|step| span / step <= f64::from(max))
        .unwrap_or((span / f64::from(max)).max(1.0));
    if !step.is_finite() || !x.0.is_finite() {
        return vec![x.0];
    }
    let first = (x.0 / step).ceil() * step;
    let mut out = Vec::new();
    let mut t = first;
    while t <= x.1 + 1e-9 && out.len() <= max as usize {
        out.push(t);
        t += step;
    }
    if out.is_empty() {
        out.push(x.0);
    }
    out
}

/// A value in a chart's unit (`time` ms, `data` bytes, `percent` a 0..1 ratio, `default`).
pub fn format_in(v: f64, contains: &str) -> String {
    if contains == "percent" {
        format!("{:.2}%", v * 100.0)
    } else {
        format_value(v, contains)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: Margins = Margins { left: 70.0, right: 12.0, top: 14.0, bottom: 26.0 };

    #[test]
    fn maps_values_to_pixels_and_back() {
        let g = PlotGeometry::new(900.0, 170.0, M, (1000.0, 2000.0), 3.2, XTicks::Even(5));
        assert_eq!(g.y, (0.0, 5.0));
        assert_eq!((g.left(), g.right(), g.top(), g.bottom()), (70.0, 888.0, 14.0, 144.0));
        assert_eq!(g.x_px(1000.0), 70.0);
        assert_eq!(g.x_px(2000.0), 888.0);
        assert_eq!(g.x_at(g.x_px(1234.0)).round(), 1234.0);
        assert_eq!(g.y_px(0.0), 144.0);
        assert_eq!(g.y_px(5.0), 14.0);
        assert_eq!(g.path([(1000.0, 0.0), (2000.0, 5.0)]), "M70.0,144.0 L888.0,14.0");
        assert_eq!(g.path([]), "");
    }

    #[test]
    fn ticks() {
        let g = PlotGeometry::new(900.0, 170.0, M, (0.0, 10_000.0), 80.0, XTicks::Even(5));
        let y: Vec<f64> = g.y_ticks().iter().map(|t| t.value).collect();
        assert_eq!(y, [0.0, 25.0, 50.0, 75.0, 100.0]);
        assert_eq!(g.y_label_at(&g.y_ticks()[4]), (64.0, 18.0));
        let x = g.x_ticks();
        assert_eq!(x.iter().map(|t| t.value).collect::<Vec<_>>(), [0.0, 2000.0, 4000.0, 6000.0, 8000.0, 10_000.0]);
        let anchors: Vec<&str> = x.iter().map(|t| t.anchor.as_str()).collect();
        assert_eq!(anchors, ["start", "middle", "middle", "middle", "middle", "end"]);
        // A range narrower than 1 still spreads its ticks over the axis.
        let g = PlotGeometry::new(900.0, 170.0, M, (5.0, 5.0), 0.0, XTicks::Even(5));
        assert_eq!(g.x_ticks().last().unwrap().px, 888.0);
        assert_eq!(g.y, (0.0, 1.0));
    }

    #[test]
    fn time_ticks_fall_on_round_intervals() {
        let at = |x: (f64, f64)| -> Vec<f64> {
            PlotGeometry::new(900.0, 170.0, M, x, 1.0, XTicks::Time { max: 7 })
                .x_ticks()
                .iter()
                .map(|t| t.value)
                .collect()
        };
        // 13.2 s from 09:48:42.162: every 2 s on the even second (not 42.2, 44.8, 47.4, …).
        let t0 = 1_764_496_122_162.0;
        let ticks = at((t0, t0 + 13_232.0));
        assert_eq!(ticks.len(), 6, "44, 46, … 54 s");
        assert!(ticks.iter().all(|t| t % 2000.0 == 0.0), "{ticks:?}");
        assert!(ticks.windows(2).all(|w| w[1] - w[0] == 2000.0));
        // Elapsed axes: 0 to 95 s every 15 s; an hour every 10 min.
        assert_eq!(at((0.0, 95_000.0)), [0.0, 15_000.0, 30_000.0, 45_000.0, 60_000.0, 75_000.0, 90_000.0]);
        assert_eq!(at((0.0, 3_600_000.0)).len(), 7);
        assert_eq!(at((5.0, 5.0)).len(), 1);
        // A span no round step covers (a hostile timeline's times) still ends.
        assert!(at((0.0, 1e300)).len() <= 8);
        assert!(at((-1e300, 1e300)).len() <= 8);
    }

    #[test]
    fn whole_ticks_for_runs() {
        let g = |n: usize| {
            let x = if n <= 1 { (-0.5, 0.5) } else { (0.0, (n - 1) as f64) };
            PlotGeometry::new(900.0, 200.0, M, x, 1.0, XTicks::Whole { every: n.div_ceil(10).max(1) })
        };
        let one = g(1).x_ticks();
        assert_eq!(one.len(), 1);
        assert_eq!((one[0].value, one[0].anchor), (0.0, Anchor::Middle));
        assert_eq!(one[0].px, (70.0 + 888.0) / 2.0);
        let many: Vec<f64> = g(25).x_ticks().iter().map(|t| t.value).collect();
        assert_eq!(many, [0.0, 3.0, 6.0, 9.0, 12.0, 15.0, 18.0, 21.0, 24.0]);
        // The last run is always labelled; 21, one run before it, makes way (its label would overlap).
        let some = g(23).x_ticks();
        assert_eq!(some.iter().map(|t| t.value).collect::<Vec<_>>(), [0.0, 3.0, 6.0, 9.0, 12.0, 15.0, 18.0, 22.0]);
        assert_eq!(some.last().unwrap().anchor, Anchor::End);
    }

    #[test]
    fn labels() {
        assert_eq!(nice_max(3.2), 5.0);
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(2.1), 2.5);
        assert_eq!(clock_label(1_795_549_803_000.0), "19:50:03");
        assert_eq!(time_label(65_000.0, true), "1:05");
        assert_eq!(time_label(3_725_000.0, true), "1:02:05");
        assert_eq!(format_in(0.1234, "percent"), "12.34%");
    }
}
