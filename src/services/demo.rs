//! The demo city bureau seeded on an empty database: units, staff, 30 officers and an open
//! mock exam. Every demo account's password is `lawcert-demo`.

use chrono::{Duration, NaiveDate};

use crate::db::models::{org, Ts};
use crate::db::{write_tx, DbConn};
use crate::domain::exam::{Eligibility, Release, SittingKind, SubmitKind};
use crate::domain::grading::MultiRule;
use crate::domain::ids::{BlueprintId, SittingId, UnitId, UserId, VersionId};
use crate::domain::org::Role;
use crate::domain::paper::{BlueprintRule, BlueprintSpec, RuleKind};
use crate::error::{AppError, AppResult};
use crate::services::credentials::hash_password;
use crate::services::exams::{create_blueprint, create_sitting, SittingSpec};

pub const DEMO_PASSWORD: &str = crate::domain::setup::DEMO_PASSWORD;

/// The demo accounts, for the start-up banner and the README.
pub const DEMO_ACCOUNTS: &[(&str, &str)] = &[
    ("admin", "管理员 admin"),
    ("T0001", "教官 trainer"),
    ("T0002", "教官 trainer (second reviewer)"),
    ("H0001", "政工/人事 HR"),
    ("L0001", "所队长 unit leader"),
    ("100001 … 100030", "民警 officers"),
];

