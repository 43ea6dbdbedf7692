//! Components in a real browser (wasm-bindgen-test in headless Chromium):
//! each test mounts into a container of its own and reads the DOM.
#![cfg(target_arch = "wasm32")]

use std::sync::Arc;

use leptos::prelude::*;
use perfbundle_core::profile::flame::FlameIndex;
use perfbundle_web::canvas::{self, ROW};
use perfbundle_web::components::flame_graph::FlameGraph;
use perfbundle_web::components::function_table::FunctionTable;
use perfbundle_web::components::profiles::ProfilesView;
use perfbundle_web::components::summary_table::SummaryTable;
use perfbundle_web::load;
use perfbundle_web::state::{
    CompareState, FlameState, FlameView, Loaded, RunState, Search, ShownProfile, Status, Tab, ViewerState,
};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn container() -> web_sys::HtmlElement {
    let doc = web_sys::window().unwrap().document().unwrap();
    let div = doc.create_element("div").unwrap();
    doc.body().unwrap().append_child(&div).unwrap();
    div.unchecked_into()
}

fn attr(el: &web_sys::HtmlElement, sel: &str, name: &str) -> Option<String> {
    el.query_selector(sel).ok().flatten().and_then(|e| e.get_attribute(name))
}

#[wasm_bindgen_test]
async fn summary_table_shows_the_bundles_exact_figures() {
    let div = container();
    let state = ViewerState::new();
    let bytes = include_bytes!("../../archives/orders-api-v1-k6.perfbundle");
    let _h = leptos::mount::mount_to(div.clone(), move || {
        state.provide();
        load::open_bytes(state.run.bundle, "v1", bytes);
        view! { <SummaryTable /> }
    });
    leptos::task::tick().await;
    assert_eq!(state.run.bundle.status.get_untracked(), Status::Ready);
    // The same numbers as `perfbundle inspect --json` (and k6's own summary-export).
    assert_eq!(
        attr(&div, "[data-testid='v-http_req_duration-p(95)']", "data-value").as_deref(),
        Some("290.6773139999999")
    );
    assert_eq!(attr(&div, "[data-testid='v-http_reqs-count']", "data-value").as_deref(), Some("1062"));
    assert!(div.text_content().unwrap_or_default().contains("p(95)<250"));
}

#[wasm_bindgen_test]
async fn flame_graph_search_reports_its_share() {
    let div = container();
    let state = ViewerState::new();
    let bytes = include_bytes!("../../archives/orders-api-v1-cpu-prof.perfbundle");
    let _h = leptos::mount::mount_to(div.clone(), move || {
        state.provide();
        load::open_bytes(state.run.bundle, "cpu", bytes);
        view! { <ProfilesView /> }
    });
    leptos::task::tick().await;
    state.flame.search.set("fibonacci".into());
    leptos::task::tick().await;
    let info = || div.query_selector("[data-testid=search-info]").unwrap().unwrap().text_content().unwrap_or_default();
    // By wall time first (the profile carries V8's time deltas), then by samples at the switch.
    // Idle is left out (the default): the wall time of the other samples.
    let p = cpu_profile();
    let idle_us: u64 = (1..p.nodes.parent.len())
        .filter(|&i| p.frames.category[p.nodes.frame[i] as usize] == perfbundle_core::profile::Category::Idle)
        .map(|i| p.nodes.self_weight[i])
        .sum();
    let busy_us = p.nodes.self_weight.iter().sum::<u64>() - idle_us;
    let of = format!(" of {} (", perfbundle_core::format::amount(busy_us, "us"));
    assert!(info().starts_with("matches cover ") && info().contains(&of), "{} / {of}", info());
    let switch = div.query_selector("[data-testid=flame-by-weight]").unwrap().expect("a samples/weight switch");
    switch.unchecked_ref::<web_sys::HtmlElement>().click();
    leptos::task::tick().await;
    assert!(!state.flame.by_weight.get_untracked());
    let want = format!("{} of {} samples", covered(&p, "fibonacci"), p.total_samples - p.idle_samples());
    assert!(info().contains(&want), "{} / {want}", info());
    assert!(div.query_selector("canvas").unwrap().is_some());
}

