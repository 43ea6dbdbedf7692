//! `perfbundle html`: one self-contained HTML file — the viewer's wasm,
//! JavaScript and CSS, and the bundle — that opens from `file://` with no
//! network and no server.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use perfbundle_core::bundle::ReadLimits;
use perfbundle_core::render::chart::escape;
use sha2::Digest;

use crate::fsio::{read_bundle, AtomicFile};

/// Write one self-contained HTML report of a bundle (the whole viewer inside).
#[derive(Args, Debug)]
pub struct HtmlArgs {
    /// The bundle.
    pub file: PathBuf,
    /// Output HTML file.
    #[arg(short = 'o', long = "output", value_name = "report.html")]
    pub output: PathBuf,
    /// A built viewer folder to use instead of the one built into perfbundle (see `perfbundle view --help`).
    #[arg(long, value_name = "DIR")]
    pub viewer: Option<PathBuf>,
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The loader: decodes the viewer's glue and wasm from the page and starts it.
/// The glue and the wasm are gzip-compressed (the browser's DecompressionStream inflates them).
const LOADER: &str = r#"
const raw = (id) => Uint8Array.from(atob(document.getElementById(id).textContent.trim()), (c) => c.charCodeAt(0));
const gunzip = async (id) => new Uint8Array(await new Response(new Blob([raw(id)]).stream().pipeThrough(new DecompressionStream('gzip'))).arrayBuffer());
const glue = new TextDecoder().decode(await gunzip('pb-glue'));
const mod = await import(URL.createObjectURL(new Blob([glue], { type: 'text/javascript' })));
await mod.default({ module_or_path: await gunzip('pb-wasm') });
"#;

fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes)?;
    Ok(e.finish()?)
}

pub fn run(a: HtmlArgs) -> Result<ExitCode> {
    crate::fsio::check_output(&a.output, std::slice::from_ref(&a.file))?;
    let viewer = crate::viewer::find_viewer(a.viewer.as_deref())?;
    let b = read_bundle(&a.file, &ReadLimits::default())?;
    let bundle = std::fs::read(&a.file).with_context(|| format!("{}: cannot read", a.file.display()))?;
    let (_, wasm) = viewer.one("*_bg.wasm", |n| n.ends_with("_bg.wasm"))?;
    // The wasm-bindgen glue (the web component's script, perfbundle-viewer.js, is not needed here).
    let (_, glue) = viewer.one("wasm-bindgen glue (*.js)", |n| n.ends_with(".js") && n != "perfbundle-viewer.js")?;
    let (css_name, css) = viewer.one("*.css", |n| n.ends_with(".css"))?;
    let css = String::from_utf8(css).with_context(|| format!("{}: {css_name} is not UTF-8", viewer.describe()))?;
    // The CSP allows the one inline script, by its hash.
    let loader_hash = base64(&sha2::Sha256::digest(LOADER.as_bytes()));
    let name = a.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'sha256-{loader_hash}' blob: 'wasm-unsafe-eval'; style-src 'unsafe-inline'; img-src data:; connect-src 'none'; base-uri 'none'; form-action 'none'\">\n\
<link rel=\"icon\" href=\"data:,\">\n<title>{title} — perfbundle</title>\n<style>{css}</style>\n</head>\n<body>\n\
<noscript>This report needs JavaScript and WebAssembly.</noscript>\n\
<script type=\"application/octet-stream\" id=\"pb-bundle\" data-name=\"{name}\">{bundle}</script>\n\
<script type=\"application/octet-stream\" id=\"pb-glue\">{glue}</script>\n\
<script type=\"application/octet-stream\" id=\"pb-wasm\">{wasm}</script>\n\
<script type=\"module\">{LOADER}</script>\n</body>\n</html>\n",
        title = escape(&b.manifest.title),
        css = css.replace("</", "<\\/"),
        name = escape(&name),
        bundle = base64(&bundle),
        glue = base64(&gzip(&glue)?),
        wasm = base64(&gzip(&wasm)?),
    );
    let (atomic, file) = AtomicFile::create(&a.output)?;
    let mut w = std::io::BufWriter::new(file);
    w.write_all(html.as_bytes()).with_context(|| format!("{}: writing", a.output.display()))?;
    w.flush()?;
    drop(w);
    atomic.commit()?;
    crate::emit(&format!("wrote {} ({} bytes)\n", a.output.display(), html.len()));
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn encodes_base64() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }
}
