//! A stand-in for a model server: an HTTP server on a free loopback port that counts the
//! requests it serves and exposes the count as the counter `http_requests_total` on
//! `/metrics` (what Prometheus scrapes), and a bounded load generator to drive it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Result;

/// The counting server; stops when dropped.
pub struct CountingServer {
    /// `host:port`, as a Prometheus target.
    pub address: String,
    served: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl CountingServer {
    pub fn start() -> Result<CountingServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let address = listener.local_addr()?.to_string();
        let served = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (served, stop) = (served.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        answer(stream, &served);
                    }
                }
            })
        };
        Ok(CountingServer {
            address,
            served,
            stop,
            thread: Some(thread),
        })
    }

    /// Requests served so far (not counting `/metrics`).
    pub fn served(&self) -> u64 {
        self.served.load(Ordering::Relaxed)
    }
}

fn answer(mut stream: TcpStream, served: &AtomicU64) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut request = [0u8; 2048];
    let Ok(read) = stream.read(&mut request) else {
        return;
    };
    let head = String::from_utf8_lossy(&request[..read]);
    let body = if head.starts_with("GET /metrics") {
        format!(
            "# HELP http_requests_total Requests served.\n# TYPE http_requests_total counter\nhttp_requests_total {}\n",
            served.load(Ordering::Relaxed)
        )
    } else {
        served.fetch_add(1, Ordering::Relaxed);
        "ok\n".to_string()
    };
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

impl Drop for CountingServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(&self.address);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Sends requests to a server at a steady rate, for at most a bounded time; stops when
/// dropped.
pub struct Load {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Load {
    /// `per_second` requests per second to `http://<address>/`, for at most `limit`.
    pub fn start(address: &str, per_second: u32, limit: Duration) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let url = format!("http://{address}/");
        let thread = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let interval = Duration::from_secs_f64(1.0 / f64::from(per_second.max(1)));
                let started = Instant::now();
                let mut next = started;
                while !stop.load(Ordering::Relaxed) && started.elapsed() < limit {
                    let _ = ureq::get(&url).call();
                    next += interval;
                    if let Some(wait) = next.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                }
            })
        };
        Load {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
