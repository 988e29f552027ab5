//! Papers prepared before the start (issue 18): a scheduled sitting's candidates have their
//! papers drawn before it opens; nobody sees them, or that they exist, before the start; a start
//! takes the prepared paper, which the paper audit re-draws exactly; a pool frozen again drops
//! them; a candidate added late is prepared by the sweep, and one added after the open still
//! starts.

use chrono::Duration;
use lawcert::domain::ids::{AttemptId, SittingId, UserId};
use rocket::http::Status;
use serde_json::json;

use lawcert::db::models::{exam as exam_db, prepared as prep_db};
use lawcert::services::prepared;

use crate::common::*;

fn prepared_of(app: &TestApp, sid: i64, user: UserId) -> Option<prep_db::PreparedPaper> {
    prep_db::find(&mut app.conn(), SittingId(sid), user).unwrap()
}

/// The audit page re-draws the attempt's paper from the pool and the seed: every item matches.
fn audit_clean(app: &TestApp, aid: i64) {
    let a = lawcert::services::papers::audit_paper(&mut app.conn(), AttemptId(aid), UserId(1), app.clock.now()).unwrap();
    assert!(a.matches && a.mismatches == 0 && a.items == 12, "attempt {aid}: {a:?}");
}

#[test]
fn papers_prepared_before_the_start_are_hidden_until_it_and_audit_clean() {
    let app = TestApp::new();
    let (unit, ids) = unit_with_officers(&app, 3);
    let sid = schedule(&app, unit, Duration::hours(1));
    let s = exam_db::find_sitting(&mut app.conn(), SittingId(sid)).unwrap().unwrap();
    assert_eq!(s.pool_hash, prepared::pool_hash(&s.pool), "the pool is frozen with its hash");

    // scheduling prepared a paper for everyone on the list, from this pool
    assert_eq!(prep_db::count(&mut app.conn(), SittingId(sid)).unwrap(), 3);
    let before: Vec<prep_db::PreparedPaper> = ids.iter().map(|u| prepared_of(&app, sid, *u).expect("prepared")).collect();
    for p in &before {
        assert_eq!(p.pool_hash, s.pool_hash);
        assert_eq!(p.max_centi, 2400);
    }
    assert!(before[0].seed != before[1].seed && before[1].seed != before[2].seed, "each paper its own seed");

    // nothing of it shows before the start: no attempt in any count or list, and neither the
    // paper nor its seed on the candidate's pages and API, the results, the proctor view
    assert_eq!(exam_db::count_open_attempts(&mut app.conn(), app.clock.now() + Duration::hours(2)).unwrap(), 0);
    assert!(exam_db::attempts_of_sitting(&mut app.conn(), SittingId(sid)).unwrap().is_empty());
    let tok = app.token("P0001");
    let (_, mine) = app.api("GET", "/api/v1/me/sittings", &tok, None);
    let listed = mine.as_array().unwrap().iter().find(|x| x["id"] == sid).expect("on the list");
    assert!(listed["attempt_id"].is_null() && listed["submitted"] == false, "{listed}");
    let paper_ids: Vec<i64> =
        serde_json::from_str::<lawcert::domain::paper::Paper>(&before[0].paper).unwrap().items.iter().map(|i| i.v.0).collect();
    let (_, results) = app.api("GET", &format!("/api/v1/sittings/{sid}/results"), &app.token("T0001"), None);
    assert_eq!(results, json!([]), "no result row before the start");
    app.login_page("P0001");
    let (_, page) = get(&app, &format!("/exams/{sid}"));
    assert!(!page.contains(&before[0].seed.to_string()) && !page.contains("\"v\":"), "{page}");
    for v in &paper_ids {
        assert!(
            !page.contains(&format!("/answers/{v}")) && !page.contains(&format!("data-qid=\"{v}\"")),
            "question {v} on the waiting page"
        );
    }
    app.login_page("T0001");
    for path in [format!("/sittings/{sid}/proctor"), format!("/sittings/{sid}")] {
        let (s, page) = get(&app, &path);
        assert_eq!(s, Status::Ok, "{path}");
        assert!(!page.contains(&before[0].seed.to_string()), "{path} shows a prepared seed");
    }
    // the proctor sees the list's candidates as not started, and no attempt
    let (_, page) = get(&app, &format!("/sittings/{sid}/proctor"));
    assert!(page.contains("还没有人参加") && page.contains("名单上尚未开始的考生"), "{page}");
    let (_, page) = get(&app, &format!("/sittings/{sid}"));
    assert!(!page.contains("预备P0001"), "the results list a candidate who has not started: {page}");

    // before the window opens a start is refused, and the prepared paper stays
    let (s, body) = start(&app, sid, "P0001");
    assert_eq!(s, Status::Conflict, "{body}");
    assert!(prepared_of(&app, sid, ids[0]).is_some());

    // at the open, the start takes the prepared paper: same seed, same paper, row gone
    app.clock.advance(Duration::minutes(61));
    let (s, att) = start(&app, sid, "P0001");
    assert_eq!(s, Status::Created, "{att}");
    let aid = att["attempt_id"].as_i64().unwrap();
    let a = exam_db::find_attempt(&mut app.conn(), AttemptId(aid)).unwrap().unwrap();
    assert_eq!((a.seed, &a.paper, a.max_centi), (before[0].seed, &before[0].paper, before[0].max_centi));
    let shown: Vec<i64> = att["questions"].as_array().unwrap().iter().map(|q| q["id"].as_i64().unwrap()).collect();
    assert_eq!(shown, paper_ids, "the candidate sees the prepared paper");
    assert!(prepared_of(&app, sid, ids[0]).is_none(), "taken by the start");
    assert_eq!(prep_db::count(&mut app.conn(), SittingId(sid)).unwrap(), 2);
    audit_clean(&app, aid);
    // the trainer's audit page agrees
    let (s, page) = get(&app, &format!("/sittings/{sid}/attempts/{aid}/audit"));
    assert_eq!(s, Status::Ok);
    assert!(page.contains("全部 12 题与考生所见一致"), "{page}");

    // resuming returns the same attempt; the others start on their own prepared papers
    let (s, again) = start(&app, sid, "P0001");
    assert_eq!((s, again["attempt_id"].as_i64()), (Status::Ok, Some(aid)));
    for (i, badge) in ["P0002", "P0003"].iter().enumerate() {
        let (s, att) = start(&app, sid, badge);
        assert_eq!(s, Status::Created, "{att}");
        let a = exam_db::find_attempt(&mut app.conn(), AttemptId(att["attempt_id"].as_i64().unwrap())).unwrap().unwrap();
        assert_eq!(a.seed, before[i + 1].seed, "{badge}");
        audit_clean(&app, a.id.0);
    }
    assert_eq!(prep_db::count(&mut app.conn(), SittingId(sid)).unwrap(), 0);
}

