//! Outbound HTTP from the Worker ([`crate::port::outbound::Http`]): the runtime's own
//! `Request` and `fetch` (the `worker` crate's request builder would convert its whole
//! `RequestInit` each time), the outbound rule checked first, redirects never followed, the
//! call's timeout and answer-size limit.

use super::js_message;
use crate::error::OutboundError;
use crate::port::hooks::LocalBoxFuture;
use crate::port::outbound::{refusal, Answer, Call, Http};
use futures_util::future::{select, Either};
use std::future::Future;
use std::time::Duration;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use worker::Delay;

/// `fetch` to the URLs [`refusal`] allows.
pub struct EdgeHttp {
    /// The issuer is on plain http: loopback URLs may be called
    /// ([`crate::model::Config::is_local`]).
    pub local: bool,
}

impl Http for EdgeHttp {
    fn call<'a>(&'a self, call: Call<'a>) -> LocalBoxFuture<'a, Result<Answer, OutboundError>> {
        Box::pin(async move {
            // Saved URLs were checked; a row written before the rule, or by hand, is checked
            // here too.
            if let Some(why) = refusal(call.url, self.local) {
                return Err(OutboundError::Unreachable(format!("refused URL: {why}")));
            }
            let request = request(&call)?;
            let promise = js_sys::global()
                .unchecked_into::<web_sys::WorkerGlobalScope>()
                .fetch_with_request(&request);
            within(call.timeout_ms, answer(promise, call.max_bytes)).await
        })
    }
}

fn failed(what: &'static str) -> impl Fn(JsValue) -> OutboundError {
    move |err: JsValue| OutboundError::Unreachable(format!("{what}: {}", js_message(&err)))
}

/// The runtime's `Request` for `call`. A redirect is answered as the 3xx it is,
/// never followed to another host.
pub(super) fn request(call: &Call<'_>) -> Result<web_sys::Request, OutboundError> {
    let headers = web_sys::Headers::new().map_err(failed("headers"))?;
    for (name, value) in &call.headers {
        headers.set(name, value).map_err(failed("headers"))?;
    }
    let init = web_sys::RequestInit::new();
    init.set_method(call.method);
    init.set_headers(&headers);
    if let Some(body) = &call.body {
        init.set_body(&JsValue::from_str(body));
    }
    init.set_redirect(web_sys::RequestRedirect::Manual);
    web_sys::Request::new_with_str_and_init(call.url, &init).map_err(failed("request"))
}

/// `work`, or [`OutboundError::Timeout`] after `timeout_ms`.
pub(super) async fn within<T>(
    timeout_ms: u64,
    work: impl Future<Output = Result<T, OutboundError>>,
) -> Result<T, OutboundError> {
    let timeout = Box::pin(Delay::from(Duration::from_millis(timeout_ms)));
    match select(Box::pin(work), timeout).await {
        Either::Left((result, _)) => result,
        Either::Right(_) => Err(OutboundError::Timeout(timeout_ms)),
    }
}

/// The answer `promise` gives, its body read up to `max_bytes`.
pub(super) async fn answer(
    promise: js_sys::Promise,
    max_bytes: usize,
) -> Result<Answer, OutboundError> {
    let response: web_sys::Response = JsFuture::from(promise)
        .await
        .map_err(failed("fetch"))?
        .unchecked_into();
    let declared = response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max_bytes) {
        return Err(OutboundError::TooLarge(max_bytes));
    }
    let buffer = JsFuture::from(response.array_buffer().map_err(failed("body"))?)
        .await
        .map_err(failed("body"))?;
    let body = js_sys::Uint8Array::new(&buffer).to_vec();
    if body.len() > max_bytes {
        return Err(OutboundError::TooLarge(max_bytes));
    }
    Ok(Answer {
        status: response.status(),
        body,
    })
}

/// The email postbox ([`crate::port::mail::Postbox`]): each message is posted to its
/// provider after the response (`waitUntil`), once more if the first try fails; then its
/// failure event joins the isolate's log buffer, stored with the next events. No answer waits
/// for a mail server.
pub struct EdgePostbox<'a> {
    pub ctx: &'a worker::Context,
    pub local: bool,
}

/// The longest a provider may take to take a message.
const MAIL_TIMEOUT_MS: u64 = 5_000;

impl crate::port::mail::Postbox for EdgePostbox<'_> {
    fn post(&self, delivery: crate::port::mail::Delivery) {
        let local = self.local;
        self.ctx.wait_until(async move {
            let http = EdgeHttp { local };
            let mut why = String::new();
            for _ in 0..2 {
                let mut headers = delivery.headers.clone();
                headers.push(("content-type", "application/json".into()));
                headers.push(("user-agent", "edge-issuer".into()));
                let call = Call {
                    method: "POST",
                    url: &delivery.url,
                    headers,
                    body: Some(delivery.body.clone()),
                    timeout_ms: MAIL_TIMEOUT_MS,
                    max_bytes: 64 * 1024,
                };
                match http.call(call).await {
                    Ok(answer) if answer.ok() => return,
                    Ok(answer) => why = format!("status {}", answer.status),
                    Err(e) => why = e.to_string(),
                }
            }
            worker::console_error!("email: not delivered ({why})");
            if let Some(mut event) = delivery.failure {
                event.details["error"] = why.into();
                // Stored with the isolate's next batch of log events.
                super::buffer_event(event);
            }
        });
    }
}
