//! Rules: `PUT /api/v2/rules/{id}`.

use super::auth::authorize;
use super::error::{error, from_oauth, payload, Reply};
use super::{Request, RULES};
use crate::error::OAuthError;
use crate::model::Rule;
use crate::oauth::issuer::Issuer;
use crate::port::crypto::Crypto;
use crate::port::{ClaimsStore, Stores};
use serde_json::json;

/// `PUT /api/v2/rules/{id}`.
pub async fn put_rule<P: Stores, C: Crypto>(issuer: &Issuer<'_, P, C>, req: &Request<'_>) -> Reply {
    if let Err(resp) = authorize(issuer, req, "update:rules").await {
        return resp;
    }
    let rule_id = req.path.trim_start_matches(RULES);
    if rule_id.is_empty() || rule_id.contains('/') {
        return error(404, "Not Found");
    }
    let mut rule: Rule = match payload(req.body) {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    if !rule.rule_id.is_empty() && rule.rule_id != rule_id {
        return error(400, "rule_id in the body differs from the path");
    }
    rule.rule_id = rule_id.to_string();
    if let Err(why) = rule.validate() {
        return error(400, &why);
    }
    match issuer.stores.claims().put_rule(&rule).await {
        Ok(()) => Reply::json(200, &json!(rule)),
        Err(e) => {
            let e = OAuthError::from(e);
            issuer.log_error(&e);
            from_oauth(&e)
        }
    }
}
