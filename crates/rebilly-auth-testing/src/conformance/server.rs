//! The suite's own loopback HTTP/1.1 server (plain and TLS): scripted answers, every request
//! logged.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_rustls::rustls;

// ---------------------------------------------------------------------------------------------
// The loopback server
// ---------------------------------------------------------------------------------------------

/// A request as the test server saw it.
#[derive(Debug, Clone)]
pub(super) struct SeenRequest {
    pub(super) method: String,
    pub(super) path: String,
    /// Header names lowercased, values in arrival order.
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Vec<u8>,
}

impl SeenRequest {
    pub(super) fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// What the server does with a request.
pub(super) enum Action {
    /// A complete response with `Content-Length`.
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// A complete response in chunked encoding (no `Content-Length`).
    Chunked { body: Vec<u8> },
    /// Waits, then does the boxed action.
    Delay(Duration, Box<Action>),
    /// Sends the head announcing `declared` bytes, then `sent` bytes, then closes.
    CloseMidBody { declared: usize, sent: usize },
    /// Reads the request and closes without answering.
    CloseBeforeResponse,
}

pub(super) fn ok(body: impl Into<Vec<u8>>) -> Action {
    Action::Respond {
        status: 200,
        headers: Vec::new(),
        body: body.into(),
    }
}

pub(super) type Handler = Arc<dyn Fn(&SeenRequest) -> Action + Send + Sync>;

pub(super) struct TestServer {
    pub(super) addr: SocketAddr,
    pub(super) https: bool,
    pub(super) connections: Arc<AtomicUsize>,
    pub(super) seen: Arc<Mutex<Vec<SeenRequest>>>,
    pub(super) task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    pub(super) async fn start(
        tls: Option<Arc<rustls::ServerConfig>>,
        handler: impl Fn(&SeenRequest) -> Action + Send + Sync + 'static,
    ) -> Result<Self, String> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| format!("cannot bind 127.0.0.1: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let connections = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Handler = Arc::new(handler);
        let https = tls.is_some();
        let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
        let (conns, log) = (connections.clone(), seen.clone());
        let task = tokio::spawn(async move {
            let mut tasks = JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                conns.fetch_add(1, Ordering::SeqCst);
                let _ = stream.set_nodelay(true);
                let (handler, log, acceptor) = (handler.clone(), log.clone(), acceptor.clone());
                tasks.spawn(async move {
                    match acceptor {
                        Some(acceptor) => {
                            if let Ok(tls) = acceptor.accept(stream).await {
                                serve_connection(tls, handler, log).await;
                            }
                        }
                        None => serve_connection(stream, handler, log).await,
                    }
                });
                while tasks.try_join_next().is_some() {}
            }
        });
        Ok(Self {
            addr,
            https,
            connections,
            seen,
            task,
        })
    }

    pub(super) fn url(&self, path: &str) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}{path}", self.addr)
    }

    pub(super) fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    pub(super) fn seen(&self) -> Vec<SeenRequest> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

pub(super) async fn serve_connection<S>(
    mut stream: S,
    handler: Handler,
    log: Arc<Mutex<Vec<SeenRequest>>>,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut buf = Vec::new();
    loop {
        let Some(request) = read_request(&mut stream, &mut buf).await else {
            return;
        };
        if let Ok(mut log) = log.lock() {
            log.push(request.clone());
        }
        let action = handler(&request);
        let keep_going = write_action(&mut stream, action).await;
        if !keep_going {
            let _ = stream.shutdown().await;
            return;
        }
    }
}

/// Reads one request (head + `Content-Length` body). `None` on EOF or a malformed request.
pub(super) async fn read_request<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut Vec<u8>,
) -> Option<SeenRequest> {
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i;
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).ok()?;
    buf.drain(..head_end + 4);
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let path = first.next()?.to_owned();
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    if headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"))
    {
        // The transports under test send sized bodies; a chunked request is out of scope.
        return None;
    }
    while buf.len() < length {
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf.drain(..length).collect();
    Some(SeenRequest {
        method,
        path,
        headers,
        body,
    })
}

pub(super) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

pub(super) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// Writes the response; `false` when the connection must close.
pub(super) async fn write_action<S: AsyncWrite + Unpin>(stream: &mut S, action: Action) -> bool {
    match action {
        Action::Respond {
            status,
            headers,
            body,
        } => {
            let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            if status != 204 && status != 304 {
                head.push_str(&format!("content-length: {}\r\n", body.len()));
            }
            head.push_str("\r\n");
            stream.write_all(head.as_bytes()).await.is_ok()
                && stream.write_all(&body).await.is_ok()
                && stream.flush().await.is_ok()
        }
        Action::Chunked { body } => {
            if stream
                .write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
                .await
                .is_err()
            {
                return false;
            }
            for chunk in body.chunks(64 * 1024) {
                let size = format!("{:x}\r\n", chunk.len());
                if stream.write_all(size.as_bytes()).await.is_err()
                    || stream.write_all(chunk).await.is_err()
                    || stream.write_all(b"\r\n").await.is_err()
                {
                    return false;
                }
            }
            stream.write_all(b"0\r\n\r\n").await.is_ok() && stream.flush().await.is_ok()
        }
        Action::Delay(delay, then) => {
            tokio::time::sleep(delay).await;
            Box::pin(write_action(stream, *then)).await
        }
        Action::CloseMidBody { declared, sent } => {
            let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {declared}\r\n\r\n");
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(&vec![b'x'; sent]).await;
            let _ = stream.flush().await;
            false
        }
        Action::CloseBeforeResponse => false,
    }
}
