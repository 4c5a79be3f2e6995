//! SQLite as the native backend of the SQL port, for `cargo test`: the same SQLite family D1
//! runs (bundled, JSON functions included), with the schema made by running every file of
//! `migrations/` in order, foreign keys enforced as D1 enforces them.
//!
//! It also measures and breaks what D1 would see. Each call is one round trip, counted by
//! kind ([`Sqlite::round_trips`], [`Sqlite::cached_reads`]); a call numbered N can be made to
//! fail ([`Sqlite::fail_call`]), and so can every batch that writes
//! ([`Sqlite::fail_commits`]). Each call first lets the other futures of the thread run
//! (it returns `Pending` once), so requests served together interleave at every round trip,
//! as a Worker's do while D1 answers; each statement and each batch then runs whole, as on
//! D1's single primary.

use super::sql::{backend, Outcome, Row, Source, Sql, Statement, Value};
use crate::error::StoreError;
use crate::port::settled::Settle;
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use std::cell::Cell;
use std::path::Path;

/// One SQLite database in memory, migrated.
pub struct Sqlite {
    conn: Connection,
    round_trips: Cell<u32>,
    cached_reads: Cell<u32>,
    fail_at: Cell<Option<u32>>,
    /// What kind of call the injected failure hit.
    failed: Cell<Option<Source>>,
    failing_commits: Cell<bool>,
}

/// The folder of the migrations D1 runs.
const MIGRATIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");

impl Sqlite {
    /// A fresh database with every migration applied, in file-name order.
    pub fn migrated() -> Result<Self, StoreError> {
        let conn = Connection::open_in_memory().map_err(fail)?;
        conn.execute_batch("PRAGMA foreign_keys = ON;")
            .map_err(fail)?;
        for file in migration_files(Path::new(MIGRATIONS))? {
            let sql = std::fs::read_to_string(&file).map_err(fail)?;
            conn.execute_batch(&sql)
                .map_err(|e| fail(format!("{}: {e}", file.display())))?;
        }
        Ok(Self {
            conn,
            round_trips: Cell::new(0),
            cached_reads: Cell::new(0),
            fail_at: Cell::new(None),
            failed: Cell::new(None),
            failing_commits: Cell::new(false),
        })
    }

    /// Round trips so far that a warm Worker makes too: every call except the
    /// [`Source::Cached`] reads and the [`Source::Background`] writes.
    pub fn round_trips(&self) -> u32 {
        self.round_trips.get()
    }

    /// [`Source::Cached`] reads so far: a warm Worker isolate answers them from its memory.
    pub fn cached_reads(&self) -> u32 {
        self.cached_reads.get()
    }

    /// Calls on a request's path so far, of both kinds: what [`Sqlite::fail_call`] counts.
    pub fn calls(&self) -> u32 {
        self.round_trips.get() + self.cached_reads.get()
    }

    /// Fault injection: the call numbered `n` (as [`Sqlite::calls`] counts them, from 1)
    /// fails with a backend error before it reads or writes anything, as a D1 statement or
    /// batch that fails does. `None` stops failing.
    pub fn fail_call(&self, n: Option<u32>) {
        self.fail_at.set(n);
        self.failed.set(None);
    }

    /// The kind of call [`Sqlite::fail_call`]'s failure hit, once it has.
    pub fn injected_failure(&self) -> Option<Source> {
        self.failed.get()
    }

    /// While on, every batch on the primary that writes fails and writes nothing, as a D1
    /// outage would fail a grant's commit; single statements (the attempt counter) and the
    /// writes after the response (log events) still run.
    pub fn fail_commits(&self, on: bool) {
        self.failing_commits.set(on);
    }

    /// Rows of a read made by a test to look at the database, as JSON objects: not counted,
    /// never failed.
    pub fn peek(&self, sql: &str) -> Result<Vec<serde_json::Value>, StoreError> {
        let rows = self.statement(sql, &[])?.rows;
        Ok(rows.iter().map(json).collect())
    }

    /// Every durable row, for comparing the database before and after a request: every table
    /// but the log events and the password-attempt counters (counted before a password is
    /// checked, on purpose), in a fixed order.
    pub fn durable_state(&self) -> Result<String, StoreError> {
        let tables = self.peek(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             AND name NOT IN ('logs', 'login_failures') ORDER BY name",
        )?;
        let mut state = String::new();
        for table in tables {
            let name = table["name"].as_str().unwrap_or_default();
            let rows = self.peek(&format!("SELECT * FROM \"{name}\" ORDER BY rowid"))?;
            state.push_str(name);
            state.push_str(&serde_json::Value::Array(rows).to_string());
            state.push('\n');
        }
        Ok(state)
    }

