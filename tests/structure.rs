//! The code's shape, checked: a transport is described once, in `crates/proto`'s `TransportSpec`.
//! Any list of transport names elsewhere would let a new transport be missed silently (sorted
//! last, drawn grey, not gated), so no non-test source outside `crates/proto` may spell a
//! transport's name as a string literal.

use rtbench_proto::Transport;
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Whether `path` holds only tests (a test module file or a test helper).
fn is_test_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name == "tests.rs" || name.ends_with("_tests.rs") || name == "test_support.rs"
}

/// The non-test source files of the product outside `crates/proto`.
fn product_sources() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    for entry in std::fs::read_dir(root.join("crates")).unwrap().flatten() {
        if entry.file_name() != "proto" {
            rust_files(&entry.path().join("src"), &mut files);
        }
    }
    files.retain(|f| !is_test_file(f));
    files
}

#[test]
fn no_transport_name_is_spelled_outside_proto() {
    let files = product_sources();
    assert!(files.len() > 50, "found only {} source files", files.len());
    let mut hits = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        // Inline test modules come last in this codebase; stop at the first one.
        let product = text.split("#[cfg(test)]").next().unwrap_or("");
        for (n, line) in product.lines().enumerate() {
            for t in Transport::ALL {
                if line.contains(&format!("\"{}\"", t.as_str())) {
                    hits.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        hits.is_empty(),
        "transport names spelled outside crates/proto (read them from Transport's spec):\n{}",
        hits.join("\n")
    );
}

#[test]
fn the_check_sees_a_name_where_one_is_spelled() {
    // The scan above must not pass by reading nothing: the spec itself spells every name.
    let spec = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/proto/src/transport.rs"),
    )
    .unwrap();
    for t in Transport::ALL {
        assert!(spec.contains(&format!("name: \"{}\"", t.as_str())));
    }
}
