//! `perfbundle`: one performance run, one file.

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod args;
mod commands;
mod fsio;
mod inputs;
mod packing;
mod pargz;
mod terminal;
mod viewer;

/// The version and the commit it was built from (build.rs).
pub(crate) const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("PERFBUNDLE_COMMIT"), ")");

#[derive(Parser)]
#[command(
    name = "perfbundle",
    version = VERSION,
    about = "One performance run, one file: k6 results, profiles and process timelines packed into a .perfbundle; inspect, verify, compare, export, view and share it."
)]
struct Cli {
    /// No progress bars, spinners or notes on stderr (errors and warnings are still printed).
    /// Progress is shown only on a terminal anyway, never under CI=….
    #[arg(short, long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Pack(commands::pack::PackArgs),
    Inspect(commands::inspect::InspectArgs),
    Verify(commands::verify::VerifyArgs),
    Unpack(commands::unpack::UnpackArgs),
    Export(commands::export::ExportArgs),
    View(commands::view::ViewArgs),
    Html(commands::html::HtmlArgs),
    Site(commands::site::SiteArgs),
    Merge(commands::merge::MergeArgs),
    Diff(commands::diff::DiffArgs),
    History(commands::history::HistoryArgs),
    Import(commands::import::ImportArgs),
    Record(Box<commands::record::RecordArgs>),
    Completions(commands::completions::CompletionsArgs),
    Man(commands::completions::ManArgs),
}

/// The clap definition of the whole command line (completions and the man page are made from it).
pub(crate) fn cli_command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

/// Writes to stdout; a closed pipe (`perfbundle inspect | head`) ends the process quietly.
pub(crate) fn emit(text: &str) {
    emit_with(|out| out.write_all(text.as_bytes()));
}

/// [`emit`] of what `write` writes, streamed (a large JSON document is
/// never held as one string).
pub(crate) fn emit_with(write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>) {
    fsio::clear_spinner();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    if let Err(e) = write(&mut out).and_then(|_| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        // Exit 1 means a failed gate (diff, history): a failed write is an error, 2.
        eprintln!("perfbundle: writing to stdout: {e}");
        std::process::exit(2);
    }
}

/// The arguments, or clap's message with control characters shown escaped
/// (an argument such as a file name picked up by a shell glob is echoed in
/// it, and must not reach the terminal as escape sequences).
fn parse_args() -> Cli {
    match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            eprint!("{}", terminal::terminal_text_lines(&e.render().to_string()));
            std::process::exit(e.exit_code());
        }
    }
}

fn main() -> ExitCode {
    let cli = parse_args();
    fsio::set_quiet(cli.quiet);
    let slow = match &cli.command {
        // These show their own progress (pack, import, record), or run until stopped (view), or
        // print at once (completions, man).
        Command::Pack(_) | Command::Record(_) | Command::Merge(_) | Command::View(_) => None,
        Command::Import(a) => match a.source {
            commands::import::ImportSource::Influxdb(_) => None,
            commands::import::ImportSource::Prometheus(_) => Some("importing from Prometheus"),
        },
        Command::Completions(_) | Command::Man(_) => None,
        Command::Inspect(_) => Some("reading the bundle"),
        Command::Verify(_) => Some("verifying"),
        Command::Unpack(_) => Some("unpacking"),
        Command::Export(_) => Some("exporting"),
        Command::Html(_) => Some("writing the report"),
        Command::Site(_) => Some("writing the site"),
        Command::Diff(_) => Some("comparing"),
        Command::History(_) => Some("reading the runs"),
    };
    // A spinner that shows only once the command has taken a second (on a terminal, not --quiet).
    let _spinner = slow.map(fsio::DelayedSpinner::start);
    let result = match cli.command {
        Command::Pack(a) => commands::pack::run(a),
        Command::Inspect(a) => commands::inspect::run(a),
        Command::Verify(a) => commands::verify::run(a),
        Command::Unpack(a) => commands::unpack::run(a),
        Command::Export(a) => commands::export::run(a),
        Command::View(a) => commands::view::run(a),
        Command::Html(a) => commands::html::run(a),
        Command::Site(a) => commands::site::run(a),
        Command::Merge(a) => commands::merge::run(a),
        Command::Diff(a) => commands::diff::run(a),
        Command::History(a) => commands::history::run(a),
        Command::Import(a) => commands::import::run(a),
        Command::Record(a) => commands::record::run(*a),
        Command::Completions(a) => commands::completions::run(a),
        Command::Man(a) => commands::completions::run_man(a),
    };
    drop(_spinner);
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("perfbundle: error: {}", terminal::terminal_text_lines(&format!("{e:#}")));
            // 2 for every error (bad input, usage, I/O), as clap's usage errors; 1 is kept for a
            // check that ran and failed (a `diff` gate).
            ExitCode::from(2)
        }
    }
}
