//! A bureau's first start: the first administrator comes from `lawcert admin create` (password
//! from the terminal or stdin, never the command line); the demo bureau goes only into a
//! database the start created, and then every page and the start message say so.

use lawcert::domain::ids::AuditId;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rocket::http::{ContentType, Status};

use crate::common::{empty_database, enc, form_csrf, get, repo_root, run_cli_url, FreshDb, TestApp, TEST_SECRET};

const ZH_BANNER: &str = "这是演示数据库";
const EN_BANNER: &str = "this is a demo database";

fn cli(db: &FreshDb, args: &[&str], stdin: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    run_cli_url(&db.url, dir.path(), args, stdin)
}

/// Signs in through the form with a password of one's own; true when it worked.
fn sign_in(app: &TestApp, badge: &str, password: &str) -> bool {
    let page = app.client.get("/login").dispatch().into_string().unwrap();
    let csrf = form_csrf(&page);
    let r = app
        .client
        .post("/login")
        .header(ContentType::Form)
        .body(format!("_csrf={csrf}&badge={badge}&password={}&next=/", enc(password)))
        .dispatch();
    r.status() == Status::SeeOther
}

#[test]
fn the_first_admin_comes_from_the_command_line_and_an_existing_database_gets_no_demo() {
    let db = empty_database();
    // weak passwords are refused, and a password on the command line is never taken
    let (code, out) = cli(&db, &["admin", "create", "chief01"], "short\n");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("at least 10 characters") && out.contains("no account created"), "{out}");
    let (code, out) = cli(&db, &["admin", "create", "chief01"], "lawcert-demo\n");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("demo accounts' password"), "{out}");
    let (code, out) = cli(&db, &["admin", "create", "A000000001"], "a000000001\n");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("cannot be your badge"), "{out}");
    for args in [
        &["admin", "create", "chief01", "--password", "a much longer secret"][..],
        &["admin", "create", "--password=a much longer secret", "chief01"],
    ] {
        let (code, out) = cli(&db, args, "");
        assert_eq!(code, 2, "{out}");
        assert!(out.contains("never takes a password on the command line"), "{out}");
    }
    let (code, out) = cli(&db, &["admin", "create", "chief01"], "");
    assert_eq!(code, 1, "no password, no account: {out}");
    // the password from stdin; name and unit from options (defaults otherwise)
    let (code, out) = cli(
        &db,
        &["admin", "create", "chief01", "--name", "张局长", "--unit", "临江市公安局", "--email", "chief@bureau.example"],
        "a much longer secret\n",
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("created administrator chief01 (张局长) in 临江市公安局"), "{out}");
    let (code, out) = cli(&db, &["admin", "create", "chief01"], "another long secret\n");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("exists already"), "{out}");
    // a second admin goes into the existing unit by default; an unknown unit is refused
    let (code, out) = cli(&db, &["admin", "create", "deputy02", "--unit", "无此单位"], "another long secret\n");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("no such unit") && out.contains("临江市公安局"), "{out}");
    let (code, out) = cli(&db, &["admin", "create", "deputy02"], "another long secret\n");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("系统管理员") && out.contains("临江市公安局"), "{out}");

    // the database existed before the server's start: asked for the demo, it still gets none
    let app = TestApp::on(db, &[("LAWCERT_DEMO", "1")]);
    let mut conn = app.conn();
    assert_eq!(lawcert::db::models::org::count_users(&mut conn).unwrap(), 2, "no demo accounts");
    assert!(lawcert::db::models::org::find_by_badge(&mut conn, "admin").unwrap().is_none());
    let (_, login) = get(&app, "/login");
    assert!(!login.contains(ZH_BANNER), "no demo banner on a real database");
    // the administrator signs in with the password given, and administers
    assert!(!sign_in(&app, "chief01", "lawcert-demo"));
    assert!(sign_in(&app, "chief01", "a much longer secret"));
    let (s, users) = get(&app, "/admin/users");
    assert_eq!(s, Status::Ok);
    assert!(users.contains("张局长") && users.contains("deputy02"));
    // both creations are in the audit log, which verifies
    let log = lawcert::db::models::audit::page(&mut conn, AuditId(0), 100).unwrap();
    let made: Vec<_> = log.iter().filter(|e| e.action == "account.create_admin").collect();
    assert_eq!(made.len(), 2, "{log:?}");
    assert!(made[0].detail.contains("chief01") && made[0].detail.contains("command line"), "{}", made[0].detail);
    assert!(!made[0].detail.contains("secret"), "no password in the log");
    assert_eq!(lawcert::domain::audit::verify(&log), Ok(log.len()));
}