#[test]
fn late_candidates_are_prepared_by_the_sweep_or_drawn_at_the_start() {
    let app = TestApp::new();
    let (unit, _) = unit_with_officers(&app, 2);
    let sid = schedule(&app, unit, Duration::hours(1));
    assert_eq!(prep_db::count(&mut app.conn(), SittingId(sid)).unwrap(), 2);

    // an officer joins the unit after scheduling: 40 minutes before the open the sweep leaves
    // the list alone; within 30 minutes of it, the server's own sweep prepares the newcomer
    let late = add_officer(&app, unit, "P0003");
    app.clock.advance(Duration::minutes(20));
    assert_eq!(prepared::prepare_due(&mut app.conn(), app.clock.now()).unwrap(), 0);
    assert!(prepared_of(&app, sid, late).is_none());
    app.clock.advance(Duration::minutes(25));
    let p = wait_for(|| prepared_of(&app, sid, late));
    assert_eq!(p.pool_hash, exam_db::find_sitting(&mut app.conn(), SittingId(sid)).unwrap().unwrap().pool_hash);
    assert_eq!(prep_db::count(&mut app.conn(), SittingId(sid)).unwrap(), 3);
    // preparing again draws nothing new and keeps every paper
    assert_eq!(prepared::prepare_sitting(&mut app.conn(), SittingId(sid), app.clock.now()).unwrap(), 0);
    assert_eq!(prepared_of(&app, sid, late).unwrap().seed, p.seed);

    // one more joins after the open: no prepared paper, drawn at the start; all audit clean
    app.clock.advance(Duration::minutes(16));
    let last = add_officer(&app, unit, "P0004");
    let (s, att) = start(&app, sid, "P0003");
    assert_eq!(s, Status::Created, "{att}");
    let a = exam_db::find_attempt(&mut app.conn(), AttemptId(att["attempt_id"].as_i64().unwrap())).unwrap().unwrap();
    assert_eq!(a.seed, p.seed, "the sweep's paper");
    audit_clean(&app, a.id.0);
    assert!(prepared_of(&app, sid, last).is_none());
    let (s, att) = start(&app, sid, "P0004");
    assert_eq!(s, Status::Created, "{att}");
    audit_clean(&app, att["attempt_id"].as_i64().unwrap());

    // once the sitting closes, the papers of those who never started are deleted
    assert_eq!(prep_db::count(&mut app.conn(), SittingId(sid)).unwrap(), 2);
    app.clock.advance(Duration::hours(3));
    wait_for(|| (prep_db::count(&mut app.conn(), SittingId(sid)).unwrap() == 0).then_some(()));
}

