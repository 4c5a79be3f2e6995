//! The reads of a user grant, each one batch: D1 runs a batch as one transaction and answers
//! it in one round trip. Every statement starts from one anchor row, `a(user_id, org,
//! audience)`: the key given, or the refresh token's or code's own user, organization and API.

use super::codec::{backend, flag};
use super::codes::{CodeRow, COLUMNS as CODE_COLUMNS};
use super::refresh::{RefreshRow, IS_REVOKED, REFRESH_SELECT};
use super::sql::{Outcome, Source, Sql, Value};
use super::users::{user_select, UserRow};
use super::SqlStore;
use crate::error::StoreError;
use crate::model::{AuthorizationCode, Organization, RefreshRecord, Subject, User, UserAccess};
use crate::port::settled::Settle;
use crate::port::{SubjectStore, UserKey};

crate::row! {
    struct Name {
        name: String,
    }
}

crate::row! {
    struct Permission {
        permission: String,
    }
}

crate::row! {
    struct OrgMemberRow {
        org_id: String,
        name: String,
        display_name: Option<String>,
        token_org_name: f64,
        member: f64,
    }
}

/// The anchor row for a user named by id: `?1` the id, `?2` the organization, `?3` the API;
/// the last column is the user whose password a sign-in checks (the same user here).
const BY_ID: &str = "SELECT ?1, ?2, ?3, ?1";
/// By email: `?1` the connection, `?2` the lower-cased email, `?3` organization, `?4` API.
/// An account linked into another signs that one in, with its own password.
const BY_EMAIL: &str = "SELECT (SELECT coalesce(linked_to, user_id) FROM users \
    WHERE connection = ?1 AND lower(email) = ?2), ?3, ?4, \
    (SELECT user_id FROM users WHERE connection = ?1 AND lower(email) = ?2)";
/// By identity: `?1` the provider, `?2` the provider's id of the account, `?3` organization,
/// `?4` API. No password belongs to such a sign-in.
const BY_IDENTITY: &str = "SELECT (SELECT coalesce(u.linked_to, u.user_id) FROM identities i \
    JOIN users u ON u.user_id = i.user_id WHERE i.provider = ?1 AND i.identity_id = ?2), ?3, ?4, \
    NULL";
/// By verified email: `?1` the lower-cased email, `?2` organization, `?3` API. Only a single
/// match counts: two users with the address name no one.
const BY_VERIFIED_EMAIL: &str = "SELECT (SELECT CASE WHEN count(*) = 1 THEN max(user_id) END \
    FROM users WHERE lower(email) = ?1 AND email_verified = 1 AND linked_to IS NULL), ?2, ?3, \
    NULL";
/// A refresh token's user, organization and API: `?1` its hash.
const BY_REFRESH: &str =
    "SELECT user_id, org_id, audience, user_id FROM refresh_tokens WHERE token_hash = ?1";
/// A code's user, organization and API: `?1` its hash.
const BY_CODE: &str =
    "SELECT user_id, org_id, audience, user_id FROM authorization_codes WHERE code_hash = ?1";

/// The statements about the anchor's user, in this order: the user; the organization (by
/// id, else by name) with whether the user is a member; the roles; the permissions.
fn subject_statements(anchor: &str) -> [String; 4] {
    let with = format!(
        "WITH a(user_id, org, audience, login_id) AS ({anchor}), \
         o(org_id) AS (SELECT x.org_id FROM organizations x, a \
           WHERE x.org_id = a.org OR x.name = a.org ORDER BY (x.org_id = a.org) DESC LIMIT 1)"
    );
    [
        // The password is the one of the account the anchor's sign-in names.
        format!(
            "{with} SELECT {} FROM users WHERE user_id = (SELECT user_id FROM a) \
             AND linked_to IS NULL",
            user_select("users").replace(
                "users.password_hash",
                "(SELECT p.password_hash FROM users p WHERE p.user_id = \
                 (SELECT login_id FROM a)) AS password_hash"
            )
        ),
        format!(
            "{with} SELECT g.org_id, g.name, g.display_name, g.token_org_name, \
             EXISTS (SELECT 1 FROM organization_members m, a \
               WHERE m.org_id = g.org_id AND m.user_id = a.user_id) AS member \
             FROM organizations g, o WHERE g.org_id = o.org_id"
        ),
        format!(
            "{with} SELECT DISTINCT r.name AS name FROM user_roles ur \
             JOIN roles r ON r.role_id = ur.role_id, a \
             WHERE ur.user_id = a.user_id \
               AND (ur.org_id = '' OR ur.org_id = (SELECT org_id FROM o)) ORDER BY r.name"
        ),
        format!(
            "{with} SELECT DISTINCT rp.permission AS permission FROM user_roles ur \
             JOIN role_permissions rp ON rp.role_id = ur.role_id, a \
             WHERE ur.user_id = a.user_id \
               AND (ur.org_id = '' OR ur.org_id = (SELECT org_id FROM o)) \
               AND rp.audience = a.audience ORDER BY rp.permission"
        ),
    ]
}

