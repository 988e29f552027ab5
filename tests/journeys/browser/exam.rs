//! An officer sits the demo's mock exam in the browser: answers survive a reload, answers given
//! while the network is down wait on the page and reach the server when it is back, and the
//! submission (after the page's confirmation) shows the score and the choices made.

use lawcert::domain::ids::AttemptId;
use serde_json::{json, Value};

use super::{axe, login, nav, shot, start, Browser};

/// The exam page's own messages (its `#i18n` element), so the checks follow the page's language.
fn msg(b: &Browser, key: &str) -> String {
    b.find("#i18n").attr(&format!("data-{key}")).unwrap_or_else(|| panic!("exam page message {key}"))
}

/// Clicks option `k` of the question at position `i` (0-based) by its label, as a candidate
/// does. Returns the question id, the option's value and its text.
fn answer(b: &Browser, i: usize, k: usize) -> (String, String, String) {
    let questions = b.find_all("fieldset.question");
    let fs = &questions[i];
    let qid = fs.attr("data-qid").expect("question id");
    let labels = fs.find_all("label.option");
    let label = &labels[k % labels.len()];
    label.click();
    let input = label.find("input");
    assert!(input.is_selected(), "clicking the option's label selects it");
    (qid, input.attr("value").expect("option value"), label.text())
}

/// Waits for a question's save state to read `text`.
fn wait_state(b: &Browser, qid: &str, text: &str) {
    let css = format!("#q{qid} .save-state");
    b.wait_until(&format!("question {qid} to say {text:?}"), |b| (b.text(&css) == text).then_some(()));
}

/// Signs `badge` in, opens the demo's mock exam from the exam list and starts it; returns the
/// attempt's id once the page's script reports it is online.
fn start_demo_mock(b: &Browser, badge: &str) -> String {
    login(b, badge);
    nav(b, "/exams");
    let rows = b.find_all("table.list tbody tr");
    let mock = rows.iter().find(|r| r.text().contains("模拟考试：执法基础知识")).expect("the demo's open mock exam is listed");
    let href = mock.find("a").attr("href").expect("a link to the exam");
    drop(rows);
    b.click_and_load(&format!("table.list a[href='{href}']"));
    b.click_and_load("form[action$='/start'] button.primary");
    let aid = b.wait_path("/attempts/").trim_start_matches("/attempts/").to_string();
    let online = msg(b, "online");
    b.wait_until("the page to report it is online", |b| (b.text("#net") == online).then_some(()));
    aid
}

/// The server's view of the attempt's saved answers: question id → choices.
fn saved(app: &super::App, token: &str, aid: &str) -> std::collections::HashMap<String, Vec<String>> {
    let att = app.api_get(token, &format!("/api/v1/attempts/{aid}"));
    att["questions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|q| {
            let a: Vec<String> = q["answer"].as_array()?.iter().map(|c| c.as_str().unwrap().to_string()).collect();
            (!a.is_empty()).then(|| (q["id"].to_string(), a))
        })
        .collect()
}

