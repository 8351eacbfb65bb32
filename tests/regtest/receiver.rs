//! A webhook receiver on 127.0.0.1, as a shop would run one: records every request (headers, raw
//! body) and answers with a status the test controls, per request.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;

/// One request as received.
#[derive(Clone, Debug)]
pub struct Hit {
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    pub status: u16,
}

impl Hit {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("webhook body is JSON")
    }
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
            .unwrap_or("")
    }
}

type Answer = Box<dyn Fn(usize) -> u16 + Send + Sync>;

struct Inner {
    hits: Mutex<Vec<Hit>>,
    answer: Mutex<Answer>,
}

/// The receiver; dropping it stops the server.
pub struct Receiver {
    pub url: String,
    inner: Arc<Inner>,
    _runtime: tokio::runtime::Runtime,
}

impl Receiver {
    /// Answers every request with `status`.
    pub fn start(status: u16) -> Receiver {
        Receiver::answering(move |_| status)
    }

    /// Answers request number `n` (0-based) with `answer(n)`.
    pub fn answering(answer: impl Fn(usize) -> u16 + Send + Sync + 'static) -> Receiver {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("receiver runtime");
        let inner = Arc::new(Inner {
            hits: Mutex::new(Vec::new()),
            answer: Mutex::new(Box::new(answer)),
        });
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind receiver");
        let addr = listener.local_addr().expect("receiver addr");
        let app = axum::Router::new()
            .route("/webhook/lightning", axum::routing::post(handle))
            .with_state(inner.clone());
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver {
            url: format!("http://{addr}/webhook/lightning"),
            inner,
            _runtime: runtime,
        }
    }

    /// From now on, answer every request with `status`.
    pub fn set_status(&self, status: u16) {
        *self.inner.answer.lock().expect("answer") = Box::new(move |_| status);
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.inner.hits.lock().expect("hits").clone()
    }

    /// Requests answered with 2xx, by event id (the receiver's dedupe).
    pub fn delivered_ids(&self) -> HashSet<String> {
        self.hits()
            .iter()
            .filter(|h| (200..300).contains(&h.status))
            .map(|h| h.header("payaiml-event-id").to_string())
            .collect()
    }
}

async fn handle(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let mut hits = inner.hits.lock().expect("hits");
    let status = (inner.answer.lock().expect("answer"))(hits.len());
    hits.push(Hit {
        headers: headers
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect(),
        body: body.to_vec(),
        status,
    });
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}
