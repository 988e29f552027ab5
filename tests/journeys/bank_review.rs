//! The bank after exam day: amendments suspend questions into a worklist, candidates challenge
//! questions and upheld challenges regrade everyone (audited, notified), item analysis flags
//! broken questions.

use chrono::Duration;
use lawcert::domain::ids::{AttemptId, AuditId, CaseId, QuestionId, SittingId, VersionId};
use rocket::http::{ContentType, Status};
use serde_json::{json, Value};

use crate::common::{enc, get, key_of, post, TestApp};
use lawcert::domain::lifecycle::Action;

fn logout(app: &TestApp, csrf: &str) {
    app.client.post("/logout").header(ContentType::Form).body(format!("_csrf={csrf}")).dispatch();
}

fn today(app: &TestApp) -> chrono::NaiveDate {
    lawcert::timefmt::bureau_date(app.clock.now())
}

/// The shipped 治安管理处罚法 questions were rewritten against the 2025 edition (issue 13), so a
/// fresh start has nothing on the amendment worklist and they are drawn again. (How an amendment
/// suspends questions into the worklist is the next test.)
#[test]
fn a_fresh_start_has_an_empty_worklist_and_draws_2025_questions() {
    let app = TestApp::new();
    let mut conn = app.conn();
    let items = lawcert::services::bank_review::worklist(&mut conn, today(&app)).unwrap();
    assert!(items.is_empty(), "nothing waits for a rewrite: {:?}", items.iter().map(|i| &i.code).collect::<Vec<_>>());
    let za: Vec<_> = lawcert::services::exams::pool_candidates(&mut conn, app.clock.now())
        .unwrap()
        .into_iter()
        .filter(|c| c.statute == "public-security-penalties")
        .collect();
    assert!(za.len() >= 150, "the 2025 治安管理处罚法 bank is live ({})", za.len());
    let t = app.token("T0001");
    let (s, body) = app.api(
        "POST",
        "/api/v1/blueprints",
        &t,
        Some(json!({"name": "治安", "spec": {"rules": [{"kind": "single", "statute": "public-security-penalties", "count": 20, "points_centi": 100}]}})),
    );
    assert_eq!(s, Status::Created, "{body}");
    app.login_page("T0001");
    let (s, _) = get(&app, "/bank/worklist");
    assert_eq!(s, Status::Ok);
}