#[wasm_bindgen_test]
async fn a_corrupt_bundle_is_a_message_not_a_panic() {
    let state = ViewerState::new();
    let div = container();
    let _h = leptos::mount::mount_to(div, move || {
        state.provide();
        load::open_bytes(state.run.bundle, "junk.perfbundle", b"definitely not gzip");
        view! { <p /> }
    });
    leptos::task::tick().await;
    match state.run.bundle.status.get_untracked() {
        Status::Failed(m) => assert!(m.contains("junk.perfbundle: not a perfbundle"), "{m}"),
        other => panic!("{other:?}"),
    }
}

fn cpu_profile_bundle() -> &'static [u8] {
    include_bytes!("../../archives/orders-api-v1-cpu-prof.perfbundle")
}

/// The released cpu-prof bundle's profile (V8's .cpuprofile as packed), for
/// the figures the tests expect: they are read from it, never typed in.
fn cpu_profile() -> perfbundle_core::profile::Profile {
    perfbundle_core::bundle::Bundle::from_bytes(cpu_profile_bundle(), "cpu", &Default::default())
        .unwrap()
        .profiles
        .remove(0)
}

/// Samples whose stack holds a frame whose label contains `needle` (any case),
/// each sample once: what a search covers.
fn covered(p: &perfbundle_core::profile::Profile, needle: &str) -> u64 {
    let n = p.nodes.parent.len();
    let mut holds = vec![false; n];
    let mut sum = 0;
    for i in 1..n {
        let own = p.frame_label(p.nodes.frame[i] as usize).to_lowercase().contains(needle);
        holds[i] = own || holds[p.nodes.parent[i] as usize];
        if holds[i] {
            sum += p.nodes.self_samples[i];
        }
    }
    sum
}

/// A pointer event at (`x`, `y`) in `el`'s box, bubbling as a real one does (Leptos delegates events).
fn pointer(el: &web_sys::Element, kind: &str, x: f64, y: f64) {
    let r = el.get_bounding_client_rect();
    let init = web_sys::MouseEventInit::new();
    init.set_bubbles(true);
    init.set_client_x((r.left() + x) as i32);
    init.set_client_y((r.top() + y) as i32);
    let ev = web_sys::MouseEvent::new_with_mouse_event_init_dict(kind, &init).unwrap();
    el.dispatch_event(&ev).unwrap();
}

fn count(el: &web_sys::HtmlElement, testid: &str) -> usize {
    el.inner_html().matches(&format!("data-testid=\"{testid}\"")).count()
}