const SURNAMES: &[&str] = &["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "胡", "朱"];
const GIVEN: &[&str] = &["伟", "芳", "军", "磊", "静", "强", "洋", "勇", "艳", "杰", "涛", "明", "超", "华", "平", "刚", "鹏", "斌"];
const TYPES: &[&str] = &["派出所", "刑侦", "治安", "交警", "经侦", "禁毒", "法制", "巡警"];

/// Seeds the demo bureau and marks the database as a demo (`services::setup::DEMO_SETTING`).
/// Call only on a database this start created (`domain::setup::seeds_demo`).
pub fn seed(conn: &mut DbConn, now: Ts) -> AppResult<()> {
    let hash = hash_password(DEMO_PASSWORD);
    write_tx(conn, |conn| {
        let unit = |conn: &mut DbConn, parent: Option<UnitId>, name: &str, kind: &str| {
            org::insert_unit(conn, &org::NewUnit { parent_id: parent, name, kind, created_at: now })
        };
        let city = unit(conn, None, "江州市公安局", "city")?;
        let east = unit(conn, Some(city), "城东分局", "branch")?;
        let west = unit(conn, Some(city), "城西分局", "branch")?;
        let east_station = unit(conn, Some(east), "城东派出所", "station")?;
        let east_cid = unit(conn, Some(east), "城东分局刑侦大队", "brigade")?;
        let west_station = unit(conn, Some(west), "城西派出所", "station")?;
        let west_order = unit(conn, Some(west), "城西分局治安大队", "brigade")?;
        let traffic = unit(conn, Some(city), "江州市公安局交警支队", "brigade")?;
        let legal = unit(conn, Some(city), "江州市公安局法制支队", "section")?;

        let person = |badge: &str,
                      name: &str,
                      unit_id: UnitId,
                      ptype: &str,
                      post: &str,
                      rank: &str,
                      hired: NaiveDate,
                      leader: bool,
                      legal_officer: bool| {
            org::NewUser {
                badge: badge.into(),
                name: name.into(),
                unit_id,
                police_type: ptype.into(),
                post: post.into(),
                enforcement_post: !post.contains("综合"),
                rank: rank.into(),
                hire_date: hired,
                is_leader: leader,
                is_legal_officer: legal_officer,
                email: Some(format!("{}@demo.lawcert.invalid", badge.to_lowercase())),
                password_hash: hash.clone(),
                active: true,
                created_at: now,
                // well-formed but fictitious: region code 999999 is not assigned
                id_number: Some(format!("999999{}{:04}", hired.format("%Y%m%d"), badge.bytes().map(u32::from).sum::<u32>() % 10000)),
            }
        };
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).expect("date");
        let staff = [
            (person("admin", "系统管理员", city, "法制", "综合管理", "一级警长", d(2010, 7, 1), false, false), vec![Role::Admin]),
            (
                person("T0001", "郑法明", legal, "法制", "法制员", "二级高级警长", d(2008, 7, 1), false, true),
                vec![Role::Trainer, Role::Officer],
            ),
            (person("T0002", "冯律", legal, "法制", "法制员", "一级警长", d(2012, 7, 1), false, true), vec![Role::Trainer, Role::Officer]),
            (person("H0001", "何人事", city, "法制", "综合政工", "二级警长", d(2011, 9, 1), false, false), vec![Role::Hr]),
            (
                person("L0001", "梁所长", east_station, "派出所", "派出所所长", "一级高级警长", d(2005, 7, 1), true, false),
                vec![Role::Leader, Role::Officer],
            ),
        ];
        for (u, roles) in &staff {
            org::insert_user(conn, u, roles)?;
        }
        let units = [east_station, east_cid, west_station, west_order, traffic, legal, east_station, west_station];
        for i in 0..30usize {
            let badge = format!("{}", 100001 + i);
            let name = format!("{}{}", SURNAMES[i % SURNAMES.len()], GIVEN[(i * 7) % GIVEN.len()]);
            let ptype = TYPES[i % TYPES.len()];
            let unit_id = match ptype {
                "刑侦" | "经侦" | "禁毒" => east_cid,
                "治安" => west_order,
                "交警" => traffic,
                "法制" => legal,
                _ => units[i % units.len()],
            };
            let hired = d(2010 + (i as i32 % 16), 1 + (i as u32 % 12), 1);
            let post = if i % 10 == 9 { "综合内勤" } else { "执法勤务" };
            org::insert_user(
                conn,
                &person(&badge, &name, unit_id, ptype, post, "四级警长", hired, false, ptype == "法制"),
                &[Role::Officer],
            )?;
        }
        // every app server reads this to show the demo banner
        crate::services::setup::mark_demo(conn, now)?;
        Ok::<(), AppError>(())
    })?;

    let spec = BlueprintSpec {
        rules: vec![
            BlueprintRule { kind: RuleKind::Single, statute: None, difficulty: None, level: None, count: 10, points_centi: 400 },
            BlueprintRule { kind: RuleKind::Multiple, statute: None, difficulty: None, level: None, count: 5, points_centi: 600 },
            BlueprintRule { kind: RuleKind::TrueFalse, statute: None, difficulty: None, level: None, count: 10, points_centi: 300 },
        ],
        ..BlueprintSpec::default()
    };
    let trainer = org::find_by_badge(conn, "T0001")?.map(|u| u.id);
    let bp = create_blueprint(conn, "模拟考试：综合（25题，100分）", &spec, trainer, now)?;
    create_sitting(
        conn,
        &SittingSpec {
            title: "模拟考试：执法基础知识".into(),
            kind: SittingKind::Mock,
            blueprint_id: bp,
            opens_at: now - Duration::hours(1),
            closes_at: now + Duration::days(365),
            duration_minutes: 30,
            pass_percent: 60,
            multi_rule: MultiRule::Partial,
            score_release: Release::OnSubmit,
            answer_release: Release::OnSubmit,
            eligibility: Eligibility::default(),
            cert_level: None,
            controls: Default::default(),
            plan_id: None,
            makeup_of: None,
        },
        trainer,
        now,
    )?;
    seed_past_bimonthly(conn, trainer, now)?;
    seed_certificates(conn, now)?;
    seed_measurement_history(conn, trainer, now)?;
    Ok(())
}