#[test]
fn registering_an_edition_suspends_only_the_changed_articles_until_rewritten_and_reviewed() {
    let app = TestApp::new();
    let csrf = app.login_page("T0001");
    let mut conn = app.conn();
    let cites_20 = |conn: &mut lawcert::db::DbConn| {
        lawcert::services::exams::pool_candidates(conn, app.clock.now()).unwrap().iter().filter(|c| c.statute == "criminal-law").count()
    };
    let before = cites_20(&mut conn);
    // a bad registration names what is wrong and changes nothing
    let bad = format!("_csrf={csrf}&statute=criminal-law&code=2026&title=&in_force=2026-01-01&replaces=2023-12-29&changed_articles=");
    let (s, html, _) = post(&app, "/bank/editions", bad);
    assert_eq!(s, Status::Ok);
    assert!(html.contains("YYYY-MM-DD") && html.contains("needs a title") && html.contains("mark the articles"), "{html}");
    // 刑法修正案（十三） (imagined): changes article 20, in force yesterday
    let in_force = (today(&app) - Duration::days(1)).to_string();
    let form = format!(
        "_csrf={csrf}&statute=criminal-law&code=2026-06-30&title={}&in_force={in_force}&replaces=2023-12-29&changed_articles={}",
        enc("刑法修正案（十三）"),
        enc("第20条")
    );
    let (s, _, loc) = post(&app, "/bank/editions", form);
    assert_eq!(s, Status::SeeOther);
    assert_eq!(loc.as_deref(), Some("/bank/worklist"));
    let items = lawcert::services::bank_review::worklist(&mut conn, today(&app)).unwrap();
    let xf: Vec<_> = items.iter().filter(|i| i.code.starts_with("XF-")).collect();
    assert!(!xf.is_empty());
    assert!(xf.iter().all(|i| i.articles.iter().any(|a| a == "20")), "only questions citing article 20");
    let after = cites_20(&mut conn);
    assert_eq!(before - after, xf.len(), "exactly those left the pool");

    // rewrite one against the new edition; it stays suspended until a second trainer reviews it
    let target = xf[0].question_id;
    let xf_item = &xf[0];
    let mut c2 = app.conn();
    let q = lawcert::db::models::bank::find(&mut c2, target).unwrap().unwrap();
    let v = lawcert::db::models::bank::version(&mut c2, target, q.latest_version).unwrap().unwrap();
    let key = key_of(&mut c2, v.id.0);
    let kind = q.kind;
    let answer = if kind == lawcert::domain::bank::QuestionKind::TrueFalse {
        if key == "T" {
            "true".to_string()
        } else {
            "false".to_string()
        }
    } else {
        key
    };
    let levels: String = v.levels_vec().iter().map(|l| format!("&levels={}", l.as_str())).collect();
    let body = format!(
        "_csrf={csrf}&kind={kind}&statute=criminal-law&edition=2026-06-30&articles=20&difficulty={}{levels}&stem={}&options={}&answer={answer}&explanation={}&tags=&action=save&revision={}",
        v.difficulty,
        enc(&v.stem),
        enc(&v.options_vec().join("\n")),
        enc(&v.explanation),
        q.revision
    );
    let (s, html, _) = post(&app, &format!("/bank/{target}/edit"), body);
    assert_eq!(s, Status::SeeOther, "{html}");
    let items = lawcert::services::bank_review::worklist(&mut conn, today(&app)).unwrap();
    let still = items.iter().find(|i| i.question_id == target).expect("still listed until reviewed");
    assert!(still.rewrite_pending);
    assert_eq!(still.code, xf_item.code);
    logout(&app, &csrf);
    let csrf2 = app.login_page("T0002");
    let (_, page) = get(&app, &format!("/bank/{target}"));
    let rev = page.split("name=\"revision\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let (s, _, _) = post(&app, &format!("/bank/{target}/approve"), format!("_csrf={csrf2}&revision={rev}"));
    assert_eq!(s, Status::SeeOther);
    let items = lawcert::services::bank_review::worklist(&mut conn, today(&app)).unwrap();
    assert!(items.iter().all(|i| i.question_id != target), "reviewed against the new edition: off the worklist");
    assert_eq!(cites_20(&mut conn), after + 1, "and back in the pool");
    // the registration is in the audit log
    let log = lawcert::db::models::audit::page(&mut conn, AuditId(0), 1000).unwrap();
    assert!(log.iter().any(|e| e.action == "edition.register" && e.detail.contains("2026-06-30")));
    assert!(log.iter().any(|e| e.action == "question.review"));
    assert_eq!(lawcert::domain::audit::verify(&log), Ok(log.len()));
}

/// The case groups a new sitting's pool could draw, with how many items of each.
fn drawable_cases(conn: &mut lawcert::db::DbConn, app: &TestApp) -> std::collections::BTreeMap<CaseId, usize> {
    let mut out = std::collections::BTreeMap::new();
    for c in lawcert::services::exams::pool_candidates(conn, app.clock.now()).unwrap() {
        if let Some((case, _)) = c.case {
            *out.entry(case).or_insert(0) += 1;
        }
    }
    out
}

/// Rewrites question `id` through the edit page with `edition` (everything else as it was).
fn rewrite(app: &TestApp, csrf: &str, id: i64, edition: &str) {
    let mut c = app.conn();
    let q = lawcert::db::models::bank::find(&mut c, QuestionId(id)).unwrap().unwrap();
    let v = lawcert::db::models::bank::version(&mut c, QuestionId(id), q.latest_version).unwrap().unwrap();
    let key = key_of(&mut c, v.id.0);
    let levels: String = v.levels_vec().iter().map(|l| format!("&levels={}", l.as_str())).collect();
    let body = format!(
        "_csrf={csrf}&kind={}&statute={}&edition={edition}&articles={}&difficulty={}{levels}&stem={}&options={}&answer={key}&explanation={}&tags=&action=save&revision={}",
        q.kind,
        v.statute_code,
        enc(&v.articles_vec().join(",")),
        v.difficulty,
        enc(&v.stem),
        enc(&v.options_vec().join("\n")),
        enc(&v.explanation),
        q.revision
    );
    let (s, html, _) = post(app, &format!("/bank/{id}/edit"), body);
    assert_eq!(s, Status::SeeOther, "{html}");
}

fn revision_on_page(app: &TestApp, id: i64) -> String {
    let (_, page) = get(app, &format!("/bank/{id}"));
    page.split("name=\"revision\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string()
}

#[test]
fn a_case_group_is_drawn_whole_or_not_at_all_and_waits_on_the_worklist() {
    use lawcert::services::bank_review::{case_holds, worklist, HeldBecause};
    let app = TestApp::new();
    let mut conn = app.conn();
    let day = today(&app);
    let now = app.clock.now();
    let all_cases = lawcert::db::models::bank::case_item_counts(&mut conn).unwrap();
    assert!(all_cases.len() >= 3, "{all_cases:?}");
    // as shipped: every group is drawn with all its items, or held whole
    let holds = case_holds(&mut conn, day).unwrap();
    let drawable = drawable_cases(&mut conn, &app);
    assert_eq!(drawable.len() + holds.len(), all_cases.len(), "every group is drawable or held");
    for (case, n) in &drawable {
        assert_eq!(Some(*n as i64), all_cases.get(case).copied(), "a drawable group has all its items");
    }
    assert!(holds.iter().all(|h| !drawable.contains_key(&h.case_id)), "no held group is drawn, not even its good items");
    assert!(drawable.len() >= 2, "{drawable:?}");
    let mut whole = drawable.keys().copied();
    let (amended, retiring) = (whole.next().unwrap(), whole.next().unwrap());

    // an amendment of the article one item cites holds its whole group
    let members = lawcert::db::models::bank::case_items(&mut conn, amended).unwrap();
    let first = lawcert::db::models::bank::version(&mut conn, members[0].id, members[0].live_version.unwrap()).unwrap().unwrap();
    let t1 = lawcert::db::models::org::find_by_badge(&mut conn, "T0001").unwrap().unwrap().id;
    let edition = lawcert::domain::editions::NewEdition {
        code: "2026-06-30".into(),
        title: "测试修正".into(),
        in_force: day - Duration::days(1),
        replaces: Some(first.edition_code.clone()),
        changed_articles: vec![first.articles_vec()[0].clone()],
        changed_all: false,
    };
    lawcert::services::bank_review::register_edition(&mut conn, &first.statute_code, &edition, t1, now).unwrap();
    assert!(!drawable_cases(&mut conn, &app).contains_key(&amended), "held whole");
    let hold = case_holds(&mut conn, day).unwrap().into_iter().find(|h| h.case_id == amended).expect("held");
    assert!(hold.missing.contains(&(members[0].code.clone(), HeldBecause::Suspended)), "{hold:?}");
    assert!(hold.missing.len() < members.len(), "{hold:?}");
    // every item of it is on the worklist: the suspended ones, and the others for their group
    let items = worklist(&mut conn, day).unwrap();
    let listed: Vec<_> = items.iter().filter(|i| i.case_hold.as_ref().is_some_and(|h| h.case_id == amended)).collect();
    assert_eq!(listed.len(), members.len());
    assert!(listed.iter().any(|i| i.suspension.is_none()), "including items not suspended themselves");
    assert!(listed.iter().all(|i| i.out_of_papers()));
    let csrf = app.login_page("T0001");
    let (_, html) = get(&app, "/bank/worklist");
    assert!(html.contains("整组暂停的案例组") && html.contains(&hold.code), "{html}");
    // rewritten against the new edition and reviewed by a second trainer, it is whole again
    let missing: Vec<i64> =
        hold.missing.iter().map(|(code, _)| lawcert::db::models::bank::find_by_code(&mut conn, code).unwrap().unwrap().id.0).collect();
    for id in &missing {
        rewrite(&app, &csrf, *id, "2026-06-30");
    }
    assert!(!drawable_cases(&mut conn, &app).contains_key(&amended), "a rewrite waits for its review");
    logout(&app, &csrf);
    let csrf2 = app.login_page("T0002");
    for id in &missing {
        let rev = revision_on_page(&app, *id);
        let (s, _, _) = post(&app, &format!("/bank/{id}/approve"), format!("_csrf={csrf2}&revision={rev}"));
        assert_eq!(s, Status::SeeOther);
    }
    assert_eq!(drawable_cases(&mut conn, &app).get(&amended).copied(), Some(members.len()));
    assert!(worklist(&mut conn, day).unwrap().iter().all(|i| i.case_hold.as_ref().is_none_or(|h| h.case_id != amended)));

    // retiring one item of a whole group takes the group out, and onto the worklist
    let members = lawcert::db::models::bank::case_items(&mut conn, retiring).unwrap();
    let victim = &members[1];
    lawcert::services::bank_review::transition(&mut conn, Action::Retire, victim.id, victim.revision, t1, now).unwrap();
    assert!(!drawable_cases(&mut conn, &app).contains_key(&retiring));
    let hold = case_holds(&mut conn, day).unwrap().into_iter().find(|h| h.case_id == retiring).expect("held");
    assert_eq!(hold.missing, vec![(victim.code.clone(), HeldBecause::Retired)]);
    let items = worklist(&mut conn, day).unwrap();
    assert_eq!(items.iter().filter(|i| i.case_hold.as_ref().is_some_and(|h| h.case_id == retiring)).count(), members.len() - 1);
    let (_, page) = get(&app, &format!("/bank/{}", members[0].id));
    assert!(page.contains(&format!("案例组 {} 整组暂停", hold.code)) && page.contains("已停用"), "{page}");
    let (_, list) = get(&app, &format!("/bank?q={}", members[0].code));
    assert!(list.contains("案例组整组暂停"), "{list}");
    // reinstated (reviewed) it is not yet in use; put back into use, the group is whole again
    let v = lawcert::db::models::bank::find(&mut conn, victim.id).unwrap().unwrap();
    lawcert::services::bank_review::transition(&mut conn, Action::Reinstate, v.id, v.revision, t1, now).unwrap();
    let hold = case_holds(&mut conn, day).unwrap().into_iter().find(|h| h.case_id == retiring).expect("still held");
    assert_eq!(hold.missing, vec![(victim.code.clone(), HeldBecause::NotInUse)]);
    let v = lawcert::db::models::bank::find(&mut conn, victim.id).unwrap().unwrap();
    lawcert::services::bank_review::transition(&mut conn, Action::Activate, v.id, v.revision, t1, now).unwrap();
    assert_eq!(drawable_cases(&mut conn, &app).get(&retiring).copied(), Some(members.len()));
    // a group whose every item is retired is retired, not waiting for work
    for m in lawcert::db::models::bank::case_items(&mut conn, retiring).unwrap() {
        lawcert::services::bank_review::transition(&mut conn, Action::Retire, m.id, m.revision, t1, now).unwrap();
    }
    assert!(case_holds(&mut conn, day).unwrap().iter().all(|h| h.case_id != retiring));
    assert!(!drawable_cases(&mut conn, &app).contains_key(&retiring));
}

/// Starts the mock exam for `badge`, answers every question with the key except `wrong` (given
/// answer), submits; returns (attempt id, the wrong question's version id, its points).
fn sit_mock(app: &TestApp, badge: &str, wrong: Option<(usize, &str)>) -> (i64, Value) {
    let tok = app.token(badge);
    let (s, att) = app.api("POST", "/api/v1/sittings/1/attempts", &tok, None);
    assert!(s == Status::Created || s == Status::Ok, "{att}");
    let aid = att["attempt_id"].as_i64().unwrap();
    let mut conn = app.conn();
    for (i, q) in att["questions"].as_array().unwrap().iter().enumerate() {
        let qid = q["id"].as_i64().unwrap();
        let choice: Vec<String> = match wrong {
            Some((w, ans)) if w == i => ans.chars().map(|c| c.to_string()).collect(),
            _ => key_of(&mut conn, qid).chars().map(|c| c.to_string()).collect(),
        };
        let (s, b) = app.api("PUT", &format!("/api/v1/attempts/{aid}/answers/{qid}"), &tok, Some(json!({"choices": choice})));
        assert_eq!(s, Status::Ok, "{b}");
    }
    let (s, result) = app.api("POST", &format!("/api/v1/attempts/{aid}/submit"), &tok, None);
    assert_eq!(s, Status::Ok, "{result}");
    (aid, att)
}

#[test]
fn a_score_changed_by_a_regrade_is_mailed_to_the_candidate_with_absolute_links() {
    use crate::training::{assert_only_absolute_links, received_mail, smtp_listener, PUBLIC};
    let smtp = smtp_listener();
    let url = format!("smtp://127.0.0.1:{}", smtp.port);
    let app = TestApp::with_env(&[("LAWCERT_SMTP_URL", &url), ("LAWCERT_MAIL_POLL_MS", "100"), ("LAWCERT_PUBLIC_URL", PUBLIC)]);
    let tok = app.token("100002");
    let (_, peek) = app.api("POST", "/api/v1/sittings/1/attempts", &tok, None);
    let q0 = peek["questions"][0].clone();
    let v0 = q0["id"].as_i64().unwrap();
    let key = key_of(&mut app.conn(), v0);
    let wrong = match q0["kind"].as_str().unwrap() {
        "truefalse" => if key == "T" { "F" } else { "T" }.to_string(),
        _ => ["A", "B", "C", "D"].iter().find(|o| !key.contains(**o)).unwrap().to_string(),
    };
    let (aid, _) = sit_mock(&app, "100002", Some((0, &wrong)));
    let before = lawcert::db::models::exam::find_attempt(&mut app.conn(), AttemptId(aid)).unwrap().unwrap();
    let csrf = app.login_page("100002");
    let form = format!("_csrf={csrf}&v={v0}&article={}&reason={}", enc("刑法第20条"), enc("选项表述同样符合条文"));
    assert_eq!(post(&app, &format!("/attempts/{aid}/challenges"), form).0, Status::SeeOther);
    logout(&app, &csrf);
    let csrf = app.login_page("T0001");
    let (_, list) = get(&app, "/challenges");
    let cid = list.split("href=\"/challenges/").nth(1).unwrap().split('"').next().unwrap().to_string();
    let (s, _, _) = post(
        &app,
        &format!("/challenges/{cid}"),
        format!("_csrf={csrf}&decision=accept&answer={wrong}&reason={}", enc("两种理解均符合第二十条")),
    );
    assert_eq!(s, Status::SeeOther);
    let after = lawcert::db::models::exam::find_attempt(&mut app.conn(), AttemptId(aid)).unwrap().unwrap();
    assert!(after.score_centi > before.score_centi, "the regrade raised the score");
    let addr = lawcert::db::models::org::find(&mut app.conn(), before.user_id).unwrap().unwrap().email.unwrap();
    let (text, html) = received_mail(&smtp, &addr, "成绩已更正");
    let (old, new) = (
        lawcert::domain::grading::format_points(before.score_centi.unwrap()),
        lawcert::domain::grading::format_points(after.score_centi.unwrap()),
    );
    assert!(text.contains(&format!("由 {old} 更正为 {new}")), "old and new score in the mail: {text}");
    let link = format!("{PUBLIC}/attempts/{aid}/result");
    assert!(text.contains(&link) && html.contains(&format!("href=\"{link}\"")), "{text}\n{html}");
    assert_only_absolute_links(&text, &html);
    // the challenge's decision is mailed too, its link opening the result page (a page, not a form's target)
    let (text, html) = received_mail(&smtp, &addr, "复核结果");
    assert!(text.contains(&link), "{text}");
    assert_only_absolute_links(&text, &html);
}

#[test]
fn an_upheld_challenge_regrades_everyone_who_had_the_question_with_an_audit_trail() {
    let app = TestApp::new();
    // 100001 answers the first question with a wrong option
    let tok = app.token("100001");
    let (_, peek) = app.api("POST", "/api/v1/sittings/1/attempts", &tok, None);
    let q0 = peek["questions"][0].clone();
    let v0 = q0["id"].as_i64().unwrap();
    let key = key_of(&mut app.conn(), v0);
    let wrong = match q0["kind"].as_str().unwrap() {
        "truefalse" => if key == "T" { "F" } else { "T" }.to_string(),
        _ => ["A", "B", "C", "D"].iter().find(|o| !key.contains(**o)).unwrap().to_string(),
    };
    let (aid, att) = sit_mock(&app, "100001", Some((0, &wrong)));
    let points: f64 = att["questions"][0]["points"].as_str().unwrap().parse().unwrap();
    let score_before = lawcert::db::models::exam::find_attempt(&mut app.conn(), AttemptId(aid)).unwrap().unwrap().score_centi.unwrap();
    assert_eq!(score_before, 10000 - (points * 100.0) as i64);

    // the candidate files a challenge from the result page
    let csrf = app.login_page("100001");
    let (_, html) = get(&app, &format!("/attempts/{aid}/result"));
    assert!(html.contains(&format!("action=\"/attempts/{aid}/challenges\"")), "challenge form offered");
    let (s, _, _) = post(&app, &format!("/attempts/{aid}/challenges"), format!("_csrf={csrf}&v={v0}&article=&reason="));
    assert_eq!(s, Status::UnprocessableEntity, "article and reason are required");
    let form = format!("_csrf={csrf}&v={v0}&article={}&reason={}", enc("刑法第20条"), enc("<b>选项表述</b>同样符合条文"));
    let (s, _, loc) = post(&app, &format!("/attempts/{aid}/challenges"), form.clone());
    assert_eq!(s, Status::SeeOther);
    assert!(loc.unwrap().ends_with("#challenges"));
    let (s, _, _) = post(&app, &format!("/attempts/{aid}/challenges"), form);
    assert_eq!(s, Status::Conflict, "one challenge per question and candidate");
    let (_, html) = get(&app, &format!("/attempts/{aid}/result"));
    assert!(html.contains("待处理"));
    logout(&app, &csrf);

    // a trainer upholds it by accepting the candidate's answer
    let csrf = app.login_page("T0001");
    let (_, list) = get(&app, "/challenges");
    let cid = list.split("href=\"/challenges/").nth(1).unwrap().split('"').next().unwrap().to_string();
    let (_, page) = get(&app, &format!("/challenges/{cid}"));
    assert!(page.contains("&lt;b&gt;选项表述&lt;/b&gt;"), "the candidate's text is escaped");
    let (s, html, _) =
        post(&app, &format!("/challenges/{cid}"), format!("_csrf={csrf}&decision=accept&answer={key}&reason={}", enc("见条文")));
    assert_eq!(s, Status::Ok);
    assert!(html.contains("这已是本题的标准答案"), "accepting the key itself is refused, in the reader's language");
    let (s, _, _) = post(&app, &format!("/challenges/{cid}"), format!("_csrf={csrf}&decision=accept&answer={wrong}&reason="));
    assert_eq!(s, Status::Ok, "a reason is required");
    let (s, _, _) = post(
        &app,
        &format!("/challenges/{cid}"),
        format!("_csrf={csrf}&decision=accept&answer={wrong}&reason={}", enc("两种理解均符合第二十条")),
    );
    assert_eq!(s, Status::SeeOther);

    let mut conn = app.conn();
    let after = lawcert::db::models::exam::find_attempt(&mut conn, AttemptId(aid)).unwrap().unwrap();
    assert_eq!(after.score_centi, Some(10000), "regraded: the accepted answer now scores");
    let log = lawcert::db::models::audit::for_subject(&mut conn, &format!("attempt:{aid}")).unwrap();
    let e = log.iter().find(|e| e.action == "attempt.regrade").expect("regrade audited");
    assert!(e.detail.contains(&format!("\"from\":{score_before}")) && e.detail.contains("\"to\":10000"), "{}", e.detail);
    let all = lawcert::db::models::audit::page(&mut conn, AuditId(0), 1000).unwrap();
    assert_eq!(lawcert::domain::audit::verify(&all), Ok(all.len()));
    // deciding again is refused
    let (s, _, _) = post(&app, &format!("/challenges/{cid}"), format!("_csrf={csrf}&decision=void&answer=&reason=x"));
    assert_eq!(s, Status::Conflict);
    logout(&app, &csrf);

    // the candidate is told
    app.login_page("100001");
    let (_, home) = get(&app, "/");
    assert!(home.contains("成绩已更正"), "notified of the corrected score");
    let (_, html) = get(&app, &format!("/attempts/{aid}/result"));
    assert!(html.contains("已采纳"));

    // tampering with the stored regrade is caught by verify
    diesel::RunQueryDsl::execute(diesel::sql_query(format!("UPDATE audit_log SET detail = '{{}}' WHERE id = {}", e.id)), &mut conn)
        .unwrap();
    let all = lawcert::db::models::audit::page(&mut conn, AuditId(0), 1000).unwrap();
    assert_eq!(lawcert::domain::audit::verify(&all).unwrap_err().id, e.id);
}

#[test]
fn voiding_a_question_gives_its_points_to_everyone_who_had_it_and_challenges_close() {
    let app = TestApp::new();
    let (a1, att1) = sit_mock(&app, "100002", Some((0, "")));
    let v0 = att1["questions"][0]["id"].as_i64().unwrap();
    let (a2, _) = sit_mock(&app, "100003", None);
    let mut conn = app.conn();
    let before1 = lawcert::db::models::exam::find_attempt(&mut conn, AttemptId(a1)).unwrap().unwrap().score_centi.unwrap();
    assert!(before1 < 10000, "left blank");
    let cache = app.state().versions.clone();
    let now = app.clock.now();
    let uid2 = lawcert::db::models::org::find_by_badge(&mut conn, "100002").unwrap().unwrap().id;
    let cid = lawcert::services::challenges::file(&mut conn, &cache, AttemptId(a1), uid2, VersionId(v0), "刑法第20条", "题干有歧义", now)
        .unwrap();
    let trainer = lawcert::db::models::org::find_by_badge(&mut conn, "T0001").unwrap().unwrap().id;
    let report = lawcert::services::challenges::decide(
        &mut conn,
        &cache,
        cid,
        trainer,
        &lawcert::services::challenges::Decision::Void,
        "题干有歧义，作废",
        now,
    )
    .unwrap();
    assert_eq!(report.decided, 1);
    assert!(report.scores_changed >= 1);
    assert_eq!(
        lawcert::db::models::exam::find_attempt(&mut conn, AttemptId(a1)).unwrap().unwrap().score_centi,
        Some(10000),
        "blank but void: full points"
    );
    assert_eq!(
        lawcert::db::models::exam::find_attempt(&mut conn, AttemptId(a2)).unwrap().unwrap().score_centi,
        Some(10000),
        "unchanged for the one already right"
    );
    // the window closes `challenge_days` after the sitting closes
    let s = lawcert::db::models::exam::find_sitting(&mut conn, SittingId(1)).unwrap().unwrap();
    let late = s.closes_at + Duration::days(s.challenge_days as i64);
    let uid3 = lawcert::db::models::org::find_by_badge(&mut conn, "100003").unwrap().unwrap().id;
    let err =
        lawcert::services::challenges::file(&mut conn, &cache, AttemptId(a2), uid3, VersionId(v0), "刑法第20条", "理由", late).unwrap_err();
    assert_eq!(err.code.as_str(), "challenge_closed");
}

#[test]
fn item_analysis_flags_a_question_strong_candidates_get_wrong() {
    let app = TestApp::new();
    let t = app.token("T0001");
    let mut conn = app.conn();
    // a paper every candidate gets whole: a rule whose pool is exactly its count
    let pool = lawcert::services::exams::pool_candidates(&mut conn, app.clock.now()).unwrap();
    let n = pool
        .iter()
        .filter(|c| c.statute == "people-police-law" && c.kind == lawcert::domain::bank::QuestionKind::TrueFalse && c.case.is_none())
        .count();
    assert!(n >= 5, "{n}");
    let (s, bp) = app.api(
        "POST",
        "/api/v1/blueprints",
        &t,
        Some(json!({"name": "分析", "spec": {"rules": [{"kind": "truefalse", "statute": "people-police-law", "count": n, "points_centi": 100}]}})),
    );
    assert_eq!(s, Status::Created, "{bp}");
    let now = chrono::Utc::now();
    let (s, sitting) = app.api(
        "POST",
        "/api/v1/sittings",
        &t,
        Some(json!({"title": "分析用考试", "kind": "bimonthly", "blueprint_id": bp["id"], "opens_at": (now - Duration::minutes(5)).to_rfc3339(),
                     "closes_at": (now + Duration::hours(1)).to_rfc3339(), "duration_minutes": 30, "pass_percent": 60,
                     "multi_rule": "partial", "score_release": "on_submit", "answer_release": "after_close"})),
    );
    assert_eq!(s, Status::Created, "{sitting}");
    let sid = sitting["id"].as_i64().unwrap();
    // 24 candidates: the strong half gets everything right except the "broken" question, the
    // weak half gets only the broken question right
    let mut broken = None;
    for i in 0..24 {
        let badge = format!("1000{:02}", i + 1);
        let tok = app.token(&badge);
        let (s, att) = app.api("POST", &format!("/api/v1/sittings/{sid}/attempts"), &tok, None);
        if s == Status::Forbidden {
            continue;
        }
        assert_eq!(s, Status::Created, "{att}");
        let aid = att["attempt_id"].as_i64().unwrap();
        let mut ids: Vec<i64> = att["questions"].as_array().unwrap().iter().map(|q| q["id"].as_i64().unwrap()).collect();
        ids.sort();
        // the broken question: the one with the least graded history (the key check pools every
        // sitting's responses, and the demo's mock tests answered some of these with the key)
        let b = *broken.get_or_insert_with(|| {
            let stored =
                lawcert::db::models::calibration::rows_of(&mut conn, &ids.iter().map(|&v| VersionId(v)).collect::<Vec<_>>()).unwrap();
            *ids.iter().min_by_key(|v| (stored.get(&VersionId(**v)).map_or(0, |r| r.n), **v)).unwrap()
        });
        for (k, qid) in ids.iter().enumerate() {
            let key = key_of(&mut conn, *qid);
            let other = if key == "T" { "F" } else { "T" };
            let strong = i < 12;
            let right = if *qid == b { !strong } else { strong || k % 3 == 0 };
            let choice = if right { key.clone() } else { other.to_string() };
            let (s, body) = app.api("PUT", &format!("/api/v1/attempts/{aid}/answers/{qid}"), &tok, Some(json!({"choices": [choice]})));
            assert_eq!(s, Status::Ok, "{body}");
        }
        app.api("POST", &format!("/api/v1/attempts/{aid}/submit"), &tok, None);
    }
    // after the close the sweeper analyses the sitting by itself
    app.clock.advance(Duration::hours(2));
    let mut stats = None;
    for _ in 0..50 {
        stats = lawcert::db::models::stats::sitting_detail(&mut conn, SittingId(sid)).unwrap();
        if stats.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let (detail, _) = stats.expect("analysed after closing");
    let detail: Value = serde_json::from_str(&detail).unwrap();
    assert_eq!(detail["candidates"], 24);
    assert!(detail["reliability"].is_number(), "{detail}");
    let rows = lawcert::db::models::stats::items_of_sitting(&mut conn, SittingId(sid)).unwrap();
    let b = rows.iter().find(|r| Some(r.question_version_id.0) == broken).unwrap();
    assert!(b.flagged && b.discrimination.unwrap() < 0.0, "{b:?}");
    assert!(b.detail.contains("negative_discrimination"));
    // the sweeper recalibrates the bank after the close: the distractor the strong candidates
    // chose makes the key suspect
    let v = broken.unwrap();
    let mut suspect = false;
    for _ in 0..600 {
        let rows = lawcert::db::models::calibration::rows_of(&mut conn, &[VersionId(v)]).unwrap();
        if rows.get(&VersionId(v)).is_some_and(|r| r.flags.split(',').any(|f| f == "key_suspected")) {
            suspect = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(suspect, "the calibration flags the key of version {v}");
    // and the trainers see it, flagged by the calibration, on the sitting's analysis (with the
    // classical figures beside it) and on the question
    app.login_page("T0001");
    let (s, html) = get(&app, &format!("/sittings/{sid}/stats"));
    assert_eq!(s, Status::Ok);
    assert!(html.contains("答案疑似有误") && html.contains("KR-20"), "{}", &html[..html.len().min(3000)]);
    assert!(html.contains(&format!("{:.2}", b.discrimination.unwrap())), "the classical discrimination is still shown");
    let (_, html) = get(&app, &format!("/bank/{}", b.question_id));
    assert!(html.contains("答案疑似有误") && html.contains(&format!("/measurement/items/{v}")));
    // a parallel-paper blueprint now draws on these statistics
    let (s, body) = app.api(
        "POST",
        "/api/v1/blueprints",
        &t,
        Some(json!({"name": "平行", "spec": {"parallel": true, "rules": [{"kind": "truefalse", "statute": "people-police-law", "count": 3, "points_centi": 100}]}})),
    );
    assert_eq!(s, Status::Created, "{body}");
}

#[test]
fn a_bad_challenge_and_a_bad_decision_are_refused_beside_their_fields_in_the_reader_s_language() {
    let app = TestApp::new();
    let (aid, att) = sit_mock(&app, "100001", None);
    let v0 = att["questions"][0]["id"].as_i64().unwrap();
    let csrf = app.login_page("100001");
    let empty = format!("_csrf={csrf}&v={v0}&article=&reason={}", enc("选项表述同样符合条文"));
    // Chinese, the default: the result page again, the question's form open with what was typed
    let (s, html, _) = post(&app, &format!("/attempts/{aid}/challenges"), empty.clone());
    assert_eq!(s, Status::UnprocessableEntity, "refused with the refusal's status");
    assert_eq!(crate::common::beside(&html, "article"), Some("所依据条文：请写明（最多 60 个字），如 刑法第20条"), "{html}");
    assert_eq!(crate::common::beside(&html, "reason"), None, "the reason is fine: {html}");
    assert!(html.contains("选项表述同样符合条文</textarea>") && html.contains("class=\"challenge\" open"), "{html}");
    assert!(!html.contains("name the article"), "{html}");
    let (s, html, _) = post(&app, &format!("/attempts/{aid}/challenges"), format!("_csrf={csrf}&v=999999&article=x&reason=y"));
    assert_eq!(s, Status::UnprocessableEntity);
    assert!(html.contains("<li>该题不在您的试卷上</li>"), "{html}");
    // English when the reader reads English
    app.client.get("/lang/en").dispatch();
    let (_, html, _) = post(&app, &format!("/attempts/{aid}/challenges"), empty);
    assert_eq!(
        crate::common::beside(&html, "article"),
        Some("Article relied on: name it (at most 60 characters), e.g. 刑法第20条"),
        "{html}"
    );
    let form = format!("_csrf={csrf}&v={v0}&article={}&reason={}", enc("刑法第20条"), enc("题干有歧义"));
    assert_eq!(post(&app, &format!("/attempts/{aid}/challenges"), form.clone()).0, Status::SeeOther);
    let (s, html, _) = post(&app, &format!("/attempts/{aid}/challenges"), form);
    assert_eq!(s, Status::Conflict);
    assert!(html.contains("<li>you have already challenged this question</li>"), "{html}");
    logout(&app, &csrf);

    // the trainer's decision
    app.client.get("/lang/zh").dispatch();
    let csrf = app.login_page("T0001");
    let (_, list) = get(&app, "/challenges");
    let cid = list.split("href=\"/challenges/").nth(1).unwrap().split('"').next().unwrap().to_string();
    let no_decision = format!("_csrf={csrf}&decision=maybe&answer=&reason={}", enc("见条文"));
    let impossible = format!("_csrf={csrf}&decision=accept&answer=Z&reason=");
    let (s, html, _) = post(&app, &format!("/challenges/{cid}"), no_decision.clone());
    assert_eq!(s, Status::Ok);
    assert_eq!(crate::common::beside(&html, "decision"), Some("请选择处理决定：维持原答案、增加认可答案或本题作废"), "{html}");
    assert!(html.contains(">见条文</textarea>"), "what was typed is kept: {html}");
    let (_, html, _) = post(&app, &format!("/challenges/{cid}"), impossible);
    assert_eq!(crate::common::beside(&html, "reason"), Some("决定理由：必填，最多 2000 个字，将告知考生"), "{html}");
    let with_reason = format!("_csrf={csrf}&decision=accept&answer=Z&reason={}", enc("见条文"));
    let (_, html, _) = post(&app, &format!("/challenges/{cid}"), with_reason.clone());
    let answer = crate::common::beside(&html, "answer").unwrap_or_default().to_string();
    assert!(answer.starts_with("认可的答案：“Z”不是本题可能的答案（") && answer.contains("，选项 "), "{html}");
    assert!(!html.contains("not a possible answer") && !html.contains("give the reason"), "{html}");
    app.client.get("/lang/en").dispatch();
    let (_, html, _) = post(&app, &format!("/challenges/{cid}"), no_decision);
    assert_eq!(
        crate::common::beside(&html, "decision"),
        Some("choose a decision: keep the key, also accept an answer, or void the question"),
        "{html}"
    );
    let (_, html, _) = post(&app, &format!("/challenges/{cid}"), with_reason);
    assert!(
        crate::common::beside(&html, "answer").unwrap_or_default().starts_with("Answer to accept: “Z” is not a possible answer"),
        "{html}"
    );
    // nothing was decided
    let open = lawcert::db::models::challenge::find(&mut app.conn(), cid.parse().unwrap()).unwrap().unwrap();
    assert_eq!(open.status, lawcert::domain::challenge::ChallengeStatus::Open);
}
