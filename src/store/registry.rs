//! Clients, grants and APIs as the management API writes them (schema in `migrations/`).
//! Foreign keys cascade deletes; grant writes check the client and the API in the statement.

use super::clients::{ApiRow, ClientRow, API_COLUMNS};
use super::codec::{flag_arg, json_arg, json_list, num, opt};
use super::sql::{Source, Sql, Value};
use super::SqlStore;
use crate::error::StoreError;
use crate::model::{Api, Client, ClientGrant, Listed, Paging};
use crate::port::settled::Settle;
use crate::port::RegistryStore;

const CLIENT_COLUMNS: &str = "client_id, name, secret_hash, grant_types, default_audience, \
    refresh_absolute_lifetime, refresh_idle_lifetime, refresh_reuse_interval, \
    id_token_signed_response_alg, client_metadata, redirect_uris, web_origins, \
    allowed_logout_urls, initiate_login_uri, '[]' AS grants";

crate::row! {
    struct GrantRow {
        client_id: String,
        audience: String,
        scopes: String,
    }
}

/// Stores a new client row (`client_args`).
const INSERT_CLIENT: &str =
    "INSERT INTO clients (client_id, name, secret_hash, grant_types, default_audience, \
     refresh_absolute_lifetime, refresh_idle_lifetime, refresh_reuse_interval, \
     id_token_signed_response_alg, client_metadata, redirect_uris, web_origins, \
     allowed_logout_urls, created_at, updated_at, initiate_login_uri) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14, ?15)";

/// The arguments of a client row, `?1` the id, `?14` the time, `?15` the login URI.
fn client_args(c: &Client, now: Value) -> Result<Vec<Value>, StoreError> {
    Ok(vec![
        c.client_id.as_str().into(),
        c.name.as_str().into(),
        opt(&c.secret_hash),
        json_arg(&c.grant_types)?,
        opt(&c.default_audience),
        num(c.refresh_absolute_lifetime),
        num(c.refresh_idle_lifetime),
        num(c.refresh_reuse_interval),
        c.id_token_signed_response_alg.as_str().into(),
        json_arg(&c.client_metadata)?,
        json_arg(&c.redirect_uris)?,
        json_arg(&c.web_origins)?,
        json_arg(&c.allowed_logout_urls)?,
        now,
        opt(&c.initiate_login_uri),
    ])
}

/// The arguments of an API row, `?1` the identifier and `?9` the time.
fn api_args(a: &Api, now: Value) -> Result<Vec<Value>, StoreError> {
    Ok(vec![
        a.identifier.as_str().into(),
        a.name.as_str().into(),
        json_arg(&a.scopes)?,
        num(a.token_lifetime),
        flag_arg(a.rbac_enabled),
        flag_arg(a.token_permissions),
        json_arg(&a.user_grantable_scopes)?,
        a.signing_alg.as_str().into(),
        now,
    ])
}

impl<B: Sql> RegistryStore for SqlStore<B> {
    async fn registered_client(&self, client_id: &str) -> Result<Option<Client>, StoreError> {
        self.client_on(Source::Primary, client_id).settle().await
    }

    async fn registered_api(&self, identifier: &str) -> Result<Option<Api>, StoreError> {
        self.api_on(Source::Primary, identifier).settle().await
    }

    async fn list_clients(&self, paging: Paging) -> Result<Listed<Client>, StoreError> {
        let rows: Listed<ClientRow> = self
            .page(CLIENT_COLUMNS, "FROM clients", "rowid", &[], paging)
            .settle()
            .await?;
        rows.try_map(Client::try_from)
    }

    async fn create_client(&self, c: &Client) -> Result<(), StoreError> {
        // A new client signs in through every connection (as a new application does in
        // Auth0's dashboard); `PATCH /connections/{id}/clients` narrows it.
        let args = client_args(c, self.now())?;
        let id = [c.client_id.as_str().into()];
        self.batch(&[
            (INSERT_CLIENT, &args),
            (
                "INSERT INTO connection_clients (connection_id, client_id) \
                 SELECT connection_id, ?1 FROM connections",
                &id,
            ),
        ])
        .settle()
        .await
        .map(|_| ())
    }

