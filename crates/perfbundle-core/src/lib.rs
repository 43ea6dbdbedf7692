//! perfbundle-core: the `.perfbundle` format, its model and the ingesters.
//!
//! This crate does no file-system or network I/O: every entry point takes
//! bytes, a [`std::io::Read`] or a [`std::io::Write`], so the same code runs in
//! the CLI and, compiled to `wasm32-unknown-unknown`, in the browser viewer.
//!
//! Data flow: tool output → [`ingest`] → model ([`k6`]) → [`bundle`] (tar+gzip) → views.

pub mod align;
pub mod bounded;
pub mod bundle;
pub mod compare;
pub mod error;
pub mod format;
pub mod histogram;
pub mod history;
pub mod ingest;
pub mod k6;
pub mod pack;
pub mod profile;
pub mod render;
pub mod threshold;
pub mod time;
pub mod timeline;

pub use error::{BundleError, IngestError};

/// The version of this crate, written into `manifest.json` as `created_by`.
pub const CRATE_VERSION: &str = env!("CARGO_PKG_VERSION");
