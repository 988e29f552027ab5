//! Test fixtures: every test gets its own database, copied from a template that was migrated,
//! loaded with the shipped banks and seeded with the demo bureau once per test process.
//!
//! Backend: SQLite files by default; PostgreSQL when `LAWCERT_TEST_POSTGRES` holds a server
//! URL (e.g. `postgres://postgres@127.0.0.1:5432`). If that server cannot be reached the tests
//! fail: a backend is never skipped silently.

use lawcert::domain::ids::{JobId, UnitId, UserId, VersionId};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use diesel::{Connection, PgConnection, RunQueryDsl};
use lawcert::clock::Clock;
use lawcert::config::Config;
use lawcert::db::models::org;
use lawcert::db::{DbConn, PooledConn};
use rocket::http::{ContentType, Header, Status};
use rocket::local::blocking::{Client, LocalResponse};
use serde_json::Value;

pub const PASSWORD: &str = "lawcert-demo";
pub const TEST_SECRET: &str = "9f3c2a1b4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8";

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn postgres_server() -> Option<String> {
    std::env::var("LAWCERT_TEST_POSTGRES").ok().filter(|s| !s.trim().is_empty())
}

pub fn base_config(url: &str, extra: &[(&str, &str)]) -> Config {
    let url = url.to_string();
    let questions = repo_root().join("questions").display().to_string();
    let extra: Vec<(String, String)> = extra.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Config::from_lookup(move |k| match k {
        k if extra.iter().any(|(e, _)| e == k) => extra.iter().find(|(e, _)| e == k).map(|(_, v)| v.clone()),
        "DATABASE_URL" => Some(url.clone()),
        "LAWCERT_QUESTIONS" => Some(questions.clone()),
        "LAWCERT_DEMO" => Some("1".into()),
        "LAWCERT_SWEEP_SECONDS" => Some("1".into()),
        "LAWCERT_DATED_SWEEP_SECONDS" => Some("1".into()),
        "LAWCERT_DB_POOL" => Some("4".into()),
        // many test servers share two cores, where the runtime often runs late: refusing saves
        // for that would make journeys depend on the machine's load. The journeys about refusal
        // set it (operations.rs)
        "LAWCERT_SAVE_MAX_LAG_MS" => Some("0".into()),
        // e-mail goes to a folder of the test's own (the PostgreSQL default is ./lawcert-mail)
        "LAWCERT_MAIL_DIR" => Some(std::env::temp_dir().join("lawcert-test-mail").display().to_string()),
        _ => None,
    })
    .expect("test config")
}

enum Template {
    /// The folder is kept so the template file lives as long as the test process.
    Sqlite(PathBuf, #[expect(dead_code)] tempfile::TempDir),
    Postgres(String),
}

static TEMPLATE: OnceLock<Template> = OnceLock::new();

fn pg_admin(server: &str) -> PgConnection {
    PgConnection::establish(&format!("{}/postgres", server.trim_end_matches('/')))
        .unwrap_or_else(|e| panic!("LAWCERT_TEST_POSTGRES={server} is set but PostgreSQL cannot be reached: {e}"))
}

fn template() -> &'static Template {
    TEMPLATE.get_or_init(|| match postgres_server() {
        None => {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("template.db");
            let cfg = base_config(path.to_str().unwrap(), &[]);
            let pool = lawcert::prepare(&cfg, &Clock::default()).expect("template database");
            let mut c = pool.get().unwrap();
            diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&mut *c).unwrap();
            drop(c);
            drop(pool);
            Template::Sqlite(path, dir)
        }
        Some(server) => {
            let name = format!("lawcert_tpl_{}", std::process::id());
            let mut admin = pg_admin(&server);
            // templates and databases left by an earlier, interrupted run
            #[derive(diesel::QueryableByName)]
            struct Db {
                #[diesel(sql_type = diesel::sql_types::Text)]
                datname: String,
            }
            let stale: Vec<Db> =
                diesel::sql_query("SELECT datname FROM pg_database WHERE datname LIKE 'lawcert_t%'").load(&mut admin).unwrap();
            // only those of processes that have ended: another run may be going on beside this one
            for db in stale.into_iter().filter(|db| !owner_alive(&db.datname)) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", db.datname)).execute(&mut admin);
            }
            diesel::sql_query(format!("DROP DATABASE IF EXISTS {name}")).execute(&mut admin).unwrap();
            diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin).unwrap();
            let cfg = base_config(&format!("{}/{name}", server.trim_end_matches('/')), &[]);
            let pool = lawcert::prepare(&cfg, &Clock::default()).expect("template database");
            drop(pool);
            Template::Postgres(name)
        }
    })
}