    async fn update_client(&self, c: &Client) -> Result<bool, StoreError> {
        let changed = self
            .run(
                "UPDATE clients SET name = ?2, secret_hash = ?3, grant_types = ?4, \
                 default_audience = ?5, refresh_absolute_lifetime = ?6, \
                 refresh_idle_lifetime = ?7, refresh_reuse_interval = ?8, \
                 id_token_signed_response_alg = ?9, client_metadata = ?10, redirect_uris = ?11, \
                 web_origins = ?12, allowed_logout_urls = ?13, updated_at = ?14, \
                 initiate_login_uri = ?15 \
                 WHERE client_id = ?1",
                &client_args(c, self.now())?,
            )
            .settle()
            .await?;
        Ok(changed > 0)
    }

    async fn delete_client(&self, client_id: &str) -> Result<bool, StoreError> {
        let changed = self
            .run(
                "DELETE FROM clients WHERE client_id = ?1",
                &[client_id.into()],
            )
            .settle()
            .await?;
        Ok(changed > 0)
    }

    async fn list_client_grants(
        &self,
        client_id: Option<&str>,
        audience: Option<&str>,
        paging: Paging,
    ) -> Result<Listed<ClientGrant>, StoreError> {
        let arg = |v: Option<&str>| Value::from(v);
        let rows: Listed<GrantRow> = self
            .page(
                "client_id, audience, scopes",
                "FROM client_grants WHERE (?1 IS NULL OR client_id = ?1) \
                 AND (?2 IS NULL OR audience = ?2)",
                "rowid",
                &[arg(client_id), arg(audience)],
                paging,
            )
            .settle()
            .await?;
        rows.try_map(|r| {
            Ok(ClientGrant {
                scopes: json_list("scopes", &r.scopes)?,
                client_id: r.client_id,
                audience: r.audience,
            })
        })
    }

    async fn create_client_grant(&self, g: &ClientGrant) -> Result<bool, StoreError> {
        let now = self.now();
        let changed = self
            .run(
                "INSERT INTO client_grants (client_id, audience, scopes, created_at) \
                 SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM clients WHERE client_id = ?1) \
                 AND EXISTS (SELECT 1 FROM apis WHERE identifier = ?2)",
                &[
                    g.client_id.as_str().into(),
                    g.audience.as_str().into(),
                    json_arg(&g.scopes)?,
                    now,
                ],
            )
            .settle()
            .await?;
        Ok(changed > 0)
    }

    async fn update_client_grant(&self, g: &ClientGrant) -> Result<bool, StoreError> {
        let changed = self
            .run(
                "UPDATE client_grants SET scopes = ?3 WHERE client_id = ?1 AND audience = ?2",
                &[
                    g.client_id.as_str().into(),
                    g.audience.as_str().into(),
                    json_arg(&g.scopes)?,
                ],
            )
            .settle()
            .await?;
        Ok(changed > 0)
    }

    async fn delete_client_grant(
        &self,
        client_id: &str,
        audience: &str,
    ) -> Result<bool, StoreError> {
        let changed = self
            .run(
                "DELETE FROM client_grants WHERE client_id = ?1 AND audience = ?2",
                &[client_id.into(), audience.into()],
            )
            .settle()
            .await?;
        Ok(changed > 0)
    }

    async fn list_apis(&self, paging: Paging) -> Result<Listed<Api>, StoreError> {
        let rows: Listed<ApiRow> = self
            .page(API_COLUMNS, "FROM apis", "rowid", &[], paging)
            .settle()
            .await?;
        rows.try_map(Api::try_from)
    }

    async fn create_api(&self, a: &Api) -> Result<(), StoreError> {
        self.run(
            "INSERT INTO apis (identifier, name, scopes, token_lifetime, rbac_enabled, \
             token_permissions, user_grantable_scopes, signing_alg, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
            &api_args(a, self.now())?,
        )
        .settle()
        .await
        .map(|_| ())
    }

    async fn update_api(&self, a: &Api) -> Result<bool, StoreError> {
        let changed = self
            .run(
                "UPDATE apis SET name = ?2, scopes = ?3, token_lifetime = ?4, rbac_enabled = ?5, \
                 token_permissions = ?6, user_grantable_scopes = ?7, signing_alg = ?8, \
                 updated_at = ?9 WHERE identifier = ?1",
                &api_args(a, self.now())?,
            )
            .settle()
            .await?;
        Ok(changed > 0)
    }

    async fn delete_api(&self, identifier: &str) -> Result<bool, StoreError> {
        // Foreign keys cascade to client_grants and role_permissions, and clear
        // clients.default_audience.
        let changed = self
            .run(
                "DELETE FROM apis WHERE identifier = ?1",
                &[identifier.into()],
            )
            .settle()
            .await?;
        Ok(changed > 0)
    }
}
