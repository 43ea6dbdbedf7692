//! `perfbundle import`: a run from where k6 results already live — InfluxDB
//! 1.x (k6 `--out influxdb`) — into a bundle, aggregated by the very code
//! that packs k6's JSON stream.

use std::collections::BTreeMap;
use std::io::{BufReader, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand};
use perfbundle_core::ingest::influx;
use perfbundle_core::k6::Aggregator;
use perfbundle_core::time::{format_rfc3339_ms, parse_rfc3339_ns};
use sha2::{Digest, Sha256};

use super::pack::{ExternalPoints, PackArgs};

/// Import a k6 run from a time-series database into a bundle.
#[derive(Args, Debug)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub source: ImportSource,
}

#[derive(Subcommand, Debug)]
pub enum ImportSource {
    /// From InfluxDB 1.x, as k6's `--out influxdb` wrote it (InfluxQL over HTTP).
    Influxdb(Box<InfluxArgs>),
    /// From Prometheus, as k6's `experimental-prometheus-rw` output wrote it (the HTTP API).
    Prometheus(Box<PromArgs>),
}

/// The run's time window.
#[derive(Args, Debug)]
pub struct WindowArgs {
    /// Start of the run's window: RFC 3339 (2026-11-24T19:50:00Z) or Unix seconds.
    #[arg(long, requires = "to", conflicts_with = "last")]
    pub from: Option<String>,
    /// End of the window (exclusive).
    #[arg(long, requires = "from")]
    pub to: Option<String>,
    /// The window that ends now: 30m, 2h, 1d…
    #[arg(long, value_name = "DURATION")]
    pub last: Option<String>,
}

/// Where and what to read.
#[derive(Args, Debug)]
pub struct PromArgs {
    /// Prometheus's HTTP address, e.g. http://127.0.0.1:9090.
    #[arg(long)]
    pub url: String,
    /// Only the run with this `testid` label (k6 `--tag testid=…`).
    #[arg(long)]
    pub testid: Option<String>,
    #[command(flatten)]
    pub window: WindowArgs,
    /// Type of a custom metric whose name does not tell it: NAME=counter|gauge|rate|trend. Repeatable.
    #[arg(long = "metric-type", value_name = "NAME=KIND")]
    pub metric_types: Vec<String>,
    /// Output bundle.
    #[arg(short = 'o', long = "output", value_name = "OUT.perfbundle")]
    pub output: PathBuf,
    /// Title of the run.
    #[arg(long)]
    pub title: Option<String>,
    /// A label, K=V. Repeatable.
    #[arg(long = "label", value_name = "K=V")]
    pub labels: Vec<String>,
    /// Extra inputs bundled as `pack` would (k6's summary: its thresholds, checks and test duration are used).
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
}

/// Where and what to read.
#[derive(Args, Debug)]
pub struct InfluxArgs {
    /// InfluxDB's HTTP address, e.g. http://127.0.0.1:8086.
    #[arg(long)]
    pub url: String,
    /// The database k6 wrote to.
    #[arg(long)]
    pub db: String,
    /// Retention policy (default: the database's default).
    #[arg(long)]
    pub rp: Option<String>,
    /// User name, when InfluxDB has authentication on.
    #[arg(long)]
    pub user: Option<String>,
    /// The environment variable holding the password (never a command-line argument).
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    #[command(flatten)]
    pub window: WindowArgs,
    /// Only samples with this tag value, TAG=VALUE (e.g. testid=run-42). Repeatable.
    #[arg(long = "where", value_name = "TAG=VALUE")]
    pub filters: Vec<String>,
    /// Type of a custom metric (InfluxDB holds no types): NAME=counter|gauge|rate|trend. Repeatable.
    #[arg(long = "metric-type", value_name = "NAME=KIND")]
    pub metric_types: Vec<String>,
    /// List the runs in the database (by --run-tag, or by gaps in time) instead of importing.
    #[arg(long)]
    pub list: bool,
    /// The tag that tells runs apart for --list.
    #[arg(long, default_value = "testid", value_name = "KEY")]
    pub run_tag: String,
    /// Length of the time slices read one query at a time (memory stays bounded for runs of any length).
    #[arg(long, default_value = "5m", value_name = "DURATION")]
    pub slice: String,
    /// Output bundle.
    #[arg(short = 'o', long = "output", value_name = "OUT.perfbundle", required_unless_present = "list")]
    pub output: Option<PathBuf>,
    /// Title of the run.
    #[arg(long)]
    pub title: Option<String>,
    /// A label, K=V. Repeatable.
    #[arg(long = "label", value_name = "K=V")]
    pub labels: Vec<String>,
    /// Extra inputs bundled as `pack` would: k6's --summary-export or handleSummary JSON (its types,
    /// thresholds and checks are used), profiles, Clinic data.
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
}

