//! The trend across a site's runs (`?view=trend`): any figure of k6's
//! summary (the user picks the series and the key), one line per test —
//! runs of different tests are not joined — each point a link to its run,
//! with a tooltip of its value and labels; a table with each run's value,
//! its change from the run before of the same test and the compare link.

use leptos::prelude::*;
use perfbundle_core::bundle::IndexEntry;
use perfbundle_core::history::{history, setup_label, tests_of};
use perfbundle_core::k6::sections::keys_in_order;
use perfbundle_core::k6::text::format_stat;
use perfbundle_core::render::charts::COLORS;
use perfbundle_core::render::plot::{format_in, Margins, PlotGeometry, XTicks};

use crate::load;
use crate::state::{CompareState, RunState, SiteState, Tab};

const W: f64 = 900.0;
const H: f64 = 260.0;
const MARGINS: Margins = Margins { left: 78.0, right: 24.0, top: 16.0, bottom: 44.0 };

/// A figure of a run: series key and k6 summary key.
fn value(e: &IndexEntry, series: &str, key: &str) -> Option<f64> {
    e.figures.get(series)?.values.get(key).copied()
}

/// The figure as the run's summary shows it.
fn shown(e: &IndexEntry, series: &str, key: &str, v: f64) -> String {
    match e.figures.get(series) {
        Some(f) => format_stat(f.kind, &f.contains, key, v),
        None => format_in(v, "default"),
    }
}

/// A run's name on the x axis: the label the site is ordered by (else its
/// version label) when every run has a distinct one, else its start
/// (`11-30 09:48`), else its position.
fn x_labels(runs: &[IndexEntry], by: Option<&str>) -> Vec<String> {
    let versions: Vec<Option<&String>> = runs.iter().map(|r| r.labels.get(by.unwrap_or("version"))).collect();
    let distinct = |v: &[String]| {
        let mut s = v.to_vec();
        s.sort();
        s.dedup();
        s.len() == v.len()
    };
    if versions.iter().all(Option::is_some) {
        let v: Vec<String> = versions.iter().map(|v| v.cloned().unwrap_or_default()).collect();
        if distinct(&v) {
            return v;
        }
    }
    let starts: Vec<String> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| match r.start.as_deref().and_then(|s| s.get(5..10).zip(s.get(11..16))) {
            Some((day, time)) => format!("{day} {time}"),
            None => format!("#{}", i + 1),
        })
        .collect();
    if distinct(&starts) {
        starts
    } else {
        starts.iter().enumerate().map(|(i, s)| format!("{s} #{}", i + 1)).collect()
    }
}