    /// Counts a call of `source` and fails it when it is the one to fail.
    fn count(&self, source: Source) -> Result<(), StoreError> {
        let counter = match source {
            Source::Background => return Ok(()),
            Source::Cached => &self.cached_reads,
            Source::Primary | Source::Replica => &self.round_trips,
        };
        counter.set(counter.get() + 1);
        if self.fail_at.get() == Some(self.calls()) {
            self.failed.set(Some(source));
            return Err(StoreError::backend("sqlite", "injected failure"));
        }
        Ok(())
    }

    /// Runs one statement.
    fn statement(&self, sql: &str, args: &[Value]) -> Result<Outcome, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(fail)?;
        // D1 refuses a statement given another number of arguments than its highest `?N`
        // ("Wrong number of parameter bindings"): so does this backend, so a statement that
        // would fail on D1 fails here first.
        let named = stmt.parameter_count();
        if named != args.len() {
            return Err(fail(format!(
                "Wrong number of parameter bindings for SQL query: {} given, {named} named",
                args.len()
            )));
        }
        for (i, arg) in args.iter().enumerate() {
            let i = i + 1;
            match arg {
                Value::Null => stmt.raw_bind_parameter(i, rusqlite::types::Null),
                Value::Int(n) => stmt.raw_bind_parameter(i, n),
                Value::Real(x) => stmt.raw_bind_parameter(i, x),
                Value::Text(s) => stmt.raw_bind_parameter(i, s),
            }
            .map_err(fail)?;
        }
        let writes = !stmt.readonly();
        let columns: std::rc::Rc<[String]> = stmt.column_names().map(str::to_string).collect();
        let mut rows = Vec::new();
        let mut raw = stmt.raw_query();
        while let Some(row) = raw.next().map_err(fail)? {
            let mut values = Vec::with_capacity(columns.len());
            for (i, name) in columns.iter().enumerate() {
                values.push(match row.get_ref(i).map_err(fail)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(n) => Value::Int(n),
                    ValueRef::Real(x) => Value::Real(x),
                    ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(_) => return Err(fail(format!("{name}: a BLOB"))),
                });
            }
            rows.push(Row::new(columns.clone(), values));
        }
        drop(raw);
        let changes = if writes {
            usize::try_from(self.conn.changes()).unwrap_or(usize::MAX)
        } else {
            0
        };
        Ok(Outcome { rows, changes })
    }

    /// Whether any of `statements` writes.
    fn writes(&self, statements: &[Statement<'_>]) -> Result<bool, StoreError> {
        for (sql, _) in statements {
            if !self.conn.prepare_cached(sql).map_err(fail)?.readonly() {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

impl Sql for Sqlite {
    async fn execute(
        &self,
        source: Source,
        sql: &str,
        args: &[Value],
    ) -> Result<Outcome, StoreError> {
        yield_now().settle().await;
        self.count(source)?;
        self.statement(sql, args)
    }

    async fn batch(
        &self,
        source: Source,
        statements: &[Statement<'_>],
    ) -> Result<Vec<Outcome>, StoreError> {
        yield_now().settle().await;
        self.count(source)?;
        if self.failing_commits.get() && source != Source::Background && self.writes(statements)? {
            return Err(StoreError::backend("sqlite", "commit failed (test outage)"));
        }
        self.conn.execute_batch("BEGIN").map_err(fail)?;
        let outcomes: Result<Vec<Outcome>, StoreError> = statements
            .iter()
            .map(|(sql, args)| self.statement(sql, args))
            .collect();
        let end = if outcomes.is_ok() {
            "COMMIT"
        } else {
            "ROLLBACK"
        };
        self.conn.execute_batch(end).map_err(fail)?;
        outcomes
    }
}

/// A row as a JSON object, for a test to look at.
fn json(row: &Row) -> serde_json::Value {
    let object = row
        .iter()
        .map(|(name, value)| {
            let value = match value {
                Value::Null => serde_json::Value::Null,
                Value::Int(n) => (*n).into(),
                Value::Real(x) => (*x).into(),
                Value::Text(t) => t.as_str().into(),
            };
            (name.to_string(), value)
        })
        .collect();
    serde_json::Value::Object(object)
}

/// The `.sql` files of `dir`, in name order.
fn migration_files(dir: &Path) -> Result<Vec<std::path::PathBuf>, StoreError> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| fail(format!("{}: {e}", dir.display())))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    Ok(files)
}

fn fail(e: impl std::fmt::Display) -> StoreError {
    backend("sqlite", e)
}

/// Returns `Pending` once, so the executor polls the thread's other futures first.
pub async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .settle()
    .await
}

/// The wall clock, for [`super::SqlStore::new`].
pub fn wall_clock() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pollster::block_on;

    fn turns() -> Sqlite {
        let db = Sqlite::migrated().unwrap();
        db.conn
            .execute_batch("CREATE TABLE turns (n INTEGER PRIMARY KEY, who TEXT UNIQUE)")
            .unwrap();
        db
    }

    fn whos(db: &Sqlite) -> Vec<String> {
        db.peek("SELECT who FROM turns ORDER BY n")
            .unwrap()
            .iter()
            .map(|r| r["who"].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn every_migration_runs_and_foreign_keys_hold() {
        let db = Sqlite::migrated().unwrap();
        let tables = db
            .peek("SELECT name FROM sqlite_schema WHERE type = 'table' AND name = 'signing_keys'")
            .unwrap();
        assert_eq!(tables.len(), 1);
        let orphan = block_on(db.execute(
            Source::Primary,
            "INSERT INTO client_grants (client_id, audience, scopes, created_at) \
             VALUES ('nobody', 'nothing', '[]', 0)",
            &[],
        ));
        assert!(orphan.is_err(), "a grant of no client was stored");
    }

    #[test]
    fn calls_made_together_take_turns_at_each_round_trip() {
        let db = turns();
        let writer = |who: &'static str| {
            let db = &db;
            async move {
                for i in 0..2 {
                    let sql = "INSERT INTO turns (who) VALUES (?1)";
                    let args = [Value::from(format!("{who}{i}"))];
                    db.execute(Source::Primary, sql, &args)
                        .settle()
                        .await
                        .unwrap();
                }
            }
        };
        block_on(futures_util::future::join(writer("a"), writer("b")));
        assert_eq!(whos(&db), ["a0", "b0", "a1", "b1"]);
    }

    #[test]
    fn a_batch_is_all_or_nothing_and_a_failed_call_writes_nothing() {
        let db = turns();
        let insert = "INSERT INTO turns (who) VALUES (?1)";
        let (x, y) = ([Value::from("x")], [Value::from("y")]);
        let twice =
            block_on(db.batch(Source::Primary, &[(insert, &x), (insert, &y), (insert, &x)]));
        assert!(matches!(twice, Err(StoreError::Conflict(_))), "{twice:?}");
        assert!(whos(&db).is_empty(), "a failed batch left rows");
        let done = block_on(db.batch(Source::Primary, &[(insert, &x), (insert, &y)])).unwrap();
        assert_eq!(done.iter().map(|o| o.changes).collect::<Vec<_>>(), [1, 1]);

        db.fail_call(Some(db.calls() + 1));
        let z = [Value::from("z")];
        assert!(block_on(db.execute(Source::Primary, insert, &z)).is_err());
        assert_eq!(db.injected_failure(), Some(Source::Primary));
        assert_eq!(whos(&db), ["x", "y"]);
        db.fail_call(None);
        block_on(db.execute(Source::Primary, insert, &z)).unwrap();
        assert_eq!(whos(&db), ["x", "y", "z"]);
    }

    #[test]
    fn reads_kept_in_memory_and_writes_after_the_response_are_counted_apart() {
        let db = turns();
        block_on(db.execute(Source::Cached, "SELECT 1", &[])).unwrap();
        block_on(db.execute(Source::Primary, "SELECT 1", &[])).unwrap();
        block_on(db.batch(Source::Replica, &[("SELECT 1", &[]), ("SELECT 2", &[])])).unwrap();
        block_on(db.batch(Source::Background, &[("SELECT 1", &[])])).unwrap();
        assert_eq!((db.round_trips(), db.cached_reads(), db.calls()), (2, 1, 3));
    }
}
