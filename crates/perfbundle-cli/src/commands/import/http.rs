//! HTTP(S) to the servers: one GET helper (an error status becomes an error
//! naming the URL and the server's own message), InfluxDB's query client,
//! a GET on Prometheus's API, and a reader that hashes what it passes.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use perfbundle_core::ingest::influx::Selection;
use sha2::{Digest, Sha256};
use ureq::tls::{parse_pem, Certificate, PemItem, RootCerts, TlsConfig};

use super::InfluxArgs;

/// A server reached over HTTP or HTTPS (rustls; Mozilla's roots, or the
/// certificates of `--ca-cert` for a server with a private CA).
pub struct Server {
    /// Its base URL, without a trailing `/`.
    pub url: String,
    agent: ureq::Agent,
    /// Whether to ask for gzip-compressed responses: not from this machine
    /// (loopback), where compressing only costs the server's CPU — the
    /// bigger part of an import's time — and saves no network.
    compress: bool,
}

/// Whether `url`'s host is this machine (`localhost`, 127.0.0.0/8, `[::1]`).
fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host.starts_with('[') {
        host.split(']').next().map_or(host, |h| &h[1..])
    } else {
        host.split(':').next().unwrap_or(host)
    };
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl Server {
    pub fn new(url: &str, ca_cert: Option<&Path>) -> Result<Server> {
        let url = url.trim_end_matches('/').to_string();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            bail!("--url {url:?}: expected http://HOST:PORT or https://HOST:PORT");
        }
        let mut config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_recv_response(Some(Duration::from_secs(300)))
            .timeout_recv_body(Some(Duration::from_secs(300)));
        if let Some(path) = ca_cert {
            let pem = std::fs::read(path).with_context(|| format!("--ca-cert {}: cannot read", path.display()))?;
            let certs: Vec<Certificate<'static>> = parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(PemItem::Certificate(c)) => Some(Ok(c)),
                    Ok(_) => None,
                    Err(e) => Some(Err(e)),
                })
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| anyhow!("--ca-cert {}: not PEM certificates: {e}", path.display()))?;
            if certs.is_empty() {
                bail!("--ca-cert {}: holds no PEM certificate", path.display());
            }
            config = config.tls_config(TlsConfig::builder().root_certs(RootCerts::new_with_certs(&certs)).build());
        }
        let compress = !is_loopback(&url);
        Ok(Server { url, agent: config.build().into(), compress })
    }

    /// GET `path` with query parameters; the response's body, read as it
    /// comes, up to `limit` bytes. An HTTP error status becomes an error
    /// naming the URL and the server's own message (InfluxDB and Prometheus
    /// both answer `{"error": …}`).
    pub fn get(&self, path: &str, params: &[(&str, &str)], limit: u64) -> Result<impl Read + Send + use<>> {
        let what = format!("{}{path}", self.url);
        // A URL past 64 KiB is refused by the HTTP library (by a panic): said here instead.
        let len = what.len() + params.iter().map(|(k, v)| k.len() + 3 * v.len() + 2).sum::<usize>();
        if len > 60_000 {
            bail!(
                "{what}: the request would be {len} bytes long, more than a URL holds: too many or too long metric names (not k6's?)"
            );
        }
        let mut req = self.agent.get(&what);
        if !self.compress {
            req = req.header("Accept-Encoding", "identity");
        }
        for (k, v) in params {
            req = req.query(*k, *v);
        }
        let resp = req.call().map_err(|e| anyhow!("{what}: {e}"))?;
        let code = resp.status().as_u16();
        let body = resp.into_body().into_with_config().limit(limit).reader();
        if code >= 400 {
            let mut text = String::new();
            let _ = body.take(1 << 16).read_to_string(&mut text);
            let msg = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v["error"].as_str().map(String::from))
                .unwrap_or(text);
            bail!("{what}: HTTP {code}: {}", msg.trim())
        }
        Ok(body)
    }
}

/// A client of one InfluxDB: URL, database, credentials.
pub struct Influx {
    pub url: String,
    pub db: String,
    pub rp: Option<String>,
    user: Option<String>,
    password: Option<String>,
    server: Server,
}

