//! The CLI's file-system edge: atomic output files, reading bundles from
//! disk, a threaded decompression pipeline, progress bars.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use perfbundle_core::bundle::{Bundle, ReadLimits};

/// A file written under a temporary name beside its destination and renamed
/// into place by [`AtomicFile::commit`]; dropped uncommitted, it is removed.
pub struct AtomicFile {
    tmp: PathBuf,
    dest: PathBuf,
    done: bool,
}

impl AtomicFile {
    pub fn create(dest: &Path) -> Result<(Self, File)> {
        let dir = dest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let name = dest.file_name().with_context(|| format!("{}: not a file name", dest.display()))?;
        let tmp = dir.join(format!(".{}.partial-{}", name.to_string_lossy(), std::process::id()));
        let f = File::create(&tmp).with_context(|| format!("{}: cannot create", tmp.display()))?;
        Ok((AtomicFile { tmp, dest: dest.to_path_buf(), done: false }, f))
    }

    pub fn commit(mut self) -> Result<()> {
        std::fs::rename(&self.tmp, &self.dest)
            .with_context(|| format!("{}: cannot rename into place", self.dest.display()))?;
        self.done = true;
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Whether two paths are the same file (device and inode on Unix).
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        #[cfg(unix)]
        (Ok(x), Ok(y)) => {
            use std::os::unix::fs::MetadataExt;
            x.dev() == y.dev() && x.ino() == y.ino()
        }
        #[cfg(not(unix))]
        (Ok(_), Ok(_)) => a.canonicalize().ok() == b.canonicalize().ok(),
        _ => false,
    }
}

/// Checks an output file before any work: not a folder, not one of the
/// inputs (same device and inode: `pack -o IN IN` would destroy its input),
/// and its folder exists and takes a new file (a temporary one is created
/// and removed).
pub fn check_output(dest: &Path, inputs: &[PathBuf]) -> Result<()> {
    if dest.is_dir() {
        anyhow::bail!("{}: is a folder; give a file name for the output", dest.display());
    }
    if dest.exists() {
        if let Some(i) = inputs.iter().find(|i| same_file(dest, i)) {
            anyhow::bail!(
                "{}: the output is one of the inputs ({}); writing it would destroy that input: choose another output file",
                dest.display(),
                i.display()
            );
        }
    }
    let (probe, _file) = AtomicFile::create(dest)?;
    drop(probe);
    Ok(())
}

/// A folder written under a temporary name beside its destination and put
/// in place by [`StagedDir::commit`]: a run that fails (a full disk, bad
/// input) leaves the destination as it was. Dropped uncommitted, the
/// temporary folder is removed.
pub struct StagedDir {
    tmp: PathBuf,
    dest: PathBuf,
    /// Writing into a non-empty destination was asked for (`--force`).
    force: bool,
    /// The command's inputs: never replaced by a file of the folder.
    inputs: Vec<PathBuf>,
    done: bool,
}

impl StagedDir {
    /// Checks the destination and makes the temporary folder, before any
    /// work: an existing non-empty destination needs `force` (its files of
    /// the same names are then replaced, the others kept).
    pub fn prepare(dest: &Path, force: bool) -> Result<Self> {
        if dest.exists() && !dest.is_dir() {
            anyhow::bail!("{}: exists and is not a folder", dest.display());
        }
        let non_empty = std::fs::read_dir(dest).map(|mut d| d.next().is_some()).unwrap_or(false);
        if non_empty && !force {
            anyhow::bail!("{}: exists and is not empty; use --force to write into it", dest.display());
        }
        let parent = dest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).with_context(|| format!("{}: cannot create", parent.display()))?;
        let name = dest.file_name().with_context(|| format!("{}: not a folder name", dest.display()))?;
        let tmp = parent.join(format!(".{}.partial-{}", name.to_string_lossy(), std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir(&tmp).with_context(|| format!("{}: cannot create", tmp.display()))?;
        Ok(StagedDir { tmp, dest: dest.to_path_buf(), force, inputs: Vec::new(), done: false })
    }

    /// The command's input files, which the folder's files may not replace
    /// (`--force` into the folder that holds the input).
    pub fn protecting(mut self, inputs: &[PathBuf]) -> Self {
        self.inputs = inputs.to_vec();
        self
    }

    /// Where to write a file of the staged folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.tmp.join(name)
    }

