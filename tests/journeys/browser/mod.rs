//! Real-browser journeys: the real `lawcert` binary on a free port with its own database, driven
//! by headless Chromium through chromedriver (webdriver.rs). Every key page is checked with
//! axe-core (WCAG 2.1 A/AA; serious and critical violations fail the test) and photographed
//! into `target/browser-screenshots/`.
//!
//! These tests are `#[ignore]`d so that `cargo test` needs nothing but the Rust toolchain. Run
//! them with `.ci/browser-tests`, which installs Chromium and chromedriver, fetches axe-core and
//! runs `cargo test --test journeys browser -- --ignored --test-threads=1`. Run by hand, they
//! need `LAWCERT_AXE_JS` (the path of axe.min.js); a missing browser, driver or axe fails them.

mod exam;
mod officer;
mod staff;
mod webdriver;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub use webdriver::Browser;

use crate::common::{fresh_database, repo_root, FreshDb, PASSWORD, TEST_SECRET};

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The app under test: the real binary on its own port and database, stopped when dropped.
pub struct App {
    child: Child,
    pub base: String,
    // declared last: removed after the server has stopped
    _db: FreshDb,
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl App {
    pub fn start() -> App {
        App::start_with(&[])
    }

    /// The app with extra settings (e.g. a tiny save queue).
    pub fn start_with(extra: &[(&str, &str)]) -> App {
        let db = fresh_database();
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_lawcert"))
            // saves are taken however loaded the machine (a journey may set it back)
            .env("LAWCERT_SAVE_MAX_LAG_MS", "0")
            .envs(extra.iter().copied())
            .current_dir(repo_root())
            .env("DATABASE_URL", &db.url)
            .env("ROCKET_PORT", port.to_string())
            .env("ROCKET_ADDRESS", "127.0.0.1")
            .env("ROCKET_SECRET_KEY", TEST_SECRET)
            .env("ROCKET_LOG_LEVEL", "off")
            .env("RUST_LOG", "warn")
            // the demo's past results are filed (and remedial plans opened) by the first dated sweep
            .env("LAWCERT_SWEEP_SECONDS", "1")
            .env("LAWCERT_DATED_SWEEP_SECONDS", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start lawcert");
        let base = format!("http://127.0.0.1:{port}");
        let app = App { child, base, _db: db };
        let t = Instant::now();
        // the start seeds the demo bureau and its banks: over a minute on a 2-core machine whose
        // other core builds or tests (seen in CI), so the wait is for a hang, not a slow start
        while ureq::get(&format!("{}/login", app.base)).call().is_err() {
            assert!(t.elapsed() < Duration::from_secs(180), "lawcert did not come up in 180 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        app
    }

    /// A bearer token for a demo account, to look at the server's side through the JSON API.
    pub fn token(&self, badge: &str) -> String {
        let v: Value = ureq::post(&format!("{}/api/v1/auth/token", self.base))
            .send_json(json!({"badge": badge, "password": PASSWORD}))
            .unwrap()
            .into_json()
            .unwrap();
        format!("Bearer {}", v["token"].as_str().unwrap())
    }

    /// A connection to the app's own database (to act as staff would through another page).
    pub fn conn(&self) -> lawcert::db::PooledConn {
        let url = lawcert::db::DbUrl::parse(&self._db.url).unwrap();
        lawcert::db::connect(&url, 1).unwrap().get().unwrap()
    }

    pub fn api_get(&self, token: &str, path: &str) -> Value {
        ureq::get(&format!("{}{path}", self.base)).set("Authorization", token).call().unwrap().into_json().unwrap()
    }
}

/// The app and a browser pointed at it. Checks first that axe-core is at hand, so a run without
/// it fails at once rather than after the journey.
pub fn start() -> (App, Browser) {
    axe_source();
    let app = App::start();
    let b = Browser::new(&app.base);
    (app, b)
}

/// Where screenshots and axe reports go (CI keeps the folder as an artefact).
pub fn artefacts() -> PathBuf {
    repo_root().join("target").join("browser-screenshots")
}

/// Saves the viewport as `target/browser-screenshots/<name>.png`.
pub fn shot(b: &Browser, name: &str) {
    b.screenshot(&artefacts().join(format!("{name}.png")));
}

/// Signs in through the login form and waits for the home page.
pub fn login(b: &Browser, badge: &str) {
    b.goto("/login");
    b.type_text("#badge", badge);
    b.type_text("#password", PASSWORD);
    b.click_and_load("form[action='/login'] button.primary");
    assert_eq!(b.path(), "/", "signed in and on the home page");
    assert!(b.text(".who .user").contains(&format!("({badge})")), "signed in as {badge}");
}

/// Follows a link of the header's navigation (as a user would) and waits for its page.
pub fn nav(b: &Browser, href: &str) {
    b.click_and_load(&format!("header.top nav a[href='{href}']"));
    let path = b.path();
    assert!(path.starts_with(href), "{href} led to {path}");
}

/// Waits until the server's first dated sweep has filed the demo's last bimonthly results and
/// opened the remedial plans of those who failed (a second or two after start): /remedial
/// lists a plan for an officer who has one, and every open plan for HR.
pub fn wait_for_remedial_plans(b: &Browser) {
    b.wait_until("the demo's remedial plans", |b| {
        b.goto("/remedial");
        b.try_find("table.list tbody a[href^='/remedial/']")
    });
}

pub fn axe_source() -> &'static str {
    static AXE: OnceLock<String> = OnceLock::new();
    AXE.get_or_init(|| {
        let path = std::env::var("LAWCERT_AXE_JS")
            .unwrap_or_else(|_| panic!("LAWCERT_AXE_JS is not set: point it at axe-core's axe.min.js (.ci/browser-tests fetches it)"));
        let src = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("LAWCERT_AXE_JS={path}: {e}"));
        assert!(src.contains("axe"), "LAWCERT_AXE_JS={path} is not axe-core");
        src
    })
}

/// The accessibility standard the pages are held to.
const AXE_TAGS: [&str; 4] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/// Runs axe-core on the current page (injected first if need be) under WCAG 2.1 A/AA: its
/// version, rule counts and violations with their elements.
fn axe_run(b: &Browser) -> Value {
    if b.execute("return typeof window.axe", vec![]) != json!("object") {
        // scripts run by the driver are not subject to the page's CSP
        b.execute(&format!("{}\n;return typeof window.axe;", axe_source()), vec![]);
    }
    b.execute_async(
        "var done = arguments[arguments.length - 1];
         axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})
           .then(function (r) { done({version: axe.version, passes: r.passes.length,
             incomplete: r.incomplete.map(function (v) { return v.id; }),
             violations: r.violations.map(function (v) { return {id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
               nodes: v.nodes.map(function (n) { return {target: n.target, html: n.html, summary: n.failureSummary}; })}; })}); })
           .catch(function (e) { done({error: String(e)}); });",
        vec![json!(AXE_TAGS)],
    )
}