#[test]
fn a_pool_frozen_again_drops_the_papers_prepared_from_the_old_one() {
    let app = TestApp::new();
    let (unit, ids) = unit_with_officers(&app, 3);
    let sid = schedule(&app, unit, Duration::hours(2));
    let old = exam_db::find_sitting(&mut app.conn(), SittingId(sid)).unwrap().unwrap();
    let old_seeds: Vec<i64> = ids.iter().map(|u| prepared_of(&app, sid, *u).unwrap().seed).collect();

    // frozen again with the bank unchanged: the same pool, so the papers stay
    lawcert::services::exams::refreeze_pool(&mut app.conn(), SittingId(sid), Some(UserId(1)), app.clock.now()).unwrap();
    assert_eq!(exam_db::find_sitting(&mut app.conn(), SittingId(sid)).unwrap().unwrap().pool_hash, old.pool_hash);
    assert_eq!(prepared_of(&app, sid, ids[0]).unwrap().seed, old_seeds[0]);

    // a question of the pool retired, then frozen again: the old papers are gone, new ones
    // drawn from the new pool
    let pool: lawcert::domain::paper::Pool = serde_json::from_str(&old.pool).unwrap();
    let v = pool.rules[0].entries[0].v[0];
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "UPDATE questions SET status = 'retired' WHERE id = (SELECT question_id FROM question_versions WHERE id = {v})"
        )),
        &mut *app.conn(),
    )
    .unwrap();
    lawcert::services::exams::refreeze_pool(&mut app.conn(), SittingId(sid), Some(UserId(1)), app.clock.now()).unwrap();
    let s = exam_db::find_sitting(&mut app.conn(), SittingId(sid)).unwrap().unwrap();
    assert_eq!(s.pool_hash, prepared::pool_hash(&s.pool));
    for (u, old_seed) in ids.iter().zip(&old_seeds) {
        let p = prepared_of(&app, sid, *u).expect("prepared again");
        assert_eq!(p.pool_hash, s.pool_hash, "drawn from the new pool");
        assert_ne!(p.seed, *old_seed, "a new paper");
    }
    assert_ne!(s.pool_hash, old.pool_hash);
    assert!(!s.pool.contains(&format!("\"v\":[{v}]")), "the retired question is out of the new pool");
    assert_eq!(prep_db::count(&mut app.conn(), SittingId(sid)).unwrap(), 3);

    // a pool written by any other path (here by hand, without a hash): the database drops the
    // prepared papers and forgets the hash, so nothing prepared from the old pool can be used
    diesel::RunQueryDsl::execute(diesel::sql_query(format!("UPDATE sittings SET pool = pool || ' ' WHERE id = {sid}")), &mut *app.conn())
        .unwrap();
    assert_eq!(prep_db::count(&mut app.conn(), SittingId(sid)).unwrap(), 0, "the trigger dropped them");
    assert_eq!(exam_db::find_sitting(&mut app.conn(), SittingId(sid)).unwrap().unwrap().pool_hash, "");
    // a paper that somehow survived with the old hash is not taken (stored by hand here)
    let stale = prep_db::PreparedPaper {
        sitting_id: SittingId(sid),
        user_id: ids[0],
        seed: 7,
        paper: r#"{"items":[]}"#.into(),
        max_centi: 0,
        pool_hash: s.pool_hash.clone(),
        prepared_at: app.clock.now(),
    };
    lawcert::db::write_tx(&mut app.conn(), |c| prep_db::insert_many(c, std::slice::from_ref(&stale))).unwrap();

    // at the open the candidates start on papers drawn from the pool as it is now
    app.clock.advance(Duration::minutes(121));
    for badge in ["P0001", "P0002"] {
        let (st, att) = start(&app, sid, badge);
        assert_eq!(st, Status::Created, "{att}");
        let aid = att["attempt_id"].as_i64().unwrap();
        let a = exam_db::find_attempt(&mut app.conn(), AttemptId(aid)).unwrap().unwrap();
        assert!(a.seed != 7 && a.max_centi == 2400, "not the stale paper");
        audit_clean(&app, aid);
    }
    assert!(prepared_of(&app, sid, ids[0]).is_none(), "the stale row went with the start");

    // and a sitting that has opened is not frozen again
    let e = lawcert::services::exams::refreeze_pool(&mut app.conn(), SittingId(sid), Some(UserId(1)), app.clock.now()).unwrap_err();
    assert!(e.is_conflict(), "{}", e.message);
}
