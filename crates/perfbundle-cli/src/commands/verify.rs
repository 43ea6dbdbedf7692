//! `perfbundle verify`: every entry's checksum and schema.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use perfbundle_core::bundle::ReadLimits;

use crate::fsio::read_bundle;

/// Check a bundle: format version, every entry's size and SHA-256, and the schema of the model entries.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The bundle.
    pub file: PathBuf,
}

pub fn run(a: VerifyArgs) -> Result<ExitCode> {
    let b = read_bundle(&a.file, &ReadLimits::default())?;
    let m = &b.manifest;
    // Entry paths are the bundle's text: control characters shown escaped.
    let line = format!(
        "{}: OK (format {}, {} entries checked: {})",
        a.file.display(),
        m.format_version,
        m.entries.len() + 1,
        std::iter::once("manifest.json")
            .chain(m.entries.iter().map(|e| e.path.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    crate::emit(&format!("{}\n", crate::terminal::terminal_text(&line)));
    Ok(ExitCode::SUCCESS)
}
