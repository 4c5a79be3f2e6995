//! Talking to an upstream OpenID provider, as its relying party: discovery (OIDC Discovery
//! §4), the authorization request (code flow with PKCE S256, `state` and `nonce`), the code's
//! redemption at its token endpoint (client_secret_basic or _post), and the ID token's
//! verification (OIDC Core §3.1.3.7) against its JWKS. Every call goes through the one
//! outbound port, with a timeout and a size limit.

use crate::error::OutboundError;
use crate::model::secret::Secret;
use crate::model::upstream::{Proof, SignedSecret, Upstream, APPLE_ISSUER};
use crate::port::crypto::{Alg, Crypto, SigningKey};
use crate::port::outbound::{Call, Http};
use crate::port::settled::Settle;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::HashMap;

/// How long an upstream call may take.
pub const TIMEOUT_MS: u64 = 5_000;
/// The longest upstream answer read.
const MAX_BYTES: usize = 256 * 1024;
/// How long a provider's JWKS is kept in the isolate before it is fetched again. A `kid` not
/// in it fetches it at once (the provider rotated).
const JWKS_TTL: u64 = 600;
/// Every upstream call says who makes it (GitHub's API refuses a call without a User-Agent).
const USER_AGENT: &str = "edge-issuer";
/// Clock skew allowed on `exp` and `iat`.
const LEEWAY: u64 = 60;

/// Why a sign-in at an upstream provider did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamError {
    /// The provider answered the authorization request with an error (the user declined,
    /// …): its `error` and description.
    Denied(String),
    /// What came back cannot be trusted: why.
    Invalid(String),
    /// The provider could not be reached, or failed.
    Unavailable(String),
}

impl From<OutboundError> for UpstreamError {
    fn from(e: OutboundError) -> Self {
        Self::Unavailable(e.to_string())
    }
}

/// A GET of `url`'s JSON, with the access token `bearer` (RFC 6750 §2.1) when given.
async fn get(http: &dyn Http, url: &str, bearer: Option<&str>) -> Result<Value, UpstreamError> {
    let mut headers = vec![
        ("accept", "application/json".into()),
        ("user-agent", USER_AGENT.into()),
    ];
    if let Some(token) = bearer {
        headers.push(("authorization", format!("Bearer {token}")));
    }
    let answer = http
        .call(Call {
            method: "GET",
            url,
            headers,
            body: None,
            timeout_ms: TIMEOUT_MS,
            max_bytes: MAX_BYTES,
        })
        .await?;
    if !answer.ok() {
        return Err(UpstreamError::Unavailable(format!(
            "{url} answered HTTP {}",
            answer.status
        )));
    }
    crate::model::strict_json::parse(&answer.body)
        .map_err(|_| UpstreamError::Invalid(format!("{url} did not answer JSON")))
}

/// A GET of `url`'s JSON object.
async fn get_json(http: &dyn Http, url: &str) -> Result<Map<String, Value>, UpstreamError> {
    match get(http, url, None).settle().await? {
        Value::Object(map) => Ok(map),
        _ => Err(UpstreamError::Invalid(format!(
            "{url} did not answer a JSON object"
        ))),
    }
}