    /// The destination path of a file of the folder (for messages).
    pub fn final_path(&self, name: &str) -> PathBuf {
        self.dest.join(name)
    }

    /// Puts the folder in place: renamed whole (one atomic rename, which
    /// replaces a missing or empty destination and fails on a non-empty one:
    /// the "not empty" rule holds at the moment the folder appears, whatever
    /// else wrote there meanwhile), or with `force` into a non-empty one,
    /// file by file (each rename atomic).
    pub fn commit(mut self) -> Result<()> {
        let empty = std::fs::read_dir(&self.dest).map(|mut d| d.next().is_none()).unwrap_or(true);
        if empty || !self.force {
            if let Err(e) = std::fs::rename(&self.tmp, &self.dest) {
                let taken = matches!(e.raw_os_error(), Some(nix::libc::ENOTEMPTY | nix::libc::EEXIST));
                if taken {
                    anyhow::bail!(
                        "{}: exists and is not empty (written meanwhile by another command?); use --force to write into it",
                        self.dest.display()
                    );
                }
                return Err(e).with_context(|| format!("{}: cannot rename into place", self.dest.display()));
            }
        } else {
            let files: Vec<std::fs::DirEntry> = std::fs::read_dir(&self.tmp)
                .with_context(|| format!("{}: cannot list", self.tmp.display()))?
                .collect::<io::Result<_>>()?;
            for e in &files {
                let to = self.dest.join(e.file_name());
                if let Some(i) = self.inputs.iter().find(|i| to.exists() && same_file(&to, i)) {
                    anyhow::bail!(
                        "{}: would replace the input {}; nothing was written: choose another --out-dir",
                        to.display(),
                        i.display()
                    );
                }
            }
            for e in files {
                let to = self.dest.join(e.file_name());
                std::fs::rename(e.path(), &to).with_context(|| format!("{}: cannot move into place", to.display()))?;
            }
            let _ = std::fs::remove_dir(&self.tmp);
        }
        self.done = true;
        Ok(())
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}

/// Writes a file of a staged folder (no temporary name needed: the folder is one).
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("{}: writing", path.display()))
}

/// Writes a file of a staged folder through a buffered writer.
pub fn write_with(path: &Path, f: impl FnOnce(&mut dyn io::Write) -> io::Result<()>) -> Result<()> {
    let file = File::create(path).with_context(|| format!("{}: cannot create", path.display()))?;
    let mut w = io::BufWriter::new(file);
    f(&mut w).and_then(|_| io::Write::flush(&mut w)).with_context(|| format!("{}: writing", path.display()))
}

/// Opens and reads a whole bundle with every check.
pub fn read_bundle(path: &Path, limits: &ReadLimits) -> Result<Bundle> {
    Held::new(limits.max_model_memory).read(path, limits)
}

/// The bundles a command holds at once (`diff`'s two, `merge`'s shards),
/// read within one memory budget: the reader's `max_model_memory` for all
/// of them together, so that holding several stays as bounded as one.
pub struct Held {
    left: u64,
    total: u64,
    read: usize,
}

impl Held {
    pub fn new(budget: u64) -> Held {
        Held { left: budget, total: budget, read: 0 }
    }

