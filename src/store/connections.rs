//! Connections and their enabled clients (schema in `migrations/0015`).

use super::codec::{int, json, json_arg, json_list, num, opt};
use super::sql::{Source, Sql, Value};
use super::SqlStore;
use crate::error::StoreError;
use crate::model::directory::try_each;
use crate::model::{Connection, Listed, Paging};
use crate::port::settled::Settle;
use crate::port::ConnectionStore;

crate::row! {
    struct ConnectionRow {
        connection_id: String,
        name: String,
        strategy: String,
        display_name: Option<String>,
        options: String,
        metadata: String,
        created_at: f64,
        enabled_clients: String,
    }
}

impl TryFrom<ConnectionRow> for Connection {
    type Error = StoreError;

    fn try_from(r: ConnectionRow) -> Result<Self, StoreError> {
        Ok(Connection {
            id: r.connection_id,
            name: r.name,
            strategy: r.strategy,
            display_name: r.display_name,
            options: json("options", &r.options)?,
            metadata: json("metadata", &r.metadata)?,
            enabled_clients: json_list("enabled_clients", &r.enabled_clients)?,
            created_at: int(r.created_at),
        })
    }
}

/// A connection's columns, its enabled clients as a JSON list (in the order the index gives:
/// D1's SQLite takes no correlation inside a derived table, so it is not ordered in SQL).
const COLUMNS: &str = "c.connection_id, c.name, c.strategy, c.display_name, c.options, \
    c.metadata, c.created_at, \
    (SELECT json_group_array(client_id) FROM connection_clients x \
     WHERE x.connection_id = c.connection_id) AS enabled_clients";

/// Enables the clients of the JSON list `?2` that exist for connection `?1`.
const ENABLE: &str = "INSERT INTO connection_clients (connection_id, client_id) \
    SELECT ?1, value FROM json_each(?2) WHERE value IN (SELECT client_id FROM clients) \
    AND EXISTS (SELECT 1 FROM connections WHERE connection_id = ?1) \
    ON CONFLICT DO NOTHING";
/// Disables the clients of the JSON list `?2` for connection `?1`.
const DISABLE: &str = "DELETE FROM connection_clients WHERE connection_id = ?1 \
    AND client_id IN (SELECT value FROM json_each(?2))";

impl<B: Sql> ConnectionStore for SqlStore<B> {
    async fn all_connections(&self) -> Result<Vec<Connection>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM connections c ORDER BY c.rowid");
        let rows: Vec<ConnectionRow> = self.all_on(Source::Cached, &sql, &[]).settle().await?;
        try_each(rows, Connection::try_from)
    }

    async fn connection(&self, id: &str) -> Result<Option<Connection>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM connections c WHERE c.connection_id = ?1");
        let row: Option<ConnectionRow> = self.first(&sql, &[id.into()]).settle().await?;
        row.map(Connection::try_from).transpose()
    }

    async fn list_connections(
        &self,
        strategy: Option<&str>,
        name: Option<&str>,
        paging: Paging,
    ) -> Result<Listed<Connection>, StoreError> {
        let rows: Listed<ConnectionRow> = self
            .page(
                COLUMNS,
                "FROM connections c WHERE (?1 IS NULL OR c.strategy = ?1) \
                 AND (?2 IS NULL OR c.name = ?2)",
                "c.rowid",
                &[Value::from(strategy), Value::from(name)],
                paging,
            )
            .settle()
            .await?;
        rows.try_map(Connection::try_from)
    }

    async fn create_connection(&self, c: &Connection) -> Result<(), StoreError> {
        let row = [
            c.id.as_str().into(),
            c.name.as_str().into(),
            c.strategy.as_str().into(),
            opt(&c.display_name),
            json_arg(&c.options)?,
            json_arg(&c.metadata)?,
            num(c.created_at),
        ];
        let clients = [c.id.as_str().into(), json_arg(&c.enabled_clients)?];
        self.batch(&[
            (
                "INSERT INTO connections (connection_id, name, strategy, display_name, options, \
                 metadata, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                &row,
            ),
            (ENABLE, &clients),
        ])
        .settle()
        .await
        .map(|_| ())
    }

    async fn update_connection(&self, c: &Connection) -> Result<bool, StoreError> {
        let row = [
            c.id.as_str().into(),
            opt(&c.display_name),
            json_arg(&c.options)?,
            json_arg(&c.metadata)?,
        ];
        let clients = [c.id.as_str().into(), json_arg(&c.enabled_clients)?];
        let changes = self
            .batch(&[
                (
                    "UPDATE connections SET display_name = ?2, options = ?3, metadata = ?4 \
                     WHERE connection_id = ?1",
                    &row,
                ),
                (
                    "DELETE FROM connection_clients WHERE connection_id = ?1 \
                     AND client_id NOT IN (SELECT value FROM json_each(?2))",
                    &clients,
                ),
                (ENABLE, &clients),
            ])
            .settle()
            .await?;
        Ok(changes.first().copied().unwrap_or(0) > 0)
    }

    async fn set_connection_clients(
        &self,
        id: &str,
        changes: &[(String, bool)],
    ) -> Result<bool, StoreError> {
        let pick = |on: bool| -> Vec<&str> {
            changes
                .iter()
                .filter(|(_, e)| *e == on)
                .map(|(c, _)| c.as_str())
                .collect()
        };
        let enable = [id.into(), json_arg(&pick(true))?];
        let disable = [id.into(), json_arg(&pick(false))?];
        let found = [id.into()];
        let outcomes = self
            .batch_on(
                Source::Primary,
                &[
                    (
                        "SELECT connection_id FROM connections WHERE connection_id = ?1",
                        &found,
                    ),
                    (DISABLE, &disable),
                    (ENABLE, &enable),
                ],
            )
            .settle()
            .await?;
        Ok(outcomes.first().is_some_and(|o| !o.rows.is_empty()))
    }

    async fn delete_connection(&self, id: &str) -> Result<bool, StoreError> {
        let arg = [id.into()];
        let changes = self
            .batch(&[
                (
                    "DELETE FROM identities WHERE connection = \
                     (SELECT name FROM connections WHERE connection_id = ?1)",
                    &arg,
                ),
                (
                    "DELETE FROM users WHERE connection = \
                     (SELECT name FROM connections WHERE connection_id = ?1)",
                    &arg,
                ),
                ("DELETE FROM connections WHERE connection_id = ?1", &arg),
            ])
            .settle()
            .await?;
        Ok(changes.get(2).copied().unwrap_or(0) > 0)
    }
}