/// Whether the test process that named a database (`lawcert_tpl_PID`, `lawcert_t_PID_…`) still
/// runs. Names without a process id (older runs) count as ended.
fn owner_alive(datname: &str) -> bool {
    let rest = datname.trim_start_matches("lawcert_tpl_").trim_start_matches("lawcert_t_");
    let pid = rest.split('_').next().and_then(|p| p.parse::<u32>().ok());
    pid.is_some_and(|pid| pid != std::process::id() && std::path::Path::new(&format!("/proc/{pid}")).exists())
}

/// One test's application with its own database.
pub struct TestApp {
    pub client: Client,
    pub clock: Arc<Clock>,
    pub db_url: String,
    // declared last: dropped after the client, so the database outlives the app
    _db: FreshDb,
}

/// A test's own database, copied from the template; removed when dropped.
pub struct FreshDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

impl Drop for FreshDb {
    fn drop(&mut self) {
        if let (Some(name), Some(server)) = (&self.pg_name, postgres_server()) {
            // FORCE closes any connection still open to it
            let mut admin = pg_admin(&server);
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin);
        }
    }
}

pub fn fresh_database() -> FreshDb {
    match template() {
        Template::Sqlite(path, _) => {
            let dir = tempfile::tempdir().unwrap();
            let db = dir.path().join("test.db");
            std::fs::copy(path, &db).unwrap();
            FreshDb { url: db.display().to_string(), _dir: Some(dir), pg_name: None }
        }
        Template::Postgres(tpl) => {
            let server = postgres_server().unwrap();
            let name = format!("lawcert_t_{}_{}", std::process::id(), &lawcert::auth::random_token()[..12]);
            let mut admin = pg_admin(&server);
            diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {tpl}")).execute(&mut admin).unwrap();
            FreshDb { url: format!("{}/{name}", server.trim_end_matches('/')), _dir: None, pg_name: Some(name) }
        }
    }
}

/// A database that does not exist yet (SQLite: a path in an empty folder) or is empty
/// (PostgreSQL: created without tables), as a bureau's first start finds it.
pub fn empty_database() -> FreshDb {
    match postgres_server() {
        None => {
            let dir = tempfile::tempdir().unwrap();
            let db = dir.path().join("new.db");
            FreshDb { url: db.display().to_string(), _dir: Some(dir), pg_name: None }
        }
        Some(server) => {
            // the template's set-up drops databases left by earlier runs: let it run first
            template();
            let name = format!("lawcert_t_{}_{}", std::process::id(), &lawcert::auth::random_token()[..12]);
            let mut admin = pg_admin(&server);
            diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin).unwrap();
            FreshDb { url: format!("{}/{name}", server.trim_end_matches('/')), _dir: None, pg_name: Some(name) }
        }
    }
}

/// A database with its pool and no app server (so no background worker): for tests that run
/// the services' workers themselves.
pub fn bare_pool(db: &FreshDb, clock: &Clock) -> lawcert::db::Pool {
    lawcert::prepare(&base_config(&db.url, &[]), clock).expect("prepare")
}

impl TestApp {
    pub fn new() -> TestApp {
        TestApp::with_env(&[])
    }

    /// An app with extra settings (e.g. `LAWCERT_SMTP_URL`).
    pub fn with_env(extra: &[(&str, &str)]) -> TestApp {
        TestApp::on(fresh_database(), extra)
    }