/// Decodes the four results of [`subject_statements`].
fn subject(results: &[Outcome]) -> Result<Subject, StoreError> {
    let [user, org, roles, permissions] = results else {
        return Err(backend("batch returned too few results"));
    };
    let user = match user.all::<UserRow>()?.into_iter().next() {
        Some(row) => Some(User::try_from(row)?),
        None => None,
    };
    let org = org.all::<OrgMemberRow>()?.into_iter().next();
    let member = org.as_ref().is_some_and(|o| flag(o.member));
    let organization = org.map(|r| Organization {
        org_id: r.org_id,
        name: r.name,
        display_name: r.display_name,
        token_org_name: flag(r.token_org_name),
    });
    let roles = roles.all::<Name>()?;
    let permissions = permissions.all::<Permission>()?;
    Ok(Subject {
        member: member && user.is_some(),
        user,
        organization,
        access: UserAccess {
            roles: roles.into_iter().map(|n| n.name).collect(),
            permissions: permissions.into_iter().map(|p| p.permission).collect(),
        },
    })
}

impl<B: Sql> SqlStore<B> {
    /// Runs `statements`, each with the same `args`, as one batch on the primary: these reads
    /// decide on users, tokens and codes, which must be current.
    async fn read_batch(
        &self,
        statements: &[&str],
        args: &[Value],
    ) -> Result<Vec<Outcome>, StoreError> {
        let statements: Vec<(&str, &[Value])> = statements.iter().map(|s| (*s, args)).collect();
        self.batch_on(Source::Primary, &statements).settle().await
    }

    /// A record (the batch's first statement, by `?1`) and the subject of its anchor.
    async fn anchored<R: super::sql::FromRow>(
        &self,
        record_sql: &str,
        anchor: &str,
        hash: &str,
    ) -> Result<Option<(R, Subject)>, StoreError> {
        let [u, o, r, p] = subject_statements(anchor);
        let results = self
            .read_batch(&[record_sql, &u, &o, &r, &p], &[hash.into()])
            .settle()
            .await?;
        let Some((first, rest)) = results.split_first() else {
            return Err(backend("batch returned no results"));
        };
        match first.first::<R>()? {
            Some(row) => Ok(Some((row, subject(rest)?))),
            None => Ok(None),
        }
    }
}

fn text(value: Option<&str>) -> Value {
    value.map_or(Value::Null, Value::from)
}

/// The anchor for a user `key`, and its arguments.
fn anchor(
    key: UserKey<'_>,
    organization: Option<&str>,
    audience: Option<&str>,
) -> (&'static str, Vec<Value>) {
    let (anchor, mut args) = match key {
        UserKey::Id(id) => (BY_ID, vec![id.into()]),
        UserKey::Email {
            connection,
            email_lower,
        } => (BY_EMAIL, vec![connection.into(), email_lower.into()]),
        UserKey::Identity {
            provider,
            identity_id,
        } => (BY_IDENTITY, vec![provider.into(), identity_id.into()]),
        UserKey::VerifiedEmail { email_lower } => (BY_VERIFIED_EMAIL, vec![email_lower.into()]),
    };
    args.extend([text(organization), text(audience)]);
    (anchor, args)
}

impl<B: Sql> SubjectStore for SqlStore<B> {
    async fn subject(
        &self,
        key: UserKey<'_>,
        organization: Option<&str>,
        audience: Option<&str>,
    ) -> Result<Subject, StoreError> {
        let (anchor, args) = anchor(key, organization, audience);
        let [u, o, r, p] = subject_statements(anchor);
        let results = self.read_batch(&[&u, &o, &r, &p], &args).settle().await?;
        subject(&results)
    }

    async fn bearer_subject(
        &self,
        jti: &str,
        key: UserKey<'_>,
        organization: Option<&str>,
        audience: Option<&str>,
    ) -> Result<Option<Subject>, StoreError> {
        let (anchor, args) = anchor(key, organization, audience);
        let [u, o, r, p] = subject_statements(anchor);
        let jti = [Value::from(jti)];
        let results = self
            .batch_on(
                Source::Primary,
                &[
                    (IS_REVOKED, &jti),
                    (&u, &args),
                    (&o, &args),
                    (&r, &args),
                    (&p, &args),
                ],
            )
            .settle()
            .await?;
        let Some((first, rest)) = results.split_first() else {
            return Err(backend("batch returned no results"));
        };
        if !first.rows.is_empty() {
            return Ok(None);
        }
        subject(rest).map(Some)
    }

    async fn refresh_subject(
        &self,
        token_hash: &str,
    ) -> Result<Option<(RefreshRecord, Subject)>, StoreError> {
        let record = format!("{REFRESH_SELECT} WHERE t.token_hash = ?1");
        let found = self
            .anchored::<RefreshRow>(&record, BY_REFRESH, token_hash)
            .settle()
            .await?;
        Ok(found.map(|(row, s)| (RefreshRecord::from(row), s)))
    }

    async fn code_subject(
        &self,
        code_hash: &str,
    ) -> Result<Option<(AuthorizationCode, Subject)>, StoreError> {
        let record = format!("SELECT {CODE_COLUMNS} FROM authorization_codes WHERE code_hash = ?1");
        let found = self
            .anchored::<CodeRow>(&record, BY_CODE, code_hash)
            .settle()
            .await?;
        Ok(found.map(|(row, s)| (AuthorizationCode::from(row), s)))
    }
}
