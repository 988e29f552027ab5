//! Staff journeys in the browser: a trainer schedules a sitting through the form; HR writes a
//! promotion rule and checks two officers against it; HR's compliance dashboard.

use super::{axe, login, nav, shot, start, wait_for_remedial_plans, Browser};

/// Sets a checkbox to `on` by clicking it (only if it is not already so).
fn check(b: &Browser, css: &str, on: bool) {
    let e = b.find(css);
    if e.is_selected() != on {
        e.click();
    }
    assert_eq!(b.find(css).is_selected(), on, "{css}");
}

/// Chooses the option of a `<select>` whose text contains `text`, by clicking it.
fn choose(b: &Browser, select: &str, text: &str) {
    let options = b.find_all(&format!("{select} option"));
    let o = options.iter().find(|o| o.text().contains(text)).unwrap_or_else(|| panic!("{select} offers {text:?}"));
    o.click();
    assert!(o.is_selected(), "{select}: {text:?} chosen");
}

#[test]
#[ignore = "needs Chromium, chromedriver and axe-core: run .ci/browser-tests"]
fn trainer_schedules_a_sitting_through_the_form_and_sees_it_listed() {
    let (_app, b) = start();
    login(&b, "T0001");
    nav(&b, "/sittings");
    assert_eq!(b.find("header.top nav a[href='/sittings']").text(), "考试与成绩");
    let before = b.find_all("table.list tbody tr").len();
    axe(&b, "sittings");
    b.click_and_load("a[href='/sittings/new']");
    assert_eq!(b.path(), "/sittings/new");
    axe(&b, "sitting-form");

    let title = "浏览器测试：2026年12月执法知识双月考";
    b.type_text("#title", title);
    choose(&b, "#kind", "双月考");
    choose(&b, "#blueprint", "模拟考试：综合");
    b.type_text("#duration", "45");
    b.type_text("#pass", "70");
    b.click_and_load("form[action='/sittings/new'] button.primary");
    // the new sitting's own page
    let path = b.path();
    assert!(path.strip_prefix("/sittings/").is_some_and(|id| id.parse::<i64>().is_ok()), "on the new sitting's page: {path}");
    assert_eq!(b.text("h1"), title, "the sitting's page");

    nav(&b, "/sittings");
    let rows = b.find_all("table.list tbody tr");
    assert_eq!(rows.len(), before + 1, "one more sitting listed");
    let row = rows.iter().find(|r| r.text().contains(title)).expect("the new sitting is listed");
    let text = row.text();
    assert!(text.contains("双月考") && text.contains("45 分钟") && text.contains("未开始"), "listed as scheduled: {text}");
    shot(&b, "sittings");
}

#[test]
#[ignore = "needs Chromium, chromedriver and axe-core: run .ci/browser-tests"]
fn hr_writes_a_promotion_rule_and_checks_two_officers_against_it() {
    let (_app, b) = start();
    login(&b, "H0001");

    // the compliance dashboard
    nav(&b, "/hr/compliance");
    assert!(!b.find_all("svg").is_empty(), "the dashboard draws its bars and gauges");
    axe(&b, "compliance");
    shot(&b, "compliance");

    // a rule, written through the form
    nav(&b, "/hr/rules");
    axe(&b, "promotion-rules");
    let name = "派出所副所长晋升（浏览器测试）";
    b.type_text("#name", name);
    b.type_text("#target", "派出所副所长");
    choose(&b, "#min_level", "基本级");
    check(&b, "input[name='cert_valid_on_date']", true);
    check(&b, "input[name='no_open_remedial']", true);
    b.type_text("#months", "12");
    check(&b, "input[name='active']", true);
    b.click_and_load("form[action='/hr/rules'] button.primary");
    assert_eq!(b.path(), "/hr/rules");
    let row = b.find_all("table.list tbody tr").into_iter().map(|r| r.text()).find(|r| r.contains(name)).expect("the rule is listed");
    assert!(row.contains("派出所副所长") && row.contains("基本级"), "{row}");

    // the check: pick the rule, paste two badges (once last round's results are on file)
    wait_for_remedial_plans(&b);
    nav(&b, "/hr/eligibility");
    choose(&b, "#rule", name);
    b.type_text("#badges", "100001\n100022");
    b.click_and_load("form[action='/hr/eligibility'] button[value='page']");
    let rows = b.find_all("table.list tbody tr");
    assert_eq!(rows.len(), 2, "one verdict per badge");
    let verdict = |badge: &str| {
        let r = rows.iter().find(|r| r.find("td").text() == badge).unwrap_or_else(|| panic!("a verdict for {badge}"));
        let cells = r.find_all("td");
        (cells[3].text(), cells[4].find_all("li").iter().map(|li| li.text()).collect::<Vec<_>>())
    };
    let (v1, why1) = verdict("100001");
    assert_eq!(v1, "符合", "100001 holds 基本级 and has no failure or open plan: {why1:?}");
    assert!(why1.is_empty());
    let (v22, why22) = verdict("100022");
    assert_eq!(v22, "不符合", "100022 failed the last 双月考 and has an open remedial plan");
    assert!(why22.iter().any(|r| r.contains("需基本级及以上")), "the rule's minimum level is a reason: {why22:?}");
    assert!(why22.iter().any(|r| r.contains("后进")), "the open remedial plan is a reason: {why22:?}");
    assert!(why22.iter().any(|r| r.contains("双月考")), "the failed bimonthly exam is a reason: {why22:?}");
    assert_eq!(b.text("h2"), "符合 1 人 / 共 2 人");
    drop(rows);
    axe(&b, "eligibility");
    let results = b.find("main h2");
    b.execute("arguments[0].scrollIntoView()", vec![results.json()]);
    shot(&b, "eligibility");
}

#[test]
#[ignore = "needs Chromium, chromedriver and axe-core: run .ci/browser-tests"]
fn trainer_sees_the_spread_of_paper_difficulty_and_audits_a_paper() {
    let (app, b) = start();
    // the demo's graded bimonthly sitting: papers drawn from a fair-paper pool
    let sid = lawcert::db::models::exam::list_sittings(&mut app.conn())
        .unwrap()
        .into_iter()
        .find(|s| {
            s.kind == lawcert::domain::exam::SittingKind::Bimonthly
                && lawcert::db::models::exam::count_attempts(&mut app.conn(), s.id).unwrap() > 0
        })
        .expect("the demo's bimonthly sitting")
        .id;
    login(&b, "T0001");
    b.goto(&format!("/sittings/{sid}"));
    assert_eq!(b.text("#spread-h"), "各考生试卷难度分布");
    let facts = b.find("section[aria-labelledby='spread-h']").text();
    assert!(facts.contains("最低") && facts.contains("中位") && facts.contains("最高"), "{facts}");
    axe(&b, "sitting-spread");
    shot(&b, "sitting-spread");
    b.click_and_load("table.list a[href$='/audit']");
    assert!(b.path().ends_with("/audit"), "{}", b.path());
    assert!(b.text("div[role='status']").contains("与考生所见一致"), "{}", b.text("main"));
    axe(&b, "paper-audit");
    shot(&b, "paper-audit");
}