#[wasm_bindgen_test]
async fn state_groups_start_empty_and_are_provided_apart() {
    let state = ViewerState::new();
    let (run, flame, compare) = (state.run, state.flame, state.compare);
    assert_eq!(run.tab.get_untracked(), Tab::Overview);
    assert_eq!(run.bundle.status.get_untracked(), Status::Idle);
    assert!(run.bundle.loaded.get_untracked().is_none() && run.bundle.url.get_untracked().is_none());
    assert!(run.series.get_untracked().is_empty() && run.range.get_untracked().is_none());
    assert!(run.hover.get_untracked().is_none() && !run.embed.get_untracked());
    assert_eq!((flame.profile.get_untracked(), flame.focus.get_untracked()), (0, 0));
    // Top-down (an icicle) and left heavy by default: the root and the widest frames on the first screen.
    assert!(flame.search.get_untracked().is_empty() && !flame.regex.get_untracked() && flame.icicle.get_untracked());
    assert_eq!(flame.view.get_untracked(), FlameView::LeftHeavy);
    assert!(flame.hidden.get_untracked().is_empty() && flame.selected.get_untracked().is_none());
    assert!(flame.shown.get_untracked().is_none());
    assert_eq!(flame.matches.get_untracked(), Search::None);
    assert_eq!(compare.base.status.get_untracked(), Status::Idle);
    assert!(compare.diff.get_untracked().is_none(), "no diff without two bundles");
    assert!(compare.range.get_untracked().is_none() && !compare.all.get_untracked());
    assert_eq!((compare.pair.get_untracked(), compare.diff_focus.get_untracked()), (0, 0));

    // Each group is its own context; the bundle of the three is not one.
    let seen = RwSignal::new((false, false, false, false));
    let _h = leptos::mount::mount_to(container(), move || {
        state.provide();
        let r = expect_context::<RunState>();
        r.tab.set(Tab::Charts);
        let f = use_context::<FlameState>().is_some();
        let c = use_context::<CompareState>().is_some();
        seen.set((true, f, c, use_context::<ViewerState>().is_some()));
        view! { <p /> }
    });
    leptos::task::tick().await;
    assert_eq!(seen.get_untracked(), (true, true, true, false));
    assert_eq!(run.tab.get_untracked(), Tab::Charts, "the context holds the same signals");

    // What a new file, a new base, a chosen function and profile reset or set.
    run.range.set(Some((1.0, 2.0)));
    run.series.set("{name:x}".into());
    run.new_view();
    assert!(run.range.get_untracked().is_none() && run.series.get_untracked().is_empty());
    flame.focus.set(4);
    flame.search.set("x".into());
    flame.new_view();
    assert_eq!((flame.focus.get_untracked(), flame.search.get_untracked()), (0, String::new()));
    flame.selected.set(Some(3));
    flame.sandwich.set(Some(("f".into(), String::new())));
    flame.new_view();
    assert!(flame.selected.get_untracked().is_none() && flame.sandwich.get_untracked().is_none());
    flame.focus.set(4);
    flame.show_profile(1);
    assert_eq!((flame.profile.get_untracked(), flame.focus.get_untracked()), (1, 0));
    compare.pair.set(2);
    compare.diff_focus.set(3);
    compare.range.set(Some((0.0, 1.0)));
    compare.new_comparison();
    assert_eq!((compare.pair.get_untracked(), compare.diff_focus.get_untracked()), (0, 0));
    assert!(compare.range.get_untracked().is_none());
}

#[wasm_bindgen_test]
async fn the_shown_profile_follows_the_bundle_the_profile_and_the_range() {
    let state = ViewerState::new();
    let (run, flame) = (state.run, state.flame);
    let mut bundle =
        perfbundle_core::bundle::Bundle::from_bytes(cpu_profile_bundle(), "cpu", &Default::default()).unwrap();
    let whole = bundle.profiles[0].total_samples;
    let fib = covered(&bundle.profiles[0], "fibonacci");
    let wall_us: u64 = bundle.profiles[0].nodes.self_weight.iter().sum();
    // Idle drawn (`?idle=1`): every sample counts.
    run.show_idle.set(true);
    // A profile with sample times on the run's clock (as `perfbundle record` makes them).
    bundle.profiles[0].start_unix_us = Some(0);
    run.bundle.loaded.set(Some(Arc::new(Loaded::new("cpu".into(), bundle))));
    match flame.shown.get_untracked() {
        Some(ShownProfile::Whole { profile: 0, weighted: true, .. }) => {}
        other => panic!("{other:?}"),
    }
    flame.profile.set(7);
    assert!(
        matches!(flame.shown.get_untracked(), Some(ShownProfile::Whole { profile: 0, .. })),
        "clamped to the last profile"
    );
    run.range.set(Some((0.0, 10_000.0)));
    match flame.shown.get_untracked() {
        Some(ShownProfile::Derived { profile, of, cut: true, .. }) => {
            assert_eq!(of, whole);
            assert!(profile.total_samples > 0 && profile.total_samples < whole, "{}", profile.total_samples);
        }
        other => panic!("{other:?}"),
    }
    flame.search.set("fibonacci".into());
    assert!(flame.matches.get_untracked().info().starts_with("matches cover"));
    run.range.set(None);
    // By weight (the default where a profile has weights): V8's wall time.
    let info = flame.matches.get_untracked().info();
    assert!(info.contains(&format!(" of {} (", perfbundle_core::format::amount(wall_us, "us"))), "{info}");
    flame.by_weight.set(false);
    assert_eq!(
        flame.matches.get_untracked().info(),
        format!("matches cover {fib} of {whole} samples ({})", perfbundle_core::format::share(fib, whole))
    );
    assert!(matches!(flame.shown.get_untracked(), Some(ShownProfile::Whole { weighted: false, .. })));
    flame.regex.set(true);
    flame.search.set("(".into());
    assert!(flame.matches.get_untracked().info().starts_with("not a valid regular expression"));
}

