//! The k6 side of the model: metric declarations, per-series end-of-test
//! summaries (the numbers k6 prints) and bucketed time series with mergeable
//! histograms.

pub mod aggregate;
pub mod assemble;
pub mod builtin;
pub(crate) mod cells;
pub mod endpoints;
pub mod headline;
pub mod merge;
pub mod model;
pub mod sections;
pub mod text;
pub mod view;

pub use aggregate::{Aggregated, Aggregator, AggregatorOptions, Route};
pub use assemble::{assemble, metrics_view};
pub use model::*;
