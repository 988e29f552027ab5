//! Storage: one Diesel code base for SQLite and PostgreSQL.
//!
//! Error tiers (see also `crate::error`): model functions return `QueryResult<T>`; request
//! handlers turn those into `AppError`; start-up and CLI code use `anyhow`.

pub mod ids;
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
                let mut c = diesel::SqliteConnection::establish(&self.url.target).map_err(r2d2::Error::ConnectionError)?;
                // WAL lets readers run beside the writer; NORMAL loses nothing when the process
                // is killed (only on power loss); the busy timeout makes writers queue, not fail.
                // Checkpoints run on their own (`checkpoint`), not inside a committing save.
                c.batch_execute(&format!(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                         PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 0;"
                ))
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConn::Sqlite(c))
            }
            Backend::Postgres => diesel::PgConnection::establish(&self.url.target).map(DbConn::Pg).map_err(r2d2::Error::ConnectionError),
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
    connect_noting_new(url, max_size).map(|(pool, _)| pool)
}

/// Opens a pool and brings the schema up to date; also says whether the database was new,
/// that is held no table at all before (a SQLite file created now, an empty PostgreSQL
/// database), so that a start never mistakes an existing database for its own.
pub fn connect_noting_new(url: &DbUrl, max_size: u32) -> anyhow::Result<(Pool, bool)> {
    let pool = r2d2::Pool::builder()
        .max_size(max_size)
        .connection_timeout(Duration::from_secs(30))
        // a broken connection fails its query and is dropped; a probe query per checkout
        // would double the statements on the hot path
        .test_on_check_out(false)
        .build(Manager { url: url.clone() })
        .map_err(|e| anyhow::anyhow!("cannot open database {}: {e}", url.target))?;
    let mut conn = pool.get()?;
    let new = table_count(&mut conn)? == 0;
    run_migrations(&mut conn)?;
    drop(conn);
    Ok((pool, new))
}

/// Tables in the database (SQLite) or in the connection's current schema (PostgreSQL).
fn table_count(conn: &mut DbConn) -> anyhow::Result<i64> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let c: Count = match conn {
        DbConn::Sqlite(c) => diesel::sql_query("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'").get_result(c),
        DbConn::Pg(c) => {
            diesel::sql_query("SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = current_schema()").get_result(c)
        }
    }
    .map_err(|e| anyhow::anyhow!("cannot read the database's tables: {e}"))?;
    Ok(c.n)
}

pub fn run_migrations(conn: &mut DbConn) -> anyhow::Result<()> {
    let result = match conn {
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ()),
        DbConn::Pg(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|_| ()),
    };
    result.map_err(|e| anyhow::anyhow!("database migration failed: {e}"))
}

/// Whether migrations this build knows are not yet applied to the database.
pub fn has_pending_migrations(conn: &mut DbConn) -> anyhow::Result<bool> {
    let pending = match conn {
        DbConn::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
        DbConn::Pg(c) => c.has_pending_migration(POSTGRES_MIGRATIONS),
    };
    pending.map_err(|e| anyhow::anyhow!("reading the applied migrations: {e}"))
}

/// Held while a checkpoint runs: SQLite allows one checkpointer at a time, and a second one
/// would sit in the busy handler, so the writer skips its log restart rather than wait.
static SQLITE_CHECKPOINTING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Copies the SQLite write-ahead log back into the database file (and syncs it) without
/// blocking writers. A background thread calls this every `LAWCERT_CHECKPOINT_MS`, so the copy
/// and its fsync happen beside the writer, never in a commit. No-op on PostgreSQL.
pub fn checkpoint(conn: &mut DbConn) -> QueryResult<()> {
    match conn {
        DbConn::Sqlite(c) => {
            let _one = SQLITE_CHECKPOINTING.lock().unwrap_or_else(|p| p.into_inner());
            c.batch_execute("PRAGMA wal_checkpoint(PASSIVE)")
        }
        DbConn::Pg(_) => Ok(()),
    }
}

/// The busy timeout every SQLite connection has (`Manager::connect`).
const SQLITE_BUSY_TIMEOUT_MS: u32 = 10_000;

/// Starts the SQLite log again from its beginning (the writer calls this between batches):
/// the background checkpoint has just copied almost all of it, so little is left to copy.
/// Skipped (false) while a background checkpoint is running, or while a reader still reads
/// from the log. No-op on PostgreSQL.
///
/// The save writer does not wait for that reader (`wait_for_readers` false): a RESTART
/// checkpoint waits for readers in the busy handler, which sleeps 1, 2, 5, 10 … ms, and the
/// writer would hold its lock meanwhile, so every save queued behind it waited too (25–50 ms a
/// few times a second once session reads began, BENCHMARKS.md, eighth round). Skipped, it is
/// tried again after the next batch. A restore, which must fold the whole log in, waits (up
/// to the busy timeout).
pub fn restart_log(conn: &mut DbConn, wait_for_readers: bool) -> QueryResult<bool> {
    #[derive(diesel::QueryableByName)]
    struct Outcome {
        /// 1 when a reader (or another checkpoint) kept it from finishing
        #[diesel(sql_type = diesel::sql_types::Integer)]
        busy: i32,
    }
    match conn {
        DbConn::Sqlite(c) => {
            let Ok(_one) = SQLITE_CHECKPOINTING.try_lock() else { return Ok(false) };
            let _writer = SQLITE_WRITER.lock().unwrap_or_else(|p| p.into_inner());
            if wait_for_readers {
                return Ok(diesel::sql_query("PRAGMA wal_checkpoint(RESTART)").get_result::<Outcome>(c)?.busy == 0);
            }
            c.batch_execute("PRAGMA busy_timeout = 0")?;
            let outcome = diesel::sql_query("PRAGMA wal_checkpoint(RESTART)").get_result::<Outcome>(c);
            c.batch_execute(&format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}"))?;
            Ok(outcome?.busy == 0)
        }
        DbConn::Pg(_) => Ok(false),
    }
}

