//! Management jobs: a bulk user import and what became of each row.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What an import did with one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Imported {
    Inserted,
    /// An existing user of the connection with that email, replaced (upsert).
    Updated,
    /// The email (or id) is taken and the job does not upsert: nothing written.
    Duplicate,
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub job_id: String,
    /// `users_import`.
    pub kind: String,
    /// `completed`, or `failed` when the job could not run at all.
    pub status: String,
    pub connection: String,
    pub upsert: bool,
    pub external_id: Option<String>,
    pub created_at: u64,
    /// `{total, inserted, updated, failed}`.
    pub summary: Value,
    /// One entry per refused row: `{user: {email}, errors: [{code, message, path}]}`.
    pub errors: Value,
}
