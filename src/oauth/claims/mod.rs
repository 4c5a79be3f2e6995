//! Claims: the standard claims of OIDC scopes, and the enrichment pipeline that adds custom
//! claims per grant from declarative rules and hooks. Validate, then enrich, then mint: the
//! pipeline runs on a validated [`crate::model::Issuance`] before anything is signed or stored.

pub mod event;
pub mod hooks;
pub mod pipeline;
pub mod rules;
mod standard;

pub use standard::{standard_claims, OIDC_SCOPES};
