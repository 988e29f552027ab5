//! Fair papers (issue 16): every paper of a sitting carries the same points, trainers see the
//! spread of paper difficulty on the sitting page, a pool that cannot meet the blueprint's
//! tolerance is refused when the sitting is created, drawing prefers less-exposed questions
//! (with the exposure frozen in the pool), and a trainer can audit any candidate's paper by
//! re-drawing it from the pool and the seed.

use lawcert::domain::ids::{AttemptId, QuestionId, SittingId, VersionId};
use std::collections::HashMap;

use chrono::{Duration, Utc};
use rocket::http::Status;
use serde_json::{json, Value};

use crate::common::{get, TestApp};
use lawcert::db::models::{bank as bank_db, calibration as cal_db, exam as exam_db};
use lawcert::domain::grading::format_points;
use lawcert::domain::paper::{draw, Paper, Pool};

fn blueprint(app: &TestApp, tok: &str, spec: Value) -> (Status, Value) {
    app.api("POST", "/api/v1/blueprints", tok, Some(json!({"name": "公平组卷", "spec": spec})))
}

fn sitting(app: &TestApp, tok: &str, bp: i64, title: &str) -> (Status, Value) {
    let now = Utc::now();
    app.api(
        "POST",
        "/api/v1/sittings",
        tok,
        Some(json!({
            "title": title, "kind": "mock", "blueprint_id": bp,
            "opens_at": (now - Duration::minutes(5)).to_rfc3339(), "closes_at": (now + Duration::hours(2)).to_rfc3339(),
            "duration_minutes": 60, "pass_percent": 60, "multi_rule": "partial",
            "score_release": "on_submit", "answer_release": "after_close",
        })),
    )
}

/// Starts the sitting for each badge; returns the attempt ids.
fn start_all(app: &TestApp, sid: i64, badges: &[&str]) -> Vec<i64> {
    badges
        .iter()
        .map(|b| {
            let (s, att) = app.api("POST", &format!("/api/v1/sittings/{sid}/attempts"), &app.token(b), None);
            assert_eq!(s, Status::Created, "{b}: {att}");
            att["attempt_id"].as_i64().unwrap()
        })
        .collect()
}

fn stored_pool(app: &TestApp, sid: i64) -> Pool {
    let s = exam_db::find_sitting(&mut app.conn(), SittingId(sid)).unwrap().unwrap();
    serde_json::from_str(&s.pool).unwrap()
}

fn paper_of(app: &TestApp, aid: i64) -> (Paper, i64, i64) {
    let a = exam_db::find_attempt(&mut app.conn(), AttemptId(aid)).unwrap().unwrap();
    (serde_json::from_str(&a.paper).unwrap(), a.max_centi, a.seed)
}

/// Expected score (hundredths) of a paper, read straight from the stored pool's JSON: Σ item
/// points × its entry's f / 1000.
fn expected_from_json(pool_json: &str, paper: &Paper) -> f64 {
    let v: Value = serde_json::from_str(pool_json).unwrap();
    let mut f: HashMap<i64, i64> = HashMap::new();
    for rule in v["rules"].as_array().unwrap() {
        for e in rule["entries"].as_array().unwrap() {
            for id in e["v"].as_array().unwrap() {
                f.insert(id.as_i64().unwrap(), e["f"].as_i64().expect("every entry carries f"));
            }
        }
    }
    paper.items.iter().map(|i| i.p * f[&i.v.0]).sum::<i64>() as f64 / 1000.0
}

