//! The hyper side: accepts connections and turns each request into [`RequestParts`], runs it
//! through [`State`], sleeps the configured latency and writes the [`Answer`].

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming as IncomingBody;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::config::FaultAction;
use crate::http::{Answer, RequestParts};
use crate::state::{lock, Shared};

/// Serves connections until the runtime shuts down.
pub(crate) async fn serve(listener: TcpListener, shared: Shared) {
    let local = listener.local_addr().expect("bound listener");
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| handle(shared.clone(), local, req));
            // A client that goes away mid-request is no concern of the fake.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Takes a request out of the in-flight count however its handling ends (answered, or its
/// connection dropped while it waited).
struct InFlightSlot {
    shared: Shared,
    held: bool,
}

impl InFlightSlot {
    fn release(&mut self) {
        if std::mem::take(&mut self.held) {
            lock(&self.shared).leave_in_flight();
        }
    }
}

impl Drop for InFlightSlot {
    fn drop(&mut self) {
        self.release();
    }
}

async fn handle(
    shared: Shared,
    local: SocketAddr,
    req: Request<IncomingBody>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut parts = request_parts(&req, local);
    // Read whole, so the connection stays usable; the registry's pushes need the bytes.
    if let Ok(body) = req.into_body().collect().await {
        parts.body = body.to_bytes().to_vec();
    }
    let arrival = lock(&shared).arrive(&parts);
    let mut slot = InFlightSlot {
        shared: shared.clone(),
        held: arrival.in_flight,
    };
    let mut fault = arrival.fault;
    if fault == Some(FaultAction::Hold) {
        let mut gate = lock(&shared).hold();
        // A closed gate channel (the fake dropped) ends the wait too.
        let _ = gate.wait_for(|open| *open).await;
        fault = None;
    }
    tokio::time::sleep(arrival.latency).await;
    let answer = match fault {
        Some(FaultAction::Hold) => unreachable!("released above"),
        Some(FaultAction::Hang) => {
            // A hung request stops counting as in flight, so it cannot starve later ones.
            slot.release();
            lock(&shared).record(&parts, 0, arrival.registry);
            std::future::pending().await
        }
        Some(FaultAction::Respond {
            status,
            headers,
            body,
        }) => lock(&shared).scripted_answer(status, &headers, &body),
        Some(FaultAction::EchoAuthorization { status, message }) => {
            let echoed = message.replace(
                "{authorization}",
                parts.authorization.as_deref().unwrap_or_default(),
            );
            let body = serde_json::json!({ "message": echoed }).to_string();
            lock(&shared).scripted_answer(status, &[], &body)
        }
        None => {
            let mut state = lock(&shared);
            if arrival.over_in_flight_limit {
                state.in_flight_refusal()
            } else if arrival.registry {
                state.registry_answer(&parts)
            } else {
                state.api_answer(&parts)
            }
        }
    };
    {
        let mut state = lock(&shared);
        state.record(&parts, answer.status, arrival.registry);
    }
    slot.release();
    Ok(response(answer, parts.method == "HEAD"))
}

fn request_parts(req: &Request<IncomingBody>, local: SocketAddr) -> RequestParts {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    RequestParts {
        method: req.method().as_str().to_owned(),
        raw_path: req.uri().path().to_owned(),
        query: req.uri().query().unwrap_or_default().to_owned(),
        host: header("host").unwrap_or_else(|| local.to_string()),
        authorization: header("authorization"),
        content_type: header("content-type"),
        body: Vec::new(),
        user_agents: req
            .headers()
            .get_all("user-agent")
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect(),
    }
}

fn response(answer: Answer, head_only: bool) -> Response<Full<Bytes>> {
    let body = if head_only {
        Bytes::new()
    } else {
        Bytes::from(answer.body)
    };
    let mut builder = Response::builder().status(answer.status);
    for (name, value) in &answer.headers {
        builder = builder.header(name, value);
    }
    builder
        .body(Full::new(body))
        .expect("scripted faults give a valid status and headers")
}
