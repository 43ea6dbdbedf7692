//! Benchmark helper: folds a `perf script` file with perfbundle's ingest
//! (read sample by sample under inferno's collapser's rules into the stack
//! model) and prints the folded lines, like `inferno-collapse-perf FILE`.
//! See BENCHMARKS.md.

use std::io::{BufReader, Write};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: fold_perf FILE")?;
    let f = std::fs::File::open(&path)?;
    let p = perfbundle_core::profile::perf::ingest(BufReader::with_capacity(1 << 16, f), &path, "bench")?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for l in p.folded(true) {
        writeln!(out, "{l}")?;
    }
    Ok(())
}
