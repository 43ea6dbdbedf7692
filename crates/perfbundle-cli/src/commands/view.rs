//! `perfbundle view`: serves the built viewer and bundles on 127.0.0.1.

mod server;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::Args;

use crate::viewer::find_viewer;

/// Serve the viewer and a bundle (or a folder of bundles) on 127.0.0.1.
#[derive(Args, Debug)]
pub struct ViewArgs {
    /// A .perfbundle, or a folder of them.
    pub path: PathBuf,
    /// Port (0 picks a free one).
    #[arg(long, default_value_t = 8765)]
    pub port: u16,
    /// A built viewer folder (`bash scripts/build-viewer.sh` writes dist/) to serve instead of the
    /// one built into perfbundle. Default: $PERFBUNDLE_VIEWER, viewer/ beside the binary, the
    /// repository's dist/ for a binary in its target/, else the built-in one.
    #[arg(long, value_name = "DIR")]
    pub viewer: Option<PathBuf>,
}

pub fn run(a: ViewArgs) -> Result<ExitCode> {
    let viewer = find_viewer(a.viewer.as_deref())?;
    let bundles = if a.path.is_file() {
        server::Bundles::File(a.path.clone())
    } else if a.path.is_dir() {
        server::Bundles::Folder(a.path.clone())
    } else {
        bail!("{}: no such file or folder", a.path.display());
    };
    let site = Arc::new(server::Site::new(viewer.clone(), bundles.clone()));
    // Read every bundle now: a bundle that does not read is reported before the URLs.
    site.index();
    let names: Vec<String> = site.listing().into_iter().map(|(name, _, _)| name).collect();
    let listener =
        TcpListener::bind(("127.0.0.1", a.port)).with_context(|| format!("cannot listen on 127.0.0.1:{}", a.port))?;
    let port = listener.local_addr()?.port();
    let mut out = String::new();
    for n in &names {
        out.push_str(&format!("http://127.0.0.1:{port}/?bundle={}\n", query_value(&format!("bundles/{n}"))));
    }
    if names.len() > 1 {
        out.push_str(&format!("http://127.0.0.1:{port}/  (lists the {} bundles)\n", names.len()));
    }
    if names.is_empty() {
        out.push_str(&format!("http://127.0.0.1:{port}/  (no bundle yet: those copied into the folder are listed)\n"));
    }
    crate::emit(&out);
    match &bundles {
        server::Bundles::Folder(d) => crate::fsio::note(&format!(
            "serving {} and the bundles of {} ({} now; ones added later too); Ctrl-C stops",
            viewer.describe(),
            d.display(),
            names.len()
        )),
        server::Bundles::File(f) => {
            crate::fsio::note(&format!("serving {} and {}; Ctrl-C stops", viewer.describe(), f.display()))
        }
    }
    server::serve(listener, site)?;
    Ok(ExitCode::SUCCESS)
}

/// A value for a URL's query string: `/` kept, the rest of what is not a
/// letter, digit or `-._~` percent-encoded (a space is `%20`).
fn query_value(s: &str) -> String {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    const KEEP: &percent_encoding::AsciiSet =
        &NON_ALPHANUMERIC.remove(b'/').remove(b'-').remove(b'.').remove(b'_').remove(b'~');
    utf8_percent_encode(s, KEEP).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn printed_urls_encode_names() {
        assert_eq!(super::query_value("bundles/run 1 & 2.perfbundle"), "bundles/run%201%20%26%202.perfbundle");
        assert_eq!(super::query_value("bundles/v1.0_a-b~.perfbundle"), "bundles/v1.0_a-b~.perfbundle");
    }
}
