//! The status server on `--listen` (loopback by default): `GET /workloads` (the [`Board`]
//! as JSON) and `GET /health` (200 while the reconcile loop runs, 503 with the reason when
//! it has stalled).

use crate::board::Board;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use std::sync::{Arc, RwLock};

/// A reconcile runs every second; one older than this means the loop is stuck.
pub const STALL_S: u64 = 60;

pub type SharedBoard = Arc<RwLock<Board>>;

pub fn router(board: SharedBoard) -> Router {
    Router::new()
        .route("/workloads", get(workloads))
        .route("/health", get(health))
        .with_state(board)
}

/// Serves until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, board: SharedBoard) -> std::io::Result<()> {
    axum::serve(listener, router(board)).await
}

fn read(board: &SharedBoard) -> Board {
    match board.read() {
        Ok(b) => b.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    }
}

async fn workloads(State(board): State<SharedBoard>) -> Json<Board> {
    Json(read(&board))
}

async fn health(State(board): State<SharedBoard>) -> impl IntoResponse {
    let b = read(&board);
    let age = crate::daemon::unix_now().saturating_sub(b.last_reconcile);
    let body = serde_json::json!({
        "node": b.node,
        "height": b.height,
        "connected": b.connected,
        "last_reconcile_age_s": age,
    });
    if b.last_reconcile == 0 || age > STALL_S {
        let mut body = body;
        body["reason"] = if b.last_reconcile == 0 {
            "starting: no reconcile yet".into()
        } else {
            format!("no reconcile for {age} s").into()
        };
        return (StatusCode::SERVICE_UNAVAILABLE, Json(body));
    }
    (StatusCode::OK, Json(body))
}
