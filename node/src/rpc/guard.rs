//! What every RPC connection passes before a method runs, at the HTTP level:
//!
//! - **Host** (DNS rebinding): the `Host` header must name a loopback host (`localhost`,
//!   `127.0.0.1`, `[::1]`, any port) or one of `--rpc-allowed-hosts`; otherwise 403. A web
//!   page whose DNS name was rebound to 127.0.0.1 sends its own name, so it is refused.
//! - **Origin** (cross-site requests, cross-site WebSocket): a request that carries an
//!   `Origin` header must come from a loopback origin or one of `--rpc-cors`; otherwise
//!   403. Allowed origins get CORS headers, and their preflight (`OPTIONS`) is answered.
//! - **Admin token**: whether the request carries `Authorization: Bearer <--rpc-admin-token>`
//!   is recorded for [`super::policy`], which refuses admin methods without it.
//! - **Idle connections**: every connection's socket is wrapped in [`IdleIo`]; a connection
//!   that sent no request (HTTP request or JSON-RPC call; WebSocket pings and pongs do not
//!   count) for `--rpc-idle-timeout` and holds no live subscription is closed, so idle HTTP
//!   keep-alives and idle WebSockets cannot hold the connection slots (`max_connections`)
//!   for ever. A WebSocket that holds a subscription must still answer the server's pings
//!   (see [`super::ping_config`]).
//!
//! The per-request facts ([`Transport`], [`AdminAuth`], the connection's [`Activity`]) travel
//! to the methods in the request's extensions.

use crate::config::{AdminToken, RpcConfig};
use jsonrpsee::core::BoxError;
use jsonrpsee::http_client::HeaderValue;
use jsonrpsee::server::{HttpBody, HttpRequest, HttpResponse};
use parking_lot::Mutex;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

/// How a call reached the node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transport {
    Http,
    WebSocket,
}

/// Whether the request carried the admin token (always `true` when none is configured).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AdminAuth(pub bool);

/// The HTTP-level rules, built once from the configuration.
#[derive(Debug)]
pub(crate) struct HttpPolicy {
    /// `None`: any host (`--rpc-allowed-hosts '*'`).
    hosts: Option<Vec<HostPattern>>,
    /// `None`: any origin (`--rpc-cors '*'`).
    origins: Option<Vec<String>>,
    admin_token: Option<AdminToken>,
}

#[derive(Debug)]
enum HostPattern {
    /// `name` or `name:port` (`None`: any port).
    Exact(String, Option<u16>),
    /// `*.domain`: any subdomain of `domain`, any port.
    Suffix(String),
}

impl HostPattern {
    fn parse(s: &str) -> HostPattern {
        let s = s.trim().to_ascii_lowercase();
        if let Some(domain) = s.strip_prefix("*.") {
            return HostPattern::Suffix(format!(".{domain}"));
        }
        let (host, port) = split_host_port(&s);
        HostPattern::Exact(host.to_string(), port)
    }

    fn matches(&self, host: &str, port: Option<u16>) -> bool {
        match self {
            HostPattern::Exact(h, p) => h == host && (p.is_none() || *p == port),
            HostPattern::Suffix(d) => host.ends_with(d.as_str()),
        }
    }
}

/// `host[:port]` → (host, port); the brackets of an IPv6 literal are kept (`[::1]`).
fn split_host_port(s: &str) -> (&str, Option<u16>) {
    if s.starts_with('[') {
        return match s.find(']') {
            Some(end) => {
                let port = s[end + 1..].strip_prefix(':').and_then(|p| p.parse().ok());
                (&s[..=end], port)
            }
            None => (s, None),
        };
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
            (h, p.parse().ok())
        }
        _ => (s, None),
    }
}

/// `localhost`, a name under `.localhost`, or a loopback IP literal.
fn is_loopback_host(host: &str) -> bool {
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    let literal = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    literal.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A loopback browser origin: `http(s)://<loopback host>[:port]`.
fn is_loopback_origin(origin: &str) -> bool {
    let rest = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    match rest {
        Some(authority) if !authority.contains('/') => {
            is_loopback_host(split_host_port(authority).0)
        }
        _ => false,
    }
}

/// Compares without an early exit, so timing does not reveal how much of a guess was right.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Why a request was refused at the HTTP level.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    NoHost,
    Host(String),
    Origin(String),
}

