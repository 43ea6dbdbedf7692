//! Clinic.js flame: `<pid>.clinic-flame-samples` (FORMATS.md §9), one JSON
//! array with one element per sample, each an array of 0x code records
//! ordered outermost first. Read as a stream: one sample in memory at a time.

use std::fmt;
use std::io::Read;

use serde::de::{DeserializeSeed, SeqAccess, Visitor};

use super::v8log::CodeRecord;
use super::{Profile, ProfileBuilder};
use crate::error::IngestError;

struct Samples<'b> {
    b: &'b mut ProfileBuilder,
    stack: Vec<u32>,
}

impl<'de> DeserializeSeed<'de> for Samples<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Samples<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of samples, each an array of frames")
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while let Some(frames) = seq.next_element::<Vec<CodeRecord>>()? {
            self.stack.clear();
            for rec in &frames {
                let f = self.b.intern(rec.frame());
                self.stack.push(f);
            }
            let stack = std::mem::take(&mut self.stack);
            self.b.add_stack(&stack, 1, 0).map_err(serde::de::Error::custom)?;
            self.stack = stack;
        }
        Ok(())
    }
}

/// Reads a Clinic.js flame samples file into a profile (no timestamps: Clinic keeps none).
pub fn ingest<R: Read>(reader: R, file: &str, name: &str) -> Result<Profile, IngestError> {
    let mut b = ProfileBuilder::new(name, "clinic-flame");
    let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::with_capacity(1 << 16, reader));
    Samples { b: &mut b, stack: Vec::new() }.deserialize(&mut de).map_err(|e| {
        IngestError::invalid(file, format!("not a Clinic.js flame samples file (a JSON array of frame arrays): {e}"))
    })?;
    de.end().map_err(|e| IngestError::invalid(file, format!("text after the samples array: {e}")))?;
    if b.total_samples() == 0 {
        return Err(IngestError::invalid(file, "no samples"));
    }
    Ok(b.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_samples_outermost_first() {
        // Hand-made, in Clinic's shape.
        let text = r#"[[{"name":"/usr/lib/libc.so.6","type":"SHARED_LIB"}],[],
          [{"name":"main /a/app.js:1:1","type":"JS","kind":"Unopt"},{"name":"work /a/app.js:5:3","type":"JS","kind":"Opt"}]]"#;
        let p = ingest(text.as_bytes(), "s", "s").unwrap();
        p.validate().unwrap();
        assert_eq!(p.total_samples, 3);
        assert_eq!(p.nodes.self_samples[0], 1, "the empty sample counts at the root");
        assert!(p.folded(false).contains(&"main /a/app.js:1:1;work /a/app.js:5:3 1".to_string()));
        assert!(ingest(&b"[[{\"name\""[..], "cut", "c")
            .unwrap_err()
            .to_string()
            .contains("cut: not a Clinic.js flame samples file"));
    }
}