/// Eight 基本级 mock tests over the past half year, sat by the officers with answers drawn from
/// the Rasch model (each question a difficulty from its authored one, each officer an ability
/// that grows a little from test to test), so the calibration, the item map, the item curves,
/// the DIF table and standard setting have real numbers on a fresh demo. Two questions are
/// planted: one whose key is wrong (the abler officers choose another option: key suspected,
/// misfit) and one that is 4 logits harder for 交警 officers than for others of the same
/// ability (DIF). The bank is calibrated at the end, and a standard-setting study for 基本级 is
/// rated by both trainers in two rounds and closed, for an admin to adopt.
fn seed_measurement_history(conn: &mut DbConn, trainer: Option<UserId>, now: Ts) -> AppResult<()> {
    use rand::{Rng, SeedableRng};

    use crate::db::models::exam as exam_db;
    use crate::domain::bank::Level;
    use crate::domain::measurement::rasch::probability;
    use crate::services::exams;

    let rule = |kind, statute: &str, count, points_centi| BlueprintRule {
        kind,
        statute: Some(statute.into()),
        difficulty: None,
        level: Some(Level::Basic),
        count,
        points_centi,
    };
    let spec = BlueprintSpec {
        rules: vec![
            rule(RuleKind::Single, "people-police-law", 10, 300),
            rule(RuleKind::TrueFalse, "people-police-law", 12, 200),
            rule(RuleKind::Single, "criminal-law", 10, 300),
            rule(RuleKind::TrueFalse, "criminal-law", 8, 200),
        ],
        ..BlueprintSpec::default()
    };
    let bp = create_blueprint(conn, "基本级模拟测验（人民警察法、刑法，40题，100分）", &spec, trainer, now)?;
    let cache = crate::services::cache::VersionCache::default();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(20261205);
    // a question's difficulty in the simulation: from its authored difficulty (1–3) and a fixed
    // spread per question
    let spread = |v: i64| (v.wrapping_mul(2_654_435_761).rem_euclid(1000) as f64 / 1000.0 - 0.5) * 1.6;
    let mut planted: Option<(VersionId, VersionId)> = None;
    let mut authored: std::collections::HashMap<VersionId, i32> = Default::default();
    let mut sittings = Vec::new();
    for k in 0..8i64 {
        let opens = now - Duration::days(7 + 21 * (8 - k));
        let sid = create_sitting(
            conn,
            &past_sitting(format!("基本级模拟测验（第{}期）", k + 1), SittingKind::Mock, bp, opens, 45),
            trainer,
            opens,
        )?;
        sittings.push(sid);
        if planted.is_none() {
            // the lowest-numbered questions of the first two rules (drawn on about two papers in five
            // and four in five): a wrong key, and DIF
            let s = exam_db::find_sitting(conn, sid)?.ok_or_else(|| AppError::internal("demo sitting vanished"))?;
            let pool: crate::domain::paper::Pool =
                serde_json::from_str(&s.pool).map_err(|e| AppError::internal(format!("demo pool: {e}")))?;
            let first =
                |r: usize| pool.rules.get(r).and_then(|r| r.entries.iter().flat_map(|e| e.v.iter().copied()).min()).unwrap_or(VersionId(0));
            planted = Some((first(0), first(1)));
        }
        let (miskeyed, dif_item) = planted.unwrap_or((VersionId(0), VersionId(0)));
        for n in 1..=30i64 {
            if n % 10 == 0 || (n + k) % 7 == 0 {
                continue; // absent this time
            }
            let theta = -1.0 + 3.0 * ((n * 7) % 30) as f64 / 29.0 + 0.05 * k as f64;
            let start = opens + Duration::minutes(3 + n);
            let Some((u, a, paper, versions)) = sit(conn, &cache, sid, &format!("1000{n:02}"), start)? else { continue };
            let missing: Vec<VersionId> = paper.items.iter().map(|i| i.v).filter(|v| !authored.contains_key(v)).collect();
            if !missing.is_empty() {
                authored.extend(crate::db::models::bank::versions_by_ids(conn, &missing)?.into_iter().map(|(v, _)| (v.id, v.difficulty)));
            }
            let mut answers = Vec::with_capacity(paper.items.len());
            for item in &paper.items {
                let v = &versions[&item.v];
                let wrong: Vec<char> = v.option_ids().iter().copied().filter(|c| !v.key.contains(*c)).collect();
                let mut b = (authored.get(&item.v).copied().unwrap_or(2) as f64 - 2.0) * 0.9 + spread(item.v.0);
                if item.v == miskeyed {
                    // a harder point of law, but known by enough officers (at least the check's 5) to show the pattern
                    b += 0.5;
                }
                if item.v == dif_item && u.police_type == "交警" {
                    b += 4.0;
                }
                let knows = rng.random_bool(probability(theta, b).clamp(0.001, 0.999));
                let choice = if item.v == miskeyed && !wrong.is_empty() {
                    // the key on file is wrong: those who know the law choose the first other option;
                    // those who do not pick the key on file or another wrong option, never the right
                    // answer by chance (which made the pattern depend on which papers drew the
                    // question, and the calibration's check on it flaky)
                    if knows {
                        wrong[0].to_string()
                    } else if wrong.len() == 1 || rng.random_bool(0.5) {
                        v.key.clone()
                    } else {
                        wrong[1 + rng.random_range(0..wrong.len() - 1)].to_string()
                    }
                } else if knows || wrong.is_empty() {
                    v.key.clone()
                } else {
                    wrong[rng.random_range(0..wrong.len())].to_string()
                };
                answers.push((item.v, choice));
            }
            write_tx(conn, |c| {
                for (v, choice) in &answers {
                    exam_db::upsert_response(c, a.id, *v, choice, None, start + Duration::minutes(25))?;
                }
                Ok::<(), AppError>(())
            })?;
            exams::submit(conn, &cache, a.id, SubmitKind::Manual, start + Duration::minutes(40))?;
        }
    }
    for sid in sittings {
        crate::services::item_analysis::analyse_sitting(conn, &cache, sid, now)?;
    }
    crate::services::calibration::calibrate_bank(conn, now)?;
    seed_standard_setting(conn, bp, now)
}

