//! Reading and writing results files, with errors that name the file (and the row, for a row that
//! does not read). Version 1 documents are upgraded on reading ([`crate::v1`]).

use crate::{Results, Row, SCHEMA_VERSION};
use std::path::{Path, PathBuf};

/// Why a results file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("{path}: cannot read: {cause}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause: in the message, not a `source()`, so `{:#}` does not print it twice.
        cause: std::io::Error,
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
        "{path}: results schema version {found}, this rtbench reads versions 1 to {SCHEMA_VERSION}; re-run it to regenerate"
    )]
    Version {
        /// The file.
        path: PathBuf,
        /// The version it declares.
        found: u64,
    },
    /// The file could not be written.
    #[error("{path}: cannot write: {cause}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause, in the message (see [`LoadError::Read`]).
        cause: std::io::Error,
    },
}

impl Results {
    /// Parses a results document, checking its schema version first (versions 1 and 2 are upgraded).
    /// `path` only names it in errors; a row that does not read is named by its place and
    /// transport.
    pub fn from_json(text: &str, path: &Path) -> Result<Results, LoadError> {
        let corrupt = |reason: String| LoadError::Corrupt {
            path: path.to_path_buf(),
            reason,
        };
        let mut value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| corrupt(e.to_string()))?;
        let found = value
            .get("schema_version")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| corrupt("no schema_version field".into()))?;
        match found {
            1 => {
                value = crate::v1::upgrade(value).map_err(&corrupt)?;
                value = crate::v2::upgrade(value).map_err(corrupt)?;
            }
            2 => value = crate::v2::upgrade(value).map_err(corrupt)?,
            v if v == u64::from(SCHEMA_VERSION) => {}
            _ => {
                return Err(LoadError::Version {
                    path: path.to_path_buf(),
                    found,
                });
            }
        }
        let rows = match value.get_mut("rows").map(serde_json::Value::take) {
            Some(serde_json::Value::Array(rows)) => rows,
            _ => return Err(corrupt("missing field `rows`".into())),
        };
        value["rows"] = serde_json::Value::Array(Vec::new());
        let mut results: Results =
            serde_json::from_value(value).map_err(|e| corrupt(e.to_string()))?;
        results.rows = rows
            .into_iter()
            .enumerate()
            .map(|(i, row)| {
                let name = row["transport"].as_str().unwrap_or("?").to_string();
                serde_json::from_value::<Row>(row)
                    .map_err(|e| corrupt(format!("row {} ({name} row): {e}", i + 1)))
            })
            .collect::<Result<_, _>>()?;
        results.schema_version = SCHEMA_VERSION;
        Ok(results)
    }

    /// Reads a results file.
    pub fn load(path: &Path) -> Result<Results, LoadError> {
        let text = std::fs::read_to_string(path).map_err(|cause| LoadError::Read {
            path: path.to_path_buf(),
            cause,
        })?;
        Results::from_json(&text, path)
    }

    /// The document as written: its JSON, without the figures that were not measured
    /// ([`Row::server_measured`]).
    pub fn to_json(&self) -> serde_json::Value {
        let mut doc = serde_json::to_value(self).expect("results always serialise");
        crate::unmeasured::prune(&mut doc);
        doc
    }

    /// Writes the document as pretty JSON ([`Results::to_json`]).
    pub fn save(&self, path: &Path) -> Result<(), LoadError> {
        let doc = self.to_json();
        let text = serde_json::to_string_pretty(&doc).expect("a JSON value always serialises");
        std::fs::write(path, text + "\n").map_err(|cause| LoadError::Write {
            path: path.to_path_buf(),
            cause,
        })
    }
}