#[test]
#[ignore = "needs Chromium, chromedriver and axe-core: run .ci/browser-tests"]
fn officer_sits_the_mock_exam_through_a_reload_and_a_network_outage() {
    let (app, b) = start();
    b.goto("/login");
    axe(&b, "login");
    shot(&b, "login");
    login(&b, "100005");

    nav(&b, "/exams");
    axe(&b, "exam-list");
    shot(&b, "exam-list");
    let rows = b.find_all("table.list tbody tr");
    let mock = rows.iter().find(|r| r.text().contains("模拟考试：执法基础知识")).expect("the demo's open mock exam is listed");
    let href = mock.find("a").attr("href").expect("a link to the exam");
    b.click_and_load(&format!("table.list a[href='{href}']"));
    assert_eq!(b.text("h1"), "模拟考试：执法基础知识");
    b.click_and_load("form[action$='/start'] button.primary");
    let path = b.wait_path("/attempts/");
    let aid = path.trim_start_matches("/attempts/").to_string();
    assert!(aid.parse::<i64>().is_ok(), "on the exam page: {path}");

    // the script has taken over from the no-JavaScript notice
    let online = msg(&b, "online");
    b.wait_until("the page to report it is online", |b| (b.text("#net") == online).then_some(()));
    let questions = b.find_all("fieldset.question");
    assert_eq!(questions.len(), 25, "the mock exam has 25 questions");
    drop(questions);

    // three answers, each saved to the server as it is clicked
    let saved_text = msg(&b, "saved");
    let mut given = Vec::new();
    for i in 0..3 {
        let a = answer(&b, i, i + 1);
        wait_state(&b, &a.0, &saved_text);
        assert!(
            b.find(&format!("#nav{}", a.0)).attr("class").unwrap_or_default().contains("answered"),
            "the question map marks it answered"
        );
        given.push(a);
    }
    let queue_key = format!("lawcert-queue-{aid}");
    assert_eq!(b.execute("return localStorage.getItem(arguments[0])", vec![queue_key.clone().into()]), "{}", "nothing left to send");
    let token = app.token("100005");
    let server = saved(&app, &token, &aid);
    for (qid, value, _) in &given {
        assert_eq!(server.get(qid), Some(&vec![value.clone()]), "question {qid} saved on the server");
    }

    // a reload mid-exam: the page comes back from the server with the answers selected
    b.reload();
    b.wait_until("the reloaded page to be online", |b| (b.text("#net") == online).then_some(()));
    for (qid, value, _) in &given {
        assert!(b.find(&format!("#q{qid} input[value='{value}']")).is_selected(), "question {qid} still answered after the reload");
    }
    assert_eq!(b.find_all("fieldset.question .options input:checked").len(), 3, "only the three answers are selected");

    // the network goes down: two more answers wait on the page, and the page says so
    b.set_network_offline(true);
    let (offline, queued) = (msg(&b, "offline"), msg(&b, "queued"));
    assert!(offline.contains("网络中断"), "the page speaks Chinese by default: {offline}");
    let mut pending = Vec::new();
    for i in 3..5 {
        let a = answer(&b, i, 0);
        wait_state(&b, &a.0, &queued);
        pending.push(a);
    }
    b.wait_js("document.getElementById('net').classList.contains('offline')");
    assert_eq!(b.text("#net"), offline, "the page says it is offline");
    let queue: Value =
        serde_json::from_str(b.execute("return localStorage.getItem(arguments[0])", vec![queue_key.clone().into()]).as_str().unwrap())
            .unwrap();
    for (qid, value, _) in &pending {
        assert_eq!(queue[qid]["choices"][0], value.as_str(), "question {qid} is kept in the browser while offline");
    }
    shot(&b, "exam-offline");
    let server = saved(&app, &token, &aid);
    for (qid, _, _) in &pending {
        assert!(!server.contains_key(qid), "question {qid} cannot have reached the server while offline");
    }

    // back online: the page sends what waited, on its own
    b.set_network_offline(false);
    for (qid, _, _) in &pending {
        wait_state(&b, qid, &saved_text);
    }
    b.wait_until("the page to say it is online again", |b| (b.text("#net") == online).then_some(()));
    assert_eq!(b.execute("return localStorage.getItem(arguments[0])", vec![queue_key.into()]), "{}", "the queue is empty once sent");
    let server = saved(&app, &token, &aid);
    for (qid, value, _) in given.iter().chain(&pending) {
        assert_eq!(server.get(qid), Some(&vec![value.clone()]), "question {qid} on the server after the outage");
    }
    assert_eq!(server.len(), 5);
    b.execute("window.scrollTo(0, 0)", vec![]);
    shot(&b, "exam");
    axe(&b, "exam");

    // submitting asks first, naming the unanswered questions (6 to 25)
    b.reload();
    b.wait_until("the reloaded page to be online", |b| (b.text("#net") == online).then_some(()));
    assert_eq!(b.find_all("fieldset.question .options input:checked").len(), 5);
    b.click("#submit");
    let confirm = b.accept_dialog();
    let listed = confirm
        .strip_prefix("以下题目尚未作答：")
        .and_then(|s| s.lines().next())
        .unwrap_or_else(|| panic!("the confirmation lists what is unanswered: {confirm}"));
    let missing: Vec<String> = (6..=25).map(|n| n.to_string()).collect();
    assert_eq!(listed, missing.join(", "), "exactly the unanswered questions are listed");
    assert!(confirm.contains("确定交卷吗"), "{confirm}");

    // the result: the score, the verdict, and the review shows exactly the five choices made
    b.wait_path(&format!("/attempts/{aid}/result"));
    let score = b.wait_for(".score").text();
    let graded: Value =
        ureq::post(&format!("{}/api/v1/attempts/{aid}/submit", app.base)).set("Authorization", &token).call().unwrap().into_json().unwrap();
    assert_eq!(score.split_whitespace().next(), graded["score"].as_str(), "the page shows the server's score ({score})");
    assert!(score.contains("/ 100"), "{score}");
    let verdict = b.find(".verdict");
    let (class, word) = if graded["passed"] == true { ("pass", "合格") } else { ("fail", "不合格") };
    assert!(
        verdict.attr("class").unwrap_or_default().split(' ').any(|c| c == class) && verdict.text().starts_with(word),
        "{}",
        verdict.text()
    );
    let chosen: Vec<String> = b.find_all("#challenges .review li.chosen").iter().map(|li| li.text()).collect();
    assert_eq!(chosen.len(), 5, "five choices on the review: {chosen:?}");
    for (_, _, text) in given.iter().chain(&pending) {
        assert!(chosen.iter().any(|c| c.contains(text.as_str())), "the review shows the choice {text:?}: {chosen:?}");
    }
    assert_eq!(b.find_all("#challenges .review p.fail").len(), 20, "twenty questions left unanswered");
    axe(&b, "result");
    shot(&b, "result");
}

