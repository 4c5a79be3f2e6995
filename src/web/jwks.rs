//! The JWK Set (RFC 7517 §5) of the published signing keys, cacheable with an ETag.

use crate::error::OAuthError;
use crate::model::{KeyState, StoredKey};
use crate::oauth::issuer::Issuer;
use crate::oauth::keys::jwks as jwk_set;
use crate::port::crypto::{Alg, Crypto};
use crate::port::{KeyStore, Stores};
use crate::web::{HttpRequest, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// How long verifiers may cache the set. A new key is published at least this long before it
/// signs anything, once rotation exists.
pub const JWKS_MAX_AGE: u64 = 300;

/// `GET /.well-known/jwks.json`. Creates the first keys (ES256 and RS256) if they do not
/// exist yet, so a verifier that caches the set early still finds every key we sign with.
pub async fn jwks<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> Result<HttpResponse, OAuthError> {
    let store = issuer.stores.keys();
    let mut keys = store.published_keys().await?;
    let active = |keys: &[StoredKey], alg: Alg| {
        keys.iter()
            .any(|k| k.alg == alg.as_str() && k.state == KeyState::Active)
    };
    if !Alg::ALL.into_iter().all(|alg| active(&keys, alg)) {
        let ring = issuer.keys();
        for alg in Alg::ALL {
            ring.ensure_active(alg).await?;
        }
        keys = store.published_keys_now().await?;
    }
    let body = jwk_set(&keys).to_string();
    let etag = format!(
        "\"{}\"",
        &URL_SAFE_NO_PAD.encode(Sha256::digest(body.as_bytes()))[..27]
    );
    let cache_control = format!("public, max-age={JWKS_MAX_AGE}");
    let not_modified = req.header("if-none-match").is_some_and(|v| {
        v.split(',')
            .any(|t| t.trim().trim_start_matches("W/") == etag)
    });
    let resp = if not_modified {
        HttpResponse::empty(304)
    } else {
        HttpResponse {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into_bytes(),
        }
    };
    Ok(resp
        .with_header("etag", &etag)
        .with_header("cache-control", &cache_control))
}