pub fn run(a: ImportArgs) -> Result<ExitCode> {
    match a.source {
        ImportSource::Influxdb(i) => influxdb(*i),
        ImportSource::Prometheus(p) => prometheus(*p),
    }
}

/// `30s`, `5m`, `2h`, `1d` → ns.
pub fn parse_duration_ns(s: &str) -> Result<i64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: f64 = n.parse().map_err(|_| anyhow!("{s:?}: expected a duration like 30s, 5m, 2h, 1d"))?;
    let mult = match unit {
        "ms" => 1e6,
        "s" | "" => 1e9,
        "m" => 60e9,
        "h" => 3600e9,
        "d" => 86400e9,
        _ => bail!("{s:?}: unknown unit {unit:?} (ms, s, m, h, d)"),
    };
    let ns = n * mult;
    if !(1e6..1e18).contains(&ns) {
        bail!("{s:?}: out of range");
    }
    Ok(ns as i64)
}

/// RFC 3339, or Unix seconds → ns.
fn parse_time(s: &str, what: &str) -> Result<i64> {
    if let Some(ns) = parse_rfc3339_ns(s) {
        return Ok(ns);
    }
    if let Ok(secs) = s.trim().parse::<f64>() {
        if secs.is_finite() && secs.abs() < 1e11 {
            return Ok((secs * 1e9) as i64);
        }
    }
    bail!("{what} {s:?}: expected an RFC 3339 time (2026-11-24T19:50:00Z) or Unix seconds")
}

fn now_ns() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as i64).unwrap_or(0)
}

/// An InfluxQL identifier, double-quoted.
fn ident(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// An InfluxQL string literal, single-quoted.
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// How an import is packed: its samples come from the server, the extra
/// inputs and options from the command line; no git labels (the run was
/// not made here).
fn pack_args(
    output: PathBuf,
    title: String,
    labels: &[String],
    metric_types: &[String],
    inputs: &[PathBuf],
) -> PackArgs {
    PackArgs {
        output,
        title: Some(title),
        labels: labels.to_vec(),
        keep_raw: false,
        lenient: false,
        max_line_bytes: perfbundle_core::ingest::lines::DEFAULT_MAX_LINE_BYTES,
        forced: Vec::new(),
        metric_types: metric_types.to_vec(),
        tools: Vec::new(),
        this_host: false,
        shards: false,
        no_git: true,
        inputs: inputs.to_vec(),
    }
}

/// Sends a request; an HTTP error status becomes an error naming `what` and
/// the server's own message (InfluxDB and Prometheus both answer `{"error": …}`).
fn call(req: ureq::Request, what: &str) -> Result<ureq::Response> {
    match req.call() {
        Ok(r) => Ok(r),
        Err(ureq::Error::Status(code, r)) => {
            let body = r.into_string().unwrap_or_default();
            let msg = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["error"].as_str().map(String::from))
                .unwrap_or(body);
            bail!("{what}: HTTP {code}: {}", msg.trim())
        }
        Err(e) => bail!("{what}: {e}"),
    }
}

/// A client of one InfluxDB: URL, database, credentials.
struct Influx {
    url: String,
    db: String,
    rp: Option<String>,
    user: Option<String>,
    password: Option<String>,
    agent: ureq::Agent,
}