/// Waits `ms` milliseconds (rows that come a frame after their table).
async fn sleep(ms: i32) {
    let p = js_sys::Promise::new(&mut |res, _| {
        web_sys::window().unwrap().set_timeout_with_callback_and_timeout_and_arguments_0(&res, ms).unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(p).await.unwrap();
}

#[wasm_bindgen_test]
async fn the_function_table_needs_only_the_flame_state() {
    let div = container();
    let state = ViewerState::new();
    let _h = leptos::mount::mount_to(div.clone(), move || {
        state.provide();
        load::open_bytes(state.run.bundle, "cpu", cpu_profile_bundle());
        view! { <FunctionTable /> }
    });
    leptos::task::tick().await;
    assert_eq!(count(&div, "function-row"), 0, "the rows come a frame after the table");
    sleep(100).await;
    let all = count(&div, "function-row");
    assert!(all > 10);
    let row = div.query_selector("[data-testid=function-row]").unwrap().unwrap();
    let name = row.query_selector("td.fn").unwrap().unwrap().first_child().unwrap().text_content().unwrap();
    row.unchecked_ref::<web_sys::HtmlElement>().click();
    leptos::task::tick().await;
    // A row selects that function's widest frame.
    let node = state.flame.selected.get_untracked().expect("a frame selected");
    let label = state.flame.shown.with_untracked(|sh| canvas::label(sh.as_ref().unwrap().profile(), node));
    assert!(label.starts_with(&name), "{label} / {name}");
    // In the sandwich view, a row is the function the sandwich is of.
    state.flame.view.set(FlameView::Sandwich);
    row.unchecked_ref::<web_sys::HtmlElement>().click();
    leptos::task::tick().await;
    assert_eq!(state.flame.sandwich.get_untracked().map(|f| f.0), Some(name.clone()));
    // A search filters the table to the functions it matches.
    state.flame.search.set(name.clone());
    leptos::task::tick().await;
    let left = count(&div, "function-row");
    assert!(left >= 1 && left < all, "{left} of {all}");
}

#[wasm_bindgen_test]
async fn the_flame_graph_shows_a_tooltip_and_zooms_on_click() {
    let div = container();
    div.set_attribute("style", "width:600px").unwrap();
    let state = ViewerState::new();
    let _h = leptos::mount::mount_to(div.clone(), move || {
        state.provide();
        load::open_bytes(state.run.bundle, "cpu", cpu_profile_bundle());
        view! { <FlameGraph /> }
    });
    // Idle drawn, so that the root is every sample.
    state.run.show_idle.set(true);
    leptos::task::tick().await;
    // Without the page's style sheet, a canvas is 300 px wide until its first paint makes it 100%: paint again
    // (as a flame graph: roots at the bottom).
    state.flame.icicle.set(true);
    leptos::task::tick().await;
    state.flame.icicle.set(false);
    leptos::task::tick().await;
    let canvas: web_sys::HtmlCanvasElement =
        div.query_selector("[data-testid=flame-canvas]").unwrap().unwrap().unchecked_into();
    let dpr = web_sys::window().unwrap().device_pixel_ratio();
    assert_eq!(canvas.width(), (600.0 * dpr) as u32);
    let h = canvas.get_bounding_client_rect().height();
    assert_eq!(f64::from(canvas.height()), (h * dpr).floor());
    // The root is the bottom row of a flame graph.
    pointer(&canvas, "mousemove", 300.0, h - 5.0);
    leptos::task::tick().await;
    let tip = div.query_selector("[data-testid=flame-tooltip]").unwrap().expect("a tooltip");
    // By weight: V8's wall time, the sum of every sample's time delta.
    let bundle = perfbundle_core::bundle::Bundle::from_bytes(cpu_profile_bundle(), "cpu", &Default::default()).unwrap();
    let wall_us: u64 = bundle.profiles[0].nodes.self_weight.iter().sum();
    assert_eq!(tip.text_content().unwrap(), format!("all — {}", perfbundle_core::format::amount(wall_us, "us")));
    assert_eq!(count(&div, "crumb"), 1);
    state.flame.by_weight.set(false);
    leptos::task::tick().await;
    pointer(&canvas, "mousemove", 300.0, h - 5.0);
    leptos::task::tick().await;
    let tip = div.query_selector("[data-testid=flame-tooltip]").unwrap().expect("a tooltip");
    // Samples, and their time at the profile's sampling interval: the wall time again.
    let by_samples = format!(
        "all — {} samples ≈ {}",
        perfbundle_core::format::group(bundle.profiles[0].total_samples),
        perfbundle_core::format::amount(wall_us, "us")
    );
    assert_eq!(tip.text_content().unwrap(), by_samples);
    // The widest frame above it.
    pointer(&canvas, "click", 300.0, h - ROW - 5.0);
    leptos::task::tick().await;
    assert_ne!(state.flame.focus.get_untracked(), 0);
    assert_eq!(count(&div, "crumb"), 2);
    // The same rows, upside down.
    state.flame.icicle.set(true);
    state.flame.focus.set(0);
    leptos::task::tick().await;
    pointer(&canvas, "mousemove", 300.0, 5.0);
    leptos::task::tick().await;
    let tip = div.query_selector("[data-testid=flame-tooltip]").unwrap().expect("a tooltip");
    assert_eq!(tip.text_content().unwrap(), by_samples);
}

#[wasm_bindgen_test]
async fn canvas_painting_sizes_to_the_pixel_ratio_and_hits_what_it_drew() {
    let div = container();
    div.set_attribute("style", "width:400px").unwrap();
    let doc = web_sys::window().unwrap().document().unwrap();
    let el: web_sys::HtmlCanvasElement = doc.create_element("canvas").unwrap().unchecked_into();
    el.set_attribute("style", "width:100%").unwrap();
    div.append_child(&el).unwrap();
    let bundle = perfbundle_core::bundle::Bundle::from_bytes(cpu_profile_bundle(), "cpu", &Default::default()).unwrap();
    let p = &bundle.profiles[0];
    let ix = FlameIndex::new(p);
    let dpr = web_sys::window().unwrap().device_pixel_ratio();
    for icicle in [false, true] {
        let rects = canvas::paint(&el, p, &ix, 0, &|n| canvas::flame_color(p, n, false), icicle, None);
        // As tall as the rows drawn (frames under half a pixel left out), not the deepest stack.
        let rows = FlameIndex::rows(&rects);
        assert!(rows <= ix.max_depth + 1);
        assert_eq!(el.width(), (400.0 * dpr) as u32);
        assert_eq!(el.height(), (f64::from(rows) * ROW * dpr) as u32);
        assert_eq!(el.get_attribute("style").unwrap(), format!("width:100%;height:{}px", f64::from(rows) * ROW));
        assert!(rects.len() > 20, "{} rectangles", rects.len());
        assert!(rects.iter().any(|r| r.node == 0 && r.depth == 0 && r.x == 0.0 && r.w == 1.0));
        let h = f64::from(rows) * ROW;
        let root_y = canvas::row_top(0, h, icicle) + ROW / 2.0;
        assert_eq!(canvas::rect_at(&rects, icicle, 200.0, root_y, 400.0, h), Some(0));
        // Every rectangle is found where it was drawn.
        for r in rects.iter().filter(|r| r.w * 400.0 > 2.0).take(50) {
            let (x, y) = ((r.x + r.w / 2.0) * 400.0, canvas::row_top(r.depth, h, icicle) + ROW / 2.0);
            assert_eq!(canvas::rect_at(&rects, icicle, x, y, 400.0, h), Some(r.node));
        }
    }
    // Colours: the root grey, search matches magenta, the others by category.
    assert_eq!(canvas::flame_color(p, 0, true), (190, 190, 190));
    assert_eq!(canvas::flame_color(p, 1, true), (238, 70, 200));
    assert_eq!(canvas::flame_color(p, 1, false), p.frames.category[p.nodes.frame[1] as usize].color());
    assert_eq!(canvas::label(p, 0), "all");
}

#[wasm_bindgen_test]
async fn the_compare_state_diffs_the_two_runs_once() {
    let state = ViewerState::new();
    let v2 = include_bytes!("../../archives/orders-api-v2-cpu-prof.perfbundle");
    load::open_bytes(state.run.bundle, "v2", v2);
    assert!(state.compare.diff.get_untracked().is_none());
    load::open_bytes(state.compare.base, "v1", cpu_profile_bundle());
    let a = state.compare.diff.get_untracked().unwrap().unwrap();
    let b = state.compare.diff.get_untracked().unwrap().unwrap();
    assert!(Arc::ptr_eq(&a, &b), "one diff, shared");
    assert_eq!(a.profiles.len(), 1);
    state.compare.pair.set(0);
    state.compare.all.set(true);
    assert!(
        Arc::ptr_eq(&a, &state.compare.diff.get_untracked().unwrap().unwrap()),
        "not recomputed by the view's choices"
    );
}

#[wasm_bindgen_test]
async fn a_line_chart_draws_the_core_geometry_and_shares_hover_and_range() {
    use perfbundle_core::render::chart::ChartLine;
    use perfbundle_web::components::line_chart::LineChart;
    let div = container();
    div.set_attribute("style", "width:900px").unwrap();
    let hover = RwSignal::new(None);
    let range = RwSignal::new(None);
    let lines = vec![ChartLine {
        label: "p95".into(),
        color: "#2f6fdf".into(),
        points: vec![(0.0, 10.0), (5_000.0, 80.0), (10_000.0, 20.0)],
        dashed: false,
    }];
    let _h = leptos::mount::mount_to(div.clone(), move || {
        view! {
            <LineChart title="latency".to_string() contains="time".to_string() lines=lines
                domain=Signal::derive(|| (0.0, 10_000.0)) testid="c".to_string() elapsed=true hover=hover range=range />
        }
    });
    leptos::task::tick().await;
    let svg = div.query_selector("svg").unwrap().unwrap();
    let ticks: Vec<String> = {
        let html = svg.inner_html();
        html.split("class=\"tick\"")
            .skip(1)
            .map(|t| t[t.find('>').unwrap() + 1..t.find("</text>").unwrap()].to_string())
            .collect()
    };
    // y: 0 to nice_max(80) = 100 in five ticks, as k6 prints durations; x: time
    // since the start at round intervals (every 2 s over 10 s).
    assert_eq!(ticks, ["0s", "25ms", "50ms", "75ms", "100ms", "0:00", "0:02", "0:04", "0:06", "0:08", "0:10"]);
    // Drawn at the width it has (the figure's, measured): no stretching, so the viewBox is that width.
    let w = svg.get_bounding_client_rect().width();
    let view_w: f64 = svg.get_attribute("viewBox").unwrap().split(' ').nth(2).unwrap().parse().unwrap();
    assert!((view_w - w).abs() < 1.0, "viewBox {view_w} for a chart {w} px wide");
    let d = svg.query_selector("path").unwrap().unwrap().get_attribute("d").unwrap();
    let (left, right) = (70.0, view_w - 12.0);
    assert_eq!(d, format!("M{left:.1},131.0 L{:.1},40.0 L{right:.1},118.0", (left + right) / 2.0));
    // Hover at the middle of the plot area: 5 s; the crosshair is drawn there.
    let scale = w / view_w;
    pointer(&svg, "mousemove", (left + right) / 2.0 * scale, 50.0);
    leptos::task::tick().await;
    // (Pointer events are in whole CSS pixels: within a pixel, 12 ms here.)
    let t: f64 = hover.get_untracked().expect("a hover time");
    assert!((t - 5000.0).abs() < 30.0, "{t}");
    assert_eq!(count(&div, "crosshair"), 1);
    // Dragging from 2 s to 6 s selects that range.
    let at = |f: f64| (left + (right - left) * f) * scale;
    pointer(&svg, "mousedown", at(0.2), 50.0);
    pointer(&svg, "mousemove", at(0.6), 50.0);
    pointer(&svg, "mouseup", at(0.6), 50.0);
    leptos::task::tick().await;
    let (a, b) = range.get_untracked().expect("a range");
    assert!((a - 2000.0).abs() < 30.0 && (b - 6000.0).abs() < 30.0, "{a} {b}");
}
