//! Typed errors. Each names the file (its name as the user gave it) and the
//! place (line, entry path) where that is known.

use thiserror::Error;

/// An error while reading a tool's output.
#[derive(Debug, Error)]
pub enum IngestError {
    /// A line of a line-oriented input could not be used.
    #[error("{file}: line {line}: {message}")]
    BadLine { file: String, line: u64, message: String },
    /// The input as a whole is not what it claims to be.
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    /// Reading failed (this includes a truncated or corrupt gzip stream).
    #[error("{file}: {context}")]
    Read {
        file: String,
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// The input holds nothing (no bytes, or only blank lines).
    #[error("{file}: the file is empty")]
    Empty { file: String },
}

impl IngestError {
    pub(crate) fn read(file: &str, context: impl Into<String>, source: std::io::Error) -> Self {
        IngestError::Read { file: file.to_string(), context: context.into(), source }
    }
    pub(crate) fn invalid(file: &str, message: impl Into<String>) -> Self {
        IngestError::Invalid { file: file.to_string(), message: message.into() }
    }
}

/// An error while reading or writing a `.perfbundle`.
#[derive(Debug, Error)]
pub enum BundleError {
    #[error("{file}: not a perfbundle: {reason}")]
    NotABundle { file: String, reason: String },
    #[error(
        "{file}: format version {found} is not supported: this perfbundle reads major version {supported_major} \
         (upgrade perfbundle to read it)"
    )]
    UnsupportedVersion { file: String, found: String, supported_major: u32 },
    #[error("{file}: entry {path:?}: {reason}")]
    BadEntry { file: String, path: String, reason: String },
    #[error("{file}: entry {path:?}: unsafe path ({reason}); refusing to read it")]
    UnsafePath { file: String, path: String, reason: String },
    #[error("{file}: entry {path:?}: {size} bytes is over the limit of {limit} bytes")]
    TooLarge { file: String, path: String, size: u64, limit: u64 },
    #[error("{file}: entry {path:?}: checksum mismatch: manifest says sha256 {expected}, content is {actual}")]
    ChecksumMismatch { file: String, path: String, expected: String, actual: String },
    #[error("{file}: entry {path:?} is listed in manifest.json but missing from the archive")]
    MissingEntry { file: String, path: String },
    #[error("{file}: entry {path:?} is in the archive but not listed in manifest.json")]
    UnlistedEntry { file: String, path: String },
    #[error("{file}: entry {path:?} does not match its schema: {reason}")]
    Schema { file: String, path: String, reason: String },
    #[error("{file}: {context}")]
    Io {
        file: String,
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: {reason}")]
    Write { file: String, reason: String },
    /// The container itself is damaged: a gzip trailer that does not match,
    /// a stream cut short, bytes after its end.
    #[error("{file}: {reason}")]
    Integrity { file: String, reason: String },
}
