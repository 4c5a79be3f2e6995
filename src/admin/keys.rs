//! Signing keys (`/api/v2/keys/signing`: list, get, rotate, revoke) and the re-encryption of
//! stored secrets under a new key-encryption key (`/api/v2/keys/encryption/rekey`), in
//! Auth0's shapes. Keys are JWKs here, not X.509 certificates: each shows its public `jwk`,
//! and `thumbprint` is its RFC 7638 thumbprint (also its `kid`).

use super::call::Call;
use super::error::{error, error_code, from_oauth, from_store, not_found, Reply};
use super::list::iso8601;
use crate::model::{KeyState, StoredKey};
use crate::oauth::maintenance;
use crate::port::crypto::{Alg, Crypto};
use crate::port::settled::Settle;
use crate::port::{KeyStore, Stores};
use serde_json::{json, Value};

/// A key as Auth0 lists it.
fn view(k: &StoredKey) -> Value {
    let jwk: Value =
        crate::model::strict_json::parse(k.public_jwk.as_bytes()).unwrap_or(Value::Null);
    let mut v = json!({
        "kid": k.kid,
        "alg": k.alg,
        "thumbprint": k.kid,
        "jwk": jwk,
        "next": k.state == KeyState::Next,
        "current": k.state == KeyState::Current,
        "previous": k.state == KeyState::Previous,
        "revoked": k.state == KeyState::Revoked,
        "created_at": iso8601(k.created_at),
    });
    let times = [
        ("current_since", k.current_since),
        ("current_until", k.current_until),
        ("revoked_at", k.revoked_at),
    ];
    for (name, at) in times {
        if let Some(at) = at {
            v[name] = json!(iso8601(at));
        }
    }
    v
}

async fn all_keys<P: Stores, C: Crypto>(
    call: &Call<'_, '_, P, C>,
) -> Result<Vec<StoredKey>, Reply> {
    let store = call.issuer.stores.keys();
    let failed = |e| from_store(e, "", call.issuer.log);
    let keys = store.all_keys().settle().await.map_err(failed)?;
    // An issuer that has not signed yet has no keys: make them, as the JWKS would.
    if call
        .issuer
        .keys()
        .complete(&keys)
        .settle()
        .await
        .map_err(|e| from_oauth(&e))?
    {
        return store.all_keys().settle().await.map_err(failed);
    }
    Ok(keys)
}

/// `GET /api/v2/keys/signing`: every key, revoked ones too, the newest first.
pub async fn list<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let keys = attempt!(all_keys(call).settle().await);
    Reply::json(200, &Value::Array(keys.iter().map(view).collect()))
}

/// `GET /api/v2/keys/signing/{kid}`.
pub async fn get<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let keys = attempt!(all_keys(call).settle().await);
    match keys.iter().find(|k| k.kid == call.id()) {
        Some(k) => Reply::json(200, &view(k)),
        None => not_found("signing key"),
    }
}

/// `POST /api/v2/keys/signing/rotate`: for each algorithm, next → current, current →
/// previous, a new next key. Answers the ES256 key now current (the one access tokens take).
/// The promoted keys sign once they have been published for the lead time.
pub async fn rotate<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let ring = call.issuer.keys();
    for alg in Alg::ALL {
        if let Err(e) = ring.rotate(alg).settle().await {
            (call.issuer.log)(&format!("rotate {}: {e}", alg.as_str()));
            return from_oauth(&e);
        }
    }
    let keys = attempt!(all_keys(call).settle().await);
    let current = keys
        .iter()
        .find(|k| k.alg == Alg::ES256.as_str() && k.state == KeyState::Current);
    match current {
        Some(k) => Reply::json(201, &view(k)),
        None => error(500, "Internal error"),
    }
}

/// `PUT /api/v2/keys/signing/{kid}/revoke`: only a previous key (rotate first); it leaves
/// the JWKS at once and tokens it signed stop verifying.
pub async fn revoke<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    match call.issuer.keys().revoke(call.id()).settle().await {
        Ok(None) => not_found("signing key"),
        Ok(Some(k)) if k.state == KeyState::Revoked => Reply::json(200, &view(&k)),
        Ok(Some(k)) => error_code(
            409,
            "invalid_key_state",
            &format!(
                "Only a previous key can be revoked; this key is {}. Rotate first.",
                k.state.as_str()
            ),
        ),
        Err(e) => from_oauth(&e),
    }
}

/// `POST /api/v2/keys/encryption/rekey`: re-seals now, under `KEY_ENCRYPTION_KEY`, every
/// signing key, hook secret and connection secret that only `KEY_ENCRYPTION_KEY_PREVIOUS` opens (the Cron
/// Trigger does the same daily). 204, as Auth0 answers.
pub async fn rekey<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let issuer = call.issuer;
    match maintenance::rekey(&issuer.keys(), issuer.stores)
        .settle()
        .await
    {
        Ok(_) => Reply::no_content(),
        Err(e) => {
            (call.issuer.log)(&format!("rekey: {e}"));
            from_oauth(&e)
        }
    }
}