    /// An app started on `db` (e.g. `empty_database()`) with extra settings.
    pub fn on(db: FreshDb, extra: &[(&str, &str)]) -> TestApp {
        let url = db.url.clone();
        let cfg = base_config(&url, extra);
        let clock = Arc::new(Clock::default());
        let pool = lawcert::prepare(&cfg, &clock).expect("prepare");
        let figment = rocket::Config::figment().merge(("secret_key", TEST_SECRET)).merge(("log_level", "off")).merge(("ip_header", false));
        let rocket = lawcert::rocket_with(figment, cfg, pool, clock.clone());
        let client = Client::tracked(rocket).expect("valid rocket");
        TestApp { client, clock, db_url: url, _db: db }
    }

    /// A second app server on this test's database (its own process state, its own cookie
    /// jar, the same clock), as behind a load balancer.
    pub fn another_server(&self) -> Client {
        self.another_server_with(&[])
    }

    /// [`TestApp::another_server`] with extra settings (e.g. the same `LAWCERT_SMTP_URL`).
    pub fn another_server_with(&self, extra: &[(&str, &str)]) -> Client {
        let cfg = base_config(&self.db_url, extra);
        let pool = lawcert::prepare(&cfg, &self.clock).expect("prepare");
        let figment = rocket::Config::figment().merge(("secret_key", TEST_SECRET)).merge(("log_level", "off")).merge(("ip_header", false));
        Client::tracked(lawcert::rocket_with(figment, cfg, pool, self.clock.clone())).expect("valid rocket")
    }

