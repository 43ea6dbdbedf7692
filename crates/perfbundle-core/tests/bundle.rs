//! The container as a reader meets it: round trips, and every kind of damage
//! or hostility named in the format's rules.

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;
use perfbundle_core::bundle::{tar, Bundle, BundleBuilder, Manifest, ReadLimits};
use perfbundle_core::BundleError;
use serde_json::json;

fn sha(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

/// A gzip tar with these (path, bytes) entries, written as given: no checks.
/// Compressed at the best level: what "fast" gives depends on the flate2
/// backend the workspace unifies (zlib-rs's level 1 compresses 64 MiB of
/// spaces ~25 times, miniz's ~1000 times), and the bomb test needs ~1000.
fn raw_bundle(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    for (p, b) in entries {
        tar::write_entry(&mut gz, p, b.len() as u64, 0, &mut &b[..]).unwrap();
    }
    tar::write_end(&mut gz).unwrap();
    gz.finish().unwrap()
}

fn manifest_json(version: &str, entries: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "format": "perfbundle", "format_version": version, "title": "t",
        "created_at": "2026-11-27T00:00:00Z", "created_by": "test", "entries": entries
    }))
    .unwrap()
}

fn read(bytes: &[u8]) -> Result<Bundle, BundleError> {
    Bundle::from_bytes(bytes, "test.perfbundle", &ReadLimits::default())
}

fn small_bundle() -> Vec<u8> {
    let mut b = BundleBuilder::new(Manifest::new("round trip", "2026-11-27T00:00:00Z"), 0);
    b.add_bytes("notes/extra.txt", "note", b"hello".to_vec(), Some("extra.txt".into())).unwrap();
    b.write(Vec::new(), "out", &mut |_| unreachable!()).unwrap()
}

#[test]
fn round_trips_and_starts_with_the_manifest() {
    let bytes = small_bundle();
    let b = read(&bytes).unwrap();
    assert_eq!(b.manifest.title, "round trip");
    assert_eq!(b.manifest.entries[0].path, "notes/extra.txt");
    assert_eq!(b.manifest.entries[0].sha256, sha(b"hello"));
    // First tar entry is manifest.json.
    let mut d = flate2::read::GzDecoder::new(&bytes[..]);
    let mut block = [0u8; 512];
    std::io::Read::read_exact(&mut d, &mut block).unwrap();
    assert_eq!(tar::parse_header(&block).unwrap().unwrap().path, "manifest.json");
}