impl Influx {
    pub fn new(a: &InfluxArgs) -> Result<Influx> {
        let server = Server::new(&a.url, a.ca_cert.as_deref())?;
        let password = match &a.password_env {
            Some(var) => {
                Some(std::env::var(var).map_err(|_| anyhow!("--password-env {var}: the variable is not set"))?)
            }
            None => None,
        };
        Ok(Influx {
            url: server.url.clone(),
            db: a.db.clone(),
            rp: a.rp.clone(),
            user: a.user.clone(),
            password,
            server,
        })
    }

    /// The run's samples in this database (policy), with tag filters.
    pub fn selection(&self, filters: &[(String, String)]) -> Selection {
        Selection { db: self.db.clone(), rp: self.rp.clone(), filters: filters.to_vec() }
    }

    /// Runs a query; the response body as a reader (chunked JSON lines).
    pub fn query(&self, q: &str) -> Result<impl Read + Send + use<>> {
        let mut params = vec![("db", self.db.as_str()), ("epoch", "ns"), ("chunked", "true"), ("chunk_size", "10000")];
        params.push(("q", q));
        if let Some(u) = &self.user {
            params.push(("u", u));
        }
        if let Some(p) = &self.password {
            params.push(("p", p));
        }
        self.server.get("/query", &params, u64::MAX)
    }

    /// A whole (small) query response, parsed: at most 16 MiB of it, and
    /// 96 MiB once parsed (every JSON node charged).
    pub fn query_json(&self, q: &str) -> Result<Vec<serde_json::Value>> {
        const MAX_BYTES: u64 = 16 << 20;
        let mut body = String::new();
        let n = self
            .query(q)?
            .take(MAX_BYTES + 1)
            .read_to_string(&mut body)
            .with_context(|| format!("{}/query", self.url))?;
        if n as u64 > MAX_BYTES {
            bail!(
                "{}/query: the answer to {q:?} is larger than {} MiB: not what InfluxDB answers k6's data with",
                self.url,
                MAX_BYTES >> 20
            );
        }
        let mut out = Vec::new();
        for line in body.lines().filter(|l| !l.trim().is_empty()) {
            let v: serde_json::Value = perfbundle_core::ingest::document::value(line.as_bytes())
                .map_err(|e| anyhow!("{}/query: not an answer InfluxDB sends: {e}", self.url))?;
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
                    // k6's metric names are at most 128 characters: longer ones are not k6's.
                    if let Some(n) = row[0].as_str().filter(|n| n.len() <= MAX_NAME_BYTES) {
                        names.push(n.to_string());
                    }
                    if names.len() > MAX_MEASUREMENTS {
                        bail!(
                            "{}: database {:?} holds more than {MAX_MEASUREMENTS} measurements: not k6's (k6 writes a few dozen)",
                            self.url,
                            self.db
                        );
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

/// The longest measurement or metric name read from a server (k6's are at most 128 characters).
pub const MAX_NAME_BYTES: usize = 256;
/// Most measurements a database may hold for an import.
const MAX_MEASUREMENTS: usize = 1_000;

/// GET on Prometheus's HTTP API: the body as it arrives (decompressed when
/// the server compresses it), at most 1 GiB of it; the reader of the answer
/// bounds what it keeps.
pub fn prom_get(server: &Server, path: &str, params: &[(&str, String)]) -> Result<impl Read + Send + use<>> {
    let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    server.get(path, &params, 1 << 30)
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

#[cfg(test)]
mod tests {
    use super::is_loopback;

    #[test]
    fn loopback_hosts_are_this_machine() {
        for u in [
            "http://127.0.0.1:8086",
            "http://localhost",
            "https://LOCALHOST:1/x",
            "http://[::1]:8086",
            "http://u:p@127.0.0.2/",
        ] {
            assert!(is_loopback(u), "{u}");
        }
        for u in [
            "http://10.0.0.1:8086",
            "https://influx.example.com",
            "http://[2001:db8::1]:8086",
            "http://127.0.0.1.example.com",
        ] {
            assert!(!is_loopback(u), "{u}");
        }
    }
}
