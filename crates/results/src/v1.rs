//! Reading version 1 documents: their `config.server` was a flat list of buffer settings with the
//! allocator beside them, and the injected fault was `config.server_fault`. [`upgrade`] rewrites
//! such a document into version 2's shape, so the committed baselines and examples stay readable.
//!
//! Settings version 1 did not record are given their defaults: the ring capacity, the topic limit
//! and whether the fault endpoints were served. A document made before the lean HTTP path existed
//! has no `http_engine`: hyper answered everything (the stock engine).

use crate::{HttpEngine, ServerFault, ServerInfo, ServerSettings};
use serde::Deserialize;
use serde_json::Value;

/// `config.server` as version 1 wrote it.
#[derive(Debug, Deserialize)]
struct ServerV1 {
    ws_read_buffer_bytes: usize,
    ws_write_buffer_bytes: usize,
    http_max_buf_bytes: usize,
    http_writev: bool,
    #[serde(default = "stock")]
    http_engine: HttpEngine,
    sse_keep_alive_ms: u64,
    allocator: String,
}

fn stock() -> HttpEngine {
    HttpEngine::Stock
}

impl ServerV1 {
    fn upgrade(self, fault: ServerFault) -> ServerInfo {
        ServerInfo {
            settings: ServerSettings {
                sse_keep_alive_ms: self.sse_keep_alive_ms,
                ws_read_buffer_bytes: self.ws_read_buffer_bytes,
                ws_write_buffer_bytes: self.ws_write_buffer_bytes,
                http_max_buf_bytes: self.http_max_buf_bytes,
                http_writev: self.http_writev,
                http_engine: self.http_engine,
                fault,
                ..ServerSettings::default()
            },
            allocator: self.allocator,
        }
    }
}

/// Rewrites a version 1 document (as JSON) into version 2's shape; the reason when its `config`
/// does not read as version 1's.
pub fn upgrade(mut doc: Value) -> Result<Value, String> {
    let config = doc
        .get_mut("config")
        .and_then(Value::as_object_mut)
        .ok_or("missing field `config`")?;
    let fault: ServerFault = match config.remove("server_fault") {
        Some(f) => serde_json::from_value(f).map_err(|e| format!("config.server_fault: {e}"))?,
        None => ServerFault::default(),
    };
    let server = match config.remove("server") {
        None | Some(Value::Null) => Value::Null,
        Some(s) => {
            let old: ServerV1 =
                serde_json::from_value(s).map_err(|e| format!("config.server: {e}"))?;
            serde_json::to_value(old.upgrade(fault)).map_err(|e| e.to_string())?
        }
    };
    config.insert("server".into(), server);
    doc["schema_version"] = Value::from(2);
    Ok(doc)
}
