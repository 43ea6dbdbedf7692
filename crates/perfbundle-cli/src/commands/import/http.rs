//! HTTP to the servers: one call helper (an error status becomes an error
//! naming the URL and the server's own message), InfluxDB's query client,
//! a GET on Prometheus's API, and a reader that hashes what it passes.

use std::io::Read;

use anyhow::{anyhow, bail, Context, Result};
use perfbundle_core::ingest::influx::Selection;
use sha2::{Digest, Sha256};

use super::InfluxArgs;

/// Sends a request; an HTTP error status becomes an error naming `what` and
/// the server's own message (InfluxDB and Prometheus both answer `{"error": …}`).
pub fn call(req: ureq::Request, what: &str) -> Result<ureq::Response> {
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
pub struct Influx {
    pub url: String,
    pub db: String,
    pub rp: Option<String>,
    user: Option<String>,
    password: Option<String>,
    agent: ureq::Agent,
}

impl Influx {
    pub fn new(a: &InfluxArgs) -> Result<Influx> {
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

    /// The run's samples in this database (policy), with tag filters.
    pub fn selection(&self, filters: &[(String, String)]) -> Selection {
        Selection { db: self.db.clone(), rp: self.rp.clone(), filters: filters.to_vec() }
    }

    /// Runs a query; the response body as a reader (chunked JSON lines).
    pub fn query(&self, q: &str) -> Result<Box<dyn Read + Send + Sync + 'static>> {
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
    pub fn query_json(&self, q: &str) -> Result<Vec<serde_json::Value>> {
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

    pub fn measurements(&self) -> Result<Vec<String>> {
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

/// GET on Prometheus's HTTP API; the body.
pub fn prom_get(agent: &ureq::Agent, url: &str, path: &str, params: &[(&str, String)]) -> Result<Vec<u8>> {
    let mut req = agent.get(&format!("{url}{path}"));
    for (k, v) in params {
        req = req.query(k, v);
    }
    let resp = call(req, &format!("{url}{path}"))?;
    let mut body = Vec::new();
    resp.into_reader().take(1 << 30).read_to_end(&mut body).with_context(|| format!("{url}{path}: reading"))?;
    Ok(body)
}

/// Reads through, hashing and counting what passes.
pub struct HashingReader<'a, R> {
    pub inner: R,
    pub hasher: &'a mut Sha256,
    pub bytes: &'a mut u64,
}

impl<R: Read> Read for HashingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        *self.bytes += n as u64;
        Ok(n)
    }
}
