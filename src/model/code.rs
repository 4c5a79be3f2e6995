//! Authorization codes as stored (RFC 6749 §4.1.2).

use serde::{Deserialize, Serialize};

/// One authorization code, stored by the hash of its value, bound to everything the token
/// request must match and to what the issuance will carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationCode {
    /// SHA-256 of the code, base64url.
    pub code_hash: String,
    pub client_id: String,
    pub user_id: String,
    /// The `redirect_uri` of the authorization request; the token request must repeat it.
    pub redirect_uri: String,
    /// The PKCE `S256` challenge (RFC 7636 §4.2), if the request sent one.
    pub code_challenge: Option<String>,
    pub nonce: Option<String>,
    /// The granted scope.
    pub scope: String,
    /// The API of the access token, if any.
    pub audience: Option<String>,
    pub org_id: Option<String>,
    /// The browser session the code was issued in (the ID token's `sid`).
    pub session_id: Option<String>,
    pub auth_time: u64,
    pub created_at: u64,
    pub expires_at: u64,
    /// When it was redeemed; a code is redeemed once.
    pub used_at: Option<u64>,
    /// The refresh family issued at redemption, revoked if the code is presented again.
    pub family_id: Option<String>,
    /// How the user signed in (`None` for codes stored before this was kept).
    #[serde(default)]
    pub authenticated: Option<super::Authenticated>,
}