/// The exam can be worked from the keyboard alone: a letter chooses, N moves on, M marks.
#[test]
#[ignore = "needs Chromium: run by .ci/browser-tests"]
fn the_exam_page_works_from_the_keyboard() {
    let (app, b) = start();
    let aid = start_demo_mock(&b, "100006");
    let saved_text = msg(&b, "saved");
    // focus lands on the first question without choosing anything
    b.execute("document.querySelector('fieldset.question .options input').focus()", vec![]);
    let kinds: Vec<(String, String)> =
        b.find_all("fieldset.question").iter().take(2).map(|f| (f.attr("data-qid").unwrap(), f.attr("data-kind").unwrap())).collect();
    let key_for = |kind: &str| if kind == "truefalse" { "T" } else { "A" };
    let active = || b.execute("return document.activeElement.closest('fieldset.question').dataset.qid", vec![]);
    // question 1: a letter chooses
    b.find("fieldset.question .options input").type_text(&key_for(&kinds[0].1).to_lowercase());
    wait_state(&b, &kinds[0].0, &saved_text);
    // N: on to question 2, where a letter chooses and M marks it for review
    b.execute("document.activeElement.dispatchEvent(new KeyboardEvent('keydown', {key: 'n', bubbles: true}))", vec![]);
    assert_eq!(active(), Value::String(kinds[1].0.clone()), "N moved to the next question");
    b.execute(
        &format!(
            "document.activeElement.dispatchEvent(new KeyboardEvent('keydown', {{key: '{}', bubbles: true}}))",
            key_for(&kinds[1].1).to_lowercase()
        ),
        vec![],
    );
    b.execute("document.activeElement.dispatchEvent(new KeyboardEvent('keydown', {key: 'm', bubbles: true}))", vec![]);
    wait_state(&b, &kinds[1].0, &saved_text);
    // P: back to question 1
    b.execute("document.activeElement.dispatchEvent(new KeyboardEvent('keydown', {key: 'p', bubbles: true}))", vec![]);
    assert_eq!(active(), Value::String(kinds[0].0.clone()), "P moved back");
    // the server has both answers, and the mark
    let token = app.token("100006");
    let att = b.wait_until("the mark to reach the server", |_| {
        let att = app.api_get(&token, &format!("/api/v1/attempts/{aid}"));
        let marked = att["questions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q["id"].to_string().as_str() == kinds[1].0 && q["flagged"] == Value::Bool(true));
        marked.then_some(att)
    });
    let q = |id: &str| att["questions"].as_array().unwrap().iter().find(|q| q["id"].to_string().as_str() == id).unwrap().clone();
    assert_eq!(q(&kinds[0].0)["answer"][0].as_str(), Some(key_for(&kinds[0].1)));
    assert_eq!(q(&kinds[1].0)["answer"][0].as_str(), Some(key_for(&kinds[1].1)));
    assert_eq!(q(&kinds[1].0)["flagged"], Value::Bool(true), "M marked question 2 for review");

    // the proctor gives 30 extra minutes; when the page comes back to the foreground it shows them
    let minutes_left = |b: &Browser| -> i64 { b.text("#countdown").split(':').next().unwrap_or("0").trim().parse().unwrap_or(0) };
    let before = minutes_left(&b);
    let trainer = lawcert::db::models::org::find_by_badge(&mut app.conn(), "T0001").unwrap().unwrap();
    let now = chrono::Utc::now().naive_utc();
    let aid_n: i64 = aid.parse().unwrap();
    let sid = lawcert::db::models::exam::find_attempt(&mut app.conn(), AttemptId(aid_n)).unwrap().unwrap().sitting_id;
    lawcert::services::proctor::grant_extra_time(&mut app.conn(), sid, AttemptId(aid_n), 30, "机器故障", trainer.id, now).unwrap();
    b.execute("document.dispatchEvent(new Event('visibilitychange'))", vec![]);
    b.wait_until("the countdown to show the extra time", |b| (minutes_left(b) >= before + 29).then_some(()));
}

/// Issue 15, attack 8: the page's own submit confirmation took the focus and was reported as a
/// focus loss, so in a sitting that submits at one event pressing Cancel submitted an honest
/// candidate; and events raised offline were dropped.
#[test]
#[ignore = "needs Chromium: run by .ci/browser-tests"]
fn the_pages_own_dialog_is_not_a_focus_loss_and_offline_events_wait_in_a_queue() {
    let (app, b) = start();
    // a full-screen mock sitting that submits at the first event
    let sid = {
        let mut c = app.conn();
        let now = chrono::Utc::now().naive_utc();
        let rules =
            serde_json::from_value(json!({"rules": [{"kind": "truefalse", "statute": "criminal-law", "count": 3, "points_centi": 100}]}))
                .unwrap();
        let bp = lawcert::services::exams::create_blueprint(&mut c, "闭卷", &rules, None, now).unwrap();
        let spec: lawcert::services::exams::SittingSpec = serde_json::from_value(json!({
            "title": "全屏闭卷", "kind": "mock", "blueprint_id": bp, "opens_at": lawcert::timefmt::to_string(&(now - chrono::Duration::minutes(5))),
            "closes_at": lawcert::timefmt::to_string(&(now + chrono::Duration::hours(2))), "duration_minutes": 30, "pass_percent": 60,
            "multi_rule": "partial", "score_release": "on_submit", "answer_release": "never",
            "controls": {"fullscreen": true, "max_events": 2, "on_limit": "submit"}})).unwrap();
        lawcert::services::exams::create_sitting(&mut c, &spec, None, now).unwrap()
    };
    login(&b, "100007");
    b.goto(&format!("/exams/{sid}"));
    b.click_and_load("form[action$='/start'] button.primary");
    let aid = b.wait_path("/attempts/").trim_start_matches("/attempts/").to_string();
    let events = || -> Vec<String> {
        lawcert::db::models::room::events_of_attempt(&mut app.conn(), aid.parse().unwrap())
            .unwrap()
            .into_iter()
            .map(|e| e.kind.as_str().to_string())
            .collect()
    };
    let submitted =
        || lawcert::db::models::exam::find_attempt(&mut app.conn(), aid.parse().unwrap()).unwrap().unwrap().submitted_at.is_some();
    // a browser takes the window's focus away while a dialog is open: the candidate presses Cancel
    b.execute("window.confirm = function () { window.dispatchEvent(new Event('blur')); document.dispatchEvent(new Event('visibilitychange')); return false; }", vec![]);
    b.execute("document.getElementById('submit').click()", vec![]);
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert!(events().iter().all(|k| k != "focus_loss"), "the dialog was reported as a focus loss: {:?}", events());
    assert!(!submitted(), "pressing Cancel submitted the attempt");
    assert!(b.path().starts_with("/attempts/"), "still on the exam page");

    // offline, leaving the page is recorded in the browser and reaches the proctor later
    b.set_network_offline(true);
    b.wait_js("document.getElementById('net').classList.contains('offline')");
    b.execute("window.dispatchEvent(new Event('blur'))", vec![]);
    let queued = b.wait_until("the event to wait in the browser", |b| {
        let q = b.execute(&format!("return localStorage.getItem('lawcert-events-{aid}')"), vec![]);
        q.as_str().filter(|s| s.contains("focus_loss")).map(str::to_string)
    });
    assert!(queued.contains("focus_loss"));
    assert!(events().is_empty(), "nothing reached the server while offline");
    b.set_network_offline(false);
    b.wait_until("the queued event to reach the server", |_| events().iter().any(|k| k == "focus_loss").then_some(()));
    assert!(!submitted(), "one event of two allowed");
}

#[test]
#[ignore = "needs Chromium: run by .ci/browser-tests"]
fn an_overloaded_server_s_503_is_retried_and_the_answer_is_finally_saved() {
    // a save queue of one: while the writer is held up, a third save in a row is refused
    let app = super::App::start_with(&[("LAWCERT_SAVE_QUEUE_MAX", "1"), ("LAWCERT_SAVE_QUEUE_WAIT_MS", "60000")]);
    let b = Browser::new(&app.base);
    login(&b, "100008");
    b.goto(&format!("/exams/{}", 1));
    b.click_and_load("form[action$='/start'] button.primary");
    let aid = b.wait_path("/attempts/").trim_start_matches("/attempts/").to_string();
    let online = msg(&b, "online");
    b.wait_until("the page to report it is online", |b| (b.text("#net") == online).then_some(()));
    // watch (not change) what the server answers the page's saves
    b.execute(
        "window.__answers = []; var f = window.fetch; window.fetch = function (url, o) { return f.apply(this, arguments).then(function (r) { \
         if (o && o.method === 'PUT') window.__answers.push([String(url), r.status, r.headers.get('Retry-After')]); return r; }); };",
        vec![],
    );

    // another connection holds the database's write lock: the writer waits on it, the queue fills
    let mut blocker = app.conn();
    {
        use diesel::connection::SimpleConnection;
        match &mut *blocker {
            lawcert::db::DbConn::Sqlite(c) => c.batch_execute("BEGIN IMMEDIATE").unwrap(),
            lawcert::db::DbConn::Pg(c) => c.batch_execute(&format!("BEGIN; SELECT id FROM attempts WHERE id = {aid} FOR UPDATE")).unwrap(),
        }
    }
    let (saving, saved_text) = (msg(&b, "saving"), msg(&b, "saved"));
    let mut given = Vec::new();
    for i in 0..5 {
        given.push(answer(&b, i, 1));
        std::thread::sleep(std::time::Duration::from_millis(150));
    }
    let refused = b.wait_until("a save to be refused with 503", |b| {
        let answers = b.execute("return window.__answers", vec![]);
        answers.as_array().unwrap().iter().find(|a| a[1] == 503).cloned()
    });
    assert_eq!(refused[2], "1", "the refusal carries Retry-After: {refused}");
    let refused_url = refused[0].as_str().unwrap().to_string();
    let refused_qid = refused_url.rsplit('/').next().unwrap().to_string();
    // the candidate sees "saving…", never an error, and the answer waits in the page's queue
    assert_eq!(b.text(&format!("#q{refused_qid} .save-state")), saving);
    for (qid, _, _) in &given {
        let state = b.text(&format!("#q{qid} .save-state"));
        assert!(state == saving || state == saved_text, "question {qid} shows {state:?}");
    }
    let queue = b.execute("return localStorage.getItem(arguments[0])", vec![format!("lawcert-queue-{aid}").into()]);
    assert!(queue.as_str().unwrap().contains(&format!("\"{refused_qid}\"")), "kept for a retry: {queue}");

    // the lock goes; the held saves commit and the page sends the refused one again
    {
        use diesel::connection::SimpleConnection;
        blocker.batch_execute("COMMIT").unwrap();
    }
    drop(blocker);
    for (qid, _, _) in &given {
        wait_state(&b, qid, &saved_text);
    }
    let token = app.token("100008");
    let server = saved(&app, &token, &aid);
    for (qid, value, _) in &given {
        assert_eq!(server.get(qid), Some(&vec![value.clone()]), "question {qid} saved on the server");
    }
    let answers = b.execute("return window.__answers", vec![]);
    let to_refused: Vec<i64> =
        answers.as_array().unwrap().iter().filter(|a| a[0] == refused_url.as_str()).map(|a| a[1].as_i64().unwrap()).collect();
    assert_eq!(to_refused.first(), Some(&503));
    assert_eq!(to_refused.last(), Some(&200), "retried until saved: {to_refused:?}");
    assert_eq!(
        b.execute("return localStorage.getItem(arguments[0])", vec![format!("lawcert-queue-{aid}").into()]),
        "{}",
        "nothing left to send"
    );
}

#[test]
#[ignore = "needs Chromium, chromedriver and axe-core: run .ci/browser-tests"]
fn a_save_refused_because_the_session_ended_says_why_in_the_page_s_language() {
    let (_app, b) = start();
    start_demo_mock(&b, "100006");
    // the session ends while the page is open; the next save is refused with 401
    b.delete_cookies();
    let (qid, _, _) = answer(&b, 0, 1);
    let expected = format!("{}{}", msg(&b, "refused"), msg(&b, "err-unauthorized"));
    assert!(expected.contains("登录已过期"), "the page's own Chinese sentence: {expected}");
    wait_state(&b, &qid, &expected);
    assert!(!b.text(&format!("#q{qid} .save-state")).contains("sign in"), "no English from the API");
}