#[test]
fn every_paper_carries_the_same_points_and_trainers_see_the_spread() {
    let app = TestApp::new();
    let t = app.token("T0001");
    // two case groups (3 to 5 items each in the shipped banks) at 10 points a group, and ten
    // single-choice questions at 2 points: 40 points on every paper
    let (s, bp) = blueprint(
        &app,
        &t,
        json!({"rules": [{"kind": "single", "count": 10, "points_centi": 200}, {"kind": "case", "count": 2, "points_centi": 1000}]}),
    );
    assert_eq!(s, Status::Created, "{bp}");
    let (s, created) = sitting(&app, &t, bp["id"].as_i64().unwrap(), "公平组卷测试");
    assert_eq!(s, Status::Created, "{created}");
    let sid = created["id"].as_i64().unwrap();
    let pool = stored_pool(&app, sid);
    assert_eq!(pool.format, 1);
    let case_sizes: std::collections::BTreeSet<usize> = pool.rules[1].entries.iter().map(|e| e.v.len()).collect();
    assert!(case_sizes.len() > 1, "the bank's cases differ in size: {case_sizes:?}");

    let badges = ["100001", "100002", "100003", "100005", "100006", "100007", "100008", "100009"];
    let attempts = start_all(&app, sid, &badges);
    let mut lengths = std::collections::BTreeSet::new();
    let mut expected = Vec::new();
    let pool_json = exam_db::find_sitting(&mut app.conn(), SittingId(sid)).unwrap().unwrap().pool;
    for &aid in &attempts {
        let (paper, max, _) = paper_of(&app, aid);
        assert_eq!(max, 4000, "attempt {aid}");
        assert_eq!(paper.max_centi(), 4000);
        lengths.insert(paper.items.len());
        expected.push(expected_from_json(&pool_json, &paper));
    }
    // the results the API gives agree
    let (_, results) = app.api("GET", &format!("/api/v1/sittings/{sid}/results"), &t, None);
    assert!(results.as_array().unwrap().iter().all(|r| r["max_score"] == "40"), "{results}");

    // the trainer's sitting page: papers, total, min / median / max expected score
    expected.sort_by(f64::total_cmp);
    let pts = |c: f64| format_points(c.round() as i64);
    let median = (expected[3] + expected[4]) / 2.0;
    app.login_page("T0001");
    let (s, page) = get(&app, &format!("/sittings/{sid}"));
    assert_eq!(s, Status::Ok);
    assert!(page.contains("各考生试卷难度分布"), "{page}");
    assert!(page.contains(&format!("<dt>试卷数</dt><dd>{}</dd>", badges.len())), "{page}");
    assert!(page.contains("<dt>每份试卷总分</dt><dd>40</dd>"), "one total: {page}");
    let line = format!("最低 {} · 中位 {} · 最高 {}", pts(expected[0]), pts(median), pts(expected[7]));
    assert!(page.contains(&line), "{line} in {page}");
    assert!(page.contains(&format!("/sittings/{sid}/attempts/{}/audit", attempts[0])), "audit links for trainers");
    // English too
    app.client.get("/lang/en").dispatch();
    let (_, page) = get(&app, &format!("/sittings/{sid}"));
    assert!(page.contains("Paper difficulty across candidates"), "{page}");
    assert!(page.contains(&format!("min {} · median {} · max {}", pts(expected[0]), pts(median), pts(expected[7]))));

    // a unit leader and HR read the results, never the spread or the audit links
    for badge in ["L0001", "H0001"] {
        app.login_page(badge);
        let (s, page) = get(&app, &format!("/sittings/{sid}"));
        assert_eq!(s, Status::Ok, "{badge}");
        assert!(!page.contains("各考生试卷难度分布") && !page.contains("Paper difficulty"), "{badge}: {page}");
        assert!(!page.contains("/audit"), "{badge}");
    }
}

/// Replaces the stored calibration with the given difficulty for each version.
fn calibrate_as(app: &TestApp, versions: &[(i64, i64)], difficulty: impl Fn(usize) -> f64) {
    let now = Utc::now().naive_utc();
    let rows: Vec<cal_db::CalibrationRow> = versions
        .iter()
        .enumerate()
        .map(|(i, &(v, q))| cal_db::CalibrationRow {
            question_version_id: VersionId(v),
            question_id: QuestionId(q),
            difficulty: difficulty(i),
            se: 0.3,
            n: 50,
            infit: Some(1.0),
            outfit: Some(1.0),
            flags: String::new(),
            anchored: false,
            calibrated_at: now,
        })
        .collect();
    lawcert::db::write_tx(&mut app.conn(), |c| cal_db::replace_all(c, &rows)).unwrap();
}