impl Influx {
    fn new(a: &InfluxArgs) -> Result<Influx> {
        let url = a.url.trim_end_matches('/').to_string();
        if url.starts_with("https://") {
            bail!("{url}: https is not supported by this build; reach InfluxDB over http (e.g. through an SSH tunnel)");
        }
        if !url.starts_with("http://") {
            bail!("--url {url:?}: expected http://HOST:PORT");
        }
        let password = match &a.password_env {
            Some(var) => {
                Some(std::env::var(var).map_err(|_| anyhow!("--password-env {var}: the variable is not set"))?)
            }
            None => None,
        };
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(std::time::Duration::from_secs(10))
            .timeout_read(std::time::Duration::from_secs(300))
            .build();
        Ok(Influx { url, db: a.db.clone(), rp: a.rp.clone(), user: a.user.clone(), password, agent })
    }

    /// `"db"."rp".` before measurement names.
    fn db_prefix(&self) -> String {
        match &self.rp {
            Some(rp) => format!("{}.{}.", ident(&self.db), ident(rp)),
            None => String::new(),
        }
    }

    /// Runs a query; the response body as a reader (chunked JSON lines).
    fn query(&self, q: &str) -> Result<Box<dyn Read + Send + Sync + 'static>> {
        let mut req = self
            .agent
            .get(&format!("{}/query", self.url))
            .query("db", &self.db)
            .query("epoch", "ns")
            .query("chunked", "true")
            .query("chunk_size", "10000")
            .query("q", q);
        if let Some(u) = &self.user {
            req = req.query("u", u);
        }
        if let Some(p) = &self.password {
            req = req.query("p", p);
        }
        Ok(Box::new(call(req, &format!("{}/query", self.url))?.into_reader()))
    }

    /// A whole (small) query response, parsed.
    fn query_json(&self, q: &str) -> Result<Vec<serde_json::Value>> {
        let mut body = String::new();
        self.query(q)?.take(64 << 20).read_to_string(&mut body).with_context(|| format!("{}/query", self.url))?;
        let mut out = Vec::new();
        for line in body.lines().filter(|l| !l.trim().is_empty()) {
            let v: serde_json::Value =
                serde_json::from_str(line).with_context(|| format!("{}/query: not JSON", self.url))?;
            if let Some(e) = v["error"].as_str().or_else(|| v["results"][0]["error"].as_str()) {
                bail!("{}/query: InfluxDB says: {e}", self.url);
            }
            out.push(v);
        }
        Ok(out)
    }

    fn measurements(&self) -> Result<Vec<String>> {
        let mut names = Vec::new();
        for v in self.query_json("SHOW MEASUREMENTS")? {
            for s in v["results"][0]["series"].as_array().into_iter().flatten() {
                for row in s["values"].as_array().into_iter().flatten() {
                    if let Some(n) = row[0].as_str() {
                        names.push(n.to_string());
                    }
                }
            }
        }
        if names.is_empty() {
            bail!(
                "{}: database {:?} holds no measurement (did k6 write to it with --out influxdb=…/{}?)",
                self.url,
                self.db,
                self.db
            );
        }
        Ok(names)
    }
}

fn where_clause(from: i64, to: i64, filters: &[(String, String)]) -> String {
    let mut w = format!("time >= {from} AND time < {to}");
    for (k, v) in filters {
        w.push_str(&format!(" AND {} = {}", ident(k), literal(v)));
    }
    w
}

fn window(w: &WindowArgs) -> Result<(i64, i64)> {
    match (&w.from, &w.to, &w.last) {
        (Some(f), Some(t), None) => {
            let (from, to) = (parse_time(f, "--from")?, parse_time(t, "--to")?);
            if to <= from {
                bail!("--to {t:?} is not after --from {f:?}");
            }
            Ok((from, to))
        }
        (None, None, Some(l)) => {
            let now = now_ns();
            Ok((now - parse_duration_ns(l)?, now + 1))
        }
        _ => bail!("give the run's window: --from T --to T, or --last DURATION (or --list to find runs)"),
    }
}

