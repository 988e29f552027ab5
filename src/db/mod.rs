//! Storage: one Diesel code base for SQLite and PostgreSQL.
//!
//! Error tiers (see also `crate::error`): model functions return `QueryResult<T>`; request
//! handlers turn those into `AppError`; start-up and CLI code use `anyhow`.

pub mod models;
pub mod schema;

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to whichever backend the database URL named.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Sqlite(diesel::SqliteConnection),
    Pg(diesel::PgConnection),
}

/// Which backend a database URL selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database URL, parsed: the backend is chosen by the scheme, never guessed by trying.
#[derive(Clone, Debug)]
pub struct DbUrl {
    pub backend: Backend,
    /// What the driver gets: a file path for SQLite, the URL itself for PostgreSQL.
    pub target: String,
}

impl DbUrl {
    pub fn parse(url: &str) -> Result<DbUrl, String> {
        let url = url.trim();
        if url.is_empty() {
            return Err("DATABASE_URL is empty".into());
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DbUrl { backend: Backend::Postgres, target: url.to_string() });
        }
        let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
        if path.contains("://") {
            return Err(format!("DATABASE_URL {url:?}: unsupported scheme (use a file path, sqlite://PATH or postgres://…)"));
        }
        if path.is_empty() {
            return Err(format!("DATABASE_URL {url:?}: no SQLite file path"));
        }
        Ok(DbUrl { backend: Backend::Sqlite, target: path.to_string() })
    }
}

/// r2d2 manager that opens the backend the URL names and sets SQLite up for concurrent use.
#[derive(Clone, Debug)]
pub struct Manager {
    url: DbUrl,
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        match self.url.backend {
            Backend::Sqlite => {
                let mut c = diesel::SqliteConnection::establish(&self.url.target)
                    .map_err(r2d2::Error::ConnectionError)?;
                // WAL lets readers run beside the writer; NORMAL loses nothing when the process
                // is killed (only on power loss); the busy timeout makes writers queue, not fail.
                // Checkpoints run on their own (`checkpoint`), not inside a committing save.
                c.batch_execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 0;",
                )
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConn::Sqlite(c))
            }
            Backend::Postgres => diesel::PgConnection::establish(&self.url.target)
                .map(DbConn::Pg)
                .map_err(r2d2::Error::ConnectionError),
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1").map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        AnsiOrMulti::is_broken(conn)
    }
}

struct AnsiOrMulti;
impl AnsiOrMulti {
    fn is_broken(conn: &mut DbConn) -> bool {
        <DbConn as Connection>::TransactionManager::is_broken_transaction_manager(conn)
    }
}

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConn = r2d2::PooledConnection<Manager>;

/// Opens a pool and brings the schema up to date.
pub fn connect(url: &DbUrl, max_size: u32) -> anyhow::Result<Pool> {
    let pool = r2d2::Pool::builder()
        .max_size(max_size)
        .connection_timeout(Duration::from_secs(30))
        // a broken connection fails its query and is dropped; a probe query per checkout
        // would double the statements on the hot path
        .test_on_check_out(false)
        .build(Manager { url: url.clone() })
        .map_err(|e| anyhow::anyhow!("cannot open database {}: {e}", url.target))?;
    let mut conn = pool.get()?;
    run_migrations(&mut conn)?;
    Ok(pool)
}

pub fn run_migrations(conn: &mut DbConn) -> anyhow::Result<()> {
    let result = match conn {
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ()),
        DbConn::Pg(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|_| ()),
    };
    result.map_err(|e| anyhow::anyhow!("database migration failed: {e}"))
}

/// Copies the SQLite write-ahead log back into the database file without blocking writers.
/// The server calls this every second from a background task, so a commit never pays for a
/// checkpoint (and its fsync). No-op on PostgreSQL.
pub fn checkpoint(conn: &mut DbConn) -> QueryResult<()> {
    match conn {
        DbConn::Sqlite(c) => c.batch_execute("PRAGMA wal_checkpoint(PASSIVE)"),
        DbConn::Pg(_) => Ok(()),
    }
}

/// Checkpoints the whole SQLite log and starts it again from its beginning (the writer calls
/// this between batches). No-op on PostgreSQL.
pub fn restart_log(conn: &mut DbConn) -> QueryResult<()> {
    match conn {
        DbConn::Sqlite(c) => {
            let _writer = SQLITE_WRITER.lock().unwrap_or_else(|p| p.into_inner());
            c.batch_execute("PRAGMA wal_checkpoint(RESTART)")
        }
        DbConn::Pg(_) => Ok(()),
    }
}

impl DbConn {
    pub fn backend(&self) -> Backend {
        match self {
            DbConn::Sqlite(_) => Backend::Sqlite,
            DbConn::Pg(_) => Backend::Postgres,
        }
    }
}

/// Runs `f` in a write transaction. On SQLite it begins with `BEGIN IMMEDIATE`, so the write
/// lock is taken up front (and waited for under the busy timeout) instead of failing with
/// "database is locked" when a deferred transaction tries to upgrade.
pub fn write_tx<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let _writer = match conn {
        DbConn::Sqlite(c) => {
            let guard = SQLITE_WRITER.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
            Some(guard)
        }
        DbConn::Pg(_) => {
            <DbConn as Connection>::TransactionManager::begin_transaction(conn)?;
            None
        }
    };
    match f(conn) {
        Ok(value) => {
            <DbConn as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => {
            <DbConn as Connection>::TransactionManager::rollback_transaction(conn)?;
            Err(e)
        }
    }
}

/// Runs the same Diesel expression on whichever backend the connection is, for the few
/// statements (upserts) that the multi-backend type cannot express.
#[macro_export]
macro_rules! per_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite($c) => $body,
            $crate::db::DbConn::Pg($c) => $body,
        }
    };
}

/// One writer at a time per process on SQLite: waiting on a mutex is fair and immediate, where
/// SQLite's own busy handler sleeps in growing steps and turns contention into latency spikes.
static SQLITE_WRITER: std::sync::Mutex<()> = std::sync::Mutex::new(());
