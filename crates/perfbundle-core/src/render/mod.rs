//! Drawing the model as standalone SVG (no I/O: writes to any `Write`).

pub mod chart;
pub mod charts;
pub mod compare_report;
pub mod contrast;
pub mod diff_flamegraph;
#[cfg(feature = "inferno")]
pub mod flamegraph;
pub mod markdown;
pub mod plot;
pub mod trend;
