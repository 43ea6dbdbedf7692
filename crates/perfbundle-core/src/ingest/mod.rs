//! Ingesters: one module per source format, each turning a tool's bytes into
//! the model. [`detect`] tells the formats apart by content.

pub mod detect;
pub mod document;
pub mod gzip;
pub mod influx;
pub mod k6_csv;
pub mod k6_json;
pub mod k6_summary;
pub mod lines;
pub mod prometheus;

pub use detect::{detect, InputKind};