    /// Reads `path` within what is left of the budget.
    pub fn read(&mut self, path: &Path, limits: &ReadLimits) -> Result<Bundle> {
        let f = File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
        let limits = limits.clone().with_max_model_memory(self.left);
        let file = path.display().to_string();
        match Bundle::read_measured(BufReader::with_capacity(1 << 20, f), &file, &limits) {
            Ok((b, held)) => {
                if std::env::var_os("PERFBUNDLE_DEBUG_HELD").is_some() {
                    eprintln!("held {} MiB", held >> 20);
                }
                self.left -= held;
                self.read += 1;
                Ok(b)
            }
            Err(e @ perfbundle_core::BundleError::Schema { .. })
                if self.read > 0 && e.to_string().contains("larger than a reader holds in memory") =>
            {
                Err(anyhow::anyhow!(
                    "{file}: with the {} bundle{} read before it, more than perfbundle holds in memory at once ({} MiB of model): {}",
                    self.read,
                    if self.read == 1 { "" } else { "s" },
                    self.total >> 20,
                    "compare or merge fewer or smaller bundles"
                ))
            }
            Err(e) => Err(e.into()),
        }
    }
}

static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `--quiet`: no progress, spinners or notes on stderr.
pub fn set_quiet(q: bool) {
    QUIET.store(q, std::sync::atomic::Ordering::Relaxed);
}

/// Whether `--quiet` was given.
pub fn quiet() -> bool {
    QUIET.load(std::sync::atomic::Ordering::Relaxed)
}

/// Whether progress may be drawn: stderr is a terminal, not under CI, not `--quiet`.
pub fn show_progress() -> bool {
    use std::io::IsTerminal;
    io::stderr().is_terminal() && std::env::var_os("CI").is_none() && !quiet()
}

/// A note on stderr (what was done, where it went), left out under `--quiet`.
pub fn note(text: &str) {
    if !quiet() {
        eprintln!("{}", crate::terminal::terminal_text_lines(text));
    }
}

/// A progress bar on stderr when stderr is a terminal, hidden otherwise.
pub fn progress(len: u64, what: &str) -> ProgressBar {
    if !show_progress() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
    {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_message(what.to_string());
    pb
}

/// A progress bar counting items (files, shards, slices) on stderr when progress may be drawn.
pub fn progress_count(len: u64, what: &str) -> ProgressBar {
    if !show_progress() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {elapsed}") {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_message(what.to_string());
    pb
}

/// A spinner on stderr when stderr is a terminal, hidden otherwise.
pub fn spinner(what: &str) -> ProgressBar {
    if !show_progress() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new_spinner();
    pb.set_message(what.to_string());
    pb.enable_steady_tick(std::time::Duration::from_millis(120));
    pb
}

/// The spinner a slow command shows (at most one at a time).
static COMMAND_SPINNER: std::sync::Mutex<Option<ProgressBar>> = std::sync::Mutex::new(None);
/// Set once the command has printed to stdout: its spinner no longer appears.
static SPINNER_DONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A spinner for a whole command that appears only once the command has run
/// for a second (on a terminal, not `--quiet`): a quick command shows
/// nothing. It is cleared before the command prints to stdout
/// ([`clear_spinner`]) and when dropped.
#[derive(Debug)]
pub struct DelayedSpinner {
    stop: std::sync::Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
}

impl DelayedSpinner {
    pub fn start(what: &'static str) -> DelayedSpinner {
        let stop = std::sync::Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
        if show_progress() {
            let s = stop.clone();
            std::thread::spawn(move || {
                let (lock, cv) = &*s;
                let guard = lock.lock().unwrap_or_else(|e| e.into_inner());
                let (stopped, _) = cv
                    .wait_timeout_while(guard, std::time::Duration::from_secs(1), |stopped| !*stopped)
                    .unwrap_or_else(|e| e.into_inner());
                if *stopped || SPINNER_DONE.load(std::sync::atomic::Ordering::Relaxed) {
                    return;
                }
                let pb = ProgressBar::new_spinner();
                if let Ok(style) = ProgressStyle::with_template("{spinner} perfbundle: {msg}… {elapsed}") {
                    pb.set_style(style);
                }
                pb.set_message(what);
                pb.enable_steady_tick(std::time::Duration::from_millis(120));
                *COMMAND_SPINNER.lock().unwrap_or_else(|e| e.into_inner()) = Some(pb);
                drop(stopped);
            });
        }
        DelayedSpinner { stop }
    }
}

/// Clears the command's spinner, if one is shown, and keeps it from appearing.
pub fn clear_spinner() {
    SPINNER_DONE.store(true, std::sync::atomic::Ordering::Relaxed);
    if let Some(pb) = COMMAND_SPINNER.lock().unwrap_or_else(|e| e.into_inner()).take() {
        pb.finish_and_clear();
    }
}

impl Drop for DelayedSpinner {
    fn drop(&mut self) {
        let (lock, cv) = &*self.stop;
        *lock.lock().unwrap_or_else(|e| e.into_inner()) = true;
        cv.notify_all();
        clear_spinner();
    }
}

/// Reads another thread's output chunk by chunk: the producer thread
/// decompresses while this one parses. Chunk buffers go back to the producer
/// to be refilled, so no memory is allocated per chunk.
pub struct ChannelReader {
    rx: Receiver<io::Result<Vec<u8>>>,
    back: SyncSender<Vec<u8>>,
    cur: Vec<u8>,
    pos: usize,
    done: bool,
}

/// The size of the chunks a reading thread hands over.
pub const CHUNK: usize = 1 << 20;
const CHUNKS_IN_FLIGHT: usize = 4;

/// Reads until `buf` is full or the input ends: the bytes read, and the
/// error that stopped it early (the bytes before it are in `buf`).
pub fn read_full(r: &mut impl Read, buf: &mut [u8]) -> (usize, io::Result<()>) {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (filled, Err(e)),
        }
    }
    (filled, Ok(()))
}