/// When the save writer restarts the SQLite log between batches. Under a steady stream of
/// saves the background checkpoint never catches up with the log, which then grows and makes
/// every append allocate; restarting it at most every `every`, between batches and only when
/// no background checkpoint is running, keeps it small and overwritten in place.
pub struct LogRestarts {
    /// None once the pool turns out to be PostgreSQL, which has no such log.
    every: Option<Duration>,
    last: std::time::Instant,
}

/// A log restart slower than this is logged: the writer holds its lock through it.
const SLOW_RESTART: Duration = Duration::from_millis(10);

impl LogRestarts {
    pub fn every(every: Duration) -> LogRestarts {
        LogRestarts { every: Some(every), last: std::time::Instant::now() }
    }

    /// Called after each committed batch; restarts the log when it is due. No-op on PostgreSQL.
    pub fn after_batch(&mut self, pool: &Pool) {
        if self.every.is_none_or(|every| self.last.elapsed() < every) {
            return;
        }
        let Ok(mut conn) = pool.get() else { return };
        if conn.backend() == Backend::Postgres {
            self.every = None;
            return;
        }
        let began = std::time::Instant::now();
        let restarted = restart_log(&mut conn, false);
        let took = began.elapsed();
        if took > SLOW_RESTART {
            // every save queued meanwhile waits for it
            tracing::warn!(took_ms = took.as_millis() as u64, restarted = matches!(restarted, Ok(true)), "slow log restart");
        }
        match restarted {
            Ok(true) => self.last = std::time::Instant::now(),
            Ok(false) => {} // a background checkpoint or a reader: after the next batch
            Err(e) => eprintln!("save writer: checkpoint: {e}"),
        }
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

/// On PostgreSQL, makes this transaction the only one appending to the chained logs (the audit
/// log and the training files) until it ends; SQLite has one writer anyway. One lock for both:
/// with a lock each, a transaction appending audit then training entries and another appending
/// training then audit entries deadlock, and PostgreSQL aborts one of them.
pub(crate) fn lock_appends(conn: &mut DbConn) -> diesel::QueryResult<()> {
    if let DbConn::Pg(c) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(727001)").execute(c)?;
    }
    Ok(())
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

/// Takes a consistent copy of a live SQLite database into `dest` (`VACUUM INTO`: one read
/// transaction, so writers carry on and the copy is one moment's state, compacted).
pub fn sqlite_backup(conn: &mut DbConn, dest: &std::path::Path) -> anyhow::Result<()> {
    let DbConn::Sqlite(c) = conn else {
        anyhow::bail!("lawcert backup copies SQLite databases; back up PostgreSQL with pg_dump (see README.md)")
    };
    if dest.exists() {
        anyhow::bail!("{} exists: choose a new file, a backup never overwrites one", dest.display());
    }
    let path = dest.to_str().ok_or_else(|| anyhow::anyhow!("{}: the path is not UTF-8", dest.display()))?;
    diesel::sql_query("VACUUM INTO ?").bind::<diesel::sql_types::Text, _>(path).execute(c)?;
    Ok(())
}

/// Checks that `file` is an intact lawcert SQLite database: SQLite's integrity check passes and
/// it has lawcert's migrations. Returns (migrations applied, audit entries).
pub fn sqlite_check_backup(file: &std::path::Path) -> anyhow::Result<(i64, i64)> {
    use diesel::sqlite::SqliteConnection;
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        integrity_check: String,
    }
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let path = file.to_str().ok_or_else(|| anyhow::anyhow!("{}: the path is not UTF-8", file.display()))?;
    let mut c = SqliteConnection::establish(&format!("file:{path}?mode=ro")).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let rows: Vec<Row> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut c)
        .map_err(|e| anyhow::anyhow!("{}: not a SQLite database ({e})", file.display()))?;
    if rows.first().map(|r| r.integrity_check.as_str()) != Some("ok") {
        anyhow::bail!("{}: damaged: {}", file.display(), rows.iter().map(|r| r.integrity_check.as_str()).collect::<Vec<_>>().join("; "));
    }
    let m: Count = diesel::sql_query("SELECT COUNT(*) AS n FROM __diesel_schema_migrations")
        .get_result(&mut c)
        .map_err(|_| anyhow::anyhow!("{}: not a lawcert database (no migrations table)", file.display()))?;
    let a: Count = diesel::sql_query("SELECT COUNT(*) AS n FROM audit_log").get_result(&mut c).unwrap_or(Count { n: 0 });
    Ok((m.n, a.n))
}