/// A 基本级 standard-setting study on the mock tests' blueprint, rated by T0001 and T0002 in
/// two rounds (a minimally competent officer at about +0.3 logits, each rater's own lean and
/// noise, less of both after the discussion) and closed, awaiting an admin's adoption.
fn seed_standard_setting(conn: &mut DbConn, bp: BlueprintId, now: Ts) -> AppResult<()> {
    use rand::{Rng, SeedableRng};

    use crate::domain::measurement::rasch::probability;
    use crate::services::standards;

    let (Some(t1), Some(t2)) = (org::find_by_badge(conn, "T0001")?, org::find_by_badge(conn, "T0002")?) else { return Ok(()) };
    let id = standards::open_study(conn, "basic", Some(bp), t1.id, now)?;
    let view = standards::view(conn, id, t1.id, true)?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(20261206);
    for (round, noise) in [(1, 0.9), (2, 0.35)] {
        if round == 2 {
            standards::start_round_two(conn, id, t1.id, now)?;
        }
        for (rater, lean) in [(t1.id, 0.4 * noise), (t2.id, -0.4 * noise)] {
            let p: std::collections::HashMap<String, String> = view
                .form
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let p = probability(0.3 + lean + rng.random_range(-noise..noise), item.difficulty);
                    (i.to_string(), format!("{:.0}", (p * 100.0).clamp(5.0, 95.0)))
                })
                .collect();
            standards::rate(conn, id, rater, &p, now)?;
        }
    }
    standards::close(conn, id, t1.id, now)?;
    Ok(())
}