fn influxdb(a: InfluxArgs) -> Result<ExitCode> {
    let client = Influx::new(&a)?;
    let filters: Vec<(String, String)> =
        a.filters.iter().map(|f| super::pack::key_value(f, "--where")).collect::<Result<_>>()?;
    if a.list {
        return list_runs(&client, &a, &filters);
    }
    let (from, to) = window(&a.window)?;
    let slice = parse_duration_ns(&a.slice)?;
    let measurements = client.measurements()?;
    let prefix = client.db_prefix();
    let regex = format!("{prefix}/.*/");
    let source_name = format!(
        "{}/{}{} [{} → {})",
        client.url,
        client.db,
        client.rp.as_ref().map(|r| format!(".{r}")).unwrap_or_default(),
        format_rfc3339_ms(from),
        format_rfc3339_ms(to)
    );
    let _ = measurements;
    let mut feed = |agg: &mut Aggregator| -> Result<(String, u64, String, Vec<String>)> {
        let mut hasher = Sha256::new();
        let mut bytes = 0u64;
        let mut points = 0u64;
        let mut skipped = 0u64;
        let mut foreign = std::collections::BTreeSet::new();
        let slices = ((to - from) as f64 / slice as f64).ceil().max(1.0) as u64;
        let pb = crate::fsio::progress(slices, "InfluxDB time slices");
        if let Ok(style) = indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} slices, eta {eta}") {
            pb.set_style(style.progress_chars("=> "));
        }
        let mut t = from;
        while t < to {
            let end = (t.saturating_add(slice)).min(to);
            let q = format!("SELECT * FROM {regex} WHERE {}", where_clause(t, end, &filters));
            let what = format!("{}/query [{} → {})", client.url, format_rfc3339_ms(t), format_rfc3339_ms(end));
            let body = client.query(&q)?;
            let tap = HashingReader { inner: body, hasher: &mut hasher, bytes: &mut bytes };
            let st = influx::ingest_response(BufReader::with_capacity(1 << 20, tap), &what, agg)?;
            points += st.points;
            skipped += st.skipped;
            foreign.extend(st.foreign);
            pb.inc(1);
            pb.set_message(format!("{points} samples"));
            t = end;
        }
        pb.finish_and_clear();
        if points == 0 {
            bail!(
                "{source_name}: no k6 sample in this window{} (perfbundle import influxdb --list shows the runs)",
                if filters.is_empty() { "" } else { " with these --where filters" }
            );
        }
        let mut warnings = vec![
            "imported from InfluxDB: as complete as what k6 managed to write (k6 drops a batch it cannot write and still exits 0)".to_string(),
        ];
        if skipped > 0 {
            warnings.push(format!("{skipped} rows without a numeric value were skipped"));
        }
        if !foreign.is_empty() {
            let names: Vec<String> = foreign.into_iter().collect();
            warnings.push(format!("measurements without a `value` field (not k6's) left out: {}", names.join(", ")));
        }
        Ok((source_name.clone(), bytes, hex::encode(hasher.finalize()), warnings))
    };
    let pack = pack_args(
        a.output.clone().ok_or_else(|| anyhow!("-o OUT.perfbundle is needed"))?,
        a.title.clone().unwrap_or_else(|| format!("{} (imported from InfluxDB)", a.db)),
        &a.labels,
        &a.metric_types,
        &a.inputs,
    );
    super::pack::run_with(
        pack,
        Some(ExternalPoints {
            kind: "influxdb",
            feed: &mut feed,
            finish: None,
            type_hints: Default::default(),
            min_bucket_ms: None,
        }),
    )
}

/// Reads through, hashing and counting what passes.
struct HashingReader<'a, R> {
    inner: R,
    hasher: &'a mut Sha256,
    bytes: &'a mut u64,
}

impl<R: Read> Read for HashingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        *self.bytes += n as u64;
        Ok(n)
    }
}

/// One run found in the database.
#[derive(Debug, serde::Serialize)]
struct FoundRun {
    run: Option<String>,
    start: String,
    end: String,
    points: u64,
    tags: BTreeMap<String, Vec<String>>,
}