    /// Waits until the sweeper has finished its first pass, the one that files what the demo's
    /// history left to do (certificates lapsed, sittings filed, the bank calibrated), so a test
    /// that compares two reads is not racing it.
    pub fn wait_swept(&self) {
        for _ in 0..1200 {
            if self.state().metrics.sweeper_last_run.get() > 0.0 {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("the sweeper did not finish its first pass within a minute");
    }

    pub fn state(&self) -> &lawcert::state::AppState {
        self.client.rocket().state::<lawcert::state::AppState>().unwrap()
    }

    pub fn conn(&self) -> PooledConn {
        self.state().pool.get().unwrap()
    }

    /// A bearer token for a demo account.
    pub fn token(&self, badge: &str) -> String {
        let r = self
            .client
            .post("/api/v1/auth/token")
            .header(ContentType::JSON)
            .body(format!(r#"{{"badge":"{badge}","password":"{PASSWORD}"}}"#))
            .dispatch();
        assert_eq!(r.status(), Status::Ok, "token for {badge}");
        json(r)["token"].as_str().unwrap().to_string()
    }

    pub fn api(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> (Status, Value) {
        let auth = Header::new("Authorization", format!("Bearer {token}"));
        let req = match method {
            "GET" => self.client.get(path.to_string()),
            "POST" => self.client.post(path.to_string()),
            "PUT" => self.client.put(path.to_string()),
            "DELETE" => self.client.delete(path.to_string()),
            _ => panic!("method"),
        }
        .header(auth)
        .header(ContentType::JSON);
        let req = match body {
            Some(b) => req.body(b.to_string()),
            None => req,
        };
        let r = req.dispatch();
        let status = r.status();
        let text = r.into_string().unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// Signs in through the login form (cookie session) and returns the session's CSRF token.
    pub fn login_page(&self, badge: &str) -> String {
        let page = self.client.get("/login").dispatch().into_string().unwrap();
        let csrf = form_csrf(&page);
        let r = self
            .client
            .post("/login")
            .header(ContentType::Form)
            .body(format!("_csrf={csrf}&badge={badge}&password={PASSWORD}&next=/"))
            .dispatch();
        assert_eq!(r.status(), Status::SeeOther, "login as {badge}");
        let home = self.client.get("/").dispatch().into_string().unwrap();
        form_csrf(&home)
    }
}

pub fn json(r: LocalResponse<'_>) -> Value {
    serde_json::from_str(&r.into_string().unwrap()).unwrap()
}

/// The CSRF token in a page's first form.
pub fn form_csrf(html: &str) -> String {
    let marker = "name=\"_csrf\" value=\"";
    let start = html.find(marker).unwrap_or_else(|| panic!("no CSRF field in page: {}", &html[..html.len().min(400)])) + marker.len();
    html[start..start + 64].to_string()
}

/// The answer key of a question version, read straight from the database.
pub fn key_of(conn: &mut DbConn, version_id: i64) -> String {
    lawcert::db::models::bank::key_of(conn, VersionId(version_id)).unwrap()
}

/// Runs the `lawcert` binary's command line against the SQLite file `db`; (exit code, output).
pub fn run_cli(db: &std::path::Path, args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lawcert"))
        .args(args)
        .env("DATABASE_URL", db.display().to_string())
        .env("LAWCERT_QUESTIONS", repo_root().join("questions"))
        .current_dir(db.parent().expect("a file in a folder"))
        .output()
        .expect("run lawcert");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

/// Runs the `lawcert` binary's command line against `url` (any backend) from `cwd`, with
/// `stdin` piped in and the test's secret key; (exit code, output).
pub fn run_cli_url(url: &str, cwd: &std::path::Path, args: &[&str], stdin: &str) -> (i32, String) {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lawcert"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("LAWCERT_QUESTIONS", repo_root().join("questions"))
        .env("ROCKET_SECRET_KEY", TEST_SECRET)
        .env_remove("LAWCERT_DEMO")
        .current_dir(cwd)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run lawcert");
    // a command that refuses its options at once never reads stdin
    let _ = child.stdin.take().expect("stdin").write_all(stdin.as_bytes());
    let out = child.wait_with_output().expect("lawcert ran");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

/// Polls until `f` gives a value (the server's sweepers run every second in tests).
pub fn wait_for<T>(mut f: impl FnMut() -> Option<T>) -> T {
    for _ in 0..100 {
        if let Some(v) = f() {
            return v;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the server did not get there in 10 s");
}

/// GET a page: (status, body).
pub fn get(app: &TestApp, path: &str) -> (Status, String) {
    let r = app.client.get(path.to_string()).dispatch();
    (r.status(), r.into_string().unwrap_or_default())
}

/// Waits (up to 3 minutes, on a shared machine) until background job `id` is done or failed.
pub fn wait_job(conn: &mut lawcert::db::DbConn, id: i64) -> lawcert::db::models::jobs::Job {
    let start = std::time::Instant::now();
    loop {
        let j = lawcert::db::models::jobs::find(conn, JobId(id)).unwrap().expect("the job exists");
        if j.state.finished() {
            return j;
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(180), "job {id} did not finish: {j:?}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// POST a form: (status, body, Location).
pub fn post(app: &TestApp, path: &str, body: String) -> (Status, String, Option<String>) {
    let r = app.client.post(path.to_string()).header(ContentType::Form).body(body).dispatch();
    let loc = r.headers().get_one("Location").map(str::to_string);
    (r.status(), r.into_string().unwrap_or_default(), loc)
}

/// Percent-encodes a form value.
pub fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A lawcert binary a test started; killed (SIGKILL: no shutdown, no flush) when dropped.
pub struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The real binary on a free port against `db_url` (the test secret, Rocket quiet, warnings
/// logged to the test's stderr), with `extra` settings (an empty value removes a setting);
/// returns it once it answers, with its base URL.
pub fn start_binary(db_url: &str, extra: &[(&str, &str)]) -> (Server, String) {
    start_binary_logging(db_url, extra, std::process::Stdio::inherit())
}

/// `start_binary` with the server's log written to `stderr`.
pub fn start_binary_logging(db_url: &str, extra: &[(&str, &str)], stderr: std::process::Stdio) -> (Server, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_lawcert"));
    cmd.current_dir(repo_root())
        .env("DATABASE_URL", db_url)
        .env("ROCKET_PORT", port.to_string())
        .env("ROCKET_ADDRESS", "127.0.0.1")
        .env("ROCKET_SECRET_KEY", TEST_SECRET)
        .env("ROCKET_LOG_LEVEL", "off")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(stderr);
    for (k, v) in extra {
        if v.is_empty() {
            cmd.env_remove(k);
        } else {
            cmd.env(k, v);
        }
    }
    let server = Server(cmd.spawn().expect("start lawcert"));
    let base = format!("http://127.0.0.1:{port}");
    let started = std::time::Instant::now();
    while ureq::get(&format!("{base}/login")).call().is_err() {
        assert!(started.elapsed() < std::time::Duration::from_secs(90), "server did not come up");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    (server, base)
}

// ---- a unit of its own and a sitting for it (papers prepared before the start, several servers) ----

fn iso(t: chrono::NaiveDateTime) -> String {
    format!("{}Z", t.format("%Y-%m-%dT%H:%M:%S"))
}

/// A unit of its own with officers P0001.. (the demo's password), so the list is exactly known.
pub fn unit_with_officers(app: &TestApp, n: usize) -> (UnitId, Vec<UserId>) {
    let mut c = app.conn();
    let now = app.clock.now();
    let unit =
        org::insert_unit(&mut c, &org::NewUnit { parent_id: Some(UnitId(1)), name: "预备测试派出所", kind: "station", created_at: now })
            .unwrap();
    let ids = (1..=n).map(|i| add_officer(app, unit, &format!("P{i:04}"))).collect();
    (unit, ids)
}

pub fn add_officer(app: &TestApp, unit: UnitId, badge: &str) -> UserId {
    let mut c = app.conn();
    let hash = org::find_by_badge(&mut c, "100001").unwrap().unwrap().password_hash;
    let u = org::NewUser {
        badge: badge.into(),
        name: format!("预备{badge}"),
        unit_id: unit,
        police_type: "派出所".into(),
        post: "社区民警".into(),
        enforcement_post: true,
        rank: "四级警长".into(),
        hire_date: chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
        is_leader: false,
        is_legal_officer: false,
        email: Some(format!("{}@example.invalid", badge.to_lowercase())),
        password_hash: hash,
        active: true,
        created_at: app.clock.now(),
        id_number: None,
    };
    org::insert_user(&mut c, &u, &[lawcert::domain::org::Role::Officer]).unwrap()
}

/// A bimonthly sitting for the unit, opening in `opens_in`.
pub fn schedule(app: &TestApp, unit: UnitId, opens_in: chrono::Duration) -> i64 {
    let t = app.token("T0001");
    let (s, bp) = app.api(
        "POST",
        "/api/v1/blueprints",
        &t,
        Some(serde_json::json!({"name": "预备组卷", "spec": {"rules": [{"kind": "single", "count": 8, "points_centi": 250}, {"kind": "truefalse", "count": 4, "points_centi": 100}]}})),
    );
    assert_eq!(s, Status::Created, "{bp}");
    let opens = app.clock.now() + opens_in;
    let (s, created) = app.api(
        "POST",
        "/api/v1/sittings",
        &t,
        Some(serde_json::json!({
            "title": "预备双月考", "kind": "bimonthly", "blueprint_id": bp["id"],
            "opens_at": iso(opens), "closes_at": iso(opens + chrono::Duration::hours(3)),
            "duration_minutes": 60, "pass_percent": 60, "multi_rule": "partial",
            "score_release": "on_submit", "answer_release": "after_close",
            "eligibility": {"units": [unit]},
        })),
    );
    assert_eq!(s, Status::Created, "{created}");
    created["id"].as_i64().unwrap()
}

/// `badge` starts (or resumes) their attempt in the sitting, through the API.
pub fn start(app: &TestApp, sid: i64, badge: &str) -> (Status, Value) {
    app.api("POST", &format!("/api/v1/sittings/{sid}/attempts"), &app.token(badge), None)
}

/// The problem shown beside form field `field` (`{{field_error}}`), if any.
pub fn beside<'a>(page: &'a str, field: &str) -> Option<&'a str> {
    let at = page.find(&format!("<span class=\"field-error\" id=\"error-{field}\">"))?;
    let rest = &page[at..];
    Some(&rest[rest.find('>')? + 1..rest.find("</span>")?])
}