impl HttpPolicy {
    pub(crate) fn new(config: &RpcConfig) -> HttpPolicy {
        let hosts = if config.allowed_hosts.iter().any(|h| h.trim() == "*") {
            None
        } else {
            Some(
                config
                    .allowed_hosts
                    .iter()
                    .map(|h| HostPattern::parse(h))
                    .collect(),
            )
        };
        let origins = if config.cors.iter().any(|o| o.trim() == "*") {
            None
        } else {
            Some(config.cors.iter().map(|o| normalise_origin(o)).collect())
        };
        HttpPolicy {
            hosts,
            origins,
            admin_token: config.admin_token.clone(),
        }
    }

    fn host_allowed(&self, authority: &str) -> bool {
        let Some(patterns) = &self.hosts else {
            return true;
        };
        let authority = authority.to_ascii_lowercase();
        let (host, port) = split_host_port(&authority);
        is_loopback_host(host) || patterns.iter().any(|p| p.matches(host, port))
    }

    fn origin_allowed(&self, origin: &str) -> bool {
        let origin = normalise_origin(origin);
        is_loopback_origin(&origin)
            || self
                .origins
                .as_ref()
                .is_none_or(|allowed| allowed.contains(&origin))
    }

    /// Checks Host and Origin; `Ok(Some(origin))` when the response should carry CORS
    /// headers for `origin`.
    pub(crate) fn check<B>(&self, req: &HttpRequest<B>) -> Result<Option<String>, Refusal> {
        let host = req
            .headers()
            .get("host")
            .and_then(|h| h.to_str().ok())
            .map(str::to_string)
            .or_else(|| req.uri().authority().map(|a| a.as_str().to_string()));
        match host {
            None => return Err(Refusal::NoHost),
            Some(h) if !self.host_allowed(&h) => return Err(Refusal::Host(h)),
            Some(_) => {}
        }
        match req.headers().get("origin") {
            None => Ok(None),
            Some(o) => {
                let o = o.to_str().unwrap_or("<not text>").to_string();
                if self.origin_allowed(&o) {
                    Ok(Some(o))
                } else {
                    Err(Refusal::Origin(o))
                }
            }
        }
    }

    fn admin_auth<B>(&self, req: &HttpRequest<B>) -> AdminAuth {
        let Some(AdminToken(token)) = &self.admin_token else {
            return AdminAuth(true);
        };
        let given = req
            .headers()
            .get("authorization")
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim);
        AdminAuth(given.is_some_and(|g| same_secret(g.as_bytes(), token.as_bytes())))
    }
}

fn normalise_origin(o: &str) -> String {
    o.trim().trim_end_matches('/').to_ascii_lowercase()
}

fn text_response(status: u16, body: String) -> HttpResponse {
    HttpResponse::builder()
        .status(status)
        .header("content-type", "text/plain")
        .body(HttpBody::from(body))
        .expect("a fixed status and header build a response")
}

fn refused(r: &Refusal) -> HttpResponse {
    let body = match r {
        Refusal::NoHost => "the request has no Host header\n".to_string(),
        Refusal::Host(h) => format!(
            "Host {h:?} is not allowed: this node answers localhost, 127.0.0.1 and [::1]; \
             its operator can add names with --rpc-allowed-hosts\n"
        ),
        Refusal::Origin(o) => format!(
            "Origin {o:?} is not allowed: only loopback origins may call this node from a \
             browser; its operator can add origins with --rpc-cors\n"
        ),
    };
    text_response(403, body)
}

fn add_cors(rp: &mut HttpResponse, origin: &str) {
    if let Ok(v) = HeaderValue::from_str(origin) {
        let h = rp.headers_mut();
        h.insert("access-control-allow-origin", v);
        h.insert("vary", HeaderValue::from_static("Origin"));
    }
}