#[test]
fn a_pool_that_cannot_meet_the_tolerance_is_refused_when_the_sitting_is_created() {
    // the dated sweep runs once at start (and calibrates the demo history), then not for an
    // hour: the calibration this test writes stays as written
    let app = TestApp::with_env(&[("LAWCERT_DATED_SWEEP_SECONDS", "3600")]);
    let t = app.token("T0001");
    crate::common::wait_for(|| lawcert::services::calibration::has_run(&mut app.conn()).unwrap().then_some(()));
    std::thread::sleep(std::time::Duration::from_millis(500));
    let statute = "people-police-law";
    let versions: Vec<(i64, i64)> = bank_db::live_versions(&mut app.conn())
        .unwrap()
        .into_iter()
        .filter(|(q, v)| q.kind == lawcert::domain::bank::QuestionKind::Single && q.case_id.is_none() && v.statute_code == statute)
        .map(|(q, v)| (v.id.0, q.id.0))
        .collect();
    assert!(versions.len() >= 6, "{}", versions.len());
    // every question of the statute calibrated at 0 logits: every paper expects half its points
    calibrate_as(&app, &versions, |_| 0.0);
    let spec = json!({"rules": [{"kind": "single", "statute": statute, "count": 1, "points_centi": 1000}], "tolerance_permille": 50});
    let (s, bp) = blueprint(&app, &t, spec);
    assert_eq!(s, Status::Created, "{bp}");
    let bp = bp["id"].as_i64().unwrap();
    let (s, ok) = sitting(&app, &t, bp, "容差内");
    assert_eq!(s, Status::Created, "{ok}");
    let fit = stored_pool(&app, ok["id"].as_i64().unwrap()).fit.expect("the tolerance is frozen with the pool");
    assert_eq!((fit.target_centi, fit.tolerance_centi), (500, 50));

    // recalibrated: half the questions very easy, half very hard. A paper of one question is
    // then easy or hard, never within 5 % of the average: refused, saying what would do
    calibrate_as(&app, &versions, |i| if i % 2 == 0 { -4.0 } else { 4.0 });
    let (s, body) = sitting(&app, &t, bp, "容差外");
    assert_eq!(s, Status::UnprocessableEntity, "{body}");
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(msg.contains("tolerance: only "), "{msg}");
    assert!(
        msg.contains("only 0.0 % of papers drawn from this pool have an expected score within 5.0 % (0.5 points) of the average paper ("),
        "{msg}"
    );
    assert!(msg.contains(" of 10 points); at least 10 % must"), "{msg}");
    assert!(msg.contains("Widen the tolerance to"), "{msg}");
    // nothing was created
    let titles: Vec<String> = exam_db::list_sittings(&mut app.conn()).unwrap().into_iter().map(|s| s.title).collect();
    assert!(!titles.contains(&"容差外".to_string()));
    // the form says the same, in the page
    let csrf = app.login_page("T0001");
    let now = Utc::now() + Duration::hours(8);
    let form = format!(
        "_csrf={csrf}&title=%E5%AE%B9%E5%B7%AE&kind=mock&blueprint_id={bp}&opens_at={}&closes_at={}&duration_minutes=30&pass_percent=60&multi_rule=partial&score_release=on_submit&answer_release=after_close&badges=",
        now.format("%Y-%m-%dT%H:%M"),
        (now + Duration::hours(2)).format("%Y-%m-%dT%H:%M")
    );
    let (s, page, _) = crate::common::post(&app, "/sittings/new", form);
    assert_eq!(s, Status::Ok);
    // the sitting form has no tolerance field: the blueprint's problem is said above the form
    assert!(page.contains("<li>预期得分容差：从本题库抽出的试卷，只有 0.0 % 的预期得分与平均试卷（"), "in the reader's language: {page}");
    assert!(page.contains("请把容差放宽到 ") && !page.contains("Widen the tolerance"), "{page}");
}

