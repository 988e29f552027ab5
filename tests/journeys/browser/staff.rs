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

/// The boxes (in CSS pixels, as Chromium lays them out) of every text of every chart on the
/// page, per chart: `[[left, top, right, bottom, text], …]`.
fn chart_label_boxes(b: &Browser) -> Vec<Vec<(f64, f64, f64, f64, String)>> {
    let v = b.execute(
        "return Array.from(document.querySelectorAll('main svg')).map(function (svg) {
             return Array.from(svg.querySelectorAll('text')).map(function (t) {
                 var r = t.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom, t.textContent];
             });
         });",
        vec![],
    );
    v.as_array()
        .unwrap()
        .iter()
        .map(|chart| {
            chart
                .as_array()
                .unwrap()
                .iter()
                .map(|t| {
                    (
                        t[0].as_f64().unwrap(),
                        t[1].as_f64().unwrap(),
                        t[2].as_f64().unwrap(),
                        t[3].as_f64().unwrap(),
                        t[4].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .collect()
}

/// Photographs each chart of the page (scrolled into view) and asserts that no two of its
/// labels overlap.
fn charts_keep_their_labels_apart(b: &Browser, page: &str, width: &str) -> usize {
    let charts = chart_label_boxes(b);
    for i in 0..charts.len() {
        b.execute("document.querySelectorAll('main svg')[arguments[0]].scrollIntoView({block: 'center'})", vec![serde_json::json!(i)]);
        super::shot(b, &format!("chart-{page}-{i}-{width}"));
    }
    for (i, labels) in charts.iter().enumerate() {
        for (j, a) in labels.iter().enumerate() {
            for c in &labels[j + 1..] {
                let apart = a.2 <= c.0 + 0.5 || c.2 <= a.0 + 0.5 || a.3 <= c.1 + 0.5 || c.3 <= a.1 + 0.5;
                assert!(apart, "{page} at {width}: chart {i}'s labels {:?} and {:?} overlap ({a:?} / {c:?})", a.4, c.4);
            }
        }
    }
    charts.len()
}

#[test]
#[ignore = "needs Chromium, chromedriver and axe-core: run .ci/browser-tests"]
fn every_chart_keeps_its_labels_apart_at_desktop_and_phone_widths() {
    let (app, b) = start();
    // the demo's closed bimonthly sitting has results to chart
    let closed = {
        let mut c = app.conn();
        let now = chrono::Utc::now().naive_utc();
        lawcert::db::models::exam::list_sittings(&mut c)
            .unwrap()
            .into_iter()
            .find(|s| s.kind == lawcert::domain::exam::SittingKind::Bimonthly && s.closes_at < now)
            .expect("the demo's closed bimonthly sitting")
            .id
    };
    let file_of = lawcert::db::models::org::find_by_badge(&mut app.conn(), "100018").unwrap().unwrap().id;
    let pages: [(&str, &str, String); 3] = [
        ("H0001", "compliance", "/hr/compliance".into()),
        ("H0001", "file", format!("/files/{file_of}")),
        ("T0001", "results", format!("/sittings/{closed}")),
    ];
    let mut seen = 0;
    for (width, w, h) in [("desktop", 1280, 900), ("phone", 390, 844)] {
        b.set_viewport(w, h);
        for (badge, name, path) in &pages {
            login(&b, badge);
            wait_for_remedial_plans(&b);
            b.goto(path);
            b.wait_for("main svg");
            seen += charts_keep_their_labels_apart(&b, name, width);
            b.click_and_load("form[action='/logout'] button");
            b.wait_path("/login");
        }
    }
    // compliance: five gauges, the map and the bands' bars; the file's map; the histogram
    assert!(seen >= 2 * 9, "every chart was looked at: {seen}");
}

#[test]
#[ignore = "needs Chromium, chromedriver and axe-core: run .ci/browser-tests"]
fn the_settings_escalation_and_files_pages_pass_axe() {
    let (_app, b) = start();
    login(&b, "admin");
    nav(&b, "/admin/settings");
    assert_eq!(b.find("#lacking_basic_warn_percent").attr("value").as_deref(), Some("10"));
    axe(&b, "admin-settings");
    shot(&b, "admin-settings");
    b.click_and_load("form[action='/logout'] button");
    login(&b, "L0001");
    nav(&b, "/remedial/escalations");
    axe(&b, "escalations");
    nav(&b, "/files");
    assert!(!b.find_all("table.list tbody a[href^='/files/']").is_empty(), "the leader's officers are listed");
    axe(&b, "files");
    shot(&b, "files");
}
