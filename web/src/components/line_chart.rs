//! One time-series chart (SVG): lines, axes with units, a legend; hover
//! shows a crosshair and values (shared by every chart); dragging selects a
//! time range that zooms every chart. Drawn at the width it has (measured,
//! and again when it changes): text is never stretched or squashed, and a
//! narrow chart gets fewer time labels.

use leptos::prelude::*;
use perfbundle_core::k6::view::ChartPoint;
use perfbundle_core::render::chart::{drawn_lines, format_in, stacked_area, time_geometry, time_label, ChartLine};
use perfbundle_core::render::plot::Margins;

/// The width drawn before the chart is measured, and the narrowest drawn.
const W: f64 = 900.0;
const MIN_W: f64 = 240.0;
const H: f64 = 170.0;
const MARGINS: Margins = Margins { left: 70.0, right: 12.0, top: 14.0, bottom: 26.0 };

/// The value of a line at time `t` (the last point at or before it).
fn value_at(points: &[ChartPoint], t: f64) -> Option<f64> {
    let i = points.partition_point(|p| p.0 <= t);
    (i > 0).then(|| points[i - 1].1)
}

#[component]
pub fn LineChart(
    /// Title shown above the chart.
    title: String,
    /// What the values are: `time` (ms), `data` (bytes), `percent` (0..1 ratio) or `default`.
    contains: String,
    lines: Vec<ChartLine>,
    /// The x domain, Unix ms.
    #[prop(into)]
    domain: Signal<(f64, f64)>,
    /// A test id for the chart.
    testid: String,
    /// The x axis is time since the run's start (a comparison), not the clock.
    #[prop(optional)]
    elapsed: bool,
    /// Stacked areas (parts of a whole); the legend reads each line's own values.
    #[prop(optional)]
    stacked: bool,
    /// The time under the pointer, shared by a set of charts.
    hover: RwSignal<Option<f64>>,
    /// The time range selected by dragging, shared by a set of charts.
    range: RwSignal<Option<(f64, f64)>>,
) -> impl IntoView {
    let drag: RwSignal<Option<(f64, f64)>> = RwSignal::new(None);
    let figure = NodeRef::<leptos::html::Figure>::new();
    let width = RwSignal::new(W);
    crate::size::observe_width(figure, move |w| {
        let w = w.max(MIN_W);
        if (width.get_untracked() - w).abs() > 0.5 {
            width.set(w);
        }
    });
    let contains2 = contains.clone();
    let fmt = move |v: f64| -> String { format_in(v, &contains2) };
    // What is drawn (stacked: the top edges) and what the legend reads (each line's own values).
    let drawn = StoredValue::new(drawn_lines(&lines, stacked));
    let lines = StoredValue::new(lines);
    // Scales, ticks and the plot area: the core's, as the SVG exports draw them.
    let geo = Memo::new(move |_| {
        let d = domain.get();
        let w = width.get();
        drawn.with_value(|ls| time_geometry(w, H, MARGINS, ls, d))
    });
    let x_of = move |t: f64| geo.with(|g| g.x_px(t));
    let t_of = move |x: f64| geo.with_untracked(|g| g.x_at(x));
    let (top, bottom) = geo.with_untracked(|g| (g.top(), g.bottom()));
    let left = move || geo.with(|g| g.left());
    let right = move || geo.with(|g| g.right());
    // Pointer position in SVG units.
    let svg_x = move |ev: &leptos::ev::MouseEvent| -> f64 {
        use wasm_bindgen::JsCast;
        // Events are delegated: find the chart's <svg> from whatever was under the pointer.
        let target = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()).and_then(|el| {
            if el.tag_name().eq_ignore_ascii_case("svg") {
                Some(el)
            } else {
                el.closest("svg").ok().flatten()
            }
        });
        match target {
            Some(el) => {
                let r = el.get_bounding_client_rect();
                (f64::from(ev.client_x()) - r.left()) / r.width().max(1.0) * width.get_untracked()
            }
            None => 0.0,
        }
    };
    let areas = move || {
        let (a, b) = domain.get();
        (stacked).then(|| {
            geo.with(|g| {
                drawn.with_value(|tops| {
                    lines.with_value(|own| {
                        tops.iter()
                            .zip(own)
                            .map(|(t, o)| {
                                let d = stacked_area(g, &t.points, &o.points, (a, b));
                                view! { <path d=d fill=t.color.clone() fill-opacity="0.35" stroke="none" class="area" /> }
                            })
                            .collect_view()
                    })
                })
            })
        })
    };
    let paths = move || {
        let (a, b) = domain.get();
        geo.with(|g| {
            drawn.with_value(|ls| {
                ls.iter()
                    .map(|l| {
                        let d = g.path(l.points.iter().filter(|p| p.0 >= a && p.0 <= b).copied());
                        let dash = if l.dashed { "5 3" } else { "none" };
                        view! { <path d=d stroke=l.color.clone() fill="none" stroke-width="1.6" stroke-dasharray=dash /> }
                    })
                    .collect_view()
            })
        })
    };
    let fmt_axis = fmt.clone();
    let y_ticks = move || {
        geo.with(|g| {
            g.y_ticks()
                .into_iter()
                .map(|tick| {
                    let (tx, ty) = g.y_label_at(&tick);
                    let y = tick.px;
                    view! {
                        <line x1=g.left() x2=g.right() y1=y y2=y class="grid" />
                        <text x=tx y=ty text-anchor="end" class="tick">{fmt_axis(tick.value)}</text>
                    }
                })
                .collect_view()
        })
    };
    let x_ticks = move || {
        geo.with(|g| {
            g.x_ticks()
                .into_iter()
                .map(|tick| {
                    view! {
                        <text x=tick.px y=H - 8.0 text-anchor=tick.anchor.as_str() class="tick">
                            {time_label(tick.value, elapsed)}
                        </text>
                    }
                })
                .collect_view()
        })
    };
    let fmt_legend = fmt.clone();
    let legend = move || {
        let hover = hover.get();
        // The time under the pointer, then each line's value at it.
        let at =
            hover.map(|t| view! { <span class="legend-time" data-testid="hover-time">{time_label(t, elapsed)}</span> });
        let items = lines.with_value(|ls| {
            ls.iter()
                .map(|l| {
                    let v = hover
                        .and_then(|t| value_at(&l.points, t))
                        .map(|v| format!(" {}", fmt_legend(v)))
                        .unwrap_or_default();
                    let swatch = if l.dashed {
                        format!("background:repeating-linear-gradient(90deg,{0} 0 4px,transparent 4px 6px)", l.color)
                    } else {
                        format!("background:{}", l.color)
                    };
                    view! { <span class="legend-item"><i style=swatch></i>{l.label.clone()}{v}</span> }
                })
                .collect_view()
        });
        (at, items)
    };
    let on_move = move |ev: leptos::ev::MouseEvent| {
        let x = svg_x(&ev);
        let (l, r) = geo.with_untracked(|g| (g.left(), g.right()));
        if (l..=r).contains(&x) {
            hover.set(Some(t_of(x)));
        }
        if let Some((s, _)) = drag.get_untracked() {
            drag.set(Some((s, x.clamp(l, r))));
        }
    };
    let on_down = move |ev: leptos::ev::MouseEvent| {
        let (l, r) = geo.with_untracked(|g| (g.left(), g.right()));
        let x = svg_x(&ev).clamp(l, r);
        drag.set(Some((x, x)));
    };
    let on_up = move |_ev: leptos::ev::MouseEvent| {
        if let Some((s, e)) = drag.get_untracked() {
            if (e - s).abs() > 4.0 {
                let (t0, t1) = (t_of(s.min(e)), t_of(s.max(e)));
                range.set(Some((t0, t1)));
            }
        }
        drag.set(None);
    };
    view! {
        <figure class="chart" data-testid=testid node_ref=figure>
            <figcaption>{title.clone()}<span class="legend">{legend}</span></figcaption>
            <svg
                viewBox=move || format!("0 0 {} {H}", width.get())
                role="img"
                aria-label=title
                on:mousemove=on_move
                on:mousedown=on_down
                on:mouseup=on_up
                on:mouseleave=move |_| {
                    hover.set(None);
                    drag.set(None);
                }
            >
                {y_ticks}
                {x_ticks}
                <line x1=left x2=left y1=top y2=bottom class="axis" />
                <line x1=left x2=right y1=bottom y2=bottom class="axis" />
                {areas}
                {paths}
                {move || hover.get().map(|t| {
                    let x = x_of(t);
                    view! { <line x1=x x2=x y1=top y2=bottom class="crosshair" data-testid="crosshair" /> }
                })}
                {move || drag.get().map(|(s, e)| view! {
                    <rect x=s.min(e) y=top width=(e - s).abs() height=bottom - top class="selection" />
                })}
            </svg>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        let pts = [(0.0, 1.0), (10.0, 2.0)];
        assert_eq!(value_at(&pts, 5.0), Some(1.0));
        assert_eq!(value_at(&pts, -1.0), None);
    }
}