/// Certificates the demo officers already hold (as if recorded before lawcert), so the
/// certification pages, verification and the expiry/lapse rules have something to act on:
/// most hold 基本级, a few 中级, one 高级; one certificate is within the expiry-warning window and
/// one holder left enforcement duty more than a year ago (the server lapses it on start).
fn seed_certificates(conn: &mut DbConn, now: Ts) -> AppResult<()> {
    use crate::db::models::cert as cert_db;
    use crate::domain::bank::Level;
    use crate::domain::certification::{certificate_number, expiry};

    let today = crate::timefmt::bureau_date(now);
    let mut seq = std::collections::HashMap::new();
    let mut issue = |conn: &mut DbConn, badge: &str, level: Level, issued: NaiveDate| -> AppResult<()> {
        let Some(u) = org::find_by_badge(conn, badge)? else { return Ok(()) };
        let n = seq.entry((level, issued.format("%Y").to_string())).or_insert(0i64);
        *n += 1;
        let number = certificate_number(level, issued.format("%Y").to_string().parse().unwrap_or(2026), *n);
        // fixed demo codes are fine: the demo is not a real bureau
        let code = format!("DEMO{:04}", u.id.0 % 10_000);
        cert_db::insert_certificate(conn, &cert_db::NewCertificate::valid(&number, &code, &u, level, issued, expiry(issued, 5), now))?;
        let cert = cert_db::certificate_by_number(conn, &number)?.ok_or_else(|| AppError::internal("demo certificate vanished"))?;
        crate::services::training::file_certificate(conn, &cert, now)?;
        Ok(())
    };
    write_tx(conn, |conn| {
        for n in 1..=20 {
            let issued = today - Duration::days(200 + 53 * n as i64);
            issue(conn, &format!("1000{n:02}"), Level::Basic, issued)?;
        }
        // due for renewal soon: issued almost five years ago
        issue(conn, "100021", Level::Basic, today - Duration::days(5 * 365 - 40))?;
        for badge in ["100002", "100005", "100009"] {
            issue(conn, badge, Level::Intermediate, today - Duration::days(120))?;
        }
        issue(conn, "100002", Level::Advanced, today - Duration::days(30))?;
        // 100020 moved to a non-enforcement post 400 days ago
        if let Some(u) = org::find_by_badge(conn, "100020")? {
            cert_db::insert_post_change(conn, u.id, "后勤保障", false, today - Duration::days(400), None, now)?;
        }
        Ok::<(), AppError>(())
    })
}

/// A bimonthly exam that closed four days ago, sat by 27 of the 30 officers with answers of
/// varied skill, so the results, item-analysis and challenge pages have something real to show
/// on a fresh install. One officer has challenged a question.
fn seed_past_bimonthly(conn: &mut DbConn, trainer: Option<UserId>, now: Ts) -> AppResult<()> {
    use rand::{Rng, SeedableRng};

    use crate::db::models::exam as exam_db;
    use crate::domain::bank::QuestionKind;
    use crate::services::exams;

    let spec = BlueprintSpec {
        rules: vec![
            BlueprintRule { kind: RuleKind::Single, statute: None, difficulty: None, level: None, count: 20, points_centi: 250 },
            BlueprintRule { kind: RuleKind::Multiple, statute: None, difficulty: None, level: None, count: 10, points_centi: 300 },
            BlueprintRule { kind: RuleKind::TrueFalse, statute: None, difficulty: None, level: None, count: 10, points_centi: 200 },
        ],
        ..BlueprintSpec::default()
    };
    let bp = create_blueprint(conn, "双月考：综合（40题，100分）", &spec, trainer, now)?;
    let opens = now - Duration::days(4);
    let sid = create_sitting(
        conn,
        &past_sitting("2026年9—10月执法知识双月考".to_string(), SittingKind::Bimonthly, bp, opens, 60),
        trainer,
        opens,
    )?;
    let cache = crate::services::cache::VersionCache::default();
    // a fixed seed: every fresh demo shows the same history
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(20260901);
    let mut challenged = false;
    for n in 1..=30 {
        if n % 10 == 0 {
            continue; // three officers were absent
        }
        let start = opens + Duration::minutes(5 + n as i64);
        let Some((u, a, paper, versions)) = sit(conn, &cache, sid, &format!("1000{n:02}"), start)? else { continue };
        // skill from 0.35 to 0.95, spread over the officers
        let skill = 0.35 + 0.6 * ((n * 7) % 30) as f64 / 29.0;
        let mut first_wrong = None;
        for item in &paper.items {
            let v = &versions[&item.v];
            let ids = v.option_ids();
            let choice: String = if rng.random_bool(skill.clamp(0.05, 0.98)) {
                v.key.clone()
            } else if v.kind == QuestionKind::Multiple && rng.random_bool(0.5) {
                v.key.chars().take(v.key.len().saturating_sub(1).max(1)).collect()
            // chose too few
            } else {
                let wrong: Vec<char> = ids.iter().copied().filter(|c| !v.key.contains(*c)).collect();
                if wrong.is_empty() {
                    // every option is right: a wrong answer leaves one out
                    v.key.chars().take(v.key.len() - 1).collect()
                } else {
                    wrong[rng.random_range(0..wrong.len())].to_string()
                }
            };
            if choice != v.key && first_wrong.is_none() && v.kind == QuestionKind::Single {
                first_wrong = Some(item.v);
            }
            exam_db::upsert_response(conn, a.id, item.v, &choice, None, start + Duration::minutes(30))?;
        }
        exams::submit(conn, &cache, a.id, SubmitKind::Manual, start + Duration::minutes(45))?;
        if !challenged && n == 7 {
            if let Some(v) = first_wrong {
                let new = crate::db::models::challenge::NewChallenge {
                    attempt_id: a.id,
                    sitting_id: sid,
                    user_id: u.id,
                    question_version_id: v,
                    article: "见题目所引条文",
                    reason: "我认为所选答案同样符合条文的规定，请复核。",
                };
                crate::db::models::challenge::insert(conn, &new, opens + Duration::days(1))?;
                challenged = true;
            }
        }
    }
    crate::services::item_analysis::analyse_sitting(conn, &cache, sid, now)?;
    Ok(())
}