/// Who a plain OAuth 2.0 provider says the access token's user is, as OpenID claims: its
/// userinfo answer, with `map`'s fields (profile field, member path) read from where it names
/// and `sub` from `user_id` (else `sub`, else `id`; a number as its digits); for GitHub, the
/// primary email of the emails list and whether GitHub verified it.
pub async fn profile(
    http: &dyn Http,
    up: &Upstream,
    access_token: &str,
) -> Result<Map<String, Value>, UpstreamError> {
    let Proof::Profile {
        userinfo,
        emails,
        map,
    } = &up.proof
    else {
        return Err(UpstreamError::Invalid(
            "the provider proves no profile".into(),
        ));
    };
    let raw = get(http, userinfo, Some(access_token)).settle().await?;
    let Value::Object(mut claims) = raw.clone() else {
        return Err(UpstreamError::Invalid(format!(
            "{userinfo} did not answer a JSON object"
        )));
    };
    // The paths rules use (`data.uid`; a number indexes a list).
    let at = |path: &str| crate::model::rule::resolve_path(&raw, path).cloned();
    let mut sub = at("sub").or_else(|| at("id"));
    for (field, path) in map {
        match (field.as_str(), at(path)) {
            ("user_id", found) => sub = found,
            (_, Some(value)) => {
                claims.insert(field.clone(), value);
            }
            _ => {}
        }
    }
    let sub = match sub {
        Some(Value::String(s)) => s,
        Some(Value::Number(n)) => n.to_string(),
        _ => {
            return Err(UpstreamError::Invalid(format!(
                "{userinfo} did not say who the user is"
            )))
        }
    };
    claims.insert("sub".into(), sub.into());
    // GitHub's /user shows a public email it does not vouch for: the list says which is
    // primary and verified. A token without the scope to read it leaves the email unverified.
    if let Some(url) = emails {
        claims.insert("email_verified".into(), false.into());
        if let Ok(Value::Array(list)) = get(http, url, Some(access_token)).settle().await {
            let primary = list
                .iter()
                .find(|e| e.get("primary") == Some(&Value::Bool(true)));
            if let Some(e) = primary.and_then(|e| Some((e.get("email")?.as_str()?, e))) {
                claims.insert("email".into(), e.0.into());
                let verified = e.1.get("verified") == Some(&Value::Bool(true));
                claims.insert("email_verified".into(), verified.into());
            }
        }
    }
    Ok(claims)
}

/// The options discovery gives an `oidc` connection: the provider's metadata at
/// `discovery_url`, whose `issuer` must be `issuer` when one is configured (§4.3). Answers
/// the `issuer`, endpoints, and the client authentication to use, as options.
pub async fn discover(
    http: &dyn Http,
    discovery_url: &str,
    issuer: Option<&str>,
) -> Result<Map<String, Value>, String> {
    let meta = get_json(http, discovery_url)
        .settle()
        .await
        .map_err(|e| match e {
            UpstreamError::Unavailable(why)
            | UpstreamError::Invalid(why)
            | UpstreamError::Denied(why) => {
                format!("discovery at {discovery_url} failed: {why}")
            }
        })?;
    let text = |name: &str| meta.get(name).and_then(Value::as_str);
    let found = text("issuer").ok_or("the discovery document has no issuer")?;
    if issuer.is_some_and(|i| i.trim_end_matches('/') != found.trim_end_matches('/')) {
        return Err(format!(
            "the discovery document's issuer {found} is not the configured issuer"
        ));
    }
    let mut options = Map::new();
    options.insert("issuer".into(), found.into());
    for name in crate::model::upstream::ENDPOINTS {
        let url = text(name).ok_or_else(|| format!("the discovery document has no {name}"))?;
        options.insert(name.into(), url.into());
    }
    if let Some(url) = text("userinfo_endpoint") {
        options.insert("userinfo_endpoint".into(), url.into());
    }
    let listed = |name: &str, value: &str| {
        meta.get(name)
            .and_then(Value::as_array)
            .is_none_or(|l| l.iter().any(|v| v.as_str() == Some(value)))
    };
    if !listed("response_types_supported", "code") {
        return Err("the provider does not offer the code flow".into());
    }
    if !listed("id_token_signing_alg_values_supported", "RS256")
        && !listed("id_token_signing_alg_values_supported", "ES256")
    {
        return Err("the provider signs ID tokens with neither RS256 nor ES256".into());
    }
    // client_secret_basic is the default (RFC 6749 §2.3.1); _post where only it is offered.
    if !listed(
        "token_endpoint_auth_methods_supported",
        "client_secret_basic",
    ) {
        options.insert(
            "token_endpoint_auth_method".into(),
            "client_secret_post".into(),
        );
    }
    Ok(options)
}