#[test]
fn a_database_the_start_created_gets_the_demo_and_every_page_of_every_server_says_so() {
    let db = empty_database();
    let url = db.url.clone();
    let app = TestApp::on(db, &[("LAWCERT_DEMO", "1")]);
    let mut conn = app.conn();
    assert!(lawcert::db::models::org::find_by_badge(&mut conn, "admin").unwrap().is_some(), "the demo bureau is there");
    assert!(lawcert::services::setup::demo_seeded(&mut conn).unwrap(), "and the settings row says so");
    // signed out, signed in, on error pages, in both languages
    let (_, login) = get(&app, "/login");
    assert!(login.contains(ZH_BANNER) && login.contains("lawcert-demo"), "{login}");
    let (s, missing) = get(&app, "/no-such-page");
    assert_eq!(s, Status::NotFound);
    assert!(missing.contains(ZH_BANNER));
    app.login_page("100001");
    let (_, home) = get(&app, "/");
    assert!(home.contains(ZH_BANNER));
    app.client.get("/lang/en?next=/exams").dispatch();
    let (_, exams) = get(&app, "/exams");
    assert!(exams.contains(EN_BANNER) && !exams.contains(ZH_BANNER), "{exams}");

    // another app server on the same database (it did not seed it) shows the banner too
    let cfg = lawcert::config::Config::from_lookup(|k| match k {
        "DATABASE_URL" => Some(url.clone()),
        "LAWCERT_QUESTIONS" => Some(repo_root().join("questions").display().to_string()),
        "LAWCERT_DEMO" => Some("0".into()),
        "LAWCERT_MAIL_DIR" => Some(std::env::temp_dir().join("lawcert-test-mail").display().to_string()),
        _ => None,
    })
    .unwrap();
    let clock = std::sync::Arc::new(lawcert::clock::Clock::default());
    let pool = lawcert::prepare(&cfg, &clock).unwrap();
    let figment = rocket::Config::figment().merge(("secret_key", TEST_SECRET)).merge(("log_level", "off"));
    let second = rocket::local::blocking::Client::tracked(lawcert::rocket_with(figment, cfg, pool, clock)).unwrap();
    let page = second.get("/login").dispatch().into_string().unwrap();
    assert!(page.contains(ZH_BANNER), "every app server reads the flag from the database");
    drop(second);
}

/// Starts the server binary on `url` and returns what it printed once it was up.
fn start_message(url: &str, demo: Option<&str>) -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lawcert"));
    cmd.current_dir(dir.path())
        .env("DATABASE_URL", url)
        .env("LAWCERT_QUESTIONS", repo_root().join("questions"))
        .env("ROCKET_PORT", port.to_string())
        .env("ROCKET_ADDRESS", "127.0.0.1")
        .env("ROCKET_SECRET_KEY", TEST_SECRET)
        .env("ROCKET_LOG_LEVEL", "off")
        .env("RUST_LOG", "warn")
        .env("LAWCERT_MAIL_DIR", dir.path().join("mail"))
        .env_remove("LAWCERT_DEMO")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(d) = demo {
        cmd.env("LAWCERT_DEMO", d);
    }
    let mut child = cmd.spawn().expect("start lawcert");
    let mut stdout = child.stdout.take().unwrap();
    let printed = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = printed.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = stdout.read(&mut buf) {
            sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    // the message is printed at lift-off in one write, from "lawcert is running" to the blank
    // line that ends it
    let done = |all: &str| all.split_once("lawcert is running").is_some_and(|(_, rest)| rest.ends_with("\n\n"));
    let t = Instant::now();
    while !done(&printed.lock().unwrap()) {
        assert!(t.elapsed() < Duration::from_secs(90), "no start message within 90 s: {}", printed.lock().unwrap());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(ureq::get(&format!("http://127.0.0.1:{port}/login")).call().is_ok(), "the server answers once it says it runs");
    child.kill().unwrap();
    child.wait().unwrap();
    reader.join().unwrap();
    let all = printed.lock().unwrap().clone();
    all
}

#[test]
fn the_start_message_advertises_the_demo_only_when_it_is_there_and_otherwise_says_how_to_begin() {
    // a new database, demo off: no accounts, so the message gives the exact command
    let db = empty_database();
    let out = start_message(&db.url, Some("0"));
    assert!(out.contains("no accounts yet") && out.contains("admin create BADGE") && out.contains("same DATABASE_URL"), "{out}");
    assert!(!out.to_lowercase().contains("demo") && !out.contains("lawcert-demo"), "no demo accounts advertised: {out}");
    // … still none on the next start, asked for the demo: the database exists now
    let out = start_message(&db.url, Some("1"));
    assert!(out.contains("no demo bureau was put into it") && out.contains("admin create BADGE"), "{out}");
    assert!(!out.contains("PUBLIC password"), "{out}");
    // once an administrator exists, just where to sign in
    let (code, cli_out) = cli(&db, &["admin", "create", "chief01"], "a much longer secret\n");
    assert_eq!(code, 0, "{cli_out}");
    let out = start_message(&db.url, None);
    assert!(out.contains("lawcert is running") && !out.contains("admin create") && !out.to_lowercase().contains("demo"), "{out}");

    // a database the start created with the demo: said loudly, and on every later start
    let demo_db = empty_database();
    let out = start_message(&demo_db.url, Some("1"));
    assert!(
        out.contains("DEMO bureau seeded") && out.contains("THIS IS A DEMO DATABASE") && out.contains("PUBLIC password lawcert-demo"),
        "{out}"
    );
    let out = start_message(&demo_db.url, Some("0"));
    assert!(out.contains("THIS IS A DEMO DATABASE"), "{out}");
}
