//! Hook delivery from the Worker: `fetch` to an https URL (the outbound rule of
//! [`crate::port::outbound`] checked first, redirects never followed), or a service binding to
//! another Worker, with the hook's timeout and the 64 KiB answer limit.

use super::js_message;
use crate::error::HookError;
use crate::model::{Hook, HookEndpoint};
use crate::oauth::claims::hooks::MAX_ANSWER_BYTES;
use crate::port::hooks::{HookTransport, LocalBoxFuture};
use crate::port::outbound::refusal;
use futures_util::future::{select, Either};
use std::time::Duration;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use worker::{Delay, Env};

/// Delivers hooks with the Worker's bindings.
pub struct EdgeHooks<'a> {
    pub env: &'a Env,
    /// The issuer is on plain http: loopback hook URLs may be called
    /// ([`crate::model::Config::is_local`]).
    pub local: bool,
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
    /// One POST of the hook's body, through the runtime's own `Request` and `fetch` (the
    /// `worker` crate's request builder would convert its whole `RequestInit` each time).
    async fn call(
        &self,
        hook: &Hook,
        body: String,
        signature: String,
    ) -> Result<Vec<u8>, HookError> {
        let e = |what: &'static str| {
            move |err: JsValue| HookError::Unreachable(format!("{what}: {}", js_message(&err)))
        };
        let headers = web_sys::Headers::new().map_err(e("headers"))?;
        headers
            .set("content-type", "application/json")
            .map_err(e("headers"))?;
        headers
            .set(SIGNATURE_HEADER, &signature)
            .map_err(e("headers"))?;
        let init = web_sys::RequestInit::new();
        init.set_method("POST");
        init.set_headers(&headers);
        init.set_body(&JsValue::from_str(&body));
        // A redirect is answered as the 3xx it is (not 2xx: a failure), never followed to
        // another host.
        init.set_redirect(web_sys::RequestRedirect::Manual);
        let promise = match &hook.endpoint {
            HookEndpoint::Url(url) => {
                // Saved URLs were checked; a row written before the rule, or by hand, is
                // checked here too.
                if let Some(why) = refusal(url, self.local) {
                    return Err(HookError::Unreachable(format!("refused URL: {why}")));
                }
                let req =
                    web_sys::Request::new_with_str_and_init(url, &init).map_err(e("request"))?;
                js_sys::global()
                    .unchecked_into::<web_sys::WorkerGlobalScope>()
                    .fetch_with_request(&req)
            }
            HookEndpoint::Service(name) => {
                let fetcher: worker::worker_sys::Fetcher = self
                    .env
                    .service(name)
                    .map_err(|err| HookError::Unreachable(format!("service binding: {err}")))?
                    .into_rpc();
                let req = web_sys::Request::new_with_str_and_init("https://hook.internal/", &init)
                    .map_err(e("request"))?;
                fetcher.fetch(&req).map_err(e("service"))?
            }
        };
        let response: web_sys::Response = JsFuture::from(promise)
            .await
            .map_err(e("fetch"))?
            .unchecked_into();
        let status = response.status();
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
        let buffer = JsFuture::from(response.array_buffer().map_err(e("body"))?)
            .await
            .map_err(e("body"))?;
        Ok(js_sys::Uint8Array::new(&buffer).to_vec())
    }
}