impl ChannelReader {
    /// Runs `source` on a thread of its own, reading it in 1 MiB chunks.
    pub fn spawn<R: Read + Send + 'static>(mut source: R) -> (Self, std::thread::JoinHandle<R>) {
        let (tx, rx) = sync_channel::<io::Result<Vec<u8>>>(CHUNKS_IN_FLIGHT);
        let (back, spare) = sync_channel::<Vec<u8>>(CHUNKS_IN_FLIGHT + 2);
        let handle = std::thread::spawn(move || {
            loop {
                let mut buf = spare.try_recv().unwrap_or_default();
                buf.resize(CHUNK, 0);
                let (filled, res) = read_full(&mut source, &mut buf);
                buf.truncate(filled);
                match res {
                    Ok(()) if filled == 0 => break,
                    Ok(()) => {
                        if tx.send(Ok(buf)).is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        if filled > 0 {
                            let _ = tx.send(Ok(buf));
                        }
                        let _ = tx.send(Err(e));
                        break;
                    }
                }
            }
            source
        });
        (ChannelReader { rx, back, cur: Vec::new(), pos: 0, done: false }, handle)
    }
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(out.len());
        out[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for ChannelReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.pos >= self.cur.len() && !self.done {
            match self.rx.recv() {
                Ok(Ok(chunk)) => {
                    let used = std::mem::replace(&mut self.cur, chunk);
                    let _ = self.back.try_send(used);
                    self.pos = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => self.done = true,
            }
        }
        Ok(&self.cur[self.pos.min(self.cur.len())..])
    }

    fn consume(&mut self, amt: usize) {
        self.pos += amt;
    }
}

/// Counts bytes and hashes them on their way through.
pub struct Tap<R> {
    pub inner: R,
    pub hasher: sha2::Sha256,
    pub bytes: u64,
    pub progress: ProgressBar,
}

impl<R: Read> Read for Tap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        sha2::Digest::update(&mut self.hasher, &buf[..n]);
        self.bytes += n as u64;
        self.progress.set_position(self.bytes);
        Ok(n)
    }
}
