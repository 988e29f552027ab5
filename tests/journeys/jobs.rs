//! Background jobs (issue 17): the officers' import runs out of the request, through the worker
//! every app server runs; a job is claimed by exactly one worker; its write is all or nothing;
//! an export's file is kept for the days an admin sets.

use lawcert::domain::ids::{JobId, UserId};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lawcert::clock::Clock;
use lawcert::db::models::jobs::{self, Job};
use lawcert::db::models::org;
use lawcert::domain::jobs::JobState;
use lawcert::services::jobs as job_service;
use lawcert::services::people::{self, AccountInput};
use rocket::http::{ContentType, Status};

use crate::common::{bare_pool, form_csrf, fresh_database, get, post, TestApp, PASSWORD};

const HEADER: &str = "badge,name,unit,police_type,post,enforcement_post,rank,hire_date,is_leader,is_legal_officer,email,roles,password";

/// `n` officers with badges from `first`, generated passwords.
fn csv(first: u32, n: u32) -> String {
    let mut s = format!("{HEADER}\n");
    for i in 0..n {
        let unit = if i % 2 == 0 { "城东派出所" } else { "城西派出所" };
        s.push_str(&format!("{},民警{i},{unit},派出所,社区民警,1,四级警长,2024-07-01,0,0,,officer,\n", first + i));
    }
    s
}

fn upload(client: &rocket::local::blocking::Client, csrf: &str, csv: &str) -> (Status, Option<String>, String) {
    let boundary = "XBOUNDARYX";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"o.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
    );
    let r = client
        .post("/admin/users/import")
        .header(ContentType::new("multipart", "form-data").with_params(("boundary", boundary)))
        .body(body)
        .dispatch();
    let location = r.headers().get_one("Location").map(str::to_string);
    (r.status(), location, r.into_string().unwrap_or_default())
}

fn job(conn: &mut lawcert::db::DbConn, id: i64) -> Job {
    jobs::find(conn, JobId(id)).unwrap().expect("the job exists")
}

