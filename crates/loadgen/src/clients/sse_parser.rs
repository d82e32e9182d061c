//! An incremental `text/event-stream` parser (WHATWG HTML, "Parsing an event stream"): bytes in,
//! complete blocks out. Lines end in LF, CRLF or CR; a blank line ends a block; `:` lines are
//! comments; `data` lines are joined with LF.

use bytes::BytesMut;

/// One dispatched block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseBlock {
    /// The `event` field, if any.
    pub event: Option<String>,
    /// The `id` field, if any.
    pub id: Option<String>,
    /// The `data` lines joined with LF.
    pub data: Vec<u8>,
    /// The `retry` field in milliseconds, if any.
    pub retry_ms: Option<u64>,
}

/// Accumulates stream bytes and yields complete blocks.
#[derive(Debug, Default)]
pub struct SseParser {
    buf: BytesMut,
    block: SseBlock,
    has_data: bool,
}

impl SseParser {
    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete block, if the buffered bytes finish one. Comment-only and empty blocks
    /// with a `retry` are returned too (with empty data) so callers can see `retry`.
    pub fn next_block(&mut self) -> Option<SseBlock> {
        while let Some(end) = self.buf.iter().position(|&b| b == b'\n' || b == b'\r') {
            // A CR at the very end may be the first half of CRLF: wait for more.
            if self.buf[end] == b'\r' && end + 1 == self.buf.len() {
                return None;
            }
            let skip = if self.buf[end] == b'\r' && self.buf.get(end + 1) == Some(&b'\n') {
                2
            } else {
                1
            };
            let line = self.buf.split_to(end + skip);
            let line = &line[..end];
            if line.is_empty() {
                let block = std::mem::take(&mut self.block);
                let had = std::mem::take(&mut self.has_data);
                if had || block.retry_ms.is_some() || block.id.is_some() {
                    return Some(block);
                }
                continue;
            }
            self.field(line);
        }
        None
    }

    fn field(&mut self, line: &[u8]) {
        if line[0] == b':' {
            return;
        }
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        let text = || String::from_utf8_lossy(value).into_owned();
        match name {
            b"data" => {
                if self.has_data {
                    self.block.data.push(b'\n');
                }
                self.block.data.extend_from_slice(value);
                self.has_data = true;
            }
            b"event" => self.block.event = Some(text()),
            b"id" => self.block.id = Some(text()),
            b"retry" => self.block.retry_ms = text().parse().ok(),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_blocks_split_anywhere() {
        let stream = b"retry: 1000\n\n:\n\nid: 1\ndata: {\"a\":1}\n\nevent: gap\r\ndata: x\r\ndata: y\r\n\r\n";
        let mut p = SseParser::default();
        let mut blocks = Vec::new();
        for b in stream.iter() {
            p.push(&[*b]);
            while let Some(block) = p.next_block() {
                blocks.push(block);
            }
        }
        assert_eq!(blocks.len(), 3);
        assert_eq!(blocks[0].retry_ms, Some(1000));
        assert_eq!(blocks[1].id.as_deref(), Some("1"));
        assert_eq!(blocks[1].data, b"{\"a\":1}");
        assert_eq!(blocks[2].event.as_deref(), Some("gap"));
        assert_eq!(blocks[2].data, b"x\ny");
    }
}
