//! k6 `--out csv` (FORMATS.md §3): a header naming the columns, then one row
//! per sample. Timestamps are whole Unix seconds and there are no metric
//! declarations: types come from k6's built-ins, a summary given beside it,
//! or `--metric-type`.

use std::borrow::Cow;
use std::io::BufRead;

use crate::error::IngestError;
use crate::ingest::lines::read_line_capped;
use crate::k6::Aggregator;

use super::k6_json::JsonOptions;

/// Splits one CSV record (RFC 4180 quoting).
pub(crate) fn split_record(line: &str) -> Result<Vec<Cow<'_, str>>, String> {
    let mut out = Vec::new();
    let b = line.as_bytes();
    let mut i = 0;
    loop {
        if i < b.len() && b[i] == b'"' {
            let mut s = String::new();
            i += 1;
            loop {
                match b.get(i) {
                    None => return Err("unterminated quoted field".into()),
                    Some(b'"') if b.get(i + 1) == Some(&b'"') => {
                        s.push('"');
                        i += 2;
                    }
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(_) => {
                        let start = i;
                        while i < b.len() && b[i] != b'"' {
                            i += 1;
                        }
                        s.push_str(&line[start..i]);
                    }
                }
            }
            out.push(Cow::Owned(s));
            match b.get(i) {
                None => return Ok(out),
                Some(b',') => i += 1,
                Some(_) => return Err("text after a closing quote".into()),
            }
        } else {
            let start = i;
            while i < b.len() && b[i] != b',' {
                i += 1;
            }
            out.push(Cow::Borrowed(&line[start..i]));
            if i >= b.len() {
                return Ok(out);
            }
            i += 1;
        }
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() && s.is_char_boundary(i + 1) && s.is_char_boundary(i + 3) {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Ingests a whole CSV output into `agg`.
pub fn ingest<R: BufRead>(
    mut reader: R,
    file: &str,
    agg: &mut Aggregator,
    opts: &JsonOptions,
) -> Result<(), IngestError> {
    let mut header: Option<Vec<String>> = None;
    let (mut c_name, mut c_time, mut c_value, mut c_extra) = (0, 0, 0, None);
    let mut skip: Vec<bool> = Vec::new();
    let mut raw: Vec<u8> = Vec::new();
    let mut buf = String::new();
    let mut line_no = 0u64;
    let mut rows = 0u64;
    loop {
        raw.clear();
        let n = read_line_capped(&mut reader, &mut raw, opts.max_line_bytes)
            .map_err(|e| IngestError::read(file, format!("reading line {}", line_no + 1), e))?;
        if n == 0 {
            break;
        }
        buf.clear();
        match std::str::from_utf8(&raw) {
            Ok(t) => buf.push_str(t),
            Err(_) => {
                return Err(IngestError::BadLine {
                    file: file.into(),
                    line: line_no + 1,
                    message: "not UTF-8 text (k6 writes its CSV output in UTF-8)".into(),
                })
            }
        }
        line_no += 1;
        let line = buf.trim_end_matches(['\n', '\r']);
        let line = if line_no == 1 { line.trim_start_matches('\u{feff}') } else { line };
        if line.trim().is_empty() {
            continue;
        }
        let fields = match split_record(line) {
            Ok(f) => f,
            Err(_) if opts.lenient && header.is_some() => {
                agg.stats_mut().bad_lines += 1;
                continue;
            }
            Err(m) => return Err(IngestError::BadLine { file: file.into(), line: line_no, message: m }),
        };
        let Some(cols) = &header else {
            let cols: Vec<String> = fields.iter().map(|s| s.to_string()).collect();
            let find = |n: &str| cols.iter().position(|c| c == n);
            match (find("metric_name"), find("timestamp"), find("metric_value")) {
                (Some(a), Some(b), Some(c)) => {
                    c_name = a;
                    c_time = b;
                    c_value = c;
                }
                _ => {
                    return Err(IngestError::BadLine {
                        file: file.into(),
                        line: line_no,
                        message: "header lacks metric_name, timestamp or metric_value".into(),
                    })
                }
            }
            c_extra = find("extra_tags");
            skip = cols
                .iter()
                .map(|c| matches!(c.as_str(), "metric_name" | "timestamp" | "metric_value" | "extra_tags" | "metadata"))
                .collect();
            header = Some(cols);
            continue;
        };
        rows += 1;
        let row = (|| -> Result<(), String> {
            if fields.len() != cols.len() {
                return Err(format!("{} fields, the header has {}", fields.len(), cols.len()));
            }
            let secs: i64 = fields[c_time]
                .trim()
                .parse()
                .map_err(|_| format!("timestamp {:?} is not whole seconds", fields[c_time]))?;
            let value: f64 = fields[c_value]
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or(())
                .map_err(|_| format!("metric_value {:?} is not a finite number", fields[c_value]))?;
            let ns = secs.checked_mul(1_000_000_000).ok_or("timestamp out of range")?;
            let mut tags: Vec<(Cow<'_, str>, Cow<'_, str>)> = Vec::with_capacity(cols.len());
            for (i, f) in fields.iter().enumerate() {
                if !skip[i] && !f.is_empty() {
                    tags.push((Cow::Borrowed(cols[i].as_str()), Cow::Borrowed(f.as_ref())));
                }
            }
            if let Some(e) = c_extra {
                for pair in fields[e].split('&').filter(|p| !p.is_empty()) {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    tags.push((Cow::Owned(percent_decode(k)), Cow::Owned(percent_decode(v))));
                }
            }
            let tags: Vec<(&str, &str)> = tags.iter().map(|(k, v)| (k.as_ref(), v.as_ref())).collect();
            agg.add_point(&fields[c_name], ns, value, &tags);
            Ok(())
        })();
        if let Err(message) = row {
            if opts.lenient {
                agg.stats_mut().bad_lines += 1;
            } else {
                return Err(IngestError::BadLine { file: file.into(), line: line_no, message });
            }
        }
    }
    agg.stats_mut().lines += line_no;
    if header.is_none() {
        return Err(IngestError::Empty { file: file.to_string() });
    }
    if rows == 0 {
        return Err(IngestError::invalid(file, "a header but no rows"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k6::AggregatorOptions;

    #[test]
    fn splits_quoted_fields() {
        let f = split_record(r#"a,"b,c","d""e",,f"#).unwrap();
        assert_eq!(f, vec!["a", "b,c", "d\"e", "", "f"]);
        assert!(split_record(r#"a,"b"#).is_err());
    }

    #[test]
    fn reads_rows_with_builtin_types() {
        let csv = "metric_name,timestamp,metric_value,check,group,status,extra_tags,metadata\n\
                   http_reqs,100,1.000000,,,200,journey=browse,\n\
                   checks,100,0.000000,is ok,,,,\n\
                   vus,101,3.000000,,,,,\n";
        let mut agg = Aggregator::new(AggregatorOptions { min_bucket_ms: 1000, ..Default::default() });
        ingest(csv.as_bytes(), "k.csv", &mut agg, &JsonOptions::default()).unwrap();
        let out = agg.finish(None);
        assert_eq!(out.series["http_reqs"].values["count"], 1.0);
        assert_eq!(out.series["checks"].values["fails"], 1.0);
        assert_eq!(out.series["vus"].values["value"], 3.0);
        assert_eq!(out.series["http_reqs{status:200}"].samples, 1);
        assert_eq!(out.timeseries.bucket_ms, 1000);
    }

    #[test]
    fn reports_bad_rows() {
        let csv = "metric_name,timestamp,metric_value\nhttp_reqs,abc,1\n";
        let mut agg = Aggregator::new(AggregatorOptions::default());
        let e = ingest(csv.as_bytes(), "k.csv", &mut agg, &JsonOptions::default()).unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
    }
}
