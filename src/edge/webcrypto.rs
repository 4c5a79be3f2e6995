//! ES256 signing with WebCrypto (`crypto.subtle`), the private key imported once per isolate.

use crate::error::OAuthError;
use crate::http::{HttpRequest, HttpResponse};
use crate::issuer::Issuer;
use crate::store::{ClientStore, KeyStore};
use crate::token::{Signer, SigningKey};
use js_sys::{Array, Object, Reflect, Uint8Array};
use std::cell::RefCell;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, SubtleCrypto, WorkerGlobalScope};

thread_local! {
    /// The imported private key and its kid; re-imported only when the kid changes.
    static IMPORTED: RefCell<Option<(String, CryptoKey)>> = const { RefCell::new(None) };
}

/// Signs with `crypto.subtle.sign({name: "ECDSA", hash: "SHA-256"}, ...)`, whose output is
/// already the JWS `r || s` form.
pub struct WebCryptoSigner;

fn js_err(what: &str) -> impl Fn(JsValue) -> OAuthError + '_ {
    move |e| OAuthError::server(format!("webcrypto {what}: {e:?}"))
}

fn subtle() -> Result<SubtleCrypto, OAuthError> {
    let global: WorkerGlobalScope = js_sys::global().unchecked_into();
    Ok(global.crypto().map_err(js_err("crypto"))?.subtle())
}

fn algorithm(pairs: &[(&str, &str)]) -> Result<Object, OAuthError> {
    let obj = Object::new();
    for (k, v) in pairs {
        Reflect::set(&obj, &JsValue::from_str(k), &JsValue::from_str(v))
            .map_err(js_err("param"))?;
    }
    Ok(obj)
}

async fn import(subtle: &SubtleCrypto, key: &SigningKey) -> Result<CryptoKey, OAuthError> {
    let der = Uint8Array::from(key.pkcs8.expose().as_slice());
    let alg = algorithm(&[("name", "ECDSA"), ("namedCurve", "P-256")])?;
    let usages = Array::of1(&JsValue::from_str("sign"));
    let promise = subtle
        .import_key_with_object("pkcs8", &der, &alg, false, &usages)
        .map_err(js_err("importKey"))?;
    let imported = JsFuture::from(promise).await.map_err(js_err("importKey"))?;
    Ok(imported.unchecked_into())
}

impl Signer for WebCryptoSigner {
    async fn sign_es256(&self, key: &SigningKey, input: &[u8]) -> Result<Vec<u8>, OAuthError> {
        let subtle = subtle()?;
        let cached = IMPORTED.with(|c| {
            c.borrow()
                .as_ref()
                .filter(|(kid, _)| *kid == key.kid)
                .map(|(_, k)| k.clone())
        });
        let crypto_key = match cached {
            Some(k) => k,
            None => {
                let k = import(&subtle, key).await?;
                IMPORTED.with(|c| *c.borrow_mut() = Some((key.kid.clone(), k.clone())));
                k
            }
        };
        let alg = algorithm(&[("name", "ECDSA"), ("hash", "SHA-256")])?;
        let promise = subtle
            .sign_with_object_and_u8_array(&alg, &crypto_key, input)
            .map_err(js_err("sign"))?;
        let sig = JsFuture::from(promise).await.map_err(js_err("sign"))?;
        Ok(Uint8Array::new(&sig).to_vec())
    }
}

/// A measurement route, served only when the `BENCH` var is `1` (never in wrangler.toml):
/// signs a fixed input `n` times so the benchmark can read the CPU cost of one signature from
/// the runtime's CPU time.
pub const BENCH_PATH: &str = "/__bench/sign";

/// `GET /__bench/sign?n=N` (N ≤ 10,000).
pub async fn bench_sign<S: ClientStore + KeyStore>(
    issuer: &Issuer<'_, S, WebCryptoSigner>,
    req: &HttpRequest,
) -> HttpResponse {
    let n: u32 = form_urlencoded::parse(req.query.as_bytes())
        .find(|(k, _)| k == "n")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(1)
        .min(10_000);
    let key = match issuer.signing_key().await {
        Ok(k) => k,
        Err(e) => return HttpResponse::error(&e),
    };
    for _ in 0..n {
        if let Err(e) = issuer.signer.sign_es256(&key, b"bench.input").await {
            return HttpResponse::error(&e);
        }
    }
    HttpResponse::json(200, &serde_json::json!({ "signed": n }))
}