#[test]
fn drawing_prefers_questions_earlier_sittings_showed_less() {
    let app = TestApp::new();
    let t = app.token("T0001");
    let spec = json!({"rules": [{"kind": "truefalse", "statute": "criminal-law", "count": 6, "points_centi": 100}]});
    let (s, bp) = blueprint(&app, &t, spec);
    assert_eq!(s, Status::Created, "{bp}");
    let bp = bp["id"].as_i64().unwrap();
    let (_, first) = sitting(&app, &t, bp, "第一场");
    let first = first["id"].as_i64().unwrap();
    start_all(&app, first, &["100001", "100002", "100003", "100005", "100006", "100007"]);

    // the second sitting freezes every version's exposure so far: the papers of every sitting
    let (_, second) = sitting(&app, &t, bp, "第二场");
    let second = second["id"].as_i64().unwrap();
    let mut seen: HashMap<i64, u32> = HashMap::new();
    for s in exam_db::list_sittings(&mut app.conn()).unwrap() {
        for (a, ..) in exam_db::attempts_of_sitting(&mut app.conn(), s.id).unwrap() {
            let paper: Paper = serde_json::from_str(&a.paper).unwrap();
            for i in paper.items {
                *seen.entry(i.v.0).or_default() += 1;
            }
        }
    }
    let pool = stored_pool(&app, second);
    let entries = &pool.rules[0].entries;
    for e in entries {
        assert_eq!(e.x, Some(seen.get(&e.v[0].0).copied().unwrap_or(0)), "version {}", e.v[0]);
    }
    // the demo's history has shown these questions too: compare the least exposed questions of
    // the pool with the most exposed
    let xs: Vec<u32> = entries.iter().map(|e| e.x.unwrap()).collect();
    let (lo, hi) = (*xs.iter().min().unwrap(), *xs.iter().max().unwrap());
    assert!(lo < hi, "the first sitting made exposure differ: {xs:?}");
    let fresh: Vec<i64> = entries.iter().filter(|e| e.x == Some(lo)).map(|e| e.v[0].0).collect();
    let worn: Vec<i64> = entries.iter().filter(|e| e.x == Some(hi)).map(|e| e.v[0].0).collect();
    // re-drawn from the stored pool (as every paper of the sitting is), a less-exposed question
    // comes up more often than a more-exposed one
    let mut count: HashMap<i64, u32> = HashMap::new();
    for seed in 0..2000 {
        for i in draw(&pool, seed).items {
            *count.entry(i.v.0).or_default() += 1;
        }
    }
    let rate = |ids: &[i64]| ids.iter().map(|v| f64::from(count.get(v).copied().unwrap_or(0))).sum::<f64>() / ids.len() as f64 / 2000.0;
    assert!(rate(&fresh) > 1.1 * rate(&worn), "least exposed ({lo}) {:.3} vs most exposed ({hi}) {:.3}", rate(&fresh), rate(&worn));
    // and the candidates of the second sitting get papers from that pool
    let second_attempts = start_all(&app, second, &["100008", "100009", "100010"]);
    for aid in &second_attempts {
        let (paper, _, seed) = paper_of(&app, *aid);
        assert_eq!(draw(&pool, seed as u64), paper);
    }

    // exposure per sitting and overall, from the API (trainers)
    let (s, rows) = app.api("GET", &format!("/api/v1/items/exposure?sitting={first}"), &t, None);
    assert_eq!(s, Status::Ok, "{rows}");
    let mut in_first: HashMap<i64, u64> = HashMap::new();
    for (a, ..) in exam_db::attempts_of_sitting(&mut app.conn(), SittingId(first)).unwrap() {
        for i in serde_json::from_str::<Paper>(&a.paper).unwrap().items {
            *in_first.entry(i.v.0).or_default() += 1;
        }
    }
    let api_first: HashMap<i64, u64> =
        rows.as_array().unwrap().iter().map(|r| (r["question_version_id"].as_i64().unwrap(), r["papers"].as_u64().unwrap())).collect();
    assert_eq!(api_first, in_first);
    let (_, overall) = app.api("GET", "/api/v1/items/exposure", &t, None);
    // the question page of the most exposed version, while the sittings are open (counted in
    // SQL from the stored papers) and again once they are recorded
    let top = overall.as_array().unwrap()[0].clone();
    let exposure_line = format!("已出现在 {} 场考试的 {} 份试卷中", top["sittings"], top["papers"]);
    app.login_page("T0001");
    let (_, page) = get(&app, &format!("/bank/{}", top["question_id"]));
    assert!(page.contains(&exposure_line), "{top} {page}");
    // once the sittings close the sweep records their counts; the API then reads those and
    // gives the same numbers
    let later = Utc::now().naive_utc() + chrono::Duration::days(1);
    assert!(lawcert::services::exposure::record_closed(&mut app.conn(), later).unwrap() >= 2);
    let (_, recorded_first) = app.api("GET", &format!("/api/v1/items/exposure?sitting={first}"), &t, None);
    assert_eq!(recorded_first, rows);
    let (_, recorded_overall) = app.api("GET", "/api/v1/items/exposure", &t, None);
    assert_eq!(recorded_overall, overall);
    // bad input and roles
    let (s, body) = app.api("GET", "/api/v1/items/exposure?sitting=abc", &t, None);
    assert_eq!(s, Status::UnprocessableEntity, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("sitting: \"abc\" is not a sitting id"));
    let (s, _) = app.api("GET", "/api/v1/items/exposure?sitting=999999", &t, None);
    assert_eq!(s, Status::NotFound);
    let (s, _) = app.api("GET", "/api/v1/items/exposure", &app.token("100001"), None);
    assert_eq!(s, Status::Forbidden);

    // the question page shows the same once recorded
    let (s, page) = get(&app, &format!("/bank/{}", top["question_id"]));
    assert_eq!(s, Status::Ok);
    assert!(page.contains(&exposure_line), "{top} {page}");
}

