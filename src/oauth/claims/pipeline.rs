//! The enrichment pipeline: for one trigger, the enabled rules in order, then the hooks in
//! order, on a validated issuance. Its output is custom claims per token and a trace.

use super::event::event;
use super::hooks::{signature, Answer};
use crate::error::{ErrorCode, OAuthError};
use crate::model::scope::Scope;
use crate::model::secret::Secret;
use crate::model::Issuance;
use crate::model::StoredHook;
use crate::model::{
    CustomClaims, Hook, HookEndpoint, OnFailure, TraceAction, TraceEntry, Trigger,
    MAX_CUSTOM_CLAIM_BYTES,
};
use crate::oauth::facts::Facts;
use crate::oauth::keys::Kek;
use crate::port::hooks::HookTransport;
use crate::port::settled::Settle;
use crate::port::ClaimsStore;
use serde_json::json;

/// What the pipeline uses: the stored rules and hooks, the key-encryption key that opens the
/// hooks' secrets (`None` when it is not configured: a hook then fails), how hooks are
/// reached, and where a hook's misbehaviour is logged.
pub struct Pipeline<'a, S> {
    pub store: &'a S,
    pub kek: Option<&'a Kek>,
    pub hooks: &'a dyn HookTransport,
    pub log: &'a dyn Fn(&str),
}

/// What the pipeline produced.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Enrichment {
    pub claims: CustomClaims,
    pub trace: Vec<TraceEntry>,
    /// A hook asked for a second factor (`"multifactor": true`).
    pub multifactor: bool,
}

/// The trigger of a grant.
pub fn trigger_of(issuance: &Issuance) -> Trigger {
    if issuance.user.is_some() {
        Trigger::PostLogin
    } else {
        Trigger::CredentialsExchange
    }
}

/// Runs rules and hooks for `issuance`. Hooks may drop scopes from it; a hook's denial, or the
/// failure of a hook that denies on failure, refuses the grant with `invalid_grant`.
pub async fn enrich(
    pipeline: &Pipeline<'_, impl ClaimsStore>,
    facts: &Facts<'_>,
    issuance: &mut Issuance,
) -> Result<Enrichment, OAuthError> {
    let trigger = trigger_of(issuance);
    let (rules, hooks) = pipeline.store.pipeline(trigger.as_str()).settle().await?;
    if rules.is_empty() && hooks.is_empty() {
        return Ok(Enrichment::default());
    }
    let now = facts.now;
    let ev = event(trigger, issuance, facts);
    let mut out = Enrichment::default();

    for rule in rules.iter().filter(|r| r.enabled) {
        if rule.matches(&ev) {
            rule.apply(&ev, &mut out.claims, &mut out.trace);
        } else {
            out.trace.push(TraceEntry {
                source: format!("rule:{}", rule.name),
                action: TraceAction::Skipped,
                target: None,
                claim: None,
                reason: "conditions not met".into(),
            });
        }
    }

    if !hooks.is_empty() {
        let body = json!({ "event": ev }).to_string();
        for stored in &hooks {
            let hook = open_hook(pipeline.kek, stored)?;
            let delivered = pipeline
                .hooks
                .deliver(
                    &hook,
                    body.clone(),
                    signature(hook.secret.expose(), now, &body),
                )
                .await
                .and_then(|bytes| Answer::parse(&bytes));
            let source = format!("hook:{}", hook.name);
            match delivered {
                Ok(answer) => {
                    if let Some(message) = answer.deny.clone() {
                        return Err(OAuthError::new(ErrorCode::InvalidGrant, message));
                    }
                    out.multifactor |= answer.multifactor;
                    drop_scopes(issuance, &answer.drop_scopes, &source, &mut out.trace);
                    let before = out.trace.len();
                    answer.apply(&hook.name, &mut out.claims, &mut out.trace);
                    for dropped in out.trace[before..]
                        .iter()
                        .filter(|t| t.action == TraceAction::Dropped)
                    {
                        (pipeline.log)(&format!(
                            "hook {} tried to set reserved claim {}; dropped",
                            hook.name,
                            dropped.claim.as_deref().unwrap_or("")
                        ));
                    }
                }
                Err(why) if hook.on_failure == OnFailure::Skip => out.trace.push(TraceEntry {
                    source,
                    action: TraceAction::Skipped,
                    target: None,
                    claim: None,
                    reason: format!("hook failed and is set to skip: {why}"),
                }),
                // The hook did not answer (timeout, error, bad answer): our failure, not the
                // client's; with check-then-commit nothing was written, so a retry is safe.
                Err(why) => {
                    return Err(OAuthError::server(format!(
                        "hook {} failed and is set to deny: {why}",
                        hook.name
                    )));
                }
            }
        }
    }

    check_size(&out)?;
    Ok(out)
}

fn open_hook(kek: Option<&Kek>, stored: &StoredHook) -> Result<Hook, OAuthError> {
    let kek = kek.ok_or_else(|| OAuthError::server("KEY_ENCRYPTION_KEY secret is not set"))?;
    let secret = kek.open(&stored.hook_id, &stored.secret_enc)?;
    let secret =
        String::from_utf8(secret).map_err(|_| OAuthError::server("hook secret is not UTF-8"))?;
    let endpoint = match (&stored.url, &stored.service) {
        (Some(url), _) => HookEndpoint::Url(url.clone()),
        (None, Some(service)) => HookEndpoint::Service(service.clone()),
        (None, None) => {
            return Err(OAuthError::server(format!(
                "hook {} has no endpoint",
                stored.name
            )))
        }
    };
    Ok(Hook {
        hook_id: stored.hook_id.clone(),
        name: stored.name.clone(),
        trigger: stored.trigger,
        endpoint,
        secret: Secret::new(secret),
        timeout_ms: stored.timeout_ms,
        on_failure: stored.on_failure,
    })
}

fn drop_scopes(
    issuance: &mut Issuance,
    drop: &[String],
    source: &str,
    trace: &mut Vec<TraceEntry>,
) {
    if drop.is_empty() {
        return;
    }
    let kept: Vec<&str> = issuance
        .scope
        .tokens()
        .iter()
        .map(String::as_str)
        .filter(|s| !drop.iter().any(|d| d == s))
        .collect();
    issuance.scope = Scope::parse(&kept.join(" ")).unwrap_or_default();
    trace.push(TraceEntry {
        source: source.to_string(),
        action: TraceAction::ScopeDropped,
        target: None,
        claim: None,
        reason: drop.join(" "),
    });
}

/// Custom claims total at most 16 KiB per token; past that the grant fails, and the log names
/// the rules and hooks that set claims on that token.
fn check_size(out: &Enrichment) -> Result<(), OAuthError> {
    use crate::model::ClaimTarget::*;
    for (target, name, claims) in [
        (AccessToken, "access token", &out.claims.access_token),
        (IdToken, "ID token", &out.claims.id_token),
        (Userinfo, "userinfo answer", &out.claims.userinfo),
    ] {
        let size = serde_json::to_string(claims).map(|s| s.len()).unwrap_or(0);
        if size > MAX_CUSTOM_CLAIM_BYTES {
            let mut sources: Vec<&str> = out
                .trace
                .iter()
                .filter(|t| {
                    t.target == Some(target)
                        && matches!(t.action, TraceAction::Set | TraceAction::Overridden)
                })
                .map(|t| t.source.as_str())
                .collect();
            sources.dedup();
            return Err(OAuthError::server(format!(
                "custom claims of the {name} are {size} bytes, over {MAX_CUSTOM_CLAIM_BYTES}; set by {}",
                sources.join(", ")
            )));
        }
    }
    Ok(())
}
