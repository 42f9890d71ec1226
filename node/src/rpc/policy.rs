//! What every call passes before its method runs, at the JSON-RPC level (single calls and
//! each call of a batch alike):
//!
//! - a subscription method (`*_subscribe*`, `*_unsubscribe*`) over plain HTTP is answered
//!   with [`WEBSOCKET_REQUIRED`](tfchain_api::error::WEBSOCKET_REQUIRED), not jsonrpsee's
//!   generic internal error;
//! - with an admin token configured, an `admin_*` method without it is answered with
//!   [`ADMIN_UNAUTHORIZED`](tfchain_api::error::ADMIN_UNAUTHORIZED).
//!
//! Every call also restarts its connection's idle clock ([`Activity::touch`]).
//!
//! The facts it decides on are put into the request's extensions by [`super::guard`].

use super::guard::{Activity, AdminAuth, Transport};
use jsonrpsee::core::middleware::{Batch, BatchEntry, BatchEntryErr, Notification, RpcServiceT};
use jsonrpsee::core::server::MethodCallback;
use jsonrpsee::server::MethodResponse;
use jsonrpsee::types::{ErrorObjectOwned, Request};
use jsonrpsee::{Extensions, Methods};
use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use tfchain_api::error;

/// The rules, built once from the method table and the configuration.
#[derive(Debug)]
pub(crate) struct CallPolicy {
    subscription_methods: HashSet<&'static str>,
    admin_token_required: bool,
}

impl CallPolicy {
    pub(crate) fn new(methods: &Methods, admin_token_required: bool) -> CallPolicy {
        let subscription_methods = methods
            .method_names()
            .filter(|name| {
                matches!(
                    methods.method(name),
                    Some(MethodCallback::Subscription(_) | MethodCallback::Unsubscription(_))
                )
            })
            .collect();
        CallPolicy {
            subscription_methods,
            admin_token_required,
        }
    }

    /// The error a call gets instead of running, if any. Marks the connection active.
    fn refuse(&self, method: &str, ext: &Extensions) -> Option<ErrorObjectOwned> {
        if let Some(a) = ext.get::<Arc<Activity>>() {
            a.touch();
        }
        if self.subscription_methods.contains(method)
            && ext.get::<Transport>() != Some(&Transport::WebSocket)
        {
            return Some(error::websocket_required(method));
        }
        if self.admin_token_required
            && method.starts_with("admin_")
            && ext.get::<AdminAuth>() != Some(&AdminAuth(true))
        {
            return Some(error::admin_unauthorized());
        }
        None
    }
}

/// The middleware (`tower::Layer` for jsonrpsee's `RpcServiceBuilder`).
#[derive(Clone, Debug)]
pub(crate) struct PolicyLayer(pub(crate) Arc<CallPolicy>);

impl<S> tower::Layer<S> for PolicyLayer {
    type Service = Policy<S>;

    fn layer(&self, inner: S) -> Policy<S> {
        Policy {
            inner,
            policy: self.0.clone(),
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Policy<S> {
    inner: S,
    policy: Arc<CallPolicy>,
}

impl<S> RpcServiceT for Policy<S>
where
    S: RpcServiceT<
            MethodResponse = MethodResponse,
            BatchResponse = MethodResponse,
            NotificationResponse = MethodResponse,
        > + Send
        + Sync
        + Clone
        + 'static,
{
    type MethodResponse = MethodResponse;
    type NotificationResponse = MethodResponse;
    type BatchResponse = MethodResponse;

    fn call<'a>(&self, req: Request<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        let refusal = self.policy.refuse(req.method_name(), req.extensions());
        let inner = self.inner.clone();
        async move {
            match refusal {
                Some(e) => MethodResponse::error(req.id, e),
                None => inner.call(req).await,
            }
        }
    }

    fn batch<'a>(&self, mut batch: Batch<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        for entry in batch.iter_mut() {
            let refusal = match entry {
                Ok(BatchEntry::Call(req)) => self
                    .policy
                    .refuse(req.method_name(), req.extensions())
                    .map(|e| (req.id.clone(), e)),
                _ => None,
            };
            if let Some((id, e)) = refusal {
                *entry = Err(BatchEntryErr::new(id, e));
            }
        }
        let inner = self.inner.clone();
        async move { inner.batch(batch).await }
    }

    fn notification<'a>(
        &self,
        n: Notification<'a>,
    ) -> impl Future<Output = MethodResponse> + Send + 'a {
        if let Some(a) = n.extensions().get::<Arc<Activity>>() {
            a.touch();
        }
        let inner = self.inner.clone();
        async move { inner.notification(n).await }
    }
}