/// The same pool and paper as `domain::paper`'s format 1 golden test, on real question versions.
const GOLDEN_POOL: &str = r#"{"format":1,"fit":{"target_centi":1000,"tolerance_centi":60,"tries":200,"rate_permille":400},"rules":[{"count":3,"points_centi":200,"entries":[{"v":[1],"n":[4],"f":900,"x":0},{"v":[2],"n":[4],"f":200,"x":3},{"v":[3],"n":[4],"f":700,"x":0},{"v":[4],"n":[4],"f":400,"x":9},{"v":[5],"n":[4],"f":800,"x":1},{"v":[6],"n":[4],"f":500,"x":0}]},{"count":1,"points_centi":1000,"entries":[{"v":[7,8,9],"n":[4,4,4],"f":650,"x":2},{"v":[10,11,12,13],"n":[4,4,4,4],"f":550,"x":0}]}]}"#;
const GOLDEN_PAPER: &str = r#"{"items":[{"v":1,"o":"BDCA","p":200},{"v":3,"o":"DABC","p":200},{"v":6,"o":"CDBA","p":200},{"v":10,"o":"ADBC","p":250},{"v":11,"o":"CABD","p":250},{"v":12,"o":"ABDC","p":250},{"v":13,"o":"DBAC","p":250}]}"#;

/// Replaces the placeholder ids 1..=13 of a golden JSON with real version ids.
fn with_ids(json_text: &str, ids: &[i64]) -> String {
    let mut v: Value = serde_json::from_str(json_text).unwrap();
    fn walk(v: &mut Value, ids: &[i64], in_v: bool) {
        match v {
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    walk(x, ids, k == "v");
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| walk(x, ids, in_v)),
            Value::Number(n) if in_v => *v = json!(ids[n.as_u64().unwrap() as usize - 1]),
            _ => {}
        }
    }
    walk(&mut v, ids, false);
    v.to_string()
}

