//! A small HTTP server for the tests, on a std TcpListener: records what
//! reaches `POST /v1/events` and answers as its mode says (accept, a fixed
//! status, or black hole: accept the connection and never answer).

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use serde_json::Value;

#[derive(Clone, Debug)]
pub enum Mode {
    /// 202 with `{"request_id", "status": "queued"}`.
    Accept,
    /// This status and body.
    Status(u16, String),
    /// Accept TCP, read the request, never answer.
    BlackHole,
    /// Accept TCP, read the request, and answer once the mode is another
    /// (as that one says; 60 s at most).
    Hold,
}

#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Value,
    pub status: u16,
}

impl Request {
    pub fn request_id(&self) -> String {
        self.headers
            .get("x-request-id")
            .cloned()
            .unwrap_or_default()
    }
}

struct Inner {
    mode: Mode,
    requests: Vec<Request>,
    held: Vec<TcpStream>,
    /// Requests waiting for the end of [`Mode::Hold`].
    holding: usize,
    /// What the requests held now answer ([`TestServer::release_held`]).
    held_answer: Option<(u16, String)>,
}

pub struct TestServer {
    pub port: u16,
    inner: Arc<Mutex<Inner>>,
    stop: Arc<AtomicBool>,
}

impl TestServer {
    pub fn start() -> io::Result<TestServer> {
        Self::start_on(0)
    }

    /// Binds `127.0.0.1:port` (0: any free port).
    pub fn start_on(port: u16) -> io::Result<TestServer> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let port = listener.local_addr()?.port();
        let inner = Arc::new(Mutex::new(Inner {
            mode: Mode::Accept,
            requests: Vec::new(),
            held: Vec::new(),
            holding: 0,
            held_answer: None,
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (i, s) = (inner.clone(), stop.clone());
        thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let i = i.clone();
                thread::spawn(move || {
                    let _ = serve(conn, &i);
                });
            }
        });
        Ok(TestServer { port, inner, stop })
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn set_mode(&self, mode: Mode) {
        if let Ok(mut g) = self.inner.lock() {
            g.mode = mode;
        }
    }

    /// Every request to `/v1/events`, in arrival order.
    pub fn events(&self) -> Vec<Request> {
        self.inner
            .lock()
            .map(|g| {
                g.requests
                    .iter()
                    .filter(|r| r.path == "/v1/events")
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Ends [`Mode::Hold`]: the requests held now answer `status` and
    /// `body`, later ones are accepted.
    pub fn release_held(&self, status: u16, body: &str) {
        if let Ok(mut g) = self.inner.lock() {
            g.held_answer = Some((status, body.to_owned()));
            g.mode = Mode::Accept;
        }
    }

    /// Requests held now ([`Mode::Hold`]).
    pub fn holding(&self) -> usize {
        self.inner.lock().map(|g| g.holding).unwrap_or(0)
    }

    /// Request ids of accepted events, in arrival order.
    pub fn accepted_ids(&self) -> Vec<String> {
        self.events()
            .iter()
            .filter(|r| r.status == 202)
            .map(Request::request_id)
            .collect()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// A port with nothing listening on it (connections are refused).
pub fn dead_port() -> io::Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

fn serve(conn: TcpStream, inner: &Mutex<Inner>) -> io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, path) = (
        parts.next().unwrap_or("").to_owned(),
        parts.next().unwrap_or("").to_owned(),
    );
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body)?;
    let current = || inner.lock().map(|g| g.mode.clone()).unwrap_or(Mode::Accept);
    let mut mode = current();
    if matches!(mode, Mode::Hold) {
        let count = |d: isize| {
            if let Ok(mut g) = inner.lock() {
                g.holding = g.holding.saturating_add_signed(d);
            }
        };
        count(1);
        let t = std::time::Instant::now();
        while matches!(mode, Mode::Hold) && t.elapsed() < std::time::Duration::from_secs(60) {
            thread::sleep(std::time::Duration::from_millis(5));
            mode = current();
        }
        count(-1);
        if let Some((s, b)) = inner.lock().ok().and_then(|g| g.held_answer.clone()) {
            mode = Mode::Status(s, b);
        }
    }
    let (status, answer) = match (&mode, path.as_str()) {
        (Mode::BlackHole, _) => {
            if let Ok(mut g) = inner.lock() {
                g.held.push(conn);
            }
            return Ok(());
        }
        (_, "/health") => (200, "ok".to_owned()),
        (Mode::Accept, _) => {
            let rid = headers.get("x-request-id").cloned().unwrap_or_default();
            (
                202,
                format!(r#"{{"request_id":"{rid}","status":"queued"}}"#),
            )
        }
        (Mode::Status(s, b), _) => (*s, b.clone()),
        (Mode::Hold, _) => (503, "held too long".to_owned()),
    };
    if let Ok(mut g) = inner.lock() {
        let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
        g.requests.push(Request {
            method,
            path,
            headers,
            body,
            status,
        });
    }
    let mut conn = conn;
    write!(
        conn,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
        answer.len()
    )?;
    conn.flush()
}
