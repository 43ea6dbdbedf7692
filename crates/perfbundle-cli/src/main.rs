//! `perfbundle`: one performance run, one file.

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod args;
mod commands;
mod fsio;
mod inputs;
mod packing;
mod viewer;

#[derive(Parser)]
#[command(
    name = "perfbundle",
    version,
    about = "One performance run, one file: k6 results, profiles and process timelines packed into a .perfbundle; inspect, verify, compare, export, view and share it."
)]
struct Cli {
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
}

/// Writes to stdout; a closed pipe (`perfbundle inspect | head`) ends the process quietly.
pub(crate) fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("perfbundle: writing to stdout: {e}");
        std::process::exit(1);
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
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
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("perfbundle: error: {e:#}");
            // 2 for every error (bad input, usage, I/O), as clap's usage errors; 1 is kept for a
            // check that ran and failed (a `diff` gate).
            ExitCode::from(2)
        }
    }
}
