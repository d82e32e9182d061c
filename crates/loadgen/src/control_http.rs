//! The control plane's HTTP client: requests to the server's HTTP listener over keep-alive
//! HTTP/1.1 connections — TLS on a TLS stack ([`crate::stack::connect`]) — reopened when they
//! close.
//!
//! Hand-written over hyper's low-level client rather than reqwest: reqwest's TLS brings its own
//! crypto provider choice and root-store handling, while this client must trust exactly the
//! server child's certificate with the one provider the workspace enables. It is small: a few
//! connections kept between requests, a timeout, one retry when a reused connection turns out
//! closed.

use crate::control::Target;
use crate::stack;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Duration;

/// Most idle connections kept, so requests made at the same time (a scrape during a fault
/// request) do not open and close a connection each time, as a pooling client would not.
const MAX_IDLE: usize = 4;

/// A control request's answer.
#[derive(Debug)]
pub(crate) struct Answer {
    /// The status.
    pub(crate) status: StatusCode,
    /// The whole body.
    pub(crate) body: Bytes,
}

impl Answer {
    /// The body as text (lossy).
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Requests to one server's HTTP listener; clones share the kept connection.
#[derive(Debug, Clone)]
pub(crate) struct ControlHttp {
    target: Target,
    /// Connections kept between requests, open and idle (at most [`MAX_IDLE`]).
    idle: Arc<Mutex<Vec<SendRequest<Full<Bytes>>>>>,
    /// Longest one request may take, connecting included.
    timeout: Duration,
}

impl ControlHttp {
    /// A client for `target`'s HTTP listener.
    pub(crate) fn new(target: Target, timeout: Duration) -> ControlHttp {
        ControlHttp {
            target,
            idle: Arc::default(),
            timeout,
        }
    }

    /// `GET path`.
    pub(crate) async fn get(&self, path: &str) -> Result<Answer, String> {
        self.send(Method::GET, path, None).await
    }

    /// `POST path` with a JSON body.
    pub(crate) async fn post_json(&self, path: &str, json: Vec<u8>) -> Result<Answer, String> {
        self.send(Method::POST, path, Some(Bytes::from(json))).await
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
    ) -> Result<Answer, String> {
        let attempt = async {
            let kept = {
                let mut idle = self.idle.lock();
                idle.retain(|s| !s.is_closed());
                idle.pop()
            };
            let reused = kept.is_some();
            let sender = match kept {
                Some(sender) => sender,
                None => self.connect().await?,
            };
            let request = self.request(&method, path, body.clone())?;
            match self.exchange(sender, request).await {
                // A kept connection the server has closed meanwhile: once more on a new one.
                Err(e)
                    if reused
                        && (e.is_canceled() || e.is_closed() || e.is_incomplete_message()) =>
                {
                    let sender = self.connect().await?;
                    let request = self.request(&method, path, body)?;
                    self.exchange(sender, request)
                        .await
                        .map_err(|e| e.to_string())
                }
                answer => answer.map_err(|e| e.to_string()),
            }
        };
        tokio::time::timeout(self.timeout, attempt)
            .await
            .map_err(|_| format!("no answer within {:?}", self.timeout))?
    }

    /// The request `method path` with `body` as JSON, if any.
    fn request(
        &self,
        method: &Method,
        path: &str,
        body: Option<Bytes>,
    ) -> Result<Request<Full<Bytes>>, String> {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, self.target.http.to_string());
        if body.is_some() {
            request = request.header(hyper::header::CONTENT_TYPE, "application/json");
        }
        if let Some(token) = self.target.control_token {
            request = request.header(hyper::header::AUTHORIZATION, format!("Bearer {token}"));
        }
        request
            .body(Full::new(body.unwrap_or_default()))
            .map_err(|e| format!("{method} {path}: {e}"))
    }

    /// Sends `request` on `sender` and reads the whole answer; keeps the connection after.
    async fn exchange(
        &self,
        mut sender: SendRequest<Full<Bytes>>,
        request: Request<Full<Bytes>>,
    ) -> Result<Answer, hyper::Error> {
        sender.ready().await?;
        let response = sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        let mut idle = self.idle.lock();
        if idle.len() < MAX_IDLE {
            idle.push(sender);
        }
        Ok(Answer { status, body })
    }

    /// Opens a new connection (TLS on a TLS stack) and starts its driver.
    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, String> {
        let stream = stack::connect_unmetered(self.target.http, self.target.tls)
            .await
            .map_err(|e| e.to_string())?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("HTTP handshake: {e}"))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(sender)
    }
}