#[test]
fn a_trainer_audits_a_paper_against_its_re_draw_and_others_are_refused() {
    let app = TestApp::new();
    let t = app.token("T0001");
    let (_, bp) = blueprint(
        &app,
        &t,
        json!({"rules": [{"kind": "single", "count": 8, "points_centi": 250}, {"kind": "case", "count": 1, "points_centi": 1000}]}),
    );
    let (_, created) = sitting(&app, &t, bp["id"].as_i64().unwrap(), "核对");
    let sid = created["id"].as_i64().unwrap();
    let aid = start_all(&app, sid, &["100001"])[0];
    let (paper, ..) = paper_of(&app, aid);

    // the paper the candidate was shown re-draws exactly
    app.login_page("T0001");
    let (s, page) = get(&app, &format!("/sittings/{sid}/attempts/{aid}/audit"));
    assert_eq!(s, Status::Ok, "{page}");
    assert!(page.contains(&format!("全部 {} 题与考生所见一致", paper.items.len())), "{page}");
    assert!(!page.contains("不一致。"), "{page}");
    let entries = lawcert::db::models::audit::for_subject(&mut app.conn(), &format!("attempt:{aid}")).unwrap();
    let audited: Vec<_> = entries.iter().filter(|e| e.action == "paper.audit").collect();
    assert_eq!(audited.len(), 1, "the view is audited");
    assert!(audited[0].detail.contains("\"mismatches\":0"), "{}", audited[0].detail);

    // a stored pool and seed whose paper is known: the page must find the candidate's stored
    // paper equal to its re-draw, so any change to drawing fails here
    let ids: Vec<i64> = stored_pool(&app, sid).rules[0].entries.iter().take(13).map(|e| e.v[0].0).collect();
    assert_eq!(ids.len(), 13);
    let pool = with_ids(GOLDEN_POOL, &ids);
    let golden = with_ids(GOLDEN_PAPER, &ids);
    let mut c = app.conn();
    diesel::RunQueryDsl::execute(diesel::sql_query(format!("UPDATE sittings SET pool = '{pool}' WHERE id = {sid}")), &mut *c).unwrap();
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!("UPDATE attempts SET seed = 12345, paper = '{golden}', max_centi = 1600 WHERE id = {aid}")),
        &mut *c,
    )
    .unwrap();
    drop(c);
    let (_, page) = get(&app, &format!("/sittings/{sid}/attempts/{aid}/audit"));
    assert!(page.contains("全部 7 题与考生所见一致"), "drawing changed for a stored pool: {page}");
    assert!(page.contains("<code>12345</code>"));

    // one option order changed in the stored paper: that position is reported
    let tampered = golden.replacen("\"o\":\"DABC\"", "\"o\":\"ABCD\"", 1);
    assert_ne!(tampered, golden);
    diesel::RunQueryDsl::execute(diesel::sql_query(format!("UPDATE attempts SET paper = '{tampered}' WHERE id = {aid}")), &mut *app.conn())
        .unwrap();
    let (_, page) = get(&app, &format!("/sittings/{sid}/attempts/{aid}/audit"));
    assert!(page.contains("有 1 处与重抽的试卷不一致"), "{page}");
    assert!(page.contains("<code>ABCD</code> / <code>DABC</code>"), "{page}");
    // an attempt of another sitting is not found under this one
    let (s, _) = get(&app, &format!("/sittings/{}/attempts/{aid}/audit", sid + 1000));
    assert_eq!(s, Status::NotFound);

    // the candidate and a unit leader are refused
    for badge in ["100001", "L0001"] {
        app.login_page(badge);
        let (s, _) = get(&app, &format!("/sittings/{sid}/attempts/{aid}/audit"));
        assert_eq!(s, Status::Forbidden, "{badge}");
    }
    let entries = lawcert::db::models::audit::for_subject(&mut app.conn(), &format!("attempt:{aid}")).unwrap();
    assert_eq!(entries.iter().filter(|e| e.action == "paper.audit").count(), 3, "only the trainer's views");
}

#[test]
fn the_blueprint_form_explains_case_points_and_takes_a_tolerance() {
    let app = TestApp::new();
    let csrf = app.login_page("T0001");
    let (_, html) = get(&app, "/blueprints/new");
    assert!(html.contains("分值按每组计，平均分到该组各小题"), "{html}");
    assert!(html.contains("预期得分容差"), "{html}");
    app.client.get("/lang/en").dispatch();
    let (_, html) = get(&app, "/blueprints/new");
    assert!(html.contains("points are per case group, split evenly over the group"), "{html}");
    assert!(html.contains("Expected-score tolerance"), "{html}");
    let form = |tolerance: &str| {
        format!("_csrf={csrf}&name=%E5%AE%B9%E5%B7%AE&rules[0].kind=case&rules[0].count=1&rules[0].points=10&rules[0].statute=&rules[0].difficulty=&rules[0].level=&tolerance={tolerance}")
    };
    let (s, html, _) = crate::common::post(&app, "/blueprints/new", form("abc"));
    assert_eq!(s, Status::Ok);
    assert!(
        crate::common::beside(&html, "tolerance")
            .is_some_and(|m| m.starts_with("Expected-score tolerance: give a percentage of the paper&#x27;s points above 0 and at most 50")),
        "{html}"
    );
    let (s, _, loc) = crate::common::post(&app, "/blueprints/new", form("40"));
    assert_eq!((s, loc.as_deref()), (Status::SeeOther, Some("/blueprints")));
    let last = exam_db::list_blueprints(&mut app.conn()).unwrap().into_iter().max_by_key(|b| b.id).unwrap();
    let spec: lawcert::domain::paper::BlueprintSpec = serde_json::from_str(&last.spec).unwrap();
    assert_eq!((spec.tolerance_permille, spec.rules[0].points_centi), (Some(400), 1000));
    // the list says so, and marks a blueprint saved when case points were per item
    let old = r#"{"case_points_per_item":true,"rules":[{"kind":"case","count":1,"points_centi":200}],"parallel":false}"#;
    let id = exam_db::insert_blueprint(&mut app.conn(), "旧案例方案", old, None, Utc::now().naive_utc()).unwrap();
    let (_, html) = get(&app, "/blueprints");
    assert!(html.contains("Expected-score tolerance: ±40.0 %"), "{html}");
    assert!(html.contains("it can no longer schedule a sitting"), "{html}");
    // and it is refused, naming the rule
    let t = app.token("T0001");
    let (s, body) = sitting(&app, &t, id.0, "旧方案");
    assert_eq!(s, Status::UnprocessableEntity);
    assert!(
        body["error"]["message"].as_str().unwrap().contains("rule 1: this blueprint was saved when case points were per item"),
        "{body}"
    );
}

