//! Clients and APIs.

use super::codec::{flag, int, json, json_list};
use super::sql::{Source, Sql};
use super::SqlStore;
use crate::error::StoreError;
use crate::model::{Api, Client};
use crate::port::settled::Settle;
use crate::port::ClientStore;

crate::row! {
    pub(super) struct ClientRow {
        client_id: String,
        name: String,
        secret_hash: Option<String>,
        grant_types: String,
        default_audience: Option<String>,
        /// JSON array of `ApiGrant`, aggregated in SQL.
        grants: String,
        refresh_absolute_lifetime: f64,
        refresh_idle_lifetime: f64,
        refresh_reuse_interval: f64,
        id_token_signed_response_alg: String,
        client_metadata: String,
        redirect_uris: String,
        web_origins: String,
        allowed_logout_urls: String,
        initiate_login_uri: Option<String>,
    }
}

crate::row! {
    pub(super) struct ApiRow {
        identifier: String,
        name: String,
        scopes: String,
        token_lifetime: f64,
        rbac_enabled: f64,
        token_permissions: f64,
        user_grantable_scopes: String,
        signing_alg: String,
    }
}

impl<B: Sql> SqlStore<B> {
    /// The client, from `source` (a replica for the token endpoint, which caches it anyway;
    /// the primary for an edit).
    pub(super) async fn client_on(
        &self,
        source: Source,
        client_id: &str,
    ) -> Result<Option<Client>, StoreError> {
        let row: Option<ClientRow> = self
            .first_on(
                source,
                "SELECT c.client_id, c.name, c.secret_hash, c.grant_types, c.default_audience, \
                   c.refresh_absolute_lifetime, c.refresh_idle_lifetime, c.refresh_reuse_interval, \
                   c.id_token_signed_response_alg, c.client_metadata, \
                   c.redirect_uris, c.web_origins, c.allowed_logout_urls, c.initiate_login_uri, \
                   (SELECT json_group_array(json_object( \
                      'api', json_object('identifier', a.identifier, 'name', a.name, \
                                         'scopes', json(a.scopes), 'token_lifetime', a.token_lifetime, \
                                         'rbac_enabled', json(CASE a.rbac_enabled WHEN 0 THEN 'false' ELSE 'true' END), \
                                         'token_permissions', json(CASE a.token_permissions WHEN 0 THEN 'false' ELSE 'true' END), \
                                         'user_grantable_scopes', json(a.user_grantable_scopes), \
                                         'signing_alg', a.signing_alg), \
                      'scopes', json(g.scopes))) \
                    FROM client_grants g JOIN apis a ON a.identifier = g.audience \
                    WHERE g.client_id = c.client_id) AS grants \
                 FROM clients c WHERE c.client_id = ?1",
                &[client_id.into()],
            )
            .settle().await?;
        row.map(Client::try_from).transpose()
    }

    /// The API, from `source`.
    pub(super) async fn api_on(
        &self,
        source: Source,
        identifier: &str,
    ) -> Result<Option<Api>, StoreError> {
        let row: Option<ApiRow> = self
            .first_on(
                source,
                &format!("SELECT {API_COLUMNS} FROM apis WHERE identifier = ?1"),
                &[identifier.into()],
            )
            .settle()
            .await?;
        row.map(Api::try_from).transpose()
    }
}

impl<B: Sql> ClientStore for SqlStore<B> {
    async fn client(&self, client_id: &str) -> Result<Option<Client>, StoreError> {
        self.client_on(Source::Cached, client_id).settle().await
    }

    async fn api(&self, identifier: &str) -> Result<Option<Api>, StoreError> {
        self.api_on(Source::Cached, identifier).settle().await
    }

    async fn web_origin_registered(&self, origin: &str) -> Result<bool, StoreError> {
        crate::row! {
            struct Found {
                found: f64,
            }
        }
        let row: Option<Found> = self
            .first_on(
                Source::Cached,
                "SELECT 1 AS found FROM clients, json_each(clients.web_origins) \
                 WHERE json_each.value = ?1 LIMIT 1",
                &[origin.into()],
            )
            .settle()
            .await?;
        Ok(row.is_some_and(|r| r.found == 1.0))
    }
}

/// The columns of an API row.
pub(super) const API_COLUMNS: &str = "identifier, name, scopes, token_lifetime, rbac_enabled, \
    token_permissions, user_grantable_scopes, signing_alg";

impl TryFrom<ClientRow> for Client {
    type Error = StoreError;

    fn try_from(r: ClientRow) -> Result<Self, StoreError> {
        Ok(Client {
            client_id: r.client_id,
            name: r.name,
            secret_hash: r.secret_hash,
            grant_types: json_list("grant_types", &r.grant_types)?,
            default_audience: r.default_audience,
            grants: json("grants", &r.grants)?,
            refresh_absolute_lifetime: int(r.refresh_absolute_lifetime),
            refresh_idle_lifetime: int(r.refresh_idle_lifetime),
            refresh_reuse_interval: int(r.refresh_reuse_interval),
            id_token_signed_response_alg: r.id_token_signed_response_alg,
            client_metadata: json("client_metadata", &r.client_metadata)?,
            redirect_uris: json_list("redirect_uris", &r.redirect_uris)?,
            web_origins: json_list("web_origins", &r.web_origins)?,
            allowed_logout_urls: json_list("allowed_logout_urls", &r.allowed_logout_urls)?,
            initiate_login_uri: r.initiate_login_uri,
        })
    }
}

impl TryFrom<ApiRow> for Api {
    type Error = StoreError;

    fn try_from(r: ApiRow) -> Result<Self, StoreError> {
        Ok(Api {
            identifier: r.identifier,
            name: r.name,
            scopes: json_list("scopes", &r.scopes)?,
            token_lifetime: int(r.token_lifetime),
            rbac_enabled: flag(r.rbac_enabled),
            token_permissions: flag(r.token_permissions),
            signing_alg: r.signing_alg,
            user_grantable_scopes: json_list("user_grantable_scopes", &r.user_grantable_scopes)?,
        })
    }
}
