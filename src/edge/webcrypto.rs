//! The crypto port on WebCrypto (`crypto.subtle`): ES256/RS256 signing with keys imported once
//! per isolate, ES256 verification, RSA key generation and PBKDF2.

use crate::error::CryptoError;
use crate::model::secret::Secret;
use crate::oauth::issuer::Issuer;
use crate::port::crypto::{Alg, Crypto, GeneratedKey, PublicKey, SigningKey};
use crate::port::settled::Settle;
use crate::port::Stores;
use crate::web::{HttpRequest, HttpResponse};
use js_sys::{Array, ArrayBuffer, Object, Reflect, Uint8Array};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, SubtleCrypto, WorkerGlobalScope};

thread_local! {
    /// Imported keys by `kid` (private keys for signing, public for verifying).
    static IMPORTED: RefCell<HashMap<(String, &'static str), CryptoKey>> = RefCell::new(HashMap::new());
}

/// WebCrypto.
pub struct WebCrypto;

fn js_err(what: &'static str) -> impl Fn(JsValue) -> CryptoError {
    // Written out by hand: the Worker is built with `-Zfmt-debug=none` (scripts/build.sh).
    move |e| {
        let detail = match e.dyn_ref::<js_sys::Error>() {
            Some(error) => String::from(error.message()),
            None => e.as_string().unwrap_or_default(),
        };
        CryptoError::new(what, detail)
    }
}

fn subtle() -> Result<SubtleCrypto, CryptoError> {
    let global: WorkerGlobalScope = js_sys::global().unchecked_into();
    Ok(global.crypto().map_err(js_err("crypto"))?.subtle())
}

/// A WebCrypto algorithm object from name/value pairs.
fn object(pairs: &[(&str, JsValue)]) -> Result<Object, CryptoError> {
    let obj = Object::new();
    for (k, v) in pairs {
        Reflect::set(&obj, &JsValue::from_str(k), v).map_err(js_err("param"))?;
    }
    Ok(obj)
}

fn s(v: &str) -> JsValue {
    JsValue::from_str(v)
}

fn import_params(alg: Alg) -> Result<Object, CryptoError> {
    match alg {
        Alg::ES256 => object(&[("name", s("ECDSA")), ("namedCurve", s("P-256"))]),
        Alg::RS256 => object(&[("name", s("RSASSA-PKCS1-v1_5")), ("hash", s("SHA-256"))]),
    }
}

fn sign_params(alg: Alg) -> Result<Object, CryptoError> {
    match alg {
        Alg::ES256 => object(&[("name", s("ECDSA")), ("hash", s("SHA-256"))]),
        Alg::RS256 => object(&[("name", s("RSASSA-PKCS1-v1_5"))]),
    }
}

async fn wait(
    promise: Result<js_sys::Promise, JsValue>,
    what: &'static str,
) -> Result<JsValue, CryptoError> {
    JsFuture::from(promise.map_err(js_err(what))?)
        .await
        .map_err(js_err(what))
}

/// The cached key for `(kid, use)`, or the one `import` produces, cached.
async fn cached_key<F>(kid: &str, usage: &'static str, import: F) -> Result<CryptoKey, CryptoError>
where
    F: std::future::Future<Output = Result<CryptoKey, CryptoError>>,
{
    let id = (kid.to_string(), usage);
    if let Some(k) = IMPORTED.with(|m| m.borrow().get(&id).cloned()) {
        return Ok(k);
    }
    let key = import.await?;
    IMPORTED.with(|m| m.borrow_mut().insert(id, key.clone()));
    Ok(key)
}

impl Crypto for WebCrypto {
    async fn sign(&self, key: &SigningKey, input: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let subtle = subtle()?;
        let crypto_key = cached_key(&key.kid, "sign", async {
            let der = Uint8Array::from(key.pkcs8.expose().as_slice());
            let usages = Array::of1(&s("sign"));
            let p = subtle.import_key_with_object(
                "pkcs8",
                &der,
                &import_params(key.alg)?,
                false,
                &usages,
            );
            Ok(wait(p, "importKey").settle().await?.unchecked_into())
        })
        .await?;
        let p = subtle.sign_with_object_and_u8_array(&sign_params(key.alg)?, &crypto_key, input);
        Ok(Uint8Array::new(&wait(p, "sign").settle().await?).to_vec())
    }

    async fn verify(
        &self,
        alg: Alg,
        kid: &str,
        public_jwk: &str,
        input: &[u8],
        signature: &[u8],
    ) -> Result<bool, CryptoError> {
        let subtle = subtle()?;
        let crypto_key = cached_key(kid, "verify", async {
            let jwk: Object = js_sys::JSON::parse(public_jwk)
                .map_err(js_err("jwk"))?
                .unchecked_into();
            let usages = Array::of1(&s("verify"));
            let p =
                subtle.import_key_with_object("jwk", &jwk, &import_params(alg)?, false, &usages);
            Ok(wait(p, "importKey").settle().await?.unchecked_into())
        })
        .await?;
        let p = subtle.verify_with_object_and_u8_array_and_u8_array(
            &sign_params(alg)?,
            &crypto_key,
            signature,
            input,
        );
        Ok(wait(p, "verify").settle().await?.as_bool().unwrap_or(false))
    }

    async fn generate_key(&self, alg: Alg) -> Result<GeneratedKey, CryptoError> {
        let subtle = subtle()?;
        let params = match alg {
            Alg::ES256 => object(&[("name", s("ECDSA")), ("namedCurve", s("P-256"))])?,
            Alg::RS256 => object(&[
                ("name", s("RSASSA-PKCS1-v1_5")),
                ("modulusLength", JsValue::from_f64(2048.0)),
                ("publicExponent", Uint8Array::from(&[1u8, 0, 1][..]).into()),
                ("hash", s("SHA-256")),
            ])?,
        };
        let usages = Array::of2(&s("sign"), &s("verify"));
        let pair = wait(
            subtle.generate_key_with_object(&params, true, &usages),
            "generateKey",
        )
        .await?;
        let get = |name: &str| -> Result<CryptoKey, CryptoError> {
            Ok(Reflect::get(&pair, &s(name))
                .map_err(js_err("keypair"))?
                .unchecked_into())
        };
        let pkcs8 = wait(subtle.export_key("pkcs8", &get("privateKey")?), "exportKey")
            .settle()
            .await?;
        let jwk = wait(subtle.export_key("jwk", &get("publicKey")?), "exportKey")
            .settle()
            .await?;
        let member = |name: &str| -> Result<String, CryptoError> {
            Reflect::get(&jwk, &s(name))
                .ok()
                .and_then(|v| v.as_string())
                .ok_or_else(|| CryptoError::new("exportKey", format!("exported JWK has no {name}")))
        };
        let public = match alg {
            Alg::ES256 => PublicKey::Ec {
                x: member("x")?,
                y: member("y")?,
            },
            Alg::RS256 => PublicKey::Rsa {
                n: member("n")?,
                e: member("e")?,
            },
        };
        Ok(GeneratedKey {
            pkcs8: Secret::new(Uint8Array::new(&pkcs8.unchecked_into::<ArrayBuffer>()).to_vec()),
            public,
        })
    }

    async fn pbkdf2_sha256(
        &self,
        password: &[u8],
        salt: &[u8],
        iterations: u32,
    ) -> Result<[u8; 32], CryptoError> {
        PBKDF2_RUNS.fetch_add(1, Ordering::Relaxed);
        let subtle = subtle()?;
        let raw = Uint8Array::from(password);
        let usages = Array::of1(&s("deriveBits"));
        let p = subtle.import_key_with_object(
            "raw",
            &raw,
            &object(&[("name", s("PBKDF2"))])?,
            false,
            &usages,
        );
        let base: CryptoKey = wait(p, "importKey").settle().await?.unchecked_into();
        let params = object(&[
            ("name", s("PBKDF2")),
            ("hash", s("SHA-256")),
            ("salt", Uint8Array::from(salt).into()),
            ("iterations", JsValue::from_f64(f64::from(iterations))),
        ])?;
        let bits = wait(
            subtle.derive_bits_with_object(&params, &base, 256),
            "deriveBits",
        )
        .await?;
        let bytes = Uint8Array::new(&bits).to_vec();
        bytes
            .try_into()
            .map_err(|_| CryptoError::new("deriveBits", "returned the wrong length"))
    }
}

/// A measurement route, served only when the `BENCH` var is `1` (never in wrangler.toml):
/// signs a fixed input `n` times so the benchmark can read the CPU cost of one signature from
/// the runtime's CPU time.
pub const BENCH_PATH: &str = "/__bench/sign";

/// PBKDF2 derivations (password verifications and hashings) in this isolate.
static PBKDF2_RUNS: AtomicU32 = AtomicU32::new(0);

/// A measurement route, served only when the `BENCH` var is `1`: the isolate's counters, so
/// a test can tell how many passwords a burst of requests really verified.
pub const COUNTERS_PATH: &str = "/__bench/counters";

/// `GET /__bench/counters`.
pub fn counters() -> HttpResponse {
    HttpResponse::json(
        200,
        &serde_json::json!({
            "pbkdf2": PBKDF2_RUNS.load(Ordering::Relaxed),
            "d1_round_trips": super::d1::ROUND_TRIPS.load(Ordering::Relaxed),
            "kv_reads": super::kv_cache::KV_READS.load(Ordering::Relaxed),
            "d1_after_response": super::d1::AFTER_RESPONSE.load(Ordering::Relaxed),
        }),
    )
}

/// `GET /__bench/sign?n=N` (N ≤ 10,000): N ES256 signatures; with `op=pbkdf2`, N PBKDF2
/// derivations at the configured password cost instead.
pub async fn bench_sign<P: Stores>(
    issuer: &Issuer<'_, P, WebCrypto>,
    req: &HttpRequest,
) -> HttpResponse {
    let param = |name: &str| {
        form_urlencoded::parse(req.query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let n: u32 = param("n")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .min(10_000);
    if param("op").as_deref() == Some("pbkdf2") {
        let iterations = issuer.config.password_iterations;
        for _ in 0..n {
            let derived = issuer
                .crypto
                .pbkdf2_sha256(b"bench password", b"bench salt 16 by", iterations)
                .await;
            if let Err(e) = derived {
                return HttpResponse::error(&e.into());
            }
        }
        return HttpResponse::json(200, &serde_json::json!({ "derived": n }));
    }
    let key = match issuer.keys().signing_key(Alg::ES256).await {
        Ok(k) => k,
        Err(e) => return HttpResponse::error(&e),
    };
    for _ in 0..n {
        if let Err(e) = issuer.crypto.sign(&key, b"bench.input").await {
            return HttpResponse::error(&e.into());
        }
    }
    HttpResponse::json(200, &serde_json::json!({ "signed": n }))
}
