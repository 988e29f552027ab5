//! A database made by the previous release (the initial schema, with data in it) upgrades to
//! this release's schema without losing anything. SQLite; the PostgreSQL migrations mirror the
//! SQLite ones statement for statement and run in every PostgreSQL journey.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use lawcert::domain::ids::{AttemptId, BlueprintId, SittingId, UserId};

use crate::common::repo_root;

#[derive(QueryableByName, Debug, PartialEq)]
struct Row {
    #[diesel(sql_type = diesel::sql_types::Text)]
    v: String,
}

fn one(c: &mut SqliteConnection, sql: &str) -> String {
    diesel::sql_query(sql).get_result::<Row>(c).unwrap_or_else(|e| panic!("{sql}: {e}")).v
}

#[test]
fn a_previous_release_database_upgrades_without_loss() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("release1.db");
    {
        // the previous release: only the initial migration, recorded as applied, plus its data
        let mut c = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        let init = std::fs::read_to_string(repo_root().join("migrations/sqlite/2026-11-24-000001_init/up.sql")).unwrap();
        c.batch_execute(&init).unwrap();
        c.batch_execute(
            "CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL, run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);
             INSERT INTO __diesel_schema_migrations (version) VALUES ('20261124000001');
             INSERT INTO units (id, parent_id, name, kind, created_at) VALUES (1, NULL, '江州市公安局', 'city', '2026-11-01 00:00:00');
             INSERT INTO users (id, badge, name, unit_id, police_type, post, enforcement_post, rank, hire_date, is_leader, is_legal_officer, email, password_hash, active, created_at)
               VALUES (1, '100001', '王伟', 1, '派出所', '社区民警', 1, '四级警长', '2020-07-01', 0, 0, NULL, 'x', 1, '2026-11-01 00:00:00');
             INSERT INTO user_roles (user_id, role) VALUES (1, 'officer');
             INSERT INTO statutes (id, code, name, short_name) VALUES (1, 'criminal-law', '中华人民共和国刑法', '刑法');
             INSERT INTO statute_editions (id, statute_id, code, title, in_force) VALUES (1, 1, '2023-12-29', '修正案（十二）', '2024-03-01');
             INSERT INTO questions (id, code, case_id, case_position, kind, status, origin, file_hash, latest_version, live_version, revision, created_at, updated_at)
               VALUES (1, 'XF-0001', NULL, 0, 'truefalse', 'active', 'file:criminal-law.toml', 'h', 1, 1, 1, '2026-11-01 00:00:00', '2026-11-01 00:00:00');
             INSERT INTO question_versions (id, question_id, version, statute_code, edition_code, articles, difficulty, levels, stem, options, explanation, tags, content_hash, created_by, created_at, reviewed_by, reviewed_at)
               VALUES (1, 1, 1, 'criminal-law', '2023-12-29', '20', 1, 'basic', '正当防卫不负刑事责任。', '[]', '第二十条。', '', 'h', NULL, '2026-11-01 00:00:00', NULL, '2026-11-01 00:00:00');
             INSERT INTO answer_keys (question_version_id, answer) VALUES (1, 'T');
             INSERT INTO blueprints (id, name, spec, created_by, created_at) VALUES (1, '方案', '{\"rules\":[{\"kind\":\"truefalse\",\"count\":1,\"points_centi\":100}]}', NULL, '2026-11-01 00:00:00');
             INSERT INTO blueprints (id, name, spec, created_by, created_at) VALUES (2, '案例方案', '{\"rules\":[{\"kind\":\"case\",\"count\":2,\"points_centi\":200}],\"parallel\":false}', NULL, '2026-11-01 00:00:00');
             INSERT INTO sittings (id, title, kind, blueprint_id, opens_at, closes_at, duration_minutes, pass_percent, multi_rule, score_release, answer_release, eligibility, pool, created_by, created_at)
               VALUES (1, '2026年9月双月考', 'bimonthly', 1, '2026-09-01 01:00:00', '2026-09-01 04:00:00', 60, 60, 'partial', 'on_submit', 'after_close', '{}', '{\"rules\":[{\"count\":1,\"points_centi\":100,\"entries\":[{\"v\":[1],\"n\":[0]}]}]}', NULL, '2026-08-20 00:00:00');
             INSERT INTO attempts (id, sitting_id, user_id, seed, paper, started_at, deadline, last_saved_at, submitted_at, submit_kind, score_centi, max_centi, passed, item_scores)
               VALUES (1, 1, 1, 42, '{\"items\":[{\"v\":1,\"o\":\"\",\"p\":100}]}', '2026-09-01 01:05:00', '2026-09-01 02:05:00', NULL, '2026-09-01 01:30:00', 'manual', 100, 100, 1, '100');
             INSERT INTO responses (attempt_id, question_version_id, choices, flagged, saved_at) VALUES (1, 1, 'T', 0, '2026-09-01 01:10:00');",
        )
        .unwrap();
    }
    // this release opens it: the later migrations run
    let url = lawcert::db::DbUrl::parse(path.to_str().unwrap()).unwrap();
    let pool = lawcert::db::connect(&url, 1).expect("the upgrade runs");
    drop(pool);
    let mut c = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    let shipped = std::fs::read_dir(repo_root().join("migrations/sqlite")).unwrap().filter(|e| e.as_ref().unwrap().path().is_dir()).count();
    assert_eq!(one(&mut c, "SELECT CAST(COUNT(*) AS TEXT) AS v FROM __diesel_schema_migrations"), shipped.to_string());
    // nothing lost
    assert_eq!(one(&mut c, "SELECT name AS v FROM users WHERE badge = '100001'"), "王伟");
    assert_eq!(one(&mut c, "SELECT stem AS v FROM question_versions WHERE id = 1"), "正当防卫不负刑事责任。");
    assert_eq!(one(&mut c, "SELECT answer AS v FROM answer_keys WHERE question_version_id = 1"), "T");
    assert_eq!(one(&mut c, "SELECT choices AS v FROM responses WHERE attempt_id = 1"), "T");
    assert_eq!(one(&mut c, "SELECT CAST(score_centi AS TEXT) || '/' || CAST(passed AS TEXT) AS v FROM attempts WHERE id = 1"), "100/1");
    // new columns take their defaults on old rows
    assert_eq!(one(&mut c, "SELECT CAST(challenge_days AS TEXT) || ' ' || controls || ' ' || CAST(absences_recorded AS TEXT) AS v FROM sittings WHERE id = 1"), "7 {} 0");
    assert_eq!(one(&mut c, "SELECT CAST(flagged AS TEXT) AS v FROM attempts WHERE id = 1"), "0");
    assert_eq!(one(&mut c, "SELECT CAST(filed AS TEXT) || ' ' || CAST(reminded AS TEXT) AS v FROM sittings WHERE id = 1"), "0 0");
    assert_eq!(one(&mut c, "SELECT COALESCE(id_number, 'none') AS v FROM users WHERE id = 1"), "none");
    assert_eq!(one(&mut c, "SELECT changed_articles || ' ' || CAST(changed_all AS TEXT) AS v FROM statute_editions WHERE id = 1"), "[] 0");
    assert_eq!(
        one(
            &mut c,
            "SELECT CAST(must_change_password AS TEXT) || ' ' || COALESCE(password_changed_at, 'never') AS v FROM users WHERE id = 1"
        ),
        "0 never"
    );
    // and the models read the old rows
    let pool = lawcert::db::connect(&url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    let s = lawcert::db::models::exam::find_sitting(&mut conn, SittingId(1)).unwrap().unwrap();
    assert_eq!((s.challenge_days, s.cert_level, s.plan_id, s.filed), (7, None, None, false));
    // an old closed sitting is filed into the training file on the first sweep
    assert_eq!(
        lawcert::services::training::file_closed_sittings(
            &mut conn,
            chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap().and_hms_opt(0, 0, 0).unwrap()
        )
        .unwrap(),
        1
    );
    let file = lawcert::services::training::file_of(&mut conn, UserId(1), false).unwrap();
    assert_eq!(file.len(), 1);
    assert_eq!((file[0].kind.as_str(), file[0].data["score"].as_str()), ("sitting", Some("1")));
    assert_eq!(lawcert::services::exams::controls_of(&s), Default::default());
    let a = lawcert::db::models::exam::find_attempt(&mut conn, AttemptId(1)).unwrap().unwrap();
    assert_eq!((a.score_centi, a.flagged), (Some(100), false));
    let reg = lawcert::db::models::bank::registry(&mut conn).unwrap();
    assert!(!reg.editions["criminal-law"][0].changed_all);
    // fair papers: the old pool (no format) re-draws the old paper; a blueprint whose case
    // points were per item is marked and can no longer freeze a pool; others are untouched
    let pool: lawcert::domain::paper::Pool = serde_json::from_str(&s.pool).unwrap();
    assert_eq!(pool.format, 0);
    assert_eq!(lawcert::domain::paper::draw(&pool, a.seed as u64), serde_json::from_str(&a.paper).unwrap());
    let mut bp = |id: i64| -> lawcert::domain::paper::BlueprintSpec {
        serde_json::from_str(&lawcert::db::models::exam::find_blueprint(&mut conn, BlueprintId(id)).unwrap().unwrap().spec).unwrap()
    };
    assert!(!bp(1).case_points_per_item);
    let case_bp = bp(2);
    assert!(case_bp.case_points_per_item);
    assert_eq!(case_bp.rules[0].points_centi, 200);
    assert!(case_bp.validate()[0].starts_with("rule 1: this blueprint was saved when case points were per item"));
    drop(conn);
    let mut c = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    assert_eq!(
        one(&mut c, "SELECT spec AS v FROM blueprints WHERE id = 1"),
        "{\"rules\":[{\"kind\":\"truefalse\",\"count\":1,\"points_centi\":100}]}"
    );
    // and the migration's down step takes the mark off again
    let step = repo_root().join("migrations/sqlite/2026-12-05-000014_fair_papers");
    c.batch_execute(&std::fs::read_to_string(step.join("down.sql")).unwrap()).unwrap();
    assert_eq!(
        one(&mut c, "SELECT spec AS v FROM blueprints WHERE id = 2"),
        "{\"rules\":[{\"kind\":\"case\",\"count\":2,\"points_centi\":200}],\"parallel\":false}"
    );
}

