//! One component per file.

pub mod call_tree;
pub mod category_legend;
pub mod chart_toolbar;
pub mod charts;
pub mod checks_tree;
pub mod compare_endpoints;
pub mod compare_table;
pub mod compare_view;
pub mod diff_flame_graph;
pub mod endpoints_table;
pub mod flame_graph;
pub mod function_table;
pub mod idle_note;
pub mod line_chart;
pub mod loader;
pub mod overview;
pub mod profiles;
pub mod record_table;
pub mod runs_list;
pub mod sandwich_view;
pub mod summary_table;
pub mod time_order;
pub mod tooltip;
pub mod trend_view;
pub mod verdict_block;