/// Point counts per measurement and time bin (or per run tag value).
fn list_runs(c: &Influx, a: &InfluxArgs, filters: &[(String, String)]) -> Result<ExitCode> {
    let regex = format!("{}/.*/", c.db_prefix());
    let cond = if filters.is_empty() {
        String::new()
    } else {
        let mut w = String::new();
        for (k, v) in filters {
            w.push_str(&format!("{}{} = {}", if w.is_empty() { " WHERE " } else { " AND " }, ident(k), literal(v)));
        }
        w
    };
    // Runs by tag: the first and last sample of each tag value, and the points.
    let tag = ident(&a.run_tag);
    let first = c.query_json(&format!("SELECT first(\"value\") FROM {regex}{cond} GROUP BY {tag}"))?;
    let last = c.query_json(&format!("SELECT last(\"value\") FROM {regex}{cond} GROUP BY {tag}"))?;
    let count = c.query_json(&format!("SELECT count(\"value\") FROM {regex}{cond} GROUP BY {tag}"))?;
    // key (tag value or None) → (first ns, last ns, points)
    let mut runs: BTreeMap<Option<String>, (i64, i64, u64)> = BTreeMap::new();
    let each = |vs: &[serde_json::Value], f: &mut dyn FnMut(Option<String>, &serde_json::Value)| {
        for v in vs {
            for s in v["results"][0]["series"].as_array().into_iter().flatten() {
                let key = s["tags"][&a.run_tag].as_str().filter(|x| !x.is_empty()).map(String::from);
                for row in s["values"].as_array().into_iter().flatten() {
                    f(key.clone(), row);
                }
            }
        }
    };
    each(&first, &mut |k, row| {
        if let Some(t) = row[0].as_i64() {
            let e = runs.entry(k).or_insert((i64::MAX, i64::MIN, 0));
            e.0 = e.0.min(t);
        }
    });
    each(&last, &mut |k, row| {
        if let Some(t) = row[0].as_i64() {
            let e = runs.entry(k).or_insert((i64::MAX, i64::MIN, 0));
            e.1 = e.1.max(t);
        }
    });
    each(&count, &mut |k, row| {
        if let Some(n) = row[1].as_u64() {
            runs.entry(k).or_insert((i64::MAX, i64::MIN, 0)).2 += n;
        }
    });
    if runs.is_empty() {
        bail!(
            "{}: database {:?} holds no k6 sample{}",
            c.url,
            c.db,
            if cond.is_empty() { "" } else { " matching --where" }
        );
    }
    let mut found: Vec<FoundRun> = Vec::new();
    let has_tag = runs.keys().any(Option::is_some);
    for (key, (start, end, points)) in &runs {
        if has_tag && key.is_none() {
            continue;
        }
        if key.is_none() {
            // No run tag: split the database's span by gaps in time.
            for (s, e, n) in split_by_gaps(c, &regex, filters, *start, *end)? {
                found.push(FoundRun {
                    run: None,
                    start: format_rfc3339_ms(s),
                    end: format_rfc3339_ms(e),
                    points: n,
                    tags: BTreeMap::new(),
                });
            }
            continue;
        }
        let mut run_filters = filters.to_vec();
        run_filters.push((a.run_tag.clone(), key.clone().unwrap_or_default()));
        found.push(FoundRun {
            run: key.clone(),
            start: format_rfc3339_ms(*start),
            end: format_rfc3339_ms(*end),
            points: *points,
            tags: tag_values(c, &regex, &run_filters, *start, *end + 1)?,
        });
    }
    found.sort_by(|x, y| x.start.cmp(&y.start));
    let mut out = String::new();
    for r in &found {
        let name = r.run.as_ref().map(|k| format!("{}={k}", a.run_tag)).unwrap_or_else(|| "(no run tag)".into());
        out.push_str(&format!("{name}\n  {} → {}  {} points\n", r.start, r.end, r.points));
        for (k, v) in &r.tags {
            out.push_str(&format!("  {k}: {}\n", v.join(", ")));
        }
        let sel = match &r.run {
            Some(k) => format!("--where {}={k}", a.run_tag),
            None => format!("--from {} --to {}", r.start, r.end),
        };
        out.push_str(&format!(
            "  import: perfbundle import influxdb --url {} --db {} {sel} -o run.perfbundle\n",
            c.url, c.db
        ));
    }
    crate::emit(&out);
    Ok(ExitCode::SUCCESS)
}