/// The seeded officer with `badge` sits `sitting` from `start`: the officer, the attempt, its
/// paper and the paper's versions; `None` when there is no such officer.
fn sit(
    conn: &mut DbConn,
    cache: &crate::services::cache::VersionCache,
    sitting: SittingId,
    badge: &str,
    start: Ts,
) -> AppResult<Option<(org::User, crate::db::models::exam::Attempt, crate::domain::paper::Paper, VersionMap)>> {
    let Some(u) = org::find_by_badge(conn, badge)? else { return Ok(None) };
    let candidate = crate::services::exams::Candidate { id: u.id, badge: &u.badge, unit_id: u.unit_id, police_type: &u.police_type };
    // a paper drawn with a seed of the sitting and the officer, not a fresh one: the demo's
    // history (and what its calibration flags) is then the same on every fresh demo
    let seed =
        u.badge.bytes().fold((sitting.0 as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15), |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
    crate::services::prepared::prepare_seeded(conn, sitting, u.id, seed, start)?;
    let (a, _) = crate::services::exams::start_attempt(conn, &Default::default(), sitting, &candidate, &Default::default(), start, None)?;
    let paper = crate::services::exams::paper_of(&a)?;
    let ids: Vec<VersionId> = paper.items.iter().map(|i| i.v).collect();
    let versions = cache.get_many(conn, &ids)?;
    Ok(Some((u, a, paper, versions)))
}

type VersionMap = std::collections::HashMap<VersionId, std::sync::Arc<crate::services::cache::CachedVersion>>;

/// A past sitting of the demo history: a three-hour window from `opens`, partial credit on
/// multiple choice, the score on submission and the answers after close, open to everyone.
fn past_sitting(title: String, kind: SittingKind, blueprint_id: BlueprintId, opens: Ts, duration_minutes: i32) -> SittingSpec {
    SittingSpec {
        title,
        kind,
        blueprint_id,
        opens_at: opens,
        closes_at: opens + Duration::hours(3),
        duration_minutes,
        pass_percent: 60,
        multi_rule: MultiRule::Partial,
        score_release: Release::OnSubmit,
        answer_release: Release::AfterClose,
        eligibility: Eligibility::default(),
        cert_level: None,
        controls: Default::default(),
        plan_id: None,
        makeup_of: None,
    }
}