#[test]
fn a_staged_import_of_the_previous_release_keeps_its_file_and_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("staged.db");
    let url = lawcert::db::DbUrl::parse(path.to_str().unwrap()).unwrap();
    drop(lawcert::db::connect(&url, 1).expect("a current database"));
    let step = repo_root().join("migrations/sqlite/2026-12-04-000012_import_bytes");
    let mut c = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    // back to the previous release's shape, with an upload staged the old way (hex in `parsed`)
    c.batch_execute(&std::fs::read_to_string(step.join("down.sql")).unwrap()).unwrap();
    c.batch_execute(
        "PRAGMA foreign_keys = OFF;
         DELETE FROM __diesel_schema_migrations WHERE version = '20261204000012';
         INSERT INTO bank_imports (id, user_id, file_name, format, file_hash, parsed, created_at)
           VALUES (7, 1, 'a.gift', 'gift', 'h', '{\"defaults\":{\"statute\":\"criminal-law\",\"edition\":null,\"difficulty\":2,\"levels\":[\"basic\"]},\"data\":\"e6ada3e5bd93\"}', '2026-12-01 00:00:00');",
    )
    .unwrap();
    drop(c);
    drop(lawcert::db::connect(&url, 1).expect("the upgrade runs"));
    let mut c = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    assert_eq!(one(&mut c, "SELECT CAST(data AS TEXT) AS v FROM bank_imports WHERE id = 7"), "正当");
    let defaults: lawcert::domain::formats::Defaults =
        serde_json::from_str(&one(&mut c, "SELECT defaults AS v FROM bank_imports WHERE id = 7")).unwrap();
    assert_eq!((defaults.statute.as_deref(), defaults.difficulty, defaults.levels.len()), (Some("criminal-law"), Some(2), 1));
}
