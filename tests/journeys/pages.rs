//! The same journeys through the pages: sign in, sit the mock exam, see the result; a trainer
//! writes, previews and gets a question approved, builds a blueprint and schedules a sitting;
//! an admin imports officers. Every form checks its CSRF token.

use lawcert::domain::ids::AttemptId;
use rocket::http::{ContentType, Status};

use crate::common::{beside, form_csrf, get, key_of, post, wait_for, TestApp};

fn enc(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

#[test]
fn sign_in_is_required_and_a_forged_form_is_refused() {
    let app = TestApp::new();
    let r = app.client.get("/exams").dispatch();
    assert_eq!(r.status(), Status::SeeOther);
    assert!(r.headers().get_one("Location").unwrap().starts_with("/login?next=/exams"));
    let (s, _, _) = post(&app, "/login", "_csrf=forged&badge=100001&password=lawcert-demo".into());
    assert_eq!(s, Status::Forbidden);
    let (s, html) = get(&app, "/login");
    let csrf = form_csrf(&html);
    assert_eq!(s, Status::Ok);
    let (s, html, _) = post(&app, "/login", format!("_csrf={csrf}&badge=100001&password=wrong"));
    assert_eq!(s, Status::Ok);
    assert!(html.contains("警号或密码不正确"), "Chinese by default");
    // English on request, remembered in a cookie
    app.client.get("/lang/en?next=/login").dispatch();
    let (_, html) = get(&app, "/login");
    assert!(html.contains("Sign in") && html.contains("lang=\"en\""));
}

#[test]
fn officer_sits_the_mock_exam_through_the_pages() {
    let app = TestApp::new();
    let csrf = app.login_page("100020");
    let (s, html) = get(&app, "/exams/1");
    assert_eq!(s, Status::Ok);
    assert!(html.contains("开始考试"));
    let (s, body, loc) = post(&app, "/exams/1/start", format!("_csrf={csrf}"));
    assert_eq!(s, Status::SeeOther, "{body}");
    let attempt_path = loc.unwrap();
    let aid: i64 = attempt_path.rsplit('/').next().unwrap().parse().unwrap();
    let (s, html) = get(&app, &attempt_path);
    assert_eq!(s, Status::Ok);
    assert_eq!(html.matches("class=\"question\"").count(), 25);
    assert!(!html.contains("解析"), "no explanation on the exam page");
    assert!(html.contains("data-deadline=\""));
    // the page's own autosave path: cookie session + CSRF header
    let mut conn = app.conn();
    let a = lawcert::db::models::exam::find_attempt(&mut conn, AttemptId(aid)).unwrap().unwrap();
    let paper = lawcert::services::exams::paper_of(&a).unwrap();
    let first = paper.items[0].v;
    let r =
        app.client.put(format!("/api/v1/attempts/{aid}/answers/{first}")).header(ContentType::JSON).body(r#"{"choices":["A"]}"#).dispatch();
    assert_eq!(r.status(), Status::Forbidden, "a cookie-authenticated write needs the CSRF header");
    let key = key_of(&mut conn, first.0);
    let body = serde_json::json!({"choices": key.chars().map(|c| c.to_string()).collect::<Vec<_>>()}).to_string();
    let r = app
        .client
        .put(format!("/api/v1/attempts/{aid}/answers/{first}"))
        .header(ContentType::JSON)
        .header(rocket::http::Header::new("X-CSRF-Token", csrf.clone()))
        .body(body)
        .dispatch();
    assert_eq!(r.status(), Status::Ok);
    // the form fallback (no JavaScript) sends the remaining answers with the submission
    let second = paper.items[1].v;
    let key2 = key_of(&mut conn, second.0);
    let mut form = format!("_csrf={csrf}");
    for c in key2.chars() {
        form.push_str(&format!("&a[{second}]={c}"));
    }
    let (s, _, loc) = post(&app, &format!("/attempts/{aid}/submit"), form);
    assert_eq!(s, Status::SeeOther);
    let (s, html) = get(&app, &loc.unwrap());
    assert_eq!(s, Status::Ok);
    let expected = lawcert::domain::grading::format_points(paper.items[0].p + paper.items[1].p);
    assert!(
        html.contains(&format!("{expected} <small>/ 100</small>")),
        "score shown: {}",
        &html[html.find("score").unwrap_or(0)..][..300.min(html.len())]
    );
    assert!(html.contains("答案与解析"), "the mock exam releases answers on submission");
    // the exam page now sends the officer to the result
    let r = app.client.get(attempt_path).dispatch();
    assert_eq!(r.status(), Status::SeeOther);
}

#[test]
fn trainer_writes_a_question_and_a_second_trainer_approves_it() {
    let app = TestApp::new();
    let csrf = app.login_page("T0001");
    let (s, html) = get(&app, "/bank?statute=criminal-law&kind=truefalse");
    assert_eq!(s, Status::Ok);
    assert!(html.contains("XF-"), "filter by statute and type shows 刑法 questions");
    let (s, html) = get(&app, &format!("/bank?q={}", enc("正当防卫")));
    assert_eq!(s, Status::Ok);
    assert!(html.contains("正当防卫"));

    let fields = |action: &str, stem: &str, answer: &str| {
        format!(
            "_csrf={csrf}&kind=single&statute=criminal-law&edition=2023-12-29&articles=20&difficulty=2&levels=basic&stem={}&options={}&answer={answer}&explanation={}&tags=&action={action}",
            enc(stem), enc("甲\n乙\n丙"), enc("依据第二十条。")
        )
    };
    // preview shows the question, saves nothing
    let (s, html, _) = post(&app, "/bank/new", fields("preview", "<script>alert(1)</script>测试题", "B"));
    assert_eq!(s, Status::Ok);
    assert!(html.contains("&lt;script&gt;alert(1)"), "user text is escaped");
    assert!(!html.contains("<script>alert(1)"));
    // a key that is not an option is refused with the reason
    let (s, html, _) = post(&app, "/bank/new", fields("save", "测试题", "D"));
    assert_eq!(s, Status::Ok);
    assert!(html.contains("答案 D 不在选项之中（现有选项：ABC）"), "{html}");
    let (s, _, loc) = post(&app, "/bank/new", fields("save", "测试题", "B"));
    assert_eq!(s, Status::SeeOther);
    let qpath = loc.unwrap();
    let (_, html) = get(&app, &qpath);
    assert!(html.contains("待审核"));
    let revision = html.split("name=\"revision\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let id = qpath.rsplit('/').next().unwrap().to_string();
    // the author cannot approve their own question
    let (s, _, _) = post(&app, &format!("/bank/{id}/approve"), format!("_csrf={csrf}&revision={revision}"));
    assert_eq!(s, Status::Forbidden);
    // a second trainer can
    app.client.post("/logout").header(ContentType::Form).body(format!("_csrf={csrf}")).dispatch();
    let csrf2 = app.login_page("T0002");
    let (s, _, _) = post(&app, &format!("/bank/{id}/approve"), format!("_csrf={csrf2}&revision={revision}"));
    assert_eq!(s, Status::SeeOther);
    let (_, html) = get(&app, &qpath);
    assert!(html.contains("已审核待启用"), "reviewed is not yet in use");
    // reviewing twice is refused; putting it into use makes it active
    let rev2 = html.split("name=\"revision\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let (s, _, _) = post(&app, &format!("/bank/{id}/approve"), format!("_csrf={csrf2}&revision={rev2}"));
    assert_eq!(s, Status::Conflict);
    let (s, _, _) = post(&app, &format!("/bank/{id}/activate"), format!("_csrf={csrf2}&revision={rev2}"));
    assert_eq!(s, Status::SeeOther);
    let (_, html) = get(&app, &qpath);
    assert!(html.contains("在用"));
    let revision = rev2;
    // an edit from a stale form is refused, not silently lost
    let stale = fields("save", "改过的题", "A")
        .replace(&format!("_csrf={csrf}"), &format!("_csrf={csrf2}"))
        .replace("&action=save", &format!("&action=save&revision={revision}"));
    let (s, html, _) = post(&app, &format!("/bank/{id}/edit"), stale);
    assert_eq!(s, Status::Ok);
    assert!(html.contains("您编辑期间，这道题已被他人修改"), "{html}");
    // retire
    let (_, html) = get(&app, &qpath);
    let revision = html.split("name=\"revision\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let (s, _, _) = post(&app, &format!("/bank/{id}/retire"), format!("_csrf={csrf2}&revision={revision}"));
    assert_eq!(s, Status::SeeOther);
    let (_, html) = get(&app, &qpath);
    assert!(html.contains("已停用"));
    // reinstating brings it back reviewed, to be put into use again
    let revision = html.split("name=\"revision\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let (s, _, _) = post(&app, &format!("/bank/{id}/reinstate"), format!("_csrf={csrf2}&revision={revision}"));
    assert_eq!(s, Status::SeeOther);
    let (_, html) = get(&app, &qpath);
    assert!(html.contains("已审核待启用"));
}

#[test]
fn trainer_builds_a_blueprint_schedules_a_sitting_and_exports_results() {
    let app = TestApp::new();
    let csrf = app.login_page("T0001");
    let (s, html) = get(&app, "/blueprints/new");
    assert_eq!(s, Status::Ok);
    assert!(html.contains("rules[0].kind"));
    let form = format!("_csrf={csrf}&name={}&rules[0].kind=single&rules[0].count=5&rules[0].points=2&rules[0].statute=criminal-law&rules[0].difficulty=&rules[0].level=&rules[1].kind=truefalse&rules[1].count=5&rules[1].points=1.5&rules[1].statute=&rules[1].difficulty=&rules[1].level=", enc("双月考方案"));
    let (s, body, loc) = post(&app, "/blueprints/new", form);
    assert!(!body.contains("alert"), "{body}");
    assert_eq!(s, Status::SeeOther, "blueprint saved");
    assert_eq!(loc.as_deref(), Some("/blueprints"));
    let (_, html) = get(&app, "/blueprints");
    assert!(html.contains("双月考方案"), "{html}");
    let (_, html) = get(&app, "/sittings/new");
    assert!(html.contains("双月考方案"));
    let bp_id = html.split("<option value=\"").find(|s| s.contains("双月考方案")).unwrap().split('"').next().unwrap().to_string();
    let form = format!(
        "_csrf={csrf}&title={}&kind=bimonthly&blueprint_id={bp_id}&opens_at=2030-01-05T09:00&closes_at=2030-01-05T12:00&duration_minutes=90&pass_percent=60&multi_rule=partial&score_release=on_submit&answer_release=after_close&badges=",
        enc("2030年1月双月考")
    );
    let (s, _, loc) = post(&app, "/sittings/new", form.clone());
    assert_eq!(s, Status::SeeOther);
    let (s, html) = get(&app, &loc.clone().unwrap());
    assert_eq!(s, Status::Ok);
    assert!(html.contains("2030年1月双月考") && html.contains("2030年1月5日 09:00"), "shown in the bureau's time, as Chinese writes dates");
    // errors are shown on the form, each beside its field, in the reader's language
    let bad = form
        .replace("duration_minutes=90", "duration_minutes=0")
        .replace("closes_at=2030-01-05T12:00", "closes_at=2030-01-05T08:00")
        .replace("answer_release=after_close", "answer_release=on_submit")
        .replace("&badges=", "&badges=&access_code=ab&allow_cidrs=nonsense");
    let unknown_badge = form.replace("&badges=", "&badges=ZZ9999");
    let (s, html, _) = post(&app, "/sittings/new", bad.clone());
    assert_eq!(s, Status::Ok);
    assert_eq!(beside(&html, "duration_minutes"), Some("时长：应为 1–600 分钟"), "{html}");
    assert_eq!(beside(&html, "closes_at"), Some("结束时间：应晚于开始时间"), "{html}");
    assert_eq!(beside(&html, "access_code"), Some("考场码：应为 6–32 个字符，不含空格（或填“auto”自动生成）"), "{html}");
    assert_eq!(beside(&html, "allow_cidrs"), Some("允许的考场网络：&quot;nonsense&quot; 不是网段（如 10.20.30.0/24）或地址"), "{html}");
    assert!(html.contains("<li>公布答案与解析：双月考和等级考试只能在考试结束后公布答案，或不公布</li>"), "{html}");
    assert_eq!(beside(&html, "pass_percent"), None, "only the fields with a problem: {html}");
    assert!(!html.contains("must be") && !html.contains("is not a network") && !html.contains("releases answers"), "{html}");
    let (_, html, _) = post(&app, "/sittings/new", unknown_badge.clone());
    assert_eq!(beside(&html, "badges"), Some("指定警号：系统中没有这些警号：ZZ9999"), "{html}");
    // a blueprint: a row it cannot read, a rule the bank cannot fill
    let blueprint = |row: &str| format!("_csrf={csrf}&name={}&{row}", enc("大方案"));
    let unreadable =
        blueprint("rules[0].kind=single&rules[0].count=abc&rules[0].points=2&rules[0].statute=&rules[0].difficulty=&rules[0].level=");
    let too_many = blueprint(
        "rules[0].kind=single&rules[0].count=400&rules[0].points=2&rules[0].statute=criminal-law&rules[0].difficulty=&rules[0].level=",
    );
    let (s, html, _) = post(&app, "/blueprints/new", unreadable.clone());
    assert_eq!(s, Status::Ok);
    assert!(html.contains("<li>第 1 行：请选择题型，并填写整数题数和大于 0 的分值</li>"), "{html}");
    let (_, html, _) = post(&app, "/blueprints/new", too_many.clone());
    assert!(html.contains("<li>第 1 条规则：法规 criminal-law 的单选题需要 400 道，题库中在用的只有 "), "{html}");
    assert!(!html.contains("wants 400") && !html.contains("the bank has only"), "{html}");
    // an exam plan
    let plan = format!("_csrf={csrf}&name=&blueprint_id={bp_id}&first_date=2030-02-30&every_months=2&opens_at=09:00&window_minutes=180&lead_days=90&duration_minutes=60&pass_percent=60");
    let plan_unread = plan.replace("2030-02-30", "2030-02-01");
    let (s, html, _) = post(&app, "/plans", plan.clone());
    assert_eq!(s, Status::Ok);
    assert_eq!(beside(&html, "first_date"), Some("第一次考试日期：请按 YYYY-MM-DD 填写日期"), "{html}");
    let (_, html, _) = post(&app, "/plans", plan_unread.clone());
    assert_eq!(beside(&html, "name"), Some("方案名称：必填，最多 200 个字"), "{html}");
    assert_eq!(beside(&html, "lead_days"), Some("提前天数：应为 0–60"), "{html}");
    assert!(!html.contains("required, at most") && !html.contains(">0–60<"), "{html}");
    // English when the reader reads English
    app.client.get("/lang/en").dispatch();
    let (_, html, _) = post(&app, "/sittings/new", bad);
    assert_eq!(beside(&html, "duration_minutes"), Some("Duration: must be 1–600 minutes"), "{html}");
    assert_eq!(beside(&html, "closes_at"), Some("Closes at: must be after the opening time"), "{html}");
    assert!(
        beside(&html, "allow_cidrs").is_some_and(|m| m.starts_with("Allowed networks: &quot;nonsense&quot; is not a network")),
        "{html}"
    );
    assert!(
        html.contains("<li>Answers shown: a bimonthly or certification exam releases answers after it closes, or never</li>"),
        "{html}"
    );
    assert!(!html.contains("应为") && !html.contains("考场码"), "{html}");
    let (_, html, _) = post(&app, "/sittings/new", unknown_badge);
    assert_eq!(beside(&html, "badges"), Some("Named badges: no officer has these badge numbers: ZZ9999"), "{html}");
    let (_, html, _) = post(&app, "/blueprints/new", unreadable);
    assert!(html.contains("<li>row 1: choose a type, and give a whole count and points above 0</li>"), "{html}");
    let (_, html, _) = post(&app, "/blueprints/new", too_many);
    assert!(html.contains("<li>rule 1: wants 400 questions (Single choice) from criminal-law but the bank has only "), "{html}");
    let (_, html, _) = post(&app, "/plans", plan_unread);
    assert_eq!(beside(&html, "lead_days"), Some("Days ahead: 0–60"), "{html}");
    assert!(!html.contains("必填"), "{html}");
    app.client.get("/lang/zh").dispatch();
    // results of the mock exam, with CSV
    let tok = app.token("100021");
    let (_, att) = app.api("POST", "/api/v1/sittings/1/attempts", &tok, None);
    app.api("POST", &format!("/api/v1/attempts/{}/submit", att["attempt_id"]), &tok, None);
    let (s, html) = get(&app, "/sittings/1?sort=score");
    assert_eq!(s, Status::Ok);
    assert!(html.contains("100021"));
    let r = app.client.get("/sittings/1/results.csv").dispatch();
    assert_eq!(r.status(), Status::Ok);
    let csv = r.into_string().unwrap();
    assert!(csv.starts_with('\u{feff}') && csv.contains("警号,姓名,单位") && csv.contains("100021"));
    // and as a PDF, with the score distribution on the page
    assert!(html.contains("hist-title"), "the sitting page shows the score distribution");
    let r = app.client.get("/sittings/1/results.pdf").dispatch();
    assert_eq!(r.status(), Status::Ok);
    let bytes = r.into_bytes().unwrap();
    assert!(bytes.starts_with(b"%PDF-") && crate::pdf_text::text(&bytes).contains("100021"), "the badge is printed");
}

#[test]
fn roles_guard_the_pages() {
    let app = TestApp::new();
    app.login_page("100022");
    for path in [
        "/bank",
        "/bank/new",
        "/blueprints",
        "/sittings",
        "/sittings/1",
        "/sittings/1/results.csv",
        "/admin/users",
        "/admin/users/import",
        "/bank/import",
        "/bank/export",
        "/bank/worklist",
        "/bank/editions",
        "/challenges",
        "/sittings/2/stats",
        "/sittings/1/proctor",
        "/sittings/1/integrity",
        "/plans",
        "/certification/registrations",
        "/admin/certification",
        "/officers",
        "/officers/1",
    ] {
        let (s, html) = get(&app, path);
        assert_eq!(s, Status::Forbidden, "{path}");
        assert!(html.contains("无权访问"), "{path}: error page in Chinese");
    }
    let app = TestApp::new();
    app.login_page("H0001");
    assert_eq!(get(&app, "/sittings/1").0, Status::Ok, "HR reads results");
    assert_eq!(get(&app, "/exams").0, Status::Forbidden, "HR does not sit exams");
    assert_eq!(get(&app, "/bank").0, Status::Forbidden);
    assert_eq!(get(&app, "/officers").0, Status::Ok, "HR keeps officers' certification records");
    for path in ["/plans", "/sittings/1/proctor", "/admin/certification", "/challenges"] {
        assert_eq!(get(&app, path).0, Status::Forbidden, "{path}");
    }
    // the verification page needs no sign-in at all
    app.client.post("/logout").header(ContentType::Form).body(format!("_csrf={}", form_csrf(&get(&app, "/").1))).dispatch();
    assert_eq!(get(&app, "/verify").0, Status::Ok);
    assert_eq!(get(&app, "/certification").0, Status::SeeOther, "sign-in first");
}

#[test]
fn leader_sees_only_their_units_results() {
    let app = TestApp::new();
    for badge in ["100001", "100004"] {
        let tok = app.token(badge);
        app.api("POST", "/api/v1/sittings/1/attempts", &tok, None);
    }
    app.login_page("L0001");
    let (s, html) = get(&app, "/sittings/1");
    assert_eq!(s, Status::Ok);
    // L0001 leads 城东派出所: 100001 works there, 100004 (交警) does not
    assert!(html.contains("100001"));
    assert!(!html.contains("100004"));
}

#[test]
fn admin_imports_officers_all_or_nothing() {
    let app = TestApp::new();
    let csrf = app.login_page("admin");
    let upload = |csv: &str| {
        let boundary = "XBOUNDARYX";
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"o.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
        );
        let r = app
            .client
            .post("/admin/users/import")
            .header(ContentType::new("multipart", "form-data").with_params(("boundary", boundary)))
            .body(body)
            .dispatch();
        let location = r.headers().get_one("Location").map(str::to_string);
        (r.status(), r.into_string().unwrap_or_default(), location)
    };
    let header = "badge,name,unit,police_type,post,enforcement_post,rank,hire_date,is_leader,is_legal_officer,email,roles,password";
    let bad = format!("{header}\n200001,赵一,城东派出所,派出所,社区民警,1,四级警长,2024-07-01,0,0,,officer,\n200002,钱二,不存在的所,派出所,,1,,2024-13-01,0,0,,officer,\n");
    let (s, html, _) = upload(&bad);
    assert_eq!(s, Status::Ok);
    // each problem with its row, in the reader's language (Chinese by default)
    assert!(
        html.contains("第 3 行：单位 &quot;不存在的所&quot;：没有这个单位"),
        "{}",
        &html[html.find("alert").unwrap_or(0)..][..600.min(html.len())]
    );
    assert!(html.contains("第 3 行：入警日期 &quot;2024-13-01&quot;"));
    assert!(!html.contains("no such unit"), "no English in the Chinese page");
    app.client.get("/lang/en").dispatch();
    let (_, html, _) = upload(&bad);
    assert!(html.contains("row 3: unit &quot;不存在的所&quot;: no such unit") && html.contains("row 3: hire_date"), "{html}");
    app.client.get("/lang/zh").dispatch();
    let mut conn = app.conn();
    assert!(lawcert::db::models::org::find_by_badge(&mut conn, "200001").unwrap().is_none(), "nothing imported");
    let good = format!("{header}\n200001,赵一,城东派出所,派出所,社区民警,1,四级警长,2024-07-01,0,0,,officer,\n200002,钱二,城西派出所,派出所,,是,,2024-09-01,否,否,qian@example.invalid,officer,\n");
    // the import runs as a background job (issue 17): its page shows the result when done
    let (s, _, location) = upload(&good);
    assert_eq!(s, Status::SeeOther);
    let location = location.expect("the job's page");
    let html = wait_for(|| Some(get(&app, &location).1).filter(|h| h.contains("已完成：导入")));
    assert!(html.contains("已完成：导入 2 个账号"), "{html}");
    let created = lawcert::db::models::org::find_by_badge(&mut conn, "200002").unwrap().unwrap();
    // the account and its roles are in the audit log, with who created them
    let admin = lawcert::db::models::org::find_by_badge(&mut conn, "admin").unwrap().unwrap();
    let trail = lawcert::db::models::audit::for_subject(&mut conn, &format!("user:{}", created.id)).unwrap();
    assert!(
        trail.iter().any(|e| e.action == "user.create"
            && e.actor_id == Some(admin.id)
            && e.detail.contains("\"roles\":[\"officer\"]")
            && e.detail.contains("import")),
        "{trail:?}"
    );
    // the same file again is refused: the badges exist
    let (_, html, _) = upload(&good);
    assert!(html.contains("第 2 行：警号 200001：已有使用该警号的账号"), "{html}");
    // forged upload
    let forged = "--B\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\nforged\r\n--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"o.csv\"\r\nContent-Type: text/csv\r\n\r\nbadge\r\n--B--\r\n";
    let r = app
        .client
        .post("/admin/users/import")
        .header(ContentType::new("multipart", "form-data").with_params(("boundary", "B")))
        .body(forged)
        .dispatch();
    assert_eq!(r.status(), Status::Forbidden);
}

#[test]
fn signing_out_ends_the_session_at_once() {
    let app = TestApp::new();
    let csrf = app.login_page("100023");
    assert_eq!(get(&app, "/exams").0, Status::Ok);
    let session = app.client.cookies().get_private("lawcert_session").expect("session cookie");
    let (s, _, _) = post(&app, "/logout", format!("_csrf={csrf}"));
    assert_eq!(s, Status::SeeOther);
    // replaying the old cookie does not get back in, even though the server had it cached
    let r = app.client.get("/exams").private_cookie(session).dispatch();
    assert_eq!(r.status(), Status::SeeOther);
    assert!(r.headers().get_one("Location").unwrap().starts_with("/login"));
}

#[test]
fn a_first_visit_speaks_the_browsers_language_until_the_reader_switches() {
    let app = TestApp::new();
    let page = |accept: &str| {
        let r = app.client.get("/login").header(rocket::http::Header::new("Accept-Language", accept.to_string())).dispatch();
        r.into_string().unwrap()
    };
    let english = page("en-GB,en;q=0.9,zh;q=0.5");
    assert!(english.contains(r#"<html lang="en""#) && english.contains("Badge number"), "{english}");
    let chinese = page("zh-CN,zh;q=0.9");
    assert!(chinese.contains("警号"), "{chinese}");
    assert!(page("fr-FR,de;q=0.8").contains("警号"), "an unsupported language gets Chinese");
    // the switch (the cookie) wins over the browser
    let switched = app
        .client
        .get("/login")
        .header(rocket::http::Header::new("Accept-Language", "en"))
        .cookie(rocket::http::Cookie::new("lang", "zh"))
        .dispatch()
        .into_string()
        .unwrap();
    assert!(switched.contains("警号"), "{switched}");
}

/// ISO dates (`2026-12-03`) in a page's visible text, outside tags and their attributes (a
/// date input's value stays ISO, as HTML wants it).
fn iso_dates_in_text(html: &str) -> Vec<String> {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.split("<script").next().unwrap_or(html).chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let b: Vec<char> = text.chars().collect();
    let digit = |i: usize| b.get(i).is_some_and(|c| c.is_ascii_digit());
    let mut found = Vec::new();
    for i in 0..b.len() {
        if (0..4).all(|k| digit(i + k))
            && b.get(i + 4) == Some(&'-')
            && digit(i + 5)
            && digit(i + 6)
            && b.get(i + 7) == Some(&'-')
            && digit(i + 8)
            && digit(i + 9)
            && !(i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == '-'))
        {
            found.push(b[i.saturating_sub(30)..(i + 16).min(b.len())].iter().collect());
        }
    }
    found
}

#[test]
fn pages_write_dates_as_the_reader_s_language_does() {
    let app = TestApp::new();
    let officer = lawcert::db::models::org::find_by_badge(&mut app.conn(), "100018").unwrap().unwrap();
    let pages: &[(&str, &[&str])] = &[
        ("100018", &["/", "/exams", "/certification", "/remedial", "/practice"]),
        ("L0001", &["/remedial", "/remedial/escalations", "/files", "/hr/compliance"]),
        ("H0001", &["/officers", "/hr/compliance", "/hr/rules", "/remedial/escalations"]),
        ("T0001", &["/sittings", "/bank/editions", "/bank/worklist", "/plans", "/challenges", "/sittings/1", "/sittings/1/proctor"]),
        ("admin", &["/admin/users", "/admin/mail", "/admin/audit", "/admin/tokens", "/admin/settings"]),
    ];
    let file = format!("/files/{}", officer.id);
    for lang in ["en", "zh"] {
        app.client.get(format!("/lang/{lang}")).dispatch();
        let mut seen_local = false;
        for (badge, paths) in pages {
            app.login_page(badge);
            for p in paths.iter().copied().chain((*badge == "H0001").then_some(file.as_str())) {
                let (s, html) = get(&app, p);
                assert_eq!(s, Status::Ok, "{badge} {p}");
                let iso = iso_dates_in_text(&html);
                assert!(iso.is_empty(), "{lang}: {badge} {p} writes ISO dates: {iso:?}");
                seen_local |= if lang == "en" {
                    [
                        " Jan 20", " Feb 20", " Mar 20", " Apr 20", " May 20", " Jun 20", " Jul 20", " Aug 20", " Sep 20", " Oct 20",
                        " Nov 20", " Dec 20",
                    ]
                    .iter()
                    .any(|m| html.contains(m))
                } else {
                    html.contains("年") && html.contains("月") && html.contains("日")
                };
            }
        }
        assert!(seen_local, "{lang}: dates written in the reader's language");
    }
    // the English file shows "3 Dec 2026"-style dates, the Chinese one 2026年12月3日
    app.client.get("/lang/en").dispatch();
    app.login_page("H0001");
    let (_, html) = get(&app, &file);
    let hired = officer.hire_date;
    assert!(html.contains(&lawcert::timefmt::date_in("en", hired)), "{}", lawcert::timefmt::date_in("en", hired));
    app.client.get("/lang/zh").dispatch();
    let (_, html) = get(&app, &file);
    assert!(html.contains(&lawcert::timefmt::date_in("zh", hired)));
}

/// Issue 17: a question the form refuses says each problem beside its field, in the reader's
/// language, and nothing is stored.
#[test]
fn a_bad_question_is_refused_beside_its_fields_in_the_reader_s_language() {
    let app = TestApp::new();
    let csrf = app.login_page("T0001");
    let bad = format!(
        "_csrf={csrf}&kind=single&statute=criminal-law&edition=1999-01-01&articles=&difficulty=2&stem=&options={}&answer=D&explanation=&tags=&action=save",
        enc("甲\n甲")
    );
    let count = || {
        use diesel::prelude::*;
        lawcert::db::schema::questions::table.count().get_result::<i64>(&mut app.conn()).unwrap()
    };
    let before = count();
    let (s, page, _) = post(&app, "/bank/new", bad.clone());
    assert_eq!(s, Status::Ok);
    assert!(beside(&page, "edition").is_some_and(|m| m.starts_with("criminal-law 没有“1999-01-01”这一版本（现有版本：")), "{page}");
    assert_eq!(beside(&page, "articles"), Some("缺少法条：至少要写明一条法条"), "{page}");
    assert_eq!(beside(&page, "levels"), Some("至少要选一个适用等级（基本级、中级、高级）"), "{page}");
    assert_eq!(beside(&page, "stem"), Some("题干不能为空"), "{page}");
    assert_eq!(beside(&page, "options"), Some("有两个选项的内容相同"), "{page}");
    assert_eq!(beside(&page, "answer"), Some("答案 D 不在选项之中（现有选项：AB）"), "{page}");
    assert_eq!(beside(&page, "explanation"), Some("解析不能为空"), "{page}");
    assert_eq!(beside(&page, "statute"), None, "only the fields with a problem: {page}");
    assert!(page.contains("<li>题干不能为空</li>"), "the list at the top says the sentence: {page}");
    for english in ["empty stem", "not among", "missing citation", "unknown edition", "empty explanation"] {
        assert!(!page.contains(english), "{english}: {page}");
    }
    // a true/false answer the form cannot read, beside the answer
    let tf = bad.replace("kind=single", "kind=truefalse").replace("answer=D", "answer=maybe");
    let (_, page, _) = post(&app, "/bank/new", tf.clone());
    assert_eq!(beside(&page, "answer"), Some("“maybe”无效，判断题答案请填“对”或“错”"), "{page}");
    // English when the reader reads English
    app.client.get("/lang/en").dispatch();
    let (s, page, _) = post(&app, "/bank/new", bad);
    assert_eq!(s, Status::Ok);
    assert_eq!(beside(&page, "stem"), Some("empty stem"), "{page}");
    assert_eq!(beside(&page, "answer"), Some("answer key D is not among the options (AB)"), "{page}");
    assert_eq!(beside(&page, "articles"), Some("missing citation: &#x60;articles&#x60; must list at least one article"), "{page}");
    assert!(beside(&page, "edition").is_some_and(|m| m.starts_with("unknown edition &quot;1999-01-01&quot; of criminal-law")), "{page}");
    assert!(!page.contains("题干不能为空") && !page.contains("不在选项之中"), "{page}");
    let (_, page, _) = post(&app, "/bank/new", tf);
    assert_eq!(beside(&page, "answer"), Some("&quot;maybe&quot;: choose true or false"), "{page}");
    assert_eq!(count(), before, "nothing was stored");
}

#[test]
fn a_refusal_page_says_its_reason_in_the_reader_s_language_and_no_english_beside_it() {
    let app = TestApp::new();
    app.login_page("100001");
    let en = rocket::http::Cookie::new("lang", "en");
    // a page the officer's role may not open
    let (s, zh) = get(&app, "/admin/settings");
    assert_eq!(s, Status::Forbidden);
    assert!(zh.contains("您登录的账号没有此页面或操作所需的角色") && !zh.contains("role does not allow"), "{zh}");
    let english = app.client.get("/admin/settings").cookie(en.clone()).dispatch().into_string().unwrap();
    assert!(english.contains("Your account does not have the role this page or action needs"), "{english}");
    // a form sent without its token (an old tab, or another site's form)
    let (s, zh, _) = post(&app, "/account/language", "_csrf=forged&lang=zh".into());
    assert_eq!(s, Status::Forbidden);
    assert!(zh.contains("表单已过期") && !zh.contains("did not come from this site"), "{zh}");
    // something that does not exist: the title says it; the English particulars stay out of
    // the Chinese page and are given on the English one
    let (s, zh) = get(&app, "/jobs/999999");
    assert_eq!(s, Status::NotFound);
    assert!(zh.contains("找不到") && !zh.contains("job 999999"), "{zh}");
    let r = app.client.get("/jobs/999999").cookie(en).dispatch();
    assert_eq!(r.status(), Status::NotFound);
    assert!(r.into_string().unwrap().contains("job 999999"));
    // a form field that cannot be read as its type: the catalogue's sentence, not Rocket's
    let csrf = app.login_page("T0001");
    let (s, zh, _) = post(&app, "/bank/1/approve", format!("_csrf={csrf}&revision=abc"));
    assert_eq!(s, Status::UnprocessableEntity);
    assert!(zh.contains("有一项填写的值无法识别") && !zh.contains("invalid digit"), "{zh}");
}