/// The browser's way to the provider: its authorization endpoint with the code flow's
/// request (`state`, `nonce`, the PKCE S256 challenge of `verifier`), then the connection's
/// fixed parameters.
pub fn authorization_url(
    up: &Upstream,
    redirect_uri: &str,
    state: &str,
    nonce: &str,
    verifier: &str,
) -> String {
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("response_type", "code")
        .append_pair("client_id", &up.client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", &up.scope)
        .append_pair("state", state)
        .append_pair("nonce", nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    query.extend_pairs(&up.params);
    let join = if up.authorization_endpoint.contains('?') {
        '&'
    } else {
        '?'
    };
    format!("{}{join}{}", up.authorization_endpoint, query.finish())
}

/// Redeems `code` at the provider's token endpoint (RFC 6749 §4.1.3, with the PKCE
/// verifier): the token response's members.
pub async fn redeem(
    http: &dyn Http,
    up: &Upstream,
    secret: &str,
    code: &str,
    verifier: &str,
    redirect_uri: &str,
) -> Result<Map<String, Value>, UpstreamError> {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", "authorization_code")
        .append_pair("code", code)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("code_verifier", verifier);
    let mut headers = vec![
        ("content-type", "application/x-www-form-urlencoded".into()),
        ("accept", "application/json".into()),
        ("user-agent", USER_AGENT.into()),
    ];
    if up.secret_in_body {
        form.append_pair("client_id", &up.client_id)
            .append_pair("client_secret", secret);
    } else {
        // §2.3.1: each part form-encoded, then Basic.
        let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let pair = format!("{}:{}", enc(&up.client_id), enc(secret));
        headers.push(("authorization", format!("Basic {}", STANDARD.encode(pair))));
    }
    let answer = http
        .call(Call {
            method: "POST",
            url: &up.token_endpoint,
            headers,
            body: Some(form.finish()),
            timeout_ms: TIMEOUT_MS,
            max_bytes: MAX_BYTES,
        })
        .await?;
    let body = match crate::model::strict_json::parse(&answer.body) {
        Ok(Value::Object(m)) => Some(m),
        _ => None,
    };
    match (answer.ok(), body) {
        // GitHub answers a refused code with 200 and an error.
        (_, Some(e)) if e.get("error").is_some_and(Value::is_string) => {
            Err(UpstreamError::Invalid(format!(
                "the token endpoint refused the code: {}",
                describe(&e)
            )))
        }
        (true, Some(tokens)) => Ok(tokens),
        (true, None) => Err(UpstreamError::Invalid(
            "the token endpoint did not answer JSON".into(),
        )),
        (false, _) => Err(UpstreamError::Unavailable(format!(
            "the token endpoint answered HTTP {}",
            answer.status
        ))),
    }
}

/// The private key a signed client secret is made with, from its sealed form (PKCS#8 DER,
/// base64); the platform caches it under its digest, never a name the tenant chose.
pub fn secret_key(der_base64: &str) -> Option<SigningKey> {
    let der = STANDARD.decode(der_base64).ok()?;
    Some(SigningKey {
        kid: format!(
            "upstream secret {}",
            hex(&Sha256::digest(der_base64.as_bytes()))
        ),
        alg: Alg::ES256,
        pkcs8: Secret::new(der),
    })
}

/// Apple's client secret for `up`: a JWT signed (ES256) with the team's key (`der_base64`),
/// `iss` the team, `sub` the client (the Services ID), `aud` Apple, valid 5 minutes (Apple
/// allows up to six months; one per redemption needs no store).
pub async fn client_secret_jwt<C: Crypto>(
    crypto: &C,
    up: &Upstream,
    signed: &SignedSecret,
    der_base64: &str,
    now: u64,
) -> Result<String, UpstreamError> {
    let failed = |why: &str| UpstreamError::Unavailable(format!("the client secret JWT {why}"));
    let key = secret_key(der_base64).ok_or_else(|| failed("key does not decode"))?;
    let mut claims = Map::new();
    claims.insert("iss".into(), signed.team_id.as_str().into());
    claims.insert("sub".into(), up.client_id.as_str().into());
    claims.insert("aud".into(), APPLE_ISSUER.into());
    claims.insert("iat".into(), now.into());
    claims.insert("exp".into(), (now + 300).into());
    let claims = Value::Object(claims);
    crate::oauth::token::jws::sign_with_header(crypto, &key, &signed.key_id, Map::new(), &claims)
        .settle()
        .await
        .map_err(|e| failed(&format!("does not sign: {e}")))
}

/// The name Apple sends, on the first authorization only, in the form's `user` (JSON
/// `{"name": {"firstName", "lastName"}}`): given to `claims` where its ID token has none.
/// Not signed, so only the name is taken from it, never an email.
pub fn apple_name(claims: &mut Map<String, Value>, user: &str) {
    let Ok(Value::Object(user)) = crate::model::strict_json::parse(user.as_bytes()) else {
        return;
    };
    let name = |part: &str| {
        let v = user.get("name")?.get(part)?.as_str()?;
        Some(v.to_string()).filter(|v| !v.is_empty())
    };
    let (first, last) = (name("firstName"), name("lastName"));
    let full = match (&first, &last) {
        (Some(f), Some(l)) => Some(format!("{f} {l}")),
        (one, other) => one.clone().or_else(|| other.clone()),
    };
    for (claim, value) in [("given_name", first), ("family_name", last), ("name", full)] {
        if let (Some(value), false) = (value, claims.contains_key(claim)) {
            claims.insert(claim.into(), value.into());
        }
    }
}

/// `error: error_description` of an OAuth error answer or response.
pub fn describe(fields: &Map<String, Value>) -> String {
    let text = |n: &str| fields.get(n).and_then(Value::as_str).unwrap_or("");
    let (error, description) = (text("error"), text("error_description"));
    let error: String = error
        .chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect();
    let description: String = description
        .chars()
        .filter(|c| !c.is_control())
        .take(300)
        .collect();
    match description.is_empty() {
        true => error,
        false => format!("{error}: {description}"),
    }
}

/// The claims of the provider's ID token once OIDC Core §3.1.3.7 holds: signed (RS256 or
/// ES256, never `none` or a MAC) by a key of the provider's JWKS, issued by it, for this
/// connection's client (`aud`, and `azp` when present or several audiences), unexpired, and
/// carrying the transaction's `nonce` and a subject.
pub async fn verify_id_token<C: Crypto>(
    crypto: &C,
    http: &dyn Http,
    up: &Upstream,
    token: &str,
    nonce: &str,
    now: u64,
) -> Result<Map<String, Value>, UpstreamError> {
    let invalid = |why: &str| UpstreamError::Invalid(format!("the ID token {why}"));
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("is not a signed JWT"));
    };
    let json = |part: &str| -> Option<Map<String, Value>> {
        match crate::model::strict_json::parse(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()? {
            Value::Object(m) => Some(m),
            _ => None,
        }
    };
    let (Some(header), Some(claims), Ok(signature)) = (json(h), json(p), URL_SAFE_NO_PAD.decode(s))
    else {
        return Err(invalid("is malformed"));
    };
    let alg = match header
        .get("alg")
        .and_then(Value::as_str)
        .and_then(Alg::parse)
    {
        Some(alg) => alg,
        None => return Err(invalid("is not signed with RS256 or ES256")),
    };
    let kid = header.get("kid").and_then(Value::as_str);
    let Proof::IdToken { jwks_uri, .. } = &up.proof else {
        return Err(invalid("is not what this provider proves sign-ins with"));
    };
    let jwk = signing_key(http, jwks_uri, kid, alg, now).settle().await?;
    let jwk_text = Value::Object(jwk).to_string();
    // The imported key is cached under its own digest: never under a `kid`, which the
    // provider chooses and could make equal to one of this issuer's.
    let cache_id = format!("upstream {}", hex(&Sha256::digest(jwk_text.as_bytes())));
    let input = &token[..h.len() + 1 + p.len()];
    let verified = crypto
        .verify(alg, &cache_id, &jwk_text, input.as_bytes(), &signature)
        .settle()
        .await
        .map_err(|e| UpstreamError::Unavailable(e.to_string()))?;
    if !verified {
        return Err(invalid(
            "signature does not verify with the provider's keys",
        ));
    }
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let number = |name: &str| claims.get(name).and_then(Value::as_u64);
    if !text("iss").is_some_and(|iss| up.is_issuer(iss)) {
        return Err(invalid("was issued by another issuer"));
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !audiences.contains(&up.client_id.as_str()) {
        return Err(invalid("is for another client (aud)"));
    }
    let azp = text("azp");
    if (audiences.len() > 1 || azp.is_some()) && azp != Some(up.client_id.as_str()) {
        return Err(invalid("was given to another client (azp)"));
    }
    match number("exp") {
        Some(exp) if exp + LEEWAY > now => {}
        _ => return Err(invalid("has expired")),
    }
    if number("iat").is_none_or(|iat| iat > now + LEEWAY) {
        return Err(invalid("has no valid iat"));
    }
    let sent = nonce.as_bytes();
    let same =
        text("nonce").is_some_and(|n| subtle::ConstantTimeEq::ct_eq(n.as_bytes(), sent).into());
    if !same {
        return Err(invalid("does not carry this sign-in's nonce"));
    }
    if text("sub").is_none_or(|s| s.is_empty() || s.len() > 255) {
        return Err(invalid("has no subject"));
    }
    Ok(claims)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Each provider's JWKS keys as last fetched, by `jwks_uri`, with when.
type KeySets = HashMap<String, (u64, Vec<Map<String, Value>>)>;

thread_local! {
    static JWKS: RefCell<KeySets> = RefCell::new(HashMap::new());
}

/// The provider's public key for a token signed with `alg` by `kid` (or, with no `kid`, its
/// one key of that type): from the isolate's copy of its JWKS, else fetched.
async fn signing_key(
    http: &dyn Http,
    jwks_uri: &str,
    kid: Option<&str>,
    alg: Alg,
    now: u64,
) -> Result<Map<String, Value>, UpstreamError> {
    let kty = match alg {
        Alg::ES256 => "EC",
        Alg::RS256 => "RSA",
    };
    let pick = |keys: &[Map<String, Value>]| -> Option<Map<String, Value>> {
        let usable = |k: &&Map<String, Value>| {
            let text = |n: &str| k.get(n).and_then(Value::as_str);
            text("kty") == Some(kty)
                && text("use").is_none_or(|u| u == "sig")
                && text("alg").is_none_or(|a| a == alg.as_str())
                && (kid.is_none() || text("kid") == kid)
        };
        let mut found = keys.iter().filter(usable);
        let key = found.next()?;
        // With no kid, the key must be the only one that fits. Only the public members
        // reach the key import.
        let public = crate::model::object(
            key.iter()
                .filter(|(name, _)| ["kty", "crv", "x", "y", "n", "e"].contains(&name.as_str()))
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        (kid.is_some() || found.next().is_none()).then_some(public)
    };
    let cached = JWKS.with(|c| c.borrow().get(jwks_uri).cloned());
    if let Some((at, keys)) = &cached {
        if at + JWKS_TTL > now {
            if let Some(key) = pick(keys) {
                return Ok(key);
            }
        }
    }
    let set = get_json(http, jwks_uri).settle().await?;
    let keys: Vec<Map<String, Value>> = set
        .get("keys")
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(|k| k.as_object().cloned()).collect())
        .unwrap_or_default();
    let key = pick(&keys);
    JWKS.with(|c| c.borrow_mut().insert(jwks_uri.to_string(), (now, keys)));
    key.ok_or_else(|| {
        UpstreamError::Invalid("the ID token's signing key is not in the provider's JWKS".into())
    })
}
