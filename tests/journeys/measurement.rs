//! Measurement pages and one standard across forms: the item map, an item's curve and the DIF
//! table render real numbers from the demo's graded history (trainers only); a modified Angoff
//! study runs end to end (two raters, two rounds, the spread hidden until one has rated, field
//! errors, adoption by an admin only, audited); and certification sittings created after the
//! adoption decide pass or fail on the calibrated scale, so a candidate of the same ability
//! passes on a hard paper as on an easy one, while a sitting created before keeps its per-cent
//! rule.

use lawcert::domain::ids::{AttemptId, AuditId, QuestionId, SittingId, StudyId, VersionId};
use std::collections::HashMap;

use chrono::{Duration, Utc};
use rocket::http::Status;
use serde_json::json;

use crate::common::{enc, get, key_of, post, TestApp};
use lawcert::db::models::calibration::{self as cal_db, CalibrationRow};

fn wait_calibrated(app: &TestApp) {
    for _ in 0..600 {
        if lawcert::services::calibration::has_run(&mut app.conn()).unwrap() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the sweeper did not calibrate the demo history within a minute");
}

#[test]
fn measurement_pages_show_the_demo_history_to_trainers_only() {
    let app = TestApp::new();
    wait_calibrated(&app);
    let rows = cal_db::all(&mut app.conn()).unwrap();
    assert!(rows.len() > 20, "{}", rows.len());
    app.login_page("T0001");
    let (s, html) = get(&app, "/measurement");
    assert_eq!(s, Status::Ok, "{html}");
    assert!(html.contains("<svg") && html.contains("试题标定与能力图"), "the item map is drawn");
    // every calibrated version is listed with its difficulty as stored
    let r = &rows[0];
    assert!(html.contains(&format!("{:+.2}", r.difficulty)), "difficulty of version {}", r.question_version_id);
    assert!(html.contains(&format!("/measurement/items/{}", r.question_version_id)));
    let graded = cal_db::graded_attempts(&mut app.conn()).unwrap().len();
    assert!(html.contains(&format!("<dd>{graded}</dd>")), "the number of graded attempts behind the abilities");
    // one item's curve: the model curve and the observed groups
    let busiest = rows.iter().max_by_key(|r| r.n).unwrap();
    let (s, html) = get(&app, &format!("/measurement/items/{}", busiest.question_version_id));
    assert_eq!(s, Status::Ok);
    assert!(html.contains("<path d=\"M") && html.contains("<circle"), "curve and observed proportions");
    assert!(html.contains(&format!("b = {:+.2}", busiest.difficulty)));
    assert_eq!(get(&app, "/measurement/items/999999").0, Status::NotFound);
    // DIF across 警种 and across units
    let (s, html) = get(&app, "/measurement/dif");
    assert_eq!(s, Status::Ok);
    assert!(html.contains("MH D-DIF") && html.contains("参照组"), "{html}");
    let (s, html) = get(&app, "/measurement/dif?by=unit");
    assert_eq!(s, Status::Ok);
    assert!(html.contains("城东派出所"), "units are the groups");
    let (s, html) = get(&app, &format!("/measurement/dif?by=police_type&reference={0}&focal={0}", enc("刑侦")));
    assert_eq!(s, Status::UnprocessableEntity, "{html}");
    // the demo's planted items: a wrong key (flagged by the calibration, on the bank list too)
    // and a question much harder for 交警 officers (DIF category C against everyone else)
    let miskeyed = {
        let mut conn = app.conn();
        let first = lawcert::db::models::exam::list_sittings(&mut conn)
            .unwrap()
            .into_iter()
            .find(|s| s.title == "基本级模拟测验（第1期）")
            .unwrap();
        let pool: lawcert::domain::paper::Pool = serde_json::from_str(&first.pool).unwrap();
        pool.rules[0].entries.iter().flat_map(|e| e.v.iter().copied()).min().unwrap()
    };
    let suspect = rows.iter().find(|r| r.question_version_id == miskeyed).expect("the planted wrong key is calibrated");
    assert!(suspect.flags.split(',').any(|f| f == "key_suspected"), "{suspect:?}");
    let code = lawcert::db::models::bank::versions_by_ids(&mut app.conn(), &[suspect.question_version_id]).unwrap()[0].1.code.clone();
    let (_, html) = get(&app, &format!("/bank?q={code}"));
    assert!(html.contains(&code) && html.contains("答案疑似有误"), "{html}");
    let planted = {
        let mut conn = app.conn();
        let first = lawcert::db::models::exam::list_sittings(&mut conn)
            .unwrap()
            .into_iter()
            .find(|s| s.title == "基本级模拟测验（第1期）")
            .unwrap();
        let pool: lawcert::domain::paper::Pool = serde_json::from_str(&first.pool).unwrap();
        let v = pool.rules[1].entries.iter().flat_map(|e| e.v.iter().copied()).min().unwrap();
        lawcert::db::models::bank::versions_by_ids(&mut conn, &[v]).unwrap()[0].1.code.clone()
    };
    let (_, html) = get(&app, &format!("/measurement/dif?by=police_type&focal={}", enc("交警")));
    let row = html.split("<tr").find(|r| r.contains(&format!(">{planted}</a>"))).expect("the planted question has a DIF row");
    assert!(row.contains("DIF C 类，需复核") && row.contains("class=\"flagged\""), "{row}");
    // and a standard-setting study rated in two rounds, closed, awaiting adoption
    let (s, html) = get(&app, "/standards");
    assert_eq!(s, Status::Ok);
    assert!(html.contains("已完成，待采用") && html.contains(" ± "), "{html}");
    // English
    app.client.get("/lang/en?next=/").dispatch();
    let (_, html) = get(&app, "/measurement");
    assert!(html.contains("Item calibration and map"));
    let (s, html) = get(&app, &format!("/measurement/dif?focal={}", enc("交警")));
    assert!(s == Status::Ok && html.contains("Differential item functioning") && html.contains("DIF category C: review"), "{html}");
    let (s, html) = get(&app, &format!("/measurement/items/{}", busiest.question_version_id));
    assert!(s == Status::Ok && html.contains("Item characteristic curve"));
    let (s, html) = get(&app, "/standards/1");
    assert!(s == Status::Ok && html.contains("closed, awaiting adoption") && html.contains("Panel: round 2"), "{html}");

    // officers and unit leaders are refused
    for badge in ["100001", "L0001"] {
        app.login_page(badge);
        for path in ["/measurement", "/measurement/dif", "/standards", &format!("/measurement/items/{}", busiest.question_version_id)] {
            assert_eq!(get(&app, path).0, Status::Forbidden, "{badge} {path}");
        }
    }
}

/// Two statutes with at least ten plain true/false questions: (code, version ids).
fn two_statutes(app: &TestApp) -> [(String, Vec<i64>); 2] {
    let now = Utc::now().naive_utc();
    let mut by: HashMap<String, Vec<i64>> = HashMap::new();
    for c in lawcert::services::exams::pool_candidates(&mut app.conn(), now).unwrap() {
        if c.case.is_none() && c.kind == lawcert::domain::bank::QuestionKind::TrueFalse {
            by.entry(c.statute.clone()).or_default().push(c.version_id.0);
        }
    }
    let mut list: Vec<(String, Vec<i64>)> = by.into_iter().filter(|(_, v)| v.len() >= 10).collect();
    list.sort();
    assert!(list.len() >= 2, "two statutes with ten true/false questions");
    [list[0].clone(), list[1].clone()]
}

fn blueprint(app: &TestApp, statute: &str) -> i64 {
    let t = app.token("T0001");
    let (s, bp) = app.api(
        "POST",
        "/api/v1/blueprints",
        &t,
        Some(json!({"name": format!("{statute} 判断题"), "spec": {"rules": [{"kind": "truefalse", "statute": statute, "count": 10, "points_centi": 100}]}})),
    );
    assert_eq!(s, Status::Created, "{bp}");
    bp["id"].as_i64().unwrap()
}

fn cert_sitting(app: &TestApp, bp: i64, title: &str) -> i64 {
    let now = Utc::now();
    let (s, body) = app.api(
        "POST",
        "/api/v1/sittings",
        &app.token("T0001"),
        Some(json!({"title": title, "kind": "certification", "blueprint_id": bp,
                     "opens_at": (now - Duration::minutes(5)).to_rfc3339(), "closes_at": (now + Duration::hours(2)).to_rfc3339(),
                     "duration_minutes": 30, "pass_percent": 60, "multi_rule": "partial", "score_release": "on_submit",
                     "answer_release": "after_close", "cert_level": "basic"})),
    );
    assert_eq!(s, Status::Created, "{body}");
    body["id"].as_i64().unwrap()
}

/// `badge` registers for 基本级 and sits `sid`, answering `right` of the ten questions right.
fn sit(app: &TestApp, badge: &str, sid: i64, right: usize) -> i64 {
    let tok = app.token(badge);
    let (s, body) = app.api("POST", "/api/v1/certification/registrations", &tok, Some(json!({"level": "basic"})));
    assert_eq!(s, Status::Created, "{body}");
    let (s, att) = app.api("POST", &format!("/api/v1/sittings/{sid}/attempts"), &tok, None);
    assert_eq!(s, Status::Created, "{att}");
    let aid = att["attempt_id"].as_i64().unwrap();
    for (n, q) in att["questions"].as_array().unwrap().iter().enumerate() {
        let v = q["id"].as_i64().unwrap();
        let key = key_of(&mut app.conn(), v);
        let choice = if n < right {
            key
        } else if key == "T" {
            "F".into()
        } else {
            "T".into()
        };
        let (s, b) = app.api("PUT", &format!("/api/v1/attempts/{aid}/answers/{v}"), &tok, Some(json!({"choices": [choice]})));
        assert_eq!(s, Status::Ok, "{b}");
    }
    let (s, b) = app.api("POST", &format!("/api/v1/attempts/{aid}/submit"), &tok, None);
    assert_eq!(s, Status::Ok, "{b}");
    aid
}

fn study_id(loc: Option<String>) -> i64 {
    loc.expect("redirect").trim_start_matches("/standards/").parse().expect("study id")
}

fn ratings(csrf: &str, percent: &str) -> String {
    let mut body = format!("_csrf={csrf}");
    for i in 0..10 {
        body.push_str(&format!("&p%5B{i}%5D={percent}"));
    }
    body
}

#[test]
fn an_angoff_study_sets_a_cut_that_holds_across_papers_of_different_difficulty() {
    let app = TestApp::new();
    wait_calibrated(&app);
    // the calibration: one statute's true/false questions easy (b = -1), another's hard (b = +1)
    let [(easy_statute, easy), (hard_statute, hard)] = two_statutes(&app);
    let mut conn = app.conn();
    let mut rows: HashMap<i64, CalibrationRow> =
        cal_db::all(&mut conn).unwrap().into_iter().map(|r| (r.question_version_id.0, r)).collect();
    let qids: HashMap<i64, i64> = lawcert::db::models::bank::versions_by_ids(
        &mut conn,
        &[easy.clone(), hard.clone()].concat().into_iter().map(VersionId).collect::<Vec<_>>(),
    )
    .unwrap()
    .into_iter()
    .map(|(v, q)| (v.id.0, q.id.0))
    .collect();
    for (list, b) in [(&easy, -1.0), (&hard, 1.0)] {
        for v in list {
            rows.insert(
                *v,
                CalibrationRow {
                    question_version_id: VersionId(*v),
                    question_id: QuestionId(qids[v]),
                    difficulty: b,
                    se: 0.2,
                    n: 100,
                    infit: Some(1.0),
                    outfit: Some(1.0),
                    flags: String::new(),
                    anchored: false,
                    calibrated_at: Utc::now().naive_utc(),
                },
            );
        }
    }
    let rows: Vec<CalibrationRow> = rows.into_values().collect();
    lawcert::db::write_tx(&mut conn, |c| cal_db::replace_all(c, &rows)).unwrap();
    drop(conn);
    let (bp_easy, bp_hard) = (blueprint(&app, &easy_statute), blueprint(&app, &hard_statute));
    // a sitting scheduled before any cut is adopted keeps the per-cent rule
    let old = cert_sitting(&app, bp_hard, "旧规则等级考试");

    // a trainer opens a study on the easy blueprint; the level must be chosen
    let csrf = app.login_page("T0001");
    let (s, html, _) = post(&app, "/standards", format!("_csrf={csrf}&level=&blueprint_id={bp_easy}"));
    assert_eq!(s, Status::Ok);
    assert!(html.contains("id=\"error-level\""), "a field error beside the level: {html}");
    let (s, _, loc) = post(&app, "/standards", format!("_csrf={csrf}&level=basic&blueprint_id={bp_easy}"));
    assert_eq!(s, Status::SeeOther);
    let id = study_id(loc);
    let (s, html) = get(&app, &format!("/standards/{id}"));
    assert_eq!(s, Status::Ok);
    assert!(html.contains("完成第一轮评定后才能看到小组的评定分布"), "the spread is hidden before rating");
    // a bad rating names the item; nothing is stored
    let bad = ratings(&csrf, "70").replace("p%5B3%5D=70", "p%5B3%5D=150");
    let (s, html, _) = post(&app, &format!("/standards/{id}/ratings"), bad);
    assert_eq!(s, Status::Ok);
    assert!(html.contains("id=\"error-p[3]\"") && html.contains("not 150"), "{html}");
    assert!(lawcert::db::models::standards::ratings(&mut app.conn(), StudyId(id)).unwrap().is_empty());
    let (s, _, _) = post(&app, &format!("/standards/{id}/ratings"), ratings(&csrf, "70"));
    assert_eq!(s, Status::SeeOther);
    // one complete sheet is not a panel
    let (s, _, _) = post(&app, &format!("/standards/{id}/round2"), format!("_csrf={csrf}"));
    assert_eq!(s, Status::Conflict);

    // the second rater does not see the first one's ratings before rating
    let csrf2 = app.login_page("T0002");
    let (_, html) = get(&app, &format!("/standards/{id}"));
    assert!(html.contains("完成第一轮评定后才能看到小组的评定分布") && !html.contains("value=\"70\""), "{html}");
    let (s, _, _) = post(&app, &format!("/standards/{id}/ratings"), ratings(&csrf2, "85"));
    assert_eq!(s, Status::SeeOther);
    let (_, html) = get(&app, &format!("/standards/{id}"));
    // mean 77.5 %, SD 10.6 % over the two raters
    assert!(html.contains("(SD 11, 70–85)"), "the panel's spread after rating: {html}");
    // having seen the spread, a rater's round-1 sheet stays as given: no form, and a post is refused
    assert!(!html.contains("inputmode=\"decimal\""), "round-1 ratings can no longer be edited: {html}");
    let (s, _, _) = post(&app, &format!("/standards/{id}/ratings"), ratings(&csrf2, "60"));
    assert_eq!(s, Status::Conflict);
    let t2 = lawcert::db::models::org::find_by_badge(&mut app.conn(), "T0002").unwrap().unwrap().id;
    let kept = lawcert::db::models::standards::ratings(&mut app.conn(), StudyId(id)).unwrap();
    assert!(kept.iter().filter(|r| r.rater_id == t2).all(|r| r.round == 1 && (r.p - 0.85).abs() < 1e-9), "{kept:?}");
    let (s, _, _) = post(&app, &format!("/standards/{id}/round2"), format!("_csrf={csrf2}"));
    assert_eq!(s, Status::SeeOther);

    // round 2: 75 % and 78 %
    let (s, _, _) = post(&app, &format!("/standards/{id}/ratings"), ratings(&csrf2, "78"));
    assert_eq!(s, Status::SeeOther);
    let csrf = app.login_page("T0001");
    let (s, _, _) = post(&app, &format!("/standards/{id}/ratings"), ratings(&csrf, "75"));
    assert_eq!(s, Status::SeeOther);
    let (s, _, _) = post(&app, &format!("/standards/{id}/close"), format!("_csrf={csrf}"));
    assert_eq!(s, Status::SeeOther);
    // cut = 10 × 0.765 = 7.65 points, SE = SD(7.5, 7.8)/√2 = 0.15; θ = -1 + ln(0.765/0.235)
    let theta = -1.0 + (0.765f64 / 0.235).ln();
    let (_, html) = get(&app, &format!("/standards/{id}"));
    assert!(html.contains("7.65 ± 0.15"), "{html}");
    assert!(html.contains(&format!("{theta:+.2}")), "{html}");
    // a trainer cannot adopt
    let (s, _, _) = post(&app, &format!("/standards/{id}/adopt"), format!("_csrf={csrf}"));
    assert_eq!(s, Status::Forbidden);
    assert!(lawcert::db::models::standards::adopted_for_level(&mut app.conn(), lawcert::domain::bank::Level::Basic).unwrap().is_none());
    // an admin adopts, audited
    let csrf = app.login_page("admin");
    let (s, html) = get(&app, &format!("/standards/{id}"));
    assert_eq!(s, Status::Ok);
    assert!(html.contains(&format!("/standards/{id}/adopt")));
    let (s, _, _) = post(&app, &format!("/standards/{id}/adopt"), format!("_csrf={csrf}"));
    assert_eq!(s, Status::SeeOther);
    let adopted =
        lawcert::db::models::standards::adopted_for_level(&mut app.conn(), lawcert::domain::bank::Level::Basic).unwrap().expect("adopted");
    assert!((adopted.theta.unwrap() - theta).abs() < 1e-9);
    let log = lawcert::db::models::audit::page(&mut app.conn(), AuditId(0), 10_000).unwrap();
    assert!(log.iter().any(|e| e.action == "standard.adopt" && e.subject == format!("standard_study:{id}")));
    // adopting twice is refused
    let (s, _, _) = post(&app, &format!("/standards/{id}/adopt"), format!("_csrf={csrf}"));
    assert_eq!(s, Status::Conflict);
    let (_, html) = get(&app, "/standards");
    assert!(html.contains(&format!("{theta:+.2}")), "the adopted cut per level");

    // sittings scheduled now decide on the scale
    let (new_easy, new_hard) = (cert_sitting(&app, bp_easy, "新规则等级考试（易）"), cert_sitting(&app, bp_hard, "新规则等级考试（难）"));
    // θ on the easy paper with 8 of 10: -1 + ln 4 = 0.39; on the hard one with 4 of 10: 1 + ln(2/3) = 0.59.
    // 60 % of the points would pass the first and fail the second.
    let a_easy = sit(&app, "100025", new_easy, 8);
    let a_hard = sit(&app, "100026", new_hard, 4);
    let a_old = sit(&app, "100027", old, 4);
    let mut conn = app.conn();
    let scaled = |conn: &mut lawcert::db::DbConn, a: i64| {
        lawcert::db::models::standards::scaled_of(conn, AttemptId(a)).unwrap().expect("scaled score")
    };
    let passed =
        |conn: &mut lawcert::db::DbConn, a: i64| lawcert::db::models::exam::find_attempt(conn, AttemptId(a)).unwrap().unwrap().passed;
    let (e, h, o) = (scaled(&mut conn, a_easy), scaled(&mut conn, a_hard), scaled(&mut conn, a_old));
    assert!((e.ability.unwrap() - (-1.0 + 4f64.ln())).abs() < 1e-6, "{e:?}");
    assert!((h.ability.unwrap() - (1.0 + (4.0f64 / 6.0).ln())).abs() < 1e-6, "{h:?}");
    assert_eq!((e.rule.as_str(), h.rule.as_str()), ("scale", "scale"));
    assert_eq!((e.cut_theta, h.cut_theta), (Some(adopted.theta.unwrap()), Some(adopted.theta.unwrap())));
    assert_eq!((passed(&mut conn, a_easy), passed(&mut conn, a_hard)), (Some(true), Some(true)), "the same standard on both papers");
    // the raw cut on each paper is what a candidate at the cut expects there
    assert!((h.raw_cut.unwrap() - 10.0 / (1.0 + (1.0 - theta).exp())).abs() < 1e-6, "{h:?}");
    // the sitting scheduled before the adoption keeps its rule: 4 of 10 fails at 60 %
    assert_eq!(o.rule.as_str(), "percent");
    assert!((o.ability.unwrap() - h.ability.unwrap()).abs() < 1e-9, "same answers, same ability");
    assert_eq!(passed(&mut conn, a_old), Some(false));
    // a later calibration moves the hard questions; a regrade (as after an upheld challenge)
    // keeps the difficulties the attempts were graded with, so only a key could change a result
    let moved: Vec<CalibrationRow> = cal_db::all(&mut conn)
        .unwrap()
        .into_iter()
        .map(|mut r| {
            if hard.contains(&r.question_version_id.0) {
                r.difficulty = 3.0;
            }
            r
        })
        .collect();
    lawcert::db::write_tx(&mut conn, |c| cal_db::replace_all(c, &moved)).unwrap();
    let cache = lawcert::services::cache::VersionCache::default();
    let mut report = lawcert::services::challenges::DecisionReport::default();
    let now = Utc::now().naive_utc();
    lawcert::db::write_tx(&mut conn, |c| {
        lawcert::services::challenges::regrade(c, &cache, SittingId(new_hard), None, None, "test", now, &mut report)
    })
    .unwrap();
    assert_eq!(report.regraded, 1);
    let again = scaled(&mut conn, a_hard);
    assert_eq!((again.ability, again.rule.as_str()), (h.ability, "scale"), "{again:?}");
    assert_eq!(passed(&mut conn, a_hard), Some(true));
    // with a cut adopted, a 基本级 question far easier than the cut is flagged too easy for the level
    let basic: Vec<i64> = lawcert::db::models::bank::versions_by_ids(&mut conn, &easy.iter().map(|&v| VersionId(v)).collect::<Vec<_>>())
        .unwrap()
        .into_iter()
        .filter(|(v, _)| v.levels_vec().contains(&lawcert::domain::bank::Level::Basic))
        .map(|(v, _)| v.id.0)
        .collect();
    let (too_easy, fine) = (basic[0], basic[1]);
    let rows: Vec<CalibrationRow> = cal_db::all(&mut conn)
        .unwrap()
        .into_iter()
        .map(|mut r| {
            if r.question_version_id == VersionId(too_easy) {
                r.difficulty = theta - 3.0;
            }
            r
        })
        .collect();
    lawcert::db::write_tx(&mut conn, |c| cal_db::replace_all(c, &rows)).unwrap();
    let flags = lawcert::services::measurement::version_flags(&mut conn, &[VersionId(too_easy), VersionId(fine)]).unwrap();
    assert_eq!(flags[&VersionId(too_easy)].flags.iter().map(|f| f.as_str()).collect::<Vec<_>>(), vec!["too_easy"]);
    assert!(flags[&VersionId(fine)].flags.is_empty(), "{:?}", flags[&VersionId(fine)]);
    // the scaled score is on the candidate's result page
    drop(conn);
    app.login_page("100026");
    let (s, html) = get(&app, &format!("/attempts/{a_hard}/result"));
    assert_eq!(s, Status::Ok);
    assert!(html.contains(&format!("{:+.2}", h.ability.unwrap())) && html.contains("按标定尺度合格线判定"), "{html}");
    // and in the API: the trainers' results and the candidate's own submission
    let (s, rows) = app.api("GET", &format!("/api/v1/sittings/{new_hard}/results"), &app.token("T0001"), None);
    assert_eq!(s, Status::Ok, "{rows}");
    let row = rows.as_array().unwrap().iter().find(|r| r["attempt_id"] == a_hard).expect("the attempt").clone();
    assert_eq!(row["pass_rule"], "scale");
    assert!((row["scaled"].as_f64().unwrap() - h.ability.unwrap()).abs() < 1e-9, "{row}");
    let (s, res) = app.api("POST", &format!("/api/v1/attempts/{a_old}/submit"), &app.token("100027"), None);
    assert_eq!(s, Status::Ok, "{res}");
    assert_eq!((res["pass_rule"].as_str(), res["passed"].as_bool()), (Some("percent"), Some(false)), "{res}");
    assert!(res["scaled"].is_number(), "{res}");
    // the trainers' results page shows θ beside the points
    app.login_page("T0001");
    let (_, html) = get(&app, &format!("/sittings/{new_hard}"));
    assert!(html.contains(&format!("{:+.2}", h.ability.unwrap())) && html.contains("（按标定尺度）"), "{html}");
    assert!(html.contains(&format!("θ ≥ {theta:+.2}")) && html.contains(&format!("/standards/{id}")), "the sitting's rule");
    let (_, html) = get(&app, &format!("/sittings/{old}"));
    assert!(!html.contains("θ ≥") && html.contains("60%"), "the old sitting's rule");
}
