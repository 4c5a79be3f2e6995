//! Hook delivery from the Worker: `fetch` to an https URL, or a service binding to another
//! Worker, with the hook's timeout and the 64 KiB answer limit.

use crate::error::HookError;
use crate::model::{Hook, HookEndpoint};
use crate::oauth::claims::hooks::MAX_ANSWER_BYTES;
use crate::port::hooks::{HookTransport, LocalBoxFuture};
use futures_util::future::{select, Either};
use std::time::Duration;
use worker::{Delay, Env, Fetch, Headers, Method, Request, RequestInit};

/// Delivers hooks with the Worker's bindings.
pub struct EdgeHooks<'a> {
    pub env: &'a Env,
}

const SIGNATURE_HEADER: &str = "x-edge-issuer-signature";

impl HookTransport for EdgeHooks<'_> {
    fn deliver<'a>(
        &'a self,
        hook: &'a Hook,
        body: String,
        signature: String,
    ) -> LocalBoxFuture<'a, Result<Vec<u8>, HookError>> {
        Box::pin(async move {
            let call = Box::pin(self.call(hook, body, signature));
            let timeout = Box::pin(Delay::from(Duration::from_millis(hook.timeout_ms)));
            match select(call, timeout).await {
                Either::Left((result, _)) => result,
                Either::Right(_) => Err(HookError::Timeout(hook.timeout_ms)),
            }
        })
    }
}

impl EdgeHooks<'_> {
    async fn call(
        &self,
        hook: &Hook,
        body: String,
        signature: String,
    ) -> Result<Vec<u8>, HookError> {
        let e = |what: &str| {
            let what = what.to_string();
            move |err: worker::Error| HookError::Unreachable(format!("{what}: {err}"))
        };
        let headers = Headers::new();
        headers
            .set("content-type", "application/json")
            .map_err(e("headers"))?;
        headers
            .set(SIGNATURE_HEADER, &signature)
            .map_err(e("headers"))?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_headers(headers)
            .with_body(Some(body.into()));
        let mut response = match &hook.endpoint {
            HookEndpoint::Url(url) => {
                let req = Request::new_with_init(url, &init).map_err(e("request"))?;
                Fetch::Request(req).send().await.map_err(e("fetch"))?
            }
            HookEndpoint::Service(name) => {
                let fetcher = self.env.service(name).map_err(e("service binding"))?;
                let req = Request::new_with_init("https://hook.internal/", &init)
                    .map_err(e("request"))?;
                fetcher.fetch_request(req).await.map_err(e("service"))?
            }
        };
        let status = response.status_code();
        if !(200..300).contains(&status) {
            return Err(HookError::Status(status));
        }
        let declared = response
            .headers()
            .get("content-length")
            .ok()
            .flatten()
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > MAX_ANSWER_BYTES) {
            return Err(HookError::TooLarge(MAX_ANSWER_BYTES));
        }
        response.bytes().await.map_err(e("body"))
    }
}