#[test]
fn rejects_a_tampered_entry() {
    let m = manifest_json("1.0", json!([{"path": "a.txt", "kind": "note", "size": 5, "sha256": sha(b"hello")}]));
    let bytes = raw_bundle(&[("manifest.json", m), ("a.txt", b"hellO".to_vec())]);
    match read(&bytes) {
        Err(BundleError::ChecksumMismatch { path, .. }) => assert_eq!(path, "a.txt"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn rejects_unknown_major_version_with_a_clear_message() {
    let bytes = raw_bundle(&[("manifest.json", manifest_json("2.0", json!([])))]);
    let e = read(&bytes).unwrap_err();
    assert!(matches!(e, BundleError::UnsupportedVersion { .. }), "{e:?}");
    assert!(e.to_string().contains("format version 2.0 is not supported"), "{e}");
}

#[test]
fn accepts_unknown_fields_of_a_known_major() {
    let mut v: serde_json::Value = serde_json::from_slice(&manifest_json("1.9", json!([]))).unwrap();
    v["from_the_future"] = json!({"x": 1});
    let bytes = raw_bundle(&[("manifest.json", serde_json::to_vec(&v).unwrap())]);
    assert_eq!(read(&bytes).unwrap().manifest.format_version, "1.9");
}

#[test]
fn refuses_escaping_paths_in_manifest_and_archive() {
    for bad in ["../evil", "/etc/evil", "a/../../evil"] {
        let m = manifest_json("1.0", json!([{"path": bad, "kind": "raw", "size": 1, "sha256": sha(b"x")}]));
        let bytes = raw_bundle(&[("manifest.json", m), (bad, b"x".to_vec())]);
        assert!(matches!(read(&bytes), Err(BundleError::UnsafePath { .. })), "{bad}");
    }
    // Not listed in the manifest, but in the archive.
    let m = manifest_json("1.0", json!([]));
    let bytes = raw_bundle(&[("manifest.json", m), ("../evil", b"x".to_vec())]);
    assert!(matches!(read(&bytes), Err(BundleError::UnsafePath { .. })));
}

#[test]
fn refuses_entries_over_the_limits() {
    // Declared far larger than the total limit: refused before reading anything.
    let m = manifest_json(
        "1.0",
        json!([{"path": "k6/summary.json", "kind": "k6-summary", "size": 40u64 << 30, "sha256": "00"}]),
    );
    let bytes = raw_bundle(&[("manifest.json", m)]);
    assert!(matches!(read(&bytes), Err(BundleError::TooLarge { .. })));

    // A real bomb: 8 MiB of zeros compresses to a few KB; a 1 MiB model-entry limit stops it.
    let zeros = vec![0u8; 8 << 20];
    let m = manifest_json(
        "1.0",
        json!([{"path": "k6/summary.json", "kind": "k6-summary", "size": zeros.len(), "sha256": sha(&zeros)}]),
    );
    let bytes = raw_bundle(&[("manifest.json", m), ("k6/summary.json", zeros)]);
    assert!(bytes.len() < 100_000);
    let limits = ReadLimits::default().with_max_model_entry_bytes(1 << 20);
    match Bundle::from_bytes(&bytes, "bomb", &limits) {
        Err(BundleError::TooLarge { path, .. }) => assert_eq!(path, "k6/summary.json"),
        other => panic!("{other:?}"),
    }
    let limits = ReadLimits::default().with_max_total_bytes(1 << 20);
    assert!(matches!(Bundle::from_bytes(&bytes, "bomb", &limits), Err(BundleError::TooLarge { .. })));
}

#[test]
fn rejects_missing_unlisted_and_malformed() {
    let m = manifest_json("1.0", json!([{"path": "a.txt", "kind": "note", "size": 1, "sha256": sha(b"x")}]));
    assert!(matches!(read(&raw_bundle(&[("manifest.json", m)])), Err(BundleError::MissingEntry { .. })));

    let m = manifest_json("1.0", json!([]));
    let bytes = raw_bundle(&[("manifest.json", m), ("b.txt", b"x".to_vec())]);
    assert!(matches!(read(&bytes), Err(BundleError::UnlistedEntry { .. })));

    let bytes = raw_bundle(&[("other.json", b"{}".to_vec())]);
    assert!(matches!(read(&bytes), Err(BundleError::NotABundle { .. })));

    assert!(matches!(read(b""), Err(BundleError::NotABundle { .. })));
    assert!(matches!(read(b"plain text"), Err(BundleError::NotABundle { .. })));

    // Truncated archive.
    let good = small_bundle();
    let e = read(&good[..good.len() / 2]).unwrap_err();
    assert!(e.to_string().contains("test.perfbundle"), "{e}");

    // A model entry that is not its schema.
    let body = b"{\"nope\": 1}".to_vec();
    let m = manifest_json(
        "1.0",
        json!([{"path": "k6/summary.json", "kind": "k6-summary", "size": body.len(), "sha256": sha(&body)}]),
    );
    let bytes = raw_bundle(&[("manifest.json", m), ("k6/summary.json", body)]);
    assert!(matches!(read(&bytes), Err(BundleError::Schema { .. })));
}

#[test]
fn reading_arbitrary_bytes_never_panics() {
    let good = small_bundle();
    let mut rng = 0x2545F4914F6CDD1Du64;
    for _ in 0..300 {
        let mut b = good.clone();
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let i = (rng as usize) % b.len();
        b[i] ^= (rng >> 32) as u8 | 1;
        let _ = read(&b);
    }
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(&[0xffu8; 4096]).unwrap();
    let _ = read(&gz.finish().unwrap());
}

/// Issue 14: the reader reads to the end of the gzip stream and checks its
/// trailer; a bundle cut in its trailer, with a flipped CRC-32 or length, or
/// with bytes appended, is refused with a message saying which.
#[test]
fn checks_the_gzip_trailer_and_refuses_trailing_data() {
    let good = small_bundle();
    assert!(read(&good).is_ok());
    for cut in 1..=8 {
        let e = read(&good[..good.len() - cut]).unwrap_err();
        assert!(e.to_string().contains("truncated"), "cut {cut}: {e}");
    }
    for i in 1..=8 {
        let mut bad = good.clone();
        let at = bad.len() - i;
        bad[at] ^= 0x01;
        let e = read(&bad).unwrap_err();
        assert!(matches!(e, BundleError::Integrity { .. }), "flip {i}: {e:?}");
        assert!(e.to_string().contains("does not match the content"), "flip {i}: {e}");
    }
    let mut appended = good.clone();
    appended.extend_from_slice(b"appended garbage\n");
    let e = read(&appended).unwrap_err();
    assert!(e.to_string().contains("trailing data after the gzip stream"), "{e}");
    // A second gzip member is part of the stream (FORMAT.md: one or more
    // members), but what it holds after the archive's end must be padding.
    let mut more = good.clone();
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(&[0u8; 1024]).unwrap();
    more.extend(gz.finish().unwrap());
    assert!(read(&more).is_ok(), "zero padding in a second member is tar padding");
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(b"not padding").unwrap();
    let mut data = good;
    data.extend(gz.finish().unwrap());
    let e = read(&data).unwrap_err();
    assert!(e.to_string().contains("after the archive's end marker"), "{e}");
}

#[test]
fn refuses_an_entry_listed_twice_or_a_second_manifest() {
    let twice = manifest_json(
        "1.0",
        json!([
            {"path": "a.txt", "kind": "note", "size": 1, "sha256": sha(b"x")},
            {"path": "a.txt", "kind": "note", "size": 1, "sha256": sha(b"x")}
        ]),
    );
    let e = read(&raw_bundle(&[("manifest.json", twice), ("a.txt", b"x".to_vec())])).unwrap_err();
    assert!(e.to_string().contains("lists this entry twice"), "{e}");

    let m = manifest_json("1.0", json!([]));
    let e = read(&raw_bundle(&[("manifest.json", m.clone()), ("manifest.json", m.clone())])).unwrap_err();
    assert!(e.to_string().contains("a second manifest.json"), "{e}");

    let itself =
        manifest_json("1.0", json!([{"path": "manifest.json", "kind": "note", "size": m.len(), "sha256": sha(&m)}]));
    let e = read(&raw_bundle(&[("manifest.json", itself), ("manifest.json", m)])).unwrap_err();
    assert!(e.to_string().contains("lists itself"), "{e}");
}

/// A small model entry that inflates to far more than its compressed size is
/// stopped by the ratio bound before it fills memory, under the default limits.
#[test]
fn a_model_entry_that_inflates_like_a_bomb_is_stopped_early() {
    let body = vec![b' '; 64 << 20];
    let m = manifest_json(
        "1.0",
        json!([{"path": "k6/summary.json", "kind": "k6-summary", "size": body.len(), "sha256": sha(&body)}]),
    );
    let bytes = raw_bundle(&[("manifest.json", m), ("k6/summary.json", body)]);
    assert!(bytes.len() < (64 << 20) / 400, "not compressed like a bomb: {} bytes", bytes.len());
    let e = read(&bytes).unwrap_err();
    assert!(e.to_string().contains("decompression bomb"), "{e}");
    // A raw entry (streamed, never held in memory) may inflate as far as it likes.
    let raw = vec![b' '; 8 << 20];
    let m = manifest_json("1.0", json!([{"path": "raw/0/x", "kind": "raw", "size": raw.len(), "sha256": sha(&raw)}]));
    assert!(read(&raw_bundle(&[("manifest.json", m), ("raw/0/x", raw)])).is_ok());
}

/// The writer refuses a model entry a reader would refuse, naming it.
#[test]
fn the_writer_never_writes_what_the_reader_refuses() {
    let mut b = BundleBuilder::new(Manifest::new("w", "2026-11-27T00:00:00Z"), 0);
    let e = b.add_bytes("k6/summary.json", "k6-summary", b"{\"nope\": 1}".to_vec(), None).unwrap_err();
    assert!(e.to_string().contains("k6/summary.json") && e.to_string().contains("would not read back"), "{e}");
    let nested = format!("{}{}", "[".repeat(200), "]".repeat(200));
    assert!(b.add_bytes("profiles/0.json", "profile", nested.into_bytes(), None).is_err());
}