fn is_upgrade<B>(req: &HttpRequest<B>) -> bool {
    req.headers()
        .get("upgrade")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// The HTTP guard in front of jsonrpsee's service, one per connection.
#[derive(Clone, Debug)]
pub(crate) struct Guard<S> {
    pub(crate) inner: S,
    pub(crate) policy: Arc<HttpPolicy>,
    pub(crate) activity: Arc<Activity>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B> tower::Service<HttpRequest<B>> for Guard<S>
where
    S: tower::Service<HttpRequest<B>, Response = HttpResponse, Error = BoxError>,
    S::Future: Send + 'static,
{
    type Response = HttpResponse;
    type Error = BoxError;
    type Future = BoxFuture<Result<HttpResponse, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: HttpRequest<B>) -> Self::Future {
        let origin = match self.policy.check(&req) {
            Ok(o) => o,
            Err(r) => {
                tracing::debug!(refusal = ?r, "RPC: request refused");
                let rp = refused(&r);
                return Box::pin(async move { Ok(rp) });
            }
        };
        if req.method() == "OPTIONS" {
            // A CORS preflight from an allowed origin (others were refused above).
            let mut rp = text_response(204, String::new());
            if let Some(o) = &origin {
                add_cors(&mut rp, o);
                let h = rp.headers_mut();
                h.insert(
                    "access-control-allow-methods",
                    HeaderValue::from_static("POST, OPTIONS"),
                );
                h.insert(
                    "access-control-allow-headers",
                    HeaderValue::from_static("content-type, authorization"),
                );
                h.insert("access-control-max-age", HeaderValue::from_static("600"));
            }
            return Box::pin(async move { Ok(rp) });
        }
        let transport = if is_upgrade(&req) {
            Transport::WebSocket
        } else {
            Transport::Http
        };
        let auth = self.policy.admin_auth(&req);
        let ext = req.extensions_mut();
        ext.insert(transport);
        ext.insert(auth);
        ext.insert(self.activity.clone());
        self.activity.touch();
        let fut = self.inner.call(req);
        Box::pin(async move {
            let mut rp = fut.await?;
            if let Some(o) = origin {
                add_cors(&mut rp, &o);
            }
            Ok(rp)
        })
    }
}

/// What the idle timeout of one connection looks at.
#[derive(Debug)]
pub(crate) struct Activity {
    start: Instant,
    /// Milliseconds after `start` of the client's last request.
    last_read_ms: AtomicU64,
    /// Live subscriptions on the connection.
    subscriptions: AtomicUsize,
    expired: AtomicBool,
    wakers: Mutex<Vec<Waker>>,
}

impl Activity {
    pub(crate) fn new() -> Arc<Activity> {
        Arc::new(Activity {
            start: Instant::now(),
            last_read_ms: AtomicU64::new(0),
            subscriptions: AtomicUsize::new(0),
            expired: AtomicBool::new(false),
            wakers: Mutex::new(Vec::new()),
        })
    }

    /// The client made a request: the idle clock restarts.
    pub(crate) fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_read_ms.fetch_max(ms, Ordering::Relaxed);
    }

    fn last_read(&self) -> Instant {
        self.start + Duration::from_millis(self.last_read_ms.load(Ordering::Relaxed))
    }

    fn expire(&self) {
        self.expired.store(true, Ordering::SeqCst);
        for w in self.wakers.lock().drain(..) {
            w.wake();
        }
    }

    fn is_expired(&self) -> bool {
        self.expired.load(Ordering::SeqCst)
    }

    /// Remembers the task blocked on the socket, to wake it on expiry. Re-checks afterwards,
    /// so an expiry between the caller's check and the registration is not missed.
    fn park(&self, cx: &Context<'_>) {
        {
            let mut w = self.wakers.lock();
            if !w.iter().any(|x| x.will_wake(cx.waker())) {
                // The reader and the writer, and earlier owners of the socket (the HTTP
                // connection task before a WebSocket upgrade): a few at most.
                if w.len() >= 8 {
                    w.remove(0);
                }
                w.push(cx.waker().clone());
            }
        }
        if self.is_expired() {
            cx.waker().wake_by_ref();
        }
    }

    /// Counts a live subscription until the guard is dropped.
    pub(crate) fn subscription(self: &Arc<Self>) -> SubscriptionGuard {
        self.subscriptions.fetch_add(1, Ordering::SeqCst);
        SubscriptionGuard(self.clone())
    }
}

/// A live subscription: its connection is not idle while this exists.
#[derive(Debug)]
pub(crate) struct SubscriptionGuard(Arc<Activity>);

impl Drop for SubscriptionGuard {
    fn drop(&mut self) {
        self.0.subscriptions.fetch_sub(1, Ordering::SeqCst);
        // The idle clock restarts when the last subscription ends.
        self.0.touch();
    }
}

/// Holds the connection's subscription count up for as long as the returned guard lives
/// (`None` for a call that did not come through [`Guard`], e.g. in unit tests).
pub(crate) fn hold_subscription(ext: &jsonrpsee::Extensions) -> Option<SubscriptionGuard> {
    ext.get::<Arc<Activity>>().map(|a| a.subscription())
}

