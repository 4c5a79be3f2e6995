//! Every storage port, written once as SQL over the [`sql`] port (schema in `migrations/`,
//! described in `docs/storage.md`): one file per port, one [`codec`] that every table's values
//! go through, and [`SqlStore`], which holds a database and is every port at once. Backends:
//! D1 in the Worker (`edge::d1`) and, natively, SQLite ([`sqlite`]) on the same migrations.

mod access;
mod attempts;
mod claims;
mod clients;
pub mod codec;
mod codes;
mod connections;
mod exchange;
mod keys;
mod logs;
mod mail;
mod mfa;
mod refresh;
mod registry;
mod sessions;
pub mod sql;
#[cfg(not(target_arch = "wasm32"))]
pub mod sqlite;
mod subjects;
mod users;

use crate::error::StoreError;
use crate::model::{Listed, Paging};
use crate::port::settled::Settle;
use crate::port::*;
use codec::{backend, int, num};
use sql::{FromRow, Outcome, Source, Sql, Statement, Value};

/// The storage ports over one database. The Worker makes one per request (each request has
/// its own D1 sessions); native tests one per tenant.
pub struct SqlStore<B> {
    db: B,
    /// The wall clock in Unix seconds, for bookkeeping columns only (`created_at` of clients,
    /// APIs, rules and hooks); every decision takes its time from the caller.
    wall_clock: fn() -> u64,
}

impl<B: Sql> SqlStore<B> {
    pub fn new(db: B, wall_clock: fn() -> u64) -> Self {
        Self { db, wall_clock }
    }

    /// The database underneath.
    pub fn db(&self) -> &B {
        &self.db
    }

    /// Now, for a bookkeeping column.
    fn now(&self) -> Value {
        num((self.wall_clock)())
    }

    /// Runs a statement on the primary and returns how many rows it changed.
    async fn run(&self, sql: &str, args: &[Value]) -> Result<usize, StoreError> {
        Ok(self
            .db
            .execute(Source::Primary, sql, args)
            .settle()
            .await?
            .changes)
    }

    /// Runs statements on the primary as one batch (one transaction: all or none) and returns
    /// how many rows each changed.
    async fn batch(&self, statements: &[Statement<'_>]) -> Result<Vec<usize>, StoreError> {
        Ok(self
            .batch_on(Source::Primary, statements)
            .settle()
            .await?
            .iter()
            .map(|o| o.changes)
            .collect())
    }

    /// Runs statements on `source` as one batch (one round trip, one transaction) and returns
    /// their outcomes, one per statement.
    async fn batch_on(
        &self,
        source: Source,
        statements: &[Statement<'_>],
    ) -> Result<Vec<Outcome>, StoreError> {
        let outcomes = self.db.batch(source, statements).settle().await?;
        if outcomes.len() != statements.len() {
            return Err(backend("batch returned too few results"));
        }
        Ok(outcomes)
    }

    /// A write no request waits for (log events), after the response.
    async fn batch_after_response(&self, statements: &[Statement<'_>]) -> Result<(), StoreError> {
        self.batch_on(Source::Background, statements)
            .settle()
            .await
            .map(|_| ())
    }

    /// Every row of a read on `source`.
    async fn all_on<T: FromRow>(
        &self,
        source: Source,
        sql: &str,
        args: &[Value],
    ) -> Result<Vec<T>, StoreError> {
        self.db.execute(source, sql, args).settle().await?.all()
    }

    /// The first row of a read (or a write's `RETURNING`) on the primary.
    async fn first<T: FromRow>(&self, sql: &str, args: &[Value]) -> Result<Option<T>, StoreError> {
        self.first_on(Source::Primary, sql, args).settle().await
    }

    /// The first row of a read on `source`.
    async fn first_on<T: FromRow>(
        &self,
        source: Source,
        sql: &str,
        args: &[Value],
    ) -> Result<Option<T>, StoreError> {
        self.db.execute(source, sql, args).settle().await?.first()
    }

    /// One page of `SELECT {columns} {from} ORDER BY {order}` on the primary, with the count
    /// of every row it selects, in one batch. `from` takes `args` from `?1`.
    async fn page<T: FromRow>(
        &self,
        columns: &str,
        from: &str,
        order: &str,
        args: &[Value],
        paging: Paging,
    ) -> Result<Listed<T>, StoreError> {
        let (items, total) = self
            .page_rows(columns, from, order, args, paging)
            .settle()
            .await?;
        Ok(Listed {
            items: items.all()?,
            total,
        })
    }

    /// [`Self::page`]'s statements and total, the same for every row type (so one copy).
    async fn page_rows(
        &self,
        columns: &str,
        from: &str,
        order: &str,
        args: &[Value],
        paging: Paging,
    ) -> Result<(Outcome, u64), StoreError> {
        let n = args.len();
        let select = format!(
            "SELECT {columns} {from} ORDER BY {order} LIMIT ?{} OFFSET ?{}",
            n + 1,
            n + 2
        );
        let count = format!("SELECT count(*) AS total {from}");
        let mut page_args = args.to_vec();
        page_args.push(num(paging.limit));
        page_args.push(num(paging.offset));
        let [items, totals] = self
            .batch_on(Source::Primary, &[(&select, &page_args), (&count, args)])
            .settle()
            .await?
            .try_into()
            .map_err(|_| backend("batch returned too few results"))?;
        let totals: Vec<Total> = totals.all()?;
        Ok((items, totals.first().map_or(0, |t| int(t.total))))
    }
}

crate::row! {
    /// A `count(*) AS total` row.
    struct Total {
        total: f64,
    }
}

/// Every port is this store's own; a backend that caches some (the Worker's) wraps it.
macro_rules! every_port {
    ($($has:ident :: $get:ident -> $port:ident),* $(,)?) => {$(
        impl<B: Sql> $has for SqlStore<B> {
            fn $get(&self) -> &impl $port {
                self
            }
        }
    )*};
}

every_port! {
    HasClients::clients -> ClientStore,
    HasConnections::connections -> ConnectionStore,
    HasKeys::keys -> KeyStore,
    HasUsers::users -> UserStore,
    HasAttempts::attempts -> AttemptStore,
    HasRefresh::refresh -> RefreshStore,
    HasExchange::exchange -> ExchangeStore,
    HasClaims::claims -> ClaimsStore,
    HasCodes::codes -> CodeStore,
    HasSessions::sessions -> SessionStore,
    HasSubjects::subjects -> SubjectStore,
    HasRoles::roles -> RoleStore,
    HasOrganizations::organizations -> OrganizationStore,
    HasRegistry::registry -> RegistryStore,
    HasLogs::logs -> LogStore,
    HasMail::mail -> MailStore,
    HasMfa::mfa -> MfaStore,
}
