//! How hooks are reached: the transport port.

use crate::error::OutboundError;
use crate::model::Hook;
use std::future::Future;
use std::pin::Pin;

/// A boxed future, so the transport can be a trait object.
pub type LocalBoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Delivers a hook request. In the Worker: `fetch` or a service binding, with the timeout and
/// the answer-size limit enforced (`edge::hooks`).
pub trait HookTransport {
    /// POSTs `body` with the signature header and returns the 2xx answer's bytes, or why not.
    fn deliver<'a>(
        &'a self,
        hook: &'a Hook,
        body: String,
        signature: String,
    ) -> LocalBoxFuture<'a, Result<Vec<u8>, OutboundError>>;
}

/// A transport for deployments and tests with no hooks: every delivery fails.
pub struct NoHooks;

impl HookTransport for NoHooks {
    fn deliver<'a>(
        &'a self,
        _hook: &'a Hook,
        _body: String,
        _signature: String,
    ) -> LocalBoxFuture<'a, Result<Vec<u8>, OutboundError>> {
        Box::pin(async { Err(OutboundError::NoTransport) })
    }
}