/// Periods with samples, split where no sample was written for a minute or more.
fn split_by_gaps(
    c: &Influx,
    regex: &str,
    filters: &[(String, String)],
    start: i64,
    end: i64,
) -> Result<Vec<(i64, i64, u64)>> {
    let q = format!(
        "SELECT count(\"value\") FROM {regex} WHERE {} GROUP BY time(10s) fill(none)",
        where_clause(start, end + 1, filters)
    );
    let mut bins: BTreeMap<i64, u64> = BTreeMap::new();
    for v in c.query_json(&q)? {
        for s in v["results"][0]["series"].as_array().into_iter().flatten() {
            for row in s["values"].as_array().into_iter().flatten() {
                if let (Some(t), Some(n)) = (row[0].as_i64(), row[1].as_u64()) {
                    *bins.entry(t).or_default() += n;
                }
            }
        }
    }
    let mut out: Vec<(i64, i64, u64)> = Vec::new();
    for (t, n) in bins {
        match out.last_mut() {
            Some(last) if t - last.1 <= 60_000_000_000 => {
                last.1 = t + 10_000_000_000;
                last.2 += n;
            }
            _ => out.push((t, t + 10_000_000_000, n)),
        }
    }
    if let Some(first) = out.first_mut() {
        first.0 = first.0.max(start);
    }
    if let Some(last) = out.last_mut() {
        last.1 = last.1.min(end + 1);
    }
    Ok(out)
}

/// The values of every tag of a run (small sets only: request names, scenarios, statuses…).
fn tag_values(
    c: &Influx,
    regex: &str,
    filters: &[(String, String)],
    from: i64,
    to: i64,
) -> Result<BTreeMap<String, Vec<String>>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let cond: String = filters.iter().map(|(k, v)| format!(" AND {} = {}", ident(k), literal(v))).collect();
    // SHOW TAG VALUES takes no time bounds in InfluxDB 1.x: the run tag narrows it.
    let _ = (from, to);
    let cond = cond.strip_prefix(" AND ").map(|c| format!(" WHERE {c}")).unwrap_or_default();
    let q = format!("SHOW TAG VALUES FROM {regex} WITH KEY =~ /.*/{cond}");
    for v in c.query_json(&q)? {
        for s in v["results"][0]["series"].as_array().into_iter().flatten() {
            for row in s["values"].as_array().into_iter().flatten() {
                if let (Some(k), Some(val)) = (row[0].as_str(), row[1].as_str()) {
                    let e = out.entry(k.to_string()).or_default();
                    if !e.iter().any(|x| x == val) {
                        e.push(val.to_string());
                    }
                }
            }
        }
    }
    for v in out.values_mut() {
        v.sort();
        if v.len() > 12 {
            let n = v.len();
            v.truncate(12);
            v.push(format!("… ({n} values)"));
        }
    }
    Ok(out)
}

/// GET on Prometheus's HTTP API; the body.
fn prom_get(agent: &ureq::Agent, url: &str, path: &str, params: &[(&str, String)]) -> Result<Vec<u8>> {
    let mut req = agent.get(&format!("{url}{path}"));
    for (k, v) in params {
        req = req.query(k, v);
    }
    let resp = call(req, &format!("{url}{path}"))?;
    let mut body = Vec::new();
    resp.into_reader().take(1 << 30).read_to_end(&mut body).with_context(|| format!("{url}{path}: reading"))?;
    Ok(body)
}

