//! `perfbundle html`: one self-contained HTML file — the viewer's wasm,
//! JavaScript and CSS, and the bundle (with `--base`, two bundles, opening
//! on their comparison) — that opens from `file://` with no network and no
//! server. The bundles are base64-encoded as they are read, a block at a
//! time: memory does not grow with their size.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use perfbundle_core::bundle::ReadLimits;
use perfbundle_core::render::chart::escape;
use sha2::Digest;

use crate::fsio::AtomicFile;

/// Write one self-contained HTML report of a bundle (the whole viewer inside).
#[derive(Args, Debug)]
pub struct HtmlArgs {
    /// The bundle (with --base: the candidate of the comparison).
    pub file: PathBuf,
    /// A base bundle: the report opens on the comparison of the two (what a pull request wants).
    #[arg(long, value_name = "BASE.perfbundle")]
    pub base: Option<PathBuf>,
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

/// Writes `path`'s bytes base64-encoded, a block at a time (a multiple of
/// 3 bytes, so the blocks' encodings join into the whole's).
fn write_base64_of(w: &mut impl Write, path: &std::path::Path) -> Result<()> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let mut buf = vec![0u8; 3 * 64 * 1024];
    loop {
        let mut n = 0;
        while n < buf.len() {
            match f.read(&mut buf[n..]).with_context(|| format!("{}: reading", path.display()))? {
                0 => break,
                k => n += k,
            }
        }
        if n == 0 {
            return Ok(());
        }
        w.write_all(base64(&buf[..n]).as_bytes())?;
        if n < buf.len() {
            return Ok(());
        }
    }
}

/// The `<script>` that carries a bundle (`id`: `pb-bundle`, or `pb-base` for a comparison's base).
fn write_bundle_script(w: &mut impl Write, id: &str, path: &std::path::Path) -> Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    write!(w, "<script type=\"application/octet-stream\" id=\"{id}\" data-name=\"{}\">", escape(&name))?;
    write_base64_of(w, path)?;
    w.write_all(b"</script>\n")?;
    Ok(())
}

pub fn run(a: HtmlArgs) -> Result<ExitCode> {
    let inputs: Vec<PathBuf> = std::iter::once(a.file.clone()).chain(a.base.clone()).collect();
    crate::fsio::check_output(&a.output, &inputs)?;
    let viewer = crate::viewer::find_viewer(a.viewer.as_deref())?;
    // Each bundle is read and checked whole before it is embedded: a report never carries a bundle that does not open.
    let limits = ReadLimits::default();
    let mut held = crate::fsio::Held::new(limits.max_model_memory);
    let b = held.read(&a.file, &limits)?;
    let base = a.base.as_ref().map(|p| held.read(p, &limits)).transpose()?;
    let (_, wasm) = viewer.one("*_bg.wasm", |n| n.ends_with("_bg.wasm"))?;
    // The wasm-bindgen glue (the web component's script, perfbundle-viewer.js, is not needed here).
    let (_, glue) = viewer.one("wasm-bindgen glue (*.js)", |n| n.ends_with(".js") && n != "perfbundle-viewer.js")?;
    let (css_name, css) = viewer.one("*.css", |n| n.ends_with(".css"))?;
    let css = String::from_utf8(css).with_context(|| format!("{}: {css_name} is not UTF-8", viewer.describe()))?;
    // The CSP allows the one inline script, by its hash.
    let loader_hash = base64(&sha2::Sha256::digest(LOADER.as_bytes()));
    let title = match &base {
        Some(base) => format!("{} → {}", base.manifest.title, b.manifest.title),
        None => b.manifest.title.clone(),
    };
    drop((b, base));
    let head = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'sha256-{loader_hash}' blob: 'wasm-unsafe-eval'; style-src 'unsafe-inline'; img-src data:; connect-src 'none'; base-uri 'none'; form-action 'none'\">\n\
<link rel=\"icon\" href=\"data:,\">\n<title>{title} — perfbundle</title>\n<style>{css}</style>\n</head>\n<body>\n\
<noscript>This report needs JavaScript and WebAssembly.</noscript>\n",
        title = escape(&title),
        css = css.replace("</", "<\\/"),
    );
    let tail = format!(
        "<script type=\"application/octet-stream\" id=\"pb-glue\">{glue}</script>\n\
<script type=\"application/octet-stream\" id=\"pb-wasm\">{wasm}</script>\n\
<script type=\"module\">{LOADER}</script>\n</body>\n</html>\n",
        glue = base64(&gzip(&glue)?),
        wasm = base64(&gzip(&wasm)?),
    );
    let (atomic, file) = AtomicFile::create(&a.output)?;
    let mut w = std::io::BufWriter::new(file);
    let written = (|| -> Result<()> {
        w.write_all(head.as_bytes())?;
        write_bundle_script(&mut w, "pb-bundle", &a.file)?;
        if let Some(base) = &a.base {
            write_bundle_script(&mut w, "pb-base", base)?;
        }
        w.write_all(tail.as_bytes())?;
        w.flush()?;
        Ok(())
    })();
    written.with_context(|| format!("{}: writing", a.output.display()))?;
    let size = w.get_ref().metadata().map(|m| m.len()).unwrap_or(0);
    drop(w);
    atomic.commit()?;
    crate::emit(&format!("wrote {} ({size} bytes)\n", crate::terminal::path(&a.output)));
    Ok(ExitCode::SUCCESS)
}