/// Checks the current page with axe-core under WCAG 2.1 A/AA. Every violation is written to
/// `axe-<name>.json` and summarised in `axe-summary.txt`; serious and critical ones fail the test.
pub fn axe(b: &Browser, name: &str) {
    let r = axe_run(b);
    assert!(r["error"].is_null(), "axe-core failed on {name}: {}", r["error"]);
    let dir = artefacts();
    std::fs::create_dir_all(&dir).unwrap();
    let report = json!({"page": name, "path": b.path(), "tags": AXE_TAGS, "result": r});
    std::fs::write(dir.join(format!("axe-{name}.json")), serde_json::to_string_pretty(&report).unwrap()).unwrap();
    let violations = r["violations"].as_array().cloned().unwrap_or_default();
    let blocking: Vec<&Value> = violations.iter().filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical"))).collect();
    let ids = |vs: &mut dyn Iterator<Item = &Value>| {
        vs.map(|v| format!("{}({})", v["id"].as_str().unwrap_or("?"), v["impact"].as_str().unwrap_or("?"))).collect::<Vec<_>>().join(" ")
    };
    let line = format!(
        "{name:<18} {:<28} axe {}: {} rules passed, {} violations [{}], to review by hand: {}\n",
        b.path(),
        r["version"].as_str().unwrap_or("?"),
        r["passes"],
        violations.len(),
        ids(&mut violations.iter()),
        r["incomplete"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" "))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "none".into())
    );
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("axe-summary.txt")).unwrap();
    f.write_all(line.as_bytes()).unwrap();
    if !blocking.is_empty() {
        let detail: Vec<String> = blocking
            .iter()
            .map(|v| {
                let nodes: Vec<String> = v["nodes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .take(5)
                    .map(|n| format!("    {} {}\n      {}", n["target"], n["html"], n["summary"].as_str().unwrap_or("").replace('\n', " ")))
                    .collect();
                format!("  {} ({}): {} — {}\n{}", v["id"], v["impact"], v["help"], v["helpUrl"], nodes.join("\n"))
            })
            .collect();
        panic!("axe-core: {} serious/critical WCAG 2.1 A/AA violation(s) on {name} ({}):\n{}", blocking.len(), b.path(), detail.join("\n"));
    }
}

/// The checker itself: a page with known faults must be caught, or a green run means nothing.
#[test]
#[ignore = "needs Chromium, chromedriver and axe-core: run .ci/browser-tests"]
fn axe_catches_known_faults() {
    axe_source();
    let b = Browser::new("http://127.0.0.1");
    b.goto("data:text/html;charset=utf-8,<html><title>t</title><body><main><img src='x.png'><p style='color:%23bbb;background:%23fff'>faint</p>\
            <form><input name='q'></form></main></body></html>");
    let r = axe_run(&b);
    let ids: Vec<&str> = r["violations"].as_array().unwrap().iter().filter_map(|v| v["id"].as_str()).collect();
    for id in ["html-has-lang", "image-alt", "color-contrast", "label"] {
        assert!(ids.contains(&id), "axe-core finds {id}: {ids:?}");
    }
}
