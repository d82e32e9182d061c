//! One HTTP/1.1 connection per client, over a `TcpStream` the client owns (hyper's low-level
//! client): no pool, no hidden reconnects, so each client's requests are exactly what it sends.

use bytes::Bytes;
use http_body_util::Empty;
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, Response, body::Incoming};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use tokio::net::TcpStream;

/// An open HTTP/1.1 connection.
pub struct Conn {
    sender: SendRequest<Empty<Bytes>>,
    host: String,
}

impl Conn {
    /// Connects to `addr` with TCP_NODELAY (as the server sets on its side).
    pub async fn connect(addr: SocketAddr) -> Result<Conn, String> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect {addr}: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("HTTP handshake: {e}"))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Conn {
            sender,
            host: addr.to_string(),
        })
    }

    /// Sends `GET path_and_query` and returns the response head with its streaming body.
    pub async fn get(&mut self, path_and_query: &str) -> Result<Response<Incoming>, String> {
        self.sender
            .ready()
            .await
            .map_err(|e| format!("connection closed: {e}"))?;
        let req = Request::get(path_and_query)
            .header(hyper::header::HOST, &self.host)
            .body(Empty::new())
            .map_err(|e| e.to_string())?;
        let resp = self
            .sender
            .send_request(req)
            .await
            .map_err(|e| format!("GET {path_and_query}: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!("GET {path_and_query}: status {}", resp.status()));
        }
        Ok(resp)
    }

    /// Sends `GET path_and_query` and reads the whole body.
    pub async fn get_body(&mut self, path_and_query: &str) -> Result<Bytes, String> {
        use http_body_util::BodyExt;
        let resp = self.get(path_and_query).await?;
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("reading body: {e}"))?;
        Ok(body.to_bytes())
    }
}