fn prometheus(a: PromArgs) -> Result<ExitCode> {
    use perfbundle_core::ingest::prometheus::{self as prom, Written};
    let url = a.url.trim_end_matches('/').to_string();
    if url.starts_with("https://") {
        bail!("{url}: https is not supported by this build; reach Prometheus over http (e.g. through an SSH tunnel)");
    }
    if !url.starts_with("http://") {
        bail!("--url {url:?}: expected http://HOST:PORT");
    }
    let (from, to) = window(&a.window)?;
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(std::time::Duration::from_secs(10))
        .timeout_read(std::time::Duration::from_secs(300))
        .build();
    let sel = |name: &str| match &a.testid {
        Some(t) => format!("{{__name__=\"{name}\",testid={}}}", prom_string(t)),
        None => format!("{{__name__=\"{name}\"}}"),
    };
    let secs = |ns: i64| format!("{:.3}", ns as f64 / 1e9);
    // The k6 metric names in the window.
    let body = prom_get(
        &agent,
        &url,
        "/api/v1/label/__name__/values",
        &[("match[]", sel_regex(&a.testid)), ("start", secs(from)), ("end", secs(to))],
    )?;
    let v: serde_json::Value =
        serde_json::from_slice(&body).with_context(|| format!("{url}: not a Prometheus API response"))?;
    let names: Vec<String> = v["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x.as_str().map(String::from))
        .filter(|n| n.starts_with("k6_"))
        .collect();
    if names.is_empty() {
        bail!(
            "{url}: no k6_ series in this window{} (was k6 run with -o experimental-prometheus-rw, and its K6_PROMETHEUS_RW_SERVER_URL pointing here?)",
            a.testid.as_ref().map(|t| format!(" with testid={t}")).unwrap_or_default()
        );
    }
    let range = format!("{}s", ((to - from) as f64 / 1e9).ceil() as i64);
    let fetch = |name: &str| -> Result<(Vec<prom::RawSeries>, Vec<u8>)> {
        let body = prom_get(
            &agent,
            &url,
            "/api/v1/query",
            &[("query", format!("{}[{range}]", sel(name))), ("time", secs(to))],
        )?;
        let what = format!("{url}/api/v1/query {name}");
        Ok((prom::parse_matrix(&body, &what)?, body))
    };
    // Fetch each metric once, in an order where counters come before the rates they weigh.
    let mut fetched: Vec<(String, Vec<prom::RawSeries>)> = Vec::new();
    // The input's sha256 is of the bytes read: the name list's body, then each query's, in this order.
    let mut hasher = Sha256::new();
    hasher.update(&body);
    let mut bytes = body.len() as u64;
    let mut order = names.clone();
    order.sort_by_key(|n| !n.ends_with("_total"));
    for n in &order {
        let (series, response) = fetch(n)?;
        hasher.update(&response);
        bytes += response.len() as u64;
        fetched.push((n.clone(), series));
    }
    let histograms: Vec<String> =
        fetched.iter().filter(|(_, s)| s.iter().any(|x| !x.histograms.is_empty())).map(|(n, _)| n.clone()).collect();
    let written = prom::classify(&names, &histograms);
    let mut hints = std::collections::HashMap::new();
    for (_, w) in &written {
        if let Some((m, k, c)) = prom::model_type(w) {
            hints.insert(m, (k, c.to_string()));
        }
    }
    // Pushes come every few seconds: buckets of at least twice that.
    let mut gaps: Vec<f64> = fetched
        .iter()
        .flat_map(|(_, ss)| ss.iter())
        .flat_map(|s| s.samples.windows(2).map(|w| w[1].0 - w[0].0).collect::<Vec<_>>())
        .filter(|g| *g > 0.0)
        .collect();
    gaps.sort_by(f64::total_cmp);
    let push_s = gaps.get(gaps.len() / 2).copied().unwrap_or(5.0);
    let min_bucket_ms = perfbundle_core::k6::aggregate::WIDTH_LADDER_MS
        .iter()
        .copied()
        .find(|w| *w as f64 >= push_s * 2000.0)
        .unwrap_or(10_000)
        .max(1000);
    // `feed` fills it once the samples are in; `finish` reads it.
    let unweighted: std::cell::RefCell<BTreeMap<String, Vec<prom::RawSeries>>> = Default::default();
    let trend_stats: std::cell::RefCell<BTreeMap<String, BTreeMap<String, Vec<prom::RawSeries>>>> = Default::default();
    let source_name = format!(
        "{url}{} [{} → {})",
        a.testid.as_ref().map(|t| format!(" testid={t}")).unwrap_or_default(),
        format_rfc3339_ms(from),
        format_rfc3339_ms(to)
    );
    let sha = hex::encode(hasher.finalize());
    let mut feed = |agg: &mut Aggregator| -> Result<(String, u64, String, Vec<String>)> {
        let counters: BTreeMap<&str, &Vec<prom::RawSeries>> = written
            .iter()
            .filter_map(|(n, w)| match w {
                Written::Counter { metric } => fetched.iter().find(|(f, _)| f == n).map(|(_, s)| (metric.as_str(), s)),
                _ => None,
            })
            .collect();
        let mut points = 0u64;
        for (n, w) in &written {
            let Some((_, series)) = fetched.iter().find(|(f, _)| f == n) else { continue };
            match w {
                Written::Counter { metric } => points += prom::feed_counter(agg, metric, series),
                Written::Gauge { metric } => points += prom::feed_gauge(agg, metric, series),
                Written::Histogram { metric, time } => points += prom::feed_histogram(agg, metric, *time, series),
                Written::Rate { metric } => {
                    // A rate's samples are counted by the counter k6 emits with it.
                    let weight = match metric.as_str() {
                        "http_req_failed" => counters.get("http_reqs"),
                        _ => None,
                    };
                    let left = match weight {
                        Some(w) => prom::feed_weighted_rate(agg, metric, series, w),
                        None => series.clone(),
                    };
                    if !left.is_empty() {
                        unweighted.borrow_mut().insert(metric.clone(), left);
                    }
                }
                Written::TrendStat { metric, stat } => {
                    trend_stats.borrow_mut().entry(metric.clone()).or_default().insert(stat.clone(), series.clone());
                }
            }
        }
        if points == 0 && unweighted.borrow().is_empty() && trend_stats.borrow().is_empty() {
            bail!("{source_name}: no k6 sample could be imported");
        }
        let mut warnings = vec![format!(
            "imported from Prometheus: values pushed every {push_s:.0} s; counts and sums of counters and of native histograms are exact, the figures marked approximate are not"
        )];
        if !trend_stats.borrow().is_empty() {
            let names: Vec<String> = trend_stats.borrow().keys().cloned().collect();
            warnings.push(format!(
                "trends exported as summary stats (no observations): {}; percentiles only per label set, no time series (K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM=true keeps the observations)",
                names.join(", ")
            ));
        }
        for m in unweighted.borrow().keys() {
            warnings.push(format!("{m}: no counter counts its samples; its rate over label sets is the unweighted mean of theirs (approximate)"));
        }
        Ok((source_name.clone(), bytes, sha.clone(), warnings))
    };
    let written_for_finish = written.clone();
    let pack = pack_args(
        a.output.clone(),
        a.title.clone().unwrap_or_else(|| {
            format!("{} (imported from Prometheus)", a.testid.clone().unwrap_or_else(|| "k6 run".into()))
        }),
        &a.labels,
        &a.metric_types,
        &a.inputs,
    );
    let mut finish = |s: &mut perfbundle_core::k6::K6Summary, had_summary: bool| {
        prom::finish(s, &written_for_finish, &unweighted.borrow(), had_summary);
        prom::finish_trend_stats(s, &trend_stats.borrow());
    };
    super::pack::run_with(
        pack,
        Some(ExternalPoints {
            kind: "prometheus",
            feed: &mut feed,
            finish: Some(&mut finish),
            type_hints: hints,
            min_bucket_ms: Some(min_bucket_ms),
        }),
    )
}

/// A PromQL string literal.
fn prom_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn sel_regex(testid: &Option<String>) -> String {
    match testid {
        Some(t) => format!("{{__name__=~\"k6_.+\",testid={}}}", prom_string(t)),
        None => "{__name__=~\"k6_.+\"}".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_times_and_quoting() {
        assert_eq!(parse_duration_ns("30s").unwrap(), 30_000_000_000);
        assert_eq!(parse_duration_ns("5m").unwrap(), 300_000_000_000);
        assert_eq!(parse_duration_ns("1.5h").unwrap(), 5_400_000_000_000);
        assert!(parse_duration_ns("5x").is_err());
        assert_eq!(parse_time("1700000000", "t").unwrap(), 1_700_000_000_000_000_000);
        assert_eq!(parse_time("2023-11-14T22:13:20Z", "t").unwrap(), 1_700_000_000_000_000_000);
        assert!(parse_time("yesterday", "--from").unwrap_err().to_string().contains("--from"));
        assert_eq!(literal("it's"), "'it\\'s'");
        assert_eq!(ident("a\"b"), "\"a\\\"b\"");
    }
}