#[test]
fn a_plan_whose_blueprint_can_no_longer_draw_holds_up_only_itself() {
    let app = TestApp::with_env(&[("LAWCERT_DATED_SWEEP_SECONDS", "3600")]);
    let t = app.token("T0001");
    let now = Utc::now().naive_utc();
    let old = r#"{"case_points_per_item":true,"rules":[{"kind":"case","count":1,"points_centi":200}],"parallel":false}"#;
    let legacy = exam_db::insert_blueprint(&mut app.conn(), "旧案例方案", old, None, now).unwrap();
    let (_, good) = blueprint(&app, &t, json!({"rules": [{"kind": "truefalse", "count": 5, "points_centi": 200}]}));
    let first = lawcert::timefmt::bureau_date(app.clock.now()) + Duration::days(3);
    let plan = |name: &str, bp: i64| {
        json!({"name": name, "blueprint_id": bp, "eligibility": {},
               "schedule": {"first_date": first.to_string(), "every_months": 2, "opens_at": "09:00:00", "window_minutes": 180, "lead_days": 14},
               "duration_minutes": 60, "pass_percent": 60, "multi_rule": "partial", "score_release": "on_submit", "answer_release": "after_close"})
    };
    // the plan on the old blueprint comes first
    let (s, a) = app.api("POST", "/api/v1/exam-plans", &t, Some(plan("旧方案计划", legacy.0)));
    assert_eq!(s, Status::Created, "{a}");
    let (s, b) = app.api("POST", "/api/v1/exam-plans", &t, Some(plan("新方案计划", good["id"].as_i64().unwrap())));
    assert_eq!(s, Status::Created, "{b}");
    lawcert::services::plans::run_due(&mut app.conn(), app.clock.now()).expect("one plan's refusal does not stop the others");
    let plans: Vec<Option<i64>> = exam_db::list_sittings(&mut app.conn()).unwrap().into_iter().map(|s| s.plan_id.map(|p| p.0)).collect();
    assert!(!plans.contains(&a["id"].as_i64()), "the old blueprint drew no sitting");
    assert!(plans.contains(&b["id"].as_i64()), "the other plan's sitting was created");
}

/// Two writers recording the same closed sitting's exposure at once (the dated sweep and a
/// caller): the second, which PostgreSQL makes wait on the first's uncommitted row, writes
/// nothing and does not fail. (Check-then-insert failed here with a duplicate key.)
#[test]
fn two_writers_recording_one_sitting_s_exposure_at_once_record_it_once() {
    use lawcert::db::models::exposure as ex_db;
    let db = crate::common::fresh_database();
    let clock = std::sync::Arc::new(lawcert::clock::Clock::default());
    let pool = crate::common::bare_pool(&db, &clock);
    let now = Utc::now().naive_utc();
    let sid = *ex_db::closed_unrecorded(&mut pool.get().unwrap(), now).unwrap().first().expect("the demo has closed sittings");
    let (first_in, go) = std::sync::mpsc::channel();
    let first = {
        let pool = pool.clone();
        std::thread::spawn(move || {
            lawcert::db::write_tx(&mut pool.get().unwrap(), |c| {
                let wrote = ex_db::record(c, sid, 3, &[], now)?;
                first_in.send(()).unwrap();
                // hold the transaction open while the second writer arrives
                std::thread::sleep(std::time::Duration::from_millis(500));
                Ok::<_, diesel::result::Error>(wrote)
            })
        })
    };
    go.recv().unwrap();
    let second = lawcert::db::write_tx(&mut pool.get().unwrap(), |c| ex_db::record(c, sid, 5, &[], now));
    assert_eq!(first.join().unwrap(), Ok(true));
    assert_eq!(second, Ok(false), "the second writer finds it recorded");
    assert_eq!(ex_db::recorded(&mut pool.get().unwrap(), sid).unwrap(), Some(3), "the first writer's count stands");
}
