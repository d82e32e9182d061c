//! Reading and writing results files, with errors that name the file.

use crate::{Results, SCHEMA_VERSION};
use std::path::{Path, PathBuf};

/// Why a results file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not JSON, or not an rtbench results document.
    #[error("{path}: not an rtbench results file: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// The document was written with another schema version.
    #[error(
        "{path}: results schema version {found}, this rtbench reads version {SCHEMA_VERSION}; re-run it to regenerate"
    )]
    Version {
        /// The file.
        path: PathBuf,
        /// The version it declares.
        found: u64,
    },
    /// The file could not be written.
    #[error("{path}: cannot write: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl Results {
    /// Parses a results document, checking its schema version first. `path` only names it in errors.
    pub fn from_json(text: &str, path: &Path) -> Result<Results, LoadError> {
        let corrupt = |reason: String| LoadError::Corrupt {
            path: path.to_path_buf(),
            reason,
        };
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| corrupt(e.to_string()))?;
        let found = value
            .get("schema_version")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| corrupt("no schema_version field".into()))?;
        if found != u64::from(SCHEMA_VERSION) {
            return Err(LoadError::Version {
                path: path.to_path_buf(),
                found,
            });
        }
        serde_json::from_value(value).map_err(|e| corrupt(e.to_string()))
    }

    /// Reads a results file.
    pub fn load(path: &Path) -> Result<Results, LoadError> {
        let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Results::from_json(&text, path)
    }

    /// Writes the document as pretty JSON.
    pub fn save(&self, path: &Path) -> Result<(), LoadError> {
        let text = serde_json::to_string_pretty(self).expect("results always serialise");
        std::fs::write(path, text + "\n").map_err(|source| LoadError::Write {
            path: path.to_path_buf(),
            source,
        })
    }
}