/// Waits (up to 3 minutes: argon2 on a shared machine) until the job is done or failed.
fn wait_finished(conn: &mut lawcert::db::DbConn, id: i64, mut seen: impl FnMut(&Job)) -> Job {
    let start = Instant::now();
    loop {
        let j = job(conn, id);
        seen(&j);
        if j.state.finished() {
            return j;
        }
        assert!(start.elapsed() < Duration::from_secs(180), "job {id} did not finish: {j:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn users(conn: &mut lawcert::db::DbConn) -> i64 {
    org::count_users(conn).unwrap()
}

#[test]
fn a_300_row_import_runs_through_the_worker_and_shows_the_passwords_once() {
    let app = TestApp::new();
    let csrf = app.login_page("admin");
    let mut conn = app.conn();
    let before = users(&mut conn);
    let (status, location, _) = upload(&app.client, &csrf, &csv(300001, 300));
    assert_eq!(status, Status::SeeOther);
    let location = location.expect("redirected to the job's page");
    let id: i64 = location.strip_prefix("/admin/jobs/").expect("a job page").parse().unwrap();
    // while it is not finished, the page refreshes itself and shows rows done of total
    let (s, page) = get(&app, &location);
    assert_eq!(s, Status::Ok);
    if !job(&mut conn, id).state.finished() && !page.contains("已完成：导入") {
        assert!(page.contains(r#"<meta http-equiv="refresh" content="2">"#), "{page}");
        assert!(page.contains(r#"max="300""#), "{page}");
    }
    let mut progress = Vec::new();
    let done = wait_finished(&mut conn, id, |j| progress.push(j.rows_done));
    assert_eq!(done.state, JobState::Done, "{:?}", done.errors);
    assert_eq!((done.rows_done, done.rows_total), (300, 300));
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "progress only grows: {progress:?}");
    assert_eq!(done.runs, 1);
    assert!(jobs::payload(&mut conn, JobId(id)).unwrap().is_empty(), "the uploaded file is not kept once imported");
    assert_eq!(users(&mut conn), before + 300);
    // every account is audited as created by the admin through the import
    let admin = org::find_by_badge(&mut conn, "admin").unwrap().unwrap();
    let created = org::find_by_badge(&mut conn, "300300").unwrap().expect("the last row is stored");
    let trail = lawcert::db::models::audit::for_subject(&mut conn, &format!("user:{}", created.id)).unwrap();
    assert!(trail.iter().any(|e| e.action == "user.create" && e.actor_id == Some(admin.id) && e.detail.contains("import")), "{trail:?}");
    // the stored result holds the passwords until the starter's first view
    let stored = done.result.clone().unwrap();
    let first: serde_json::Value = serde_json::from_str(&stored).unwrap();
    let password = first["accounts"][299]["password"].as_str().expect("a generated password").to_string();
    assert!(lawcert::services::credentials::verify_password(&password, &created.password_hash), "the shown password signs in");

    // another admin sees the job but not the passwords
    let other = app.another_server();
    let input = AccountInput {
        badge: "A0002".into(),
        name: "第二管理员".into(),
        unit: "城东派出所".into(),
        police_type: "法制".into(),
        hire_date: "2020-01-01".into(),
        roles: "admin".into(),
        password: PASSWORD.into(),
        ..Default::default()
    };
    people::create_account(&mut conn, &input, None, app.clock.now()).unwrap();
    let login = other.get("/login").dispatch().into_string().unwrap();
    let r = other
        .post("/login")
        .header(ContentType::Form)
        .body(format!("_csrf={}&badge=A0002&password={PASSWORD}&next=/", form_csrf(&login)))
        .dispatch();
    assert_eq!(r.status(), Status::SeeOther);
    let theirs = other.get(location.clone()).dispatch().into_string().unwrap();
    assert!(theirs.contains("初始密码只向发起导入的管理员显示") && !theirs.contains(&password), "{theirs}");
    assert!(!theirs.contains("initial-password"));

    // the starter: once, with every generated password
    let (_, once) = get(&app, &location);
    assert!(once.contains("已完成：导入 300 个账号"), "{once}");
    assert!(once.contains(&password), "the passwords are shown to the starter");
    assert_eq!(once.matches(r#"<code class="initial-password">"#).count(), 300);
    assert!(!once.contains(r#"http-equiv="refresh""#), "a finished job's page stays put");
    // ... and never again: erased from the job's row
    let (_, twice) = get(&app, &location);
    assert!(!twice.contains(&password) && !twice.contains("initial-password"), "{twice}");
    assert!(twice.contains("初始密码已于"), "{twice}");
    let erased = job(&mut conn, id).result.unwrap();
    assert!(!erased.contains(&password), "the password is gone from the database");
    assert!(!erased.contains(first["accounts"][0]["password"].as_str().unwrap()));
    let trail = lawcert::db::models::audit::for_subject(&mut conn, &format!("job:{id}")).unwrap();
    let actions: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"job.queue") && actions.contains(&"job.passwords_shown"), "{actions:?}");
    // the import page lists the job
    let (_, list) = get(&app, "/admin/users/import");
    assert!(list.contains(&format!(r#"href="/admin/jobs/{id}""#)), "{list}");
}

#[test]
fn a_file_with_row_errors_stores_nothing_and_queues_nothing() {
    let app = TestApp::new();
    let csrf = app.login_page("admin");
    let mut conn = app.conn();
    let before = users(&mut conn);
    let mut bad = csv(310001, 20);
    bad.push_str("310099,坏行,不存在的所,派出所,,1,,2024-13-01,0,0,,officer,\n");
    let (status, location, html) = upload(&app.client, &csrf, &bad);
    assert_eq!(status, Status::Ok);
    assert!(location.is_none());
    assert!(html.contains("第 22 行：单位") && html.contains("第 22 行：入警日期"), "{html}");
    assert_eq!(jobs::count_kind(&mut conn, lawcert::domain::jobs::JobKind::OfficerImport).unwrap(), 0, "nothing queued");
    assert_eq!(users(&mut conn), before, "nothing stored");
    // a job page that does not exist, and officers, get no job
    assert_eq!(get(&app, "/admin/jobs/999").0, Status::NotFound);
}

#[test]
fn a_job_that_fails_inside_the_worker_stores_nothing_and_says_why() {
    // no app server here, so no worker but the test's
    let db = fresh_database();
    let clock = Arc::new(Clock::default());
    let pool = bare_pool(&db, &clock);
    let mut conn = pool.get().unwrap();
    let admin = org::find_by_badge(&mut conn, "admin").unwrap().unwrap();
    let before = users(&mut conn);
    let id =
        job_service::queue_officer_import(&mut conn, csv(320001, 40).as_bytes(), "en", admin.id, clock.now()).unwrap().expect("queued");
    // between the upload and the run, someone creates one of the file's officers by hand
    let input = AccountInput {
        badge: "320031".into(),
        name: "手工".into(),
        unit: "城东派出所".into(),
        police_type: "派出所".into(),
        hire_date: "2024-07-01".into(),
        ..Default::default()
    };
    people::create_account(&mut conn, &input, Some(admin.id), clock.now()).unwrap();
    assert_eq!(job_service::run_next(&pool, "test-worker", &clock).unwrap(), Some(id));
    let failed = job(&mut conn, id.0);
    assert_eq!(failed.state, JobState::Failed);
    assert_eq!(failed.errors.as_deref(), Some("第 32 行：警号 320031：已有使用该警号的账号"));
    assert_eq!(users(&mut conn), before + 1, "only the hand-made account: none of the file's 39 others");
    assert!(org::find_by_badge(&mut conn, "320001").unwrap().is_none());
    assert!(jobs::payload(&mut conn, id).unwrap().is_empty(), "a failed job keeps no upload");
    let view = job_service::view_job(&mut conn, id, admin.id, clock.now()).unwrap();
    assert_eq!(view.errors, vec!["第 32 行：警号 320031：已有使用该警号的账号".to_string()]);
    assert!(view.accounts.is_empty());
    // nothing left to run
    assert_eq!(job_service::run_next(&pool, "test-worker", &clock).unwrap(), None);
}

#[test]
fn two_workers_on_one_database_run_each_job_exactly_once() {
    let db = fresh_database();
    let clock = Arc::new(Clock::default());
    let pool = bare_pool(&db, &clock);
    let mut conn = pool.get().unwrap();
    let admin = org::find_by_badge(&mut conn, "admin").unwrap().unwrap();
    let before = users(&mut conn);
    let ids: Vec<JobId> = (0..8u32)
        .map(|k| {
            job_service::queue_officer_import(&mut conn, csv(330001 + k * 100, 3).as_bytes(), "en", admin.id, clock.now()).unwrap().unwrap()
        })
        .collect();
    let ran: Vec<Vec<JobId>> = std::thread::scope(|s| {
        let workers: Vec<_> = ["worker-a", "worker-b"]
            .into_iter()
            .map(|name| {
                let (pool, clock) = (pool.clone(), clock.clone());
                s.spawn(move || {
                    let mut mine = Vec::new();
                    while let Some(id) = job_service::run_next(&pool, name, &clock).unwrap() {
                        mine.push(id);
                    }
                    mine
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let mut all: Vec<JobId> = ran.concat();
    all.sort();
    assert_eq!(all, ids, "every job run, none twice: {ran:?}");
    for id in &ids {
        let j = job(&mut conn, id.0);
        assert_eq!((j.state, j.runs, j.rows_done), (JobState::Done, 1, 3), "{j:?}");
    }
    assert_eq!(users(&mut conn), before + 24);

    // a server that claimed a job and died: after a minute without a heartbeat another runs it
    let id = job_service::queue_officer_import(&mut conn, csv(339001, 2).as_bytes(), "en", admin.id, clock.now()).unwrap().unwrap();
    let claimed = lawcert::db::write_tx(&mut conn, |c| jobs::claim_next(c, "dead-server", clock.now())).unwrap();
    assert_eq!(claimed, Some(id));
    assert_eq!(job_service::run_next(&pool, "worker-a", &clock).unwrap(), None, "a fresh heartbeat is left alone");
    clock.advance(chrono::Duration::seconds(61));
    assert_eq!(job_service::run_next(&pool, "worker-a", &clock).unwrap(), Some(id));
    let j = job(&mut conn, id.0);
    assert_eq!((j.state, j.runs, j.claimed_by.as_deref()), (JobState::Done, 2, Some("worker-a")));
    // the dead server's late finish would not count: the job is no longer its
    assert!(!jobs::progress(&mut conn, id, "dead-server", 1, clock.now()).unwrap());
    assert_eq!(users(&mut conn), before + 26);
}

/// The figure for the closing note of issue 17: 5,000 officers through the job (check, queue,
/// run), and a one-thread hashing rate for comparison with the old in-request import. Slow:
/// `cargo test --test journeys measure_5000 -- --ignored --nocapture`.
#[test]
#[ignore]
fn measure_5000_officers_through_a_job() {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    // before the cap: every core; after: the rule (every core but one), back to back
    for (label, setting) in [("every core (before the cap)", Some(cores)), ("the rule (after the cap)", None)] {
        people::set_job_threads(setting);
        let db = fresh_database();
        let clock = Arc::new(Clock::default());
        let pool = bare_pool(&db, &clock);
        people::set_job_threads(setting);
        let mut conn = pool.get().unwrap();
        let admin = org::find_by_badge(&mut conn, "admin").unwrap().unwrap();
        let file = csv(400001, 5000);
        let t = Instant::now();
        let id = job_service::queue_officer_import(&mut conn, file.as_bytes(), "en", admin.id, clock.now()).unwrap().unwrap();
        let queued = t.elapsed();
        let t = Instant::now();
        assert_eq!(job_service::run_next(&pool, "measure", &clock).unwrap(), Some(id));
        let ran = t.elapsed();
        let j = job(&mut conn, id.0);
        assert_eq!((j.state, j.rows_done), (JobState::Done, 5000), "{:?}", j.errors);
        println!(
            "5000 officers, {label}: upload checked and queued in {:.2} s; job ran in {:.1} s on {} hashing thread(s) of {cores} core(s)",
            queued.as_secs_f64(),
            ran.as_secs_f64(),
            people::hash_threads(5000),
        );
    }
    people::set_job_threads(None);
    let t = Instant::now();
    for i in 0..100 {
        lawcert::services::credentials::hash_password(&format!("password-{i}"));
    }
    let one_thread = t.elapsed() / 100;
    println!(
        "one argon2 hash on one thread {:.1} ms (5000 in a row: {:.0} s)",
        one_thread.as_secs_f64() * 1000.0,
        one_thread.as_secs_f64() * 5000.0
    );
}

/// The figure for the question import: the whole shipped bank (exported as one lawcert file)
/// through a job into a bureau whose bank is empty, then again into the full bank (every
/// question unchanged). `cargo test --test journeys measure_whole_bank -- --ignored --nocapture`.
#[test]
#[ignore]
fn measure_whole_bank_through_a_question_import_job() {
    use lawcert::domain::formats::{Defaults, Format};
    use lawcert::services::bank_import;
    let full = fresh_database();
    let clock = Arc::new(Clock::default());
    let full_pool = bare_pool(&full, &clock);
    let mut conn = full_pool.get().unwrap();
    let bytes = lawcert::services::bank_export::export(&mut conn, Format::Lawcert, None).unwrap();
    let t = Instant::now();
    let parsed = bank_import::parse(&mut conn, Format::Lawcert, "whole-bank.toml", &bytes, &Defaults::default()).unwrap();
    let parse_time = t.elapsed();
    let t = Instant::now();
    let p = bank_import::check(&mut conn, parsed, |_, _| Ok(())).unwrap();
    println!(
        "whole bank: parsed in {:.2} s, compared with the bank in {:.2} s ({} entries)",
        parse_time.as_secs_f64(),
        t.elapsed().as_secs_f64(),
        p.parsed.entries.len()
    );
    // a bureau without questions (SQLite file of its own; no demo, no shipped banks)
    let dir = tempfile::tempdir().unwrap();
    let empty_banks = dir.path().join("no-questions");
    std::fs::create_dir(&empty_banks).unwrap();
    // the statutes only: the registry the questions cite
    std::fs::copy(crate::common::repo_root().join("questions/statutes.toml"), empty_banks.join("statutes.toml")).unwrap();
    let url = dir.path().join("empty.db").display().to_string();
    let cfg = crate::common::base_config(&url, &[("LAWCERT_DEMO", "0"), ("LAWCERT_QUESTIONS", empty_banks.to_str().unwrap())]);
    let empty_pool = lawcert::prepare(&cfg, &clock).unwrap();
    let mut empty = empty_pool.get().unwrap();
    let admin = lawcert::services::setup::create_admin(
        &mut empty,
        &lawcert::services::setup::AdminInput { badge: "A0001".into(), password: "a-long-admin-password".into(), ..Default::default() },
        clock.now(),
    )
    .unwrap();
    let trainer = AccountInput {
        badge: "T9001".into(),
        name: "教官".into(),
        unit: admin.unit.clone(),
        police_type: "法制".into(),
        hire_date: "2020-01-01".into(),
        roles: "trainer".into(),
        password: PASSWORD.into(),
        ..Default::default()
    };
    people::create_account(&mut empty, &trainer, None, clock.now()).unwrap();
    for (label, pool) in [("into an empty bank", &empty_pool), ("into the full bank (all unchanged)", &full_pool)] {
        let mut c = pool.get().unwrap();
        let by = org::find_by_badge(&mut c, if label.contains("empty") { "T9001" } else { "T0001" }).unwrap().unwrap().id;
        let t = Instant::now();
        let staged = bank_import::stage(&mut c, by, "whole-bank.toml", Format::Lawcert, &bytes, &Defaults::default(), clock.now()).unwrap();
        let id = job_service::queue_question_import(&mut c, staged, by, clock.now()).unwrap().unwrap();
        let queued = t.elapsed();
        let t = Instant::now();
        assert_eq!(job_service::run_next(pool, "measure", &clock).unwrap(), Some(id));
        let ran = t.elapsed();
        let j = job(&mut c, id.0);
        assert_eq!(j.state, JobState::Done, "{:?}", j.errors);
        println!(
            "whole shipped bank ({} KB, {} entries) {label}: upload staged, checked and queued in the request {:.2} s; job ran in {:.1} s; {}",
            bytes.len() / 1024,
            j.rows_total,
            queued.as_secs_f64(),
            ran.as_secs_f64(),
            j.result.unwrap_or_default()
        );
    }
}

/// Hashing spread over the cores against one thread, measured back to back on the same rows
/// (the machine's load changes from minute to minute). `-- --ignored --nocapture`.
#[test]
#[ignore]
fn measure_hashing_over_the_cores_against_one_thread() {
    let db = fresh_database();
    let clock = Arc::new(Clock::default());
    let pool = bare_pool(&db, &clock);
    let mut conn = pool.get().unwrap();
    let file = csv(500001, 400);
    let mut rows = people::check_csv(&mut conn, file.as_bytes(), "en", clock.now()).unwrap().unwrap();
    let t = Instant::now();
    for i in 0..rows.len() {
        lawcert::services::credentials::hash_password(&format!("one-thread-{i}"));
    }
    let one = t.elapsed();
    let t = Instant::now();
    people::hash_all(&mut rows, &std::sync::atomic::AtomicUsize::new(0));
    let spread = t.elapsed();
    println!(
        "400 argon2 hashes: one thread {:.1} s, hash_all on {} threads {:.1} s (x{:.2})",
        one.as_secs_f64(),
        people::hash_threads(400),
        spread.as_secs_f64(),
        one.as_secs_f64() / spread.as_secs_f64()
    );
}

fn multipart(
    client: &rocket::local::blocking::Client,
    path: &str,
    csrf: &str,
    name: &str,
    bytes: &[u8],
) -> (Status, Option<String>, String) {
    let boundary = "XBOUNDARYX";
    let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{csrf}\r\n").into_bytes();
    body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"format\"\r\n\r\nauto\r\n").as_bytes());
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let r = client
        .post(path.to_string())
        .header(ContentType::new("multipart", "form-data").with_params(("boundary", boundary)))
        .body(body)
        .dispatch();
    let location = r.headers().get_one("Location").map(str::to_string);
    (r.status(), location, r.into_string().unwrap_or_default())
}

fn job_id(location: &str) -> i64 {
    location.strip_prefix("/jobs/").expect("a job's page").parse().unwrap()
}

fn sign_in(app: &TestApp, badge: &str) -> rocket::local::blocking::Client {
    let client = app.another_server();
    let login = client.get("/login").dispatch().into_string().unwrap();
    let status = client
        .post("/login")
        .header(ContentType::Form)
        .body(format!("_csrf={}&badge={badge}&password={PASSWORD}&next=/", form_csrf(&login)))
        .dispatch()
        .status();
    assert_eq!(status, Status::SeeOther);
    client
}

const JOB_GIFT: &str = "// lawcert: statute=criminal-law; articles=20; difficulty=1; levels=basic\n::JOB-1::正当防卫不负刑事责任。{T####刑法第二十条。}\n\n// lawcert: statute=criminal-law; articles=17; difficulty=1; levels=basic\n::JOB-2::已满十六周岁的人犯罪，应当负刑事责任。{T####刑法第十七条。}\n";

#[test]
fn a_question_import_is_committed_by_a_job_that_only_its_trainer_sees() {
    let app = TestApp::new();
    let csrf = app.login_page("T0001");
    let mut conn = app.conn();
    let (s, preview, _) = multipart(&app.client, "/bank/import", &csrf, "job.gift", JOB_GIFT.as_bytes());
    assert_eq!(s, Status::SeeOther);
    let preview = preview.unwrap();
    let r = app.client.post(format!("{preview}/commit")).header(ContentType::Form).body(format!("_csrf={csrf}")).dispatch();
    assert_eq!(r.status(), Status::SeeOther);
    let page = r.headers().get_one("Location").unwrap().to_string();
    let id = job_id(&page);
    // the job's page: progress while it runs (items of total), then the result
    let (s, html) = get(&app, &page);
    assert_eq!(s, Status::Ok);
    assert!(html.contains("导入试题"), "{html}");
    if !job(&mut conn, id).state.finished() && !html.contains("已全部导入") {
        assert!(html.contains(r#"max="2""#) && html.contains(r#"http-equiv="refresh""#), "{html}");
    }
    let done = wait_finished(&mut conn, id, |_| {});
    assert_eq!((done.state, done.rows_done, done.rows_total), (JobState::Done, 2, 2), "{:?}", done.errors);
    assert_eq!(done.subject_id, Some(preview.rsplit('/').next().unwrap().parse().unwrap()), "the job works on the staged file");
    assert!(jobs::payload(&mut conn, JobId(id)).unwrap().is_empty(), "the upload is not copied into the job");
    let (_, html) = get(&app, &page);
    assert!(html.contains("job.gift 已全部导入") && html.contains("新题 2 道"), "{html}");
    assert!(!html.contains(r#"http-equiv="refresh""#));
    assert!(lawcert::db::models::bank::find_by_code(&mut conn, "JOB-2").unwrap().is_some());
    // the preview says it is imported, and a second click finds the same job
    let (_, html) = get(&app, &preview);
    assert!(html.contains("已于") && !html.contains("确认导入"), "{html}");
    let r = app.client.post(format!("{preview}/commit")).header(ContentType::Form).body(format!("_csrf={csrf}")).dispatch();
    assert_eq!(r.headers().get_one("Location"), Some(page.as_str()), "the same job, not a second import");
    assert_eq!(jobs::count_kind(&mut conn, lawcert::domain::jobs::JobKind::QuestionImport).unwrap(), 1);
    // in English too
    app.client.get("/lang/en").dispatch();
    let (_, html) = get(&app, &page);
    assert!(html.contains("Question import") && html.contains("job.gift is imported"), "{html}");
    app.client.get("/lang/zh").dispatch();
    // another trainer, HR and an admin are told there is no such job
    for badge in ["T0002", "H0001", "admin"] {
        let other = sign_in(&app, badge);
        assert_eq!(other.get(page.clone()).dispatch().status(), Status::NotFound, "{badge}");
    }
}

#[test]
fn a_question_import_that_meets_a_changed_bank_fails_with_each_entry_named_and_stores_nothing() {
    use lawcert::domain::formats::{Defaults, Format};
    use lawcert::services::bank_import;
    let db = fresh_database();
    let clock = Arc::new(Clock::default());
    let pool = bare_pool(&db, &clock);
    let mut conn = pool.get().unwrap();
    let trainer = org::find_by_badge(&mut conn, "T0001").unwrap().unwrap();
    let staged =
        bank_import::stage(&mut conn, trainer.id, "job.gift", Format::Gift, JOB_GIFT.as_bytes(), &Defaults::default(), clock.now())
            .unwrap();
    let id = job_service::queue_question_import(&mut conn, staged, trainer.id, clock.now()).unwrap().expect("queued");
    // meanwhile another file makes JOB-2 a single-choice question
    let other = "// lawcert: statute=criminal-law; articles=17; difficulty=1; levels=basic\n::JOB-2::刑事责任年龄：{=十六周岁 ~十八周岁 ####刑法第十七条。}\n";
    bank_import::commit(&mut conn, Format::Gift, "other.gift", other.as_bytes(), &Defaults::default(), trainer.id, clock.now()).unwrap();
    assert_eq!(job_service::run_next(&pool, "test-worker", &clock).unwrap(), Some(id));
    let failed = job(&mut conn, id.0);
    assert_eq!(failed.state, JobState::Failed);
    let errors = failed.errors.clone().unwrap();
    assert!(errors.contains("line 5 (JOB-2): JOB-2 already exists as a single question"), "{errors}");
    // the job kept its problems to be said in whoever reads its page's language (issue 17)
    let problems = job_service::stored_problems(&failed).expect("problems stored with the job");
    let said = |lang: &str| problems.iter().map(|p| lawcert::render::say_located(lang, p)).collect::<Vec<_>>();
    assert!(said("zh").contains(&"第 5 行（题号 JOB-2）：试题 JOB-2 已作为单选题存在，题型不能更改".to_string()), "{:?}", said("zh"));
    assert!(
        said("en").contains(&"line 5 (JOB-2): JOB-2 already exists as a single question; a question's type cannot change".to_string()),
        "{:?}",
        said("en")
    );
    assert!(lawcert::db::models::bank::find_by_code(&mut conn, "JOB-1").unwrap().is_none(), "all or nothing: {errors}");
    let imp = lawcert::db::models::imports::find(&mut conn, staged).unwrap().unwrap();
    assert!(imp.committed_at.is_none(), "the staged file is not marked imported");
    // a file with errors is refused at once, nothing queued
    let bad = bank_import::stage(&mut conn, trainer.id, "job.gift", Format::Gift, JOB_GIFT.as_bytes(), &Defaults::default(), clock.now())
        .unwrap();
    let e = job_service::queue_question_import(&mut conn, bad, trainer.id, clock.now()).unwrap_err();
    assert!(e.is_invalid() && e.message.contains("1 error(s)"), "{}", e.message);
    assert_eq!(jobs::count_kind(&mut conn, lawcert::domain::jobs::JobKind::QuestionImport).unwrap(), 1);
}

#[test]
fn a_case_evaluation_import_runs_as_a_job_and_opens_the_plans_it_should() {
    let app = TestApp::new();
    let csrf = app.login_page("T0001");
    let mut conn = app.conn();
    let officer = org::find_by_badge(&mut conn, "100002").unwrap().unwrap();
    let plans_before = lawcert::db::models::training::open_plan_of(&mut conn, officer.id).unwrap();
    let file = "badge,month,case_ref,deduction,note\n100002,2026-10,江公(治)行罚决字〔2026〕901号,9.5,卷宗材料不全\n100003,2026-10,江公(治)行罚决字〔2026〕902号,0.5,\n";
    let (s, location, html) = multipart(&app.client, "/remedial/case-evaluations", &csrf, "c.csv", file.as_bytes());
    assert_eq!(s, Status::SeeOther, "{html}");
    let page = location.unwrap();
    let id = job_id(&page);
    let done = wait_finished(&mut conn, id, |_| {});
    assert_eq!((done.state, done.rows_done, done.rows_total), (JobState::Done, 2, 2), "{:?}", done.errors);
    let (_, html) = get(&app, &page);
    assert!(html.contains("已导入 2 条考评"), "{html}");
    if plans_before.is_none() {
        let plan = lawcert::db::models::training::open_plan_of(&mut conn, officer.id).unwrap().expect("9.5 points deducted: a plan");
        assert!(html.contains(&format!(r#"href="/remedial/{}""#, plan.id)), "{html}");
    }
    // the page lists the trainer's jobs; the same file again stores nothing new
    let (_, list) = get(&app, "/remedial/case-evaluations");
    assert!(list.contains(&format!(r#"href="/jobs/{id}""#)), "{list}");
    let (_, location, _) = multipart(&app.client, "/remedial/case-evaluations", &csrf, "c.csv", file.as_bytes());
    let again = wait_finished(&mut conn, job_id(&location.unwrap()), |_| {});
    assert_eq!(again.state, JobState::Done);
    assert!(again.result.unwrap().contains(r#""rows":0"#), "rows already imported are skipped");
    // a row with another deduction is refused at once with its line, nothing queued
    let changed = "badge,month,case_ref,deduction\n100003,2026-10,江公(治)行罚决字〔2026〕902号,3\n";
    let (s, location, html) = multipart(&app.client, "/remedial/case-evaluations", &csrf, "c.csv", changed.as_bytes());
    assert_eq!((s, location), (Status::Ok, None));
    assert!(html.contains("第 2 行："), "{html}");
    assert_eq!(jobs::count_kind(&mut conn, lawcert::domain::jobs::JobKind::CaseImport).unwrap(), 2);
}

#[test]
fn the_bureau_s_training_files_are_exported_by_a_job_for_the_one_who_asked_only() {
    let app = TestApp::new();
    // the export is compared below with the files read again: both after the first sweep's filing
    app.wait_swept();
    app.login_page("H0001");
    let mut conn = app.conn();
    let r = app.client.get("/files/export?format=csv").dispatch();
    assert_eq!(r.status(), Status::SeeOther);
    let page = r.headers().get_one("Location").unwrap().to_string();
    let id = job_id(&page);
    let done = wait_finished(&mut conn, id, |_| {});
    let officers = org::count_users(&mut conn).unwrap() as i32;
    assert_eq!((done.state, done.rows_done, done.rows_total), (JobState::Done, officers, officers), "{:?}", done.errors);
    let (_, html) = get(&app, &page);
    assert!(html.contains(&format!(r#"href="/jobs/{id}/file""#)) && html.contains("名民警的"), "{html}");
    let r = app.client.get(format!("{page}/file")).dispatch();
    assert_eq!(r.status(), Status::Ok);
    assert!(r.headers().get_one("Content-Disposition").unwrap().contains("training-files-bureau-"));
    let csv = r.into_string().unwrap();
    assert!(
        csv.trim_start_matches('\u{feff}').starts_with("条目编号,警号") && csv.contains("100001"),
        "{}",
        csv.chars().take(200).collect::<String>()
    );
    // the same rows as the whole bureau read at once
    let ids: Vec<UserId> = org::list_with_units(&mut conn).unwrap().into_iter().map(|(u, _)| u.id).collect();
    let entries = lawcert::db::models::training::entries_of_users(&mut conn, &ids).unwrap();
    let records = lawcert::services::training::records(&mut conn, &entries).unwrap();
    assert_eq!(csv.as_bytes(), lawcert::services::file_export::csv(&records).unwrap().as_slice());
    // nobody else downloads it: another admin, a leader, an officer
    for badge in ["admin", "L0001", "100001"] {
        let other = sign_in(&app, badge);
        assert_eq!(other.get(format!("{page}/file")).dispatch().status(), Status::NotFound, "{badge}");
        assert_eq!(other.get(page.clone()).dispatch().status(), Status::NotFound, "{badge}");
    }
    // and an officer cannot start one
    let officer = sign_in(&app, "100001");
    assert_eq!(officer.get("/files/export?format=csv").dispatch().status(), Status::Forbidden);
    assert_eq!(jobs::count_kind(&mut conn, lawcert::domain::jobs::JobKind::FileExport).unwrap(), 1);
}

#[test]
fn an_export_s_file_is_deleted_after_the_days_it_is_kept_and_then_said_to_have_expired() {
    let app = TestApp::new();
    let mut conn = app.conn();
    // the admin keeps exports two days; a bad number is refused beside its field, in Chinese
    let csrf = app.login_page("admin");
    let (s, page, _) = post(&app, "/admin/settings/exports", format!("_csrf={csrf}&export_retention_days=0"));
    assert_eq!(s, Status::Ok);
    assert!(page.contains("导出文件保留天数：应在 1–365 之间，现为 0") && page.contains(r#"id="error-export_retention_days""#), "{page}");
    assert_eq!(job_service::export_retention(&mut conn).unwrap().days, 7, "refused: the default stays");
    let (s, page, _) = post(&app, "/admin/settings/exports", format!("_csrf={csrf}&export_retention_days=2"));
    assert_eq!(s, Status::Ok);
    assert!(page.contains("导出文件保留天数已保存") && page.contains(r#"name="export_retention_days" type="number" value="2""#), "{page}");
    assert_eq!(job_service::export_retention(&mut conn).unwrap().days, 2);
    assert_eq!(lawcert::db::models::audit::for_subject(&mut conn, "settings:export_retention").unwrap().len(), 1, "audited");

    // HR exports the bureau's files
    let hr = sign_in(&app, "H0001");
    let r = hr.get("/files/export?format=csv").dispatch();
    assert_eq!(r.status(), Status::SeeOther);
    let page = r.headers().get_one("Location").unwrap().to_string();
    let id = job_id(&page);
    assert_eq!(wait_finished(&mut conn, id, |_| {}).state, JobState::Done);
    assert_eq!(hr.get(format!("{page}/file")).dispatch().status(), Status::Ok);

    // a day later it is still kept (signed in again: a session lasts hours)
    app.clock.advance(chrono::Duration::days(1));
    assert_eq!(job_service::expire_exports(&mut conn, app.clock.now()).unwrap(), 0);
    let hr = sign_in(&app, "H0001");
    assert_eq!(hr.get(format!("{page}/file")).dispatch().status(), Status::Ok);
    // past two days the dated sweep deletes the file; the job and its result stay
    app.clock.advance(chrono::Duration::days(1) + chrono::Duration::minutes(1));
    crate::common::wait_for(|| (!jobs::has_file(&mut conn, JobId(id)).unwrap()).then_some(()));
    let expired = job(&mut conn, id);
    let hr = sign_in(&app, "H0001");
    assert_eq!((expired.state, expired.result.is_some(), expired.file_name.is_some()), (JobState::Done, true, true), "{expired:?}");
    let html = hr.get(page.clone()).dispatch().into_string().unwrap();
    assert!(html.contains(r#"id="file-expired""#) && html.contains("导出文件已过保留期限"), "{html}");
    assert!(!html.contains(&format!(r#"href="/jobs/{id}/file""#)), "no dead link: {html}");
    let r = hr.get(format!("{page}/file")).dispatch();
    assert_eq!(r.status(), Status::Gone);
    let body = r.into_string().unwrap();
    assert!(body.contains("导出文件在任务完成后保留 2 天，这个文件已过期删除"), "{body}");
    // in English too
    hr.get("/lang/en").dispatch();
    let html = hr.get(page.clone()).dispatch().into_string().unwrap();
    assert!(html.contains("passed its keeping period"), "{html}");
    let r = hr.get(format!("{page}/file")).dispatch();
    assert_eq!(r.status(), Status::Gone);
    assert!(r.into_string().unwrap().contains("kept 2 days after the job finishes"));
    // nobody else learns more than that there is no such job
    assert_eq!(sign_in(&app, "admin").get(format!("{page}/file")).dispatch().status(), Status::NotFound);
}
