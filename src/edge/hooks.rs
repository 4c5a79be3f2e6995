//! Hook delivery from the Worker: a POST through the one outbound port ([`EdgeHttp`]: the
//! outbound rule, no redirects, the timeout and the 64 KiB answer limit), or through a service
//! binding to another Worker, with the same limits.

use super::http::{answer, request, within, EdgeHttp};
use crate::error::OutboundError;
use crate::model::{Hook, HookEndpoint};
use crate::oauth::claims::hooks::MAX_ANSWER_BYTES;
use crate::port::hooks::{HookTransport, LocalBoxFuture};
use crate::port::outbound::{Answer, Call, Http};
use worker::Env;

/// Delivers hooks with the Worker's bindings.
pub struct EdgeHooks<'a> {
    pub env: &'a Env,
    pub http: &'a EdgeHttp,
}

const SIGNATURE_HEADER: &str = "x-edge-issuer-signature";

impl HookTransport for EdgeHooks<'_> {
    fn deliver<'a>(
        &'a self,
        hook: &'a Hook,
        body: String,
        signature: String,
    ) -> LocalBoxFuture<'a, Result<Vec<u8>, OutboundError>> {
        Box::pin(async move {
            let url = match &hook.endpoint {
                HookEndpoint::Url(url) => url.as_str(),
                HookEndpoint::Service(_) => "https://hook.internal/",
            };
            let call = Call {
                method: "POST",
                url,
                headers: vec![
                    ("content-type", "application/json".into()),
                    (SIGNATURE_HEADER, signature),
                ],
                body: Some(body),
                timeout_ms: hook.timeout_ms,
                max_bytes: MAX_ANSWER_BYTES,
            };
            let answered = match &hook.endpoint {
                HookEndpoint::Url(_) => self.http.call(call).await,
                HookEndpoint::Service(name) => self.service(name, call).await,
            };
            match answered? {
                // A redirect is a failure too: it is never followed.
                Answer { status, .. } if !(200..300).contains(&status) => {
                    Err(OutboundError::Status(status))
                }
                Answer { body, .. } => Ok(body),
            }
        })
    }
}

impl EdgeHooks<'_> {
    /// `call` through the service binding `name`.
    async fn service(&self, name: &str, call: Call<'_>) -> Result<Answer, OutboundError> {
        let fetcher: worker::worker_sys::Fetcher = self
            .env
            .service(name)
            .map_err(|err| OutboundError::Unreachable(format!("service binding: {err}")))?
            .into_rpc();
        let req = request(&call)?;
        let promise = fetcher.fetch(&req).map_err(|err| {
            OutboundError::Unreachable(format!("service: {}", super::js_message(&err)))
        })?;
        within(call.timeout_ms, answer(promise, call.max_bytes)).await
    }
}
