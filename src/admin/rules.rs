//! Rules: `PUT /api/v2/rules/{id}`.

use super::error::{error, from_oauth, payload, Reply};
use super::routes::Call;
use crate::error::OAuthError;
use crate::model::Rule;
use crate::port::crypto::Crypto;
use crate::port::{ClaimsStore, Stores};
use serde_json::json;

/// `PUT /api/v2/rules/{id}`.
pub async fn put_rule<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let (issuer, rule_id) = (call.issuer, call.id());
    let mut rule: Rule = match payload(call.req.body) {
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