/// Closes the connection of `activity` once it has been idle for `timeout`: no request from
/// the client and no live subscription. Ends when the connection is gone.
pub(crate) async fn idle_watchdog(activity: Weak<Activity>, timeout: Duration) {
    loop {
        let Some(a) = activity.upgrade() else {
            return;
        };
        let deadline = a.last_read() + timeout;
        let now = Instant::now();
        let busy = a.subscriptions.load(Ordering::SeqCst) > 0;
        if !busy && now >= deadline {
            tracing::debug!(?timeout, "RPC: closing an idle connection");
            a.expire();
            return;
        }
        drop(a);
        let next = if busy { now + timeout } else { deadline };
        tokio::time::sleep_until(next).await;
    }
}

/// A socket that fails every read and write once its connection has expired (waking a task
/// blocked on either), so that hyper and the WebSocket task both let go of it.
#[derive(Debug)]
pub(crate) struct IdleIo<T> {
    inner: T,
    activity: Arc<Activity>,
}

impl<T> IdleIo<T> {
    pub(crate) fn new(inner: T, activity: Arc<Activity>) -> IdleIo<T> {
        IdleIo { inner, activity }
    }
}

fn idle_error() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "RPC connection idle for too long")
}

impl<T: AsyncRead + Unpin> AsyncRead for IdleIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.activity.is_expired() {
            return Poll::Ready(Err(idle_error()));
        }
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if r.is_pending() {
            self.activity.park(cx);
        }
        r
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for IdleIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.activity.is_expired() {
            return Poll::Ready(Err(idle_error()));
        }
        let r = Pin::new(&mut self.inner).poll_write(cx, data);
        if r.is_pending() {
            self.activity.park(cx);
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.activity.is_expired() {
            return Poll::Ready(Err(idle_error()));
        }
        let r = Pin::new(&mut self.inner).poll_flush(cx);
        if r.is_pending() {
            self.activity.park(cx);
        }
        r
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(hosts: &[&str], cors: &[&str]) -> HttpPolicy {
        HttpPolicy::new(&RpcConfig {
            allowed_hosts: hosts.iter().map(|s| s.to_string()).collect(),
            cors: cors.iter().map(|s| s.to_string()).collect(),
            ..RpcConfig::default()
        })
    }

    #[test]
    fn hosts() {
        let p = policy(&[], &[]);
        for ok in [
            "localhost",
            "localhost:23110",
            "127.0.0.1",
            "127.0.0.1:1",
            "[::1]",
            "[::1]:23110",
            "LOCALHOST:5",
        ] {
            assert!(p.host_allowed(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:23110",
            "10.0.0.1:23110",
            "localhost.evil.example",
            "[::2]:1",
        ] {
            assert!(!p.host_allowed(bad), "{bad}");
        }
        let p = policy(
            &["node.example", "*.farm.example", "pinned.example:8080"],
            &[],
        );
        assert!(p.host_allowed("node.example:23110"));
        assert!(p.host_allowed("a.farm.example"));
        assert!(!p.host_allowed("farm.example"));
        assert!(p.host_allowed("pinned.example:8080"));
        assert!(!p.host_allowed("pinned.example:8081"));
        assert!(policy(&["*"], &[]).host_allowed("anything.example"));
    }

    #[test]
    fn origins() {
        let p = policy(&[], &[]);
        for ok in [
            "http://localhost:3000",
            "http://127.0.0.1",
            "https://[::1]:8443",
            "http://localhost/",
        ] {
            assert!(p.origin_allowed(ok), "{ok}");
        }
        for bad in [
            "https://evil.example",
            "null",
            "file://",
            "http://localhost.evil.example",
            "http://localhost:3000/path",
        ] {
            assert!(!p.origin_allowed(bad), "{bad}");
        }
        let p = policy(&[], &["https://Wallet.example/"]);
        assert!(p.origin_allowed("https://wallet.example"));
        assert!(!p.origin_allowed("http://wallet.example"));
        assert!(policy(&[], &["*"]).origin_allowed("https://evil.example"));
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(b"0123456789abcdef", b"0123456789abcdef"));
        assert!(!same_secret(b"0123456789abcdef", b"0123456789abcdeX"));
        assert!(!same_secret(b"0123456789abcdef", b"0123456789abcde"));
    }
}
