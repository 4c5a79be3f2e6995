//! The JWK Set (RFC 7517 §5) of the published signing keys, cacheable with an ETag.

use crate::error::OAuthError;
use crate::oauth::issuer::Issuer;
use crate::oauth::keys::{jwks as jwk_set, JWKS_MAX_AGE};
use crate::port::crypto::Crypto;
use crate::port::settled::Settle;
use crate::port::{KeyStore, Stores};
use crate::web::{HttpRequest, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// `GET /.well-known/jwks.json`: the next, current and previous keys. Creates the current and
/// next keys (ES256 and RS256) that do not exist yet, so a verifier that caches the set early
/// still finds every key we sign with, and the one that signs after the next rotation.
pub async fn jwks<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> Result<HttpResponse, OAuthError> {
    let store = issuer.stores.keys();
    let mut keys = store.published_keys().settle().await?;
    if issuer.keys().complete(&keys).settle().await? {
        keys = store.published_keys_now().settle().await?;
    }
    Ok(cacheable(req, jwk_set(&keys).to_string(), JWKS_MAX_AGE))
}

/// A public JSON document with a strong ETag (a digest of `body`), `max-age` seconds of
/// caching, and 304 for a request that already holds it.
pub fn cacheable(req: &HttpRequest, body: String, max_age: u64) -> HttpResponse {
    let etag = format!(
        "\"{}\"",
        &URL_SAFE_NO_PAD.encode(Sha256::digest(body.as_bytes()))[..27]
    );
    let cache_control = format!("public, max-age={max_age}");
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
    resp.with_header("etag", &etag)
        .with_header("cache-control", &cache_control)
}