#[component]
pub fn TrendView() -> impl IntoView {
    let run = expect_context::<RunState>();
    let compare = expect_context::<CompareState>();
    let site = expect_context::<SiteState>();
    // Oldest first, or in the order of the label the site is ordered by (`site --by`), as `history` orders them.
    let runs = Memo::new(move |_| {
        let by = site.by.get();
        history(site.runs.get(), by.as_deref()).runs.into_iter().map(|r| r.entry).collect::<Vec<_>>()
    });
    let figure = NodeRef::<leptos::html::Figure>::new();
    let width = RwSignal::new(W);
    crate::size::observe_width(figure, move |w| {
        let w = w.max(300.0);
        if (width.get_untracked() - w).abs() > 0.5 {
            width.set(w);
        }
    });
    // Every (series, key) some run has: whole metrics first, then sub-metrics.
    let choices = Memo::new(move |_| {
        let mut all: Vec<(String, String)> = Vec::new();
        for r in runs.get().iter() {
            for (series, f) in &r.figures {
                for k in keys_in_order(f.kind, &f.values) {
                    let c = (series.clone(), k.to_string());
                    if !all.contains(&c) {
                        all.push(c);
                    }
                }
            }
        }
        all.sort_by(|a, b| (a.0.contains('{'), &a.0).cmp(&(b.0.contains('{'), &b.0)));
        all
    });
    let chosen = RwSignal::new(("http_req_duration".to_string(), "p(95)".to_string()));
    Effect::new(move |_| {
        let c = choices.get();
        if !c.is_empty() && !c.contains(&chosen.get_untracked()) {
            chosen.set(c[0].clone());
        }
    });
    let select = move || {
        choices
            .get()
            .into_iter()
            .map(|(s, k)| {
                let value = format!("{s}\u{1f}{k}");
                let (s2, k2) = (s.clone(), k.clone());
                view! { <option value=value selected=move || chosen.get() == (s2.clone(), k2.clone())>{format!("{s} {k}")}</option> }
            })
            .collect_view()
    };
    let open_run = move |file: String| {
        load::open_url(run.bundle, file);
        run.tab.set(Tab::Overview);
    };
    let chart = move || {
        let rs = runs.get();
        let (series, key) = chosen.get();
        let n = rs.len();
        let vals: Vec<Option<f64>> = rs.iter().map(|r| value(r, &series, &key)).collect();
        let max = vals.iter().flatten().copied().fold(0.0, f64::max);
        let x_range = if n <= 1 { (-0.5, 0.5) } else { (0.0, (n - 1) as f64) };
        let labels = x_labels(&rs, site.by.get().as_deref());
        // Every `every`-th run labelled, so that labels (about 6.5 px a character, and a gap) never overlap.
        let w = width.get();
        let widest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(1) as f64 * 6.5 + 12.0;
        let plot = (w - MARGINS.left - MARGINS.right).max(1.0);
        let every = ((n as f64 * widest / plot).ceil() as usize).max(1);
        let g = PlotGeometry::new(w, H, MARGINS, x_range, max, XTicks::Whole { every });
        let unit = rs.iter().find_map(|r| r.figures.get(&series)).map(|f| (f.kind, f.contains.clone()));
        let key_f = key.clone();
        let fmt = move |v: f64| match &unit {
            Some((kind, contains)) => format_stat(*kind, contains, &key_f, v),
            None => format_in(v, "default"),
        };
        let groups = tests_of(&rs);
        let (left, right) = (g.left(), g.right());
        let y_ticks = g
            .y_ticks()
            .into_iter()
            .map(|t| {
                let (tx, ty) = g.y_label_at(&t);
                view! {
                    <line x1=left x2=right y1=t.px y2=t.px class="grid" />
                    <text x=tx y=ty text-anchor="end" class="tick">{fmt(t.value)}</text>
                }
            })
            .collect_view();
        let x_ticks = g
            .x_ticks()
            .into_iter()
            .map(|t| {
                let label = labels.get(t.value as usize).cloned().unwrap_or_default();
                view! { <text x=t.px y=H - 24.0 text-anchor=t.anchor.as_str() class="tick" data-testid="trend-x-label">{label}</text> }
            })
            .collect_view();
        let lines = groups
            .iter()
            .enumerate()
            .map(|(gi, members)| {
                let color = COLORS[gi % COLORS.len()];
                let d = g.path(members.iter().filter_map(|&i| Some((i as f64, vals[i]?))));
                let points = members
                    .iter()
                    .filter_map(|&i| {
                        let v = vals[i]?;
                        let r = &rs[i];
                        let labels = r.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ");
                        let tip = format!(
                            "{}\n{} {}={}\n{}\n{}",
                            r.title,
                            series,
                            key,
                            fmt(v),
                            labels,
                            r.start.clone().unwrap_or_default()
                        );
                        let (file, file2) = (r.file.clone(), r.file.clone());
                        // A link by role: an SVG <a> would be made in the HTML namespace.
                        Some(view! {
                            <circle cx=g.x_px(i as f64) cy=g.y_px(v) r="5" fill=color class="point" role="link" tabindex="0"
                                data-testid="trend-point" data-file=r.file.clone() data-value=v.to_string()
                                on:click=move |_| open_run(file.clone())
                                on:keydown=move |ev| if ev.key() == "Enter" { open_run(file2.clone()) }>
                                <title>{tip}</title>
                            </circle>
                        })
                    })
                    .collect_view();
                view! {
                    <g data-testid="trend-line" data-test=gi.to_string()>
                        <path d=d stroke=color fill="none" stroke-width="2" />
                        {points}
                    </g>
                }
            })
            .collect_view();
        let legend = groups
            .iter()
            .enumerate()
            .filter(|(_, m)| m.iter().any(|&i| vals[i].is_some()))
            .map(|(gi, m)| {
                let name = setup_label(&rs, m, gi + 1);
                let swatch = format!("background:{}", COLORS[gi % COLORS.len()]);
                view! { <span class="legend-item" data-testid="trend-legend"><i style=swatch></i>{name}{format!(" ({} run{})", m.len(), if m.len() == 1 { "" } else { "s" })}</span> }
            })
            .collect_view();
        view! {
            <figure class="chart trend-chart" data-testid="trend-chart" node_ref=figure>
                <figcaption>{format!("{} {} across runs", chosen.get().0, chosen.get().1)}<span class="legend">{legend}</span></figcaption>
                <svg viewBox=format!("0 0 {w} {H}") role="img">
                    {y_ticks}{x_ticks}{lines}
                </svg>
            </figure>
        }
    };
    let table = move || {
        let rs = runs.get();
        let (series, key) = chosen.get();
        let groups = tests_of(&rs);
        let test_of = |i: usize| groups.iter().position(|g| g.contains(&i)).unwrap_or(0);
        let prev_of = |i: usize| groups[test_of(i)].iter().copied().take_while(|&j| j < i).last();
        rs.iter()
            .enumerate()
            .map(|(i, r)| {
                let v = value(r, &series, &key);
                let prev = prev_of(i);
                let change = match (v, prev.and_then(|p| value(&rs[p], &series, &key))) {
                    (Some(c), Some(p)) if p != 0.0 => perfbundle_core::format::pct_change((c - p) / p.abs()),
                    _ => String::new(),
                };
                let file = r.file.clone();
                let cmp = prev.map(|p| {
                    let (cand, base) = (r.file.clone(), rs[p].file.clone());
                    let href = format!("?bundle={cand}&base={base}");
                    view! { <a href=href data-testid="trend-compare" on:click=move |ev| {
                        ev.prevent_default();
                        load::open_comparison(run, compare, cand.clone(), base.clone());
                    }>"compare with the run before of this test"</a> }
                });
                let swatch = format!("background:{}", COLORS[test_of(i) % COLORS.len()]);
                view! {
                    <tr data-testid="trend-row">
                        <td><i class="swatch" style=swatch></i>
                            <a href=format!("?bundle={}", r.file) on:click=move |ev| { ev.prevent_default(); open_run(file.clone()); }>{r.title.clone()}</a></td>
                        <td>{r.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")}</td>
                        <td>{r.start.clone().unwrap_or_default()}</td>
                        <td class="num" data-testid="trend-value">{v.map(|v| shown(r, &series, &key, v)).unwrap_or_else(|| "—".into())}</td>
                        <td class="num">{change}</td>
                        <td>{cmp}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <section class="trend" data-testid="trend-view">
            <h2>"Trend across runs"
                <a class="trend-link" href="?" on:click=move |ev| { ev.prevent_default(); run.tab.set(Tab::Overview); }>"all runs"</a>
            </h2>
            <div class="toolbar">
                {move || site.by.get().map(|b| view! { <span class="muted" data-testid="trend-by">{format!("runs ordered by their {b} label")}</span> })}
                <label>"Figure "
                    <select data-testid="trend-metric" on:change=move |ev| {
                        let v = event_target_value(&ev);
                        if let Some((s, k)) = v.split_once('\u{1f}') {
                            chosen.set((s.to_string(), k.to_string()));
                        }
                    }>{select}</select>
                </label>
                <span class="muted">"one line per test: runs of different tests are not joined"</span>
            </div>
            {chart}
            <div class="scroll-x">
                <table class="runs-table" data-testid="trend-table">
                    <thead><tr><th>"run"</th><th>"labels"</th><th>"start"</th><th>"value"</th><th>"change"</th><th></th></tr></thead>
                    <tbody>{table}</tbody>
                </table>
            </div>
        </section>
    }
}
