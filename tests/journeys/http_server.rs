//! The real binary on a real port: the candidate flow over HTTP, as integrations and load tests
//! use it.

use serde_json::{json, Value};

use crate::common::{fresh_database, start_binary};

#[test]
fn candidate_flow_over_http_against_the_binary() {
    let db = fresh_database();
    // every save must be taken here, however loaded the test machine (operations.rs tests refusal)
    let (_server, base) = start_binary(&db.url, &[("LAWCERT_SAVE_MAX_LAG_MS", "0")]);
    let wrong = ureq::post(&format!("{base}/api/v1/auth/token")).send_json(json!({"badge": "100001", "password": "x"}));
    match wrong {
        Err(ureq::Error::Status(401, r)) => assert_eq!(r.into_json::<Value>().unwrap()["error"]["code"], "unauthorized"),
        other => panic!("expected 401, got {other:?}"),
    }
    let tok: Value = ureq::post(&format!("{base}/api/v1/auth/token"))
        .send_json(json!({"badge": "100001", "password": "lawcert-demo"}))
        .unwrap()
        .into_json()
        .unwrap();
    let auth = format!("Bearer {}", tok["token"].as_str().unwrap());
    let list: Value = ureq::get(&format!("{base}/api/v1/me/sittings")).set("Authorization", &auth).call().unwrap().into_json().unwrap();
    let sid = list[0]["id"].as_i64().unwrap();
    let r = ureq::post(&format!("{base}/api/v1/sittings/{sid}/attempts")).set("Authorization", &auth).call().unwrap();
    assert_eq!(r.status(), 201);
    let att: Value = r.into_json().unwrap();
    let aid = att["attempt_id"].as_i64().unwrap();
    for q in att["questions"].as_array().unwrap() {
        let first = q["options"][0]["id"].as_str().unwrap();
        let r = ureq::put(&format!("{base}/api/v1/attempts/{aid}/answers/{}", q["id"]))
            .set("Authorization", &auth)
            .send_json(json!({"choices": [first]}))
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let got: Value = ureq::get(&format!("{base}/api/v1/attempts/{aid}")).set("Authorization", &auth).call().unwrap().into_json().unwrap();
    assert!(got["questions"].as_array().unwrap().iter().all(|q| q["answer"].as_array().is_some_and(|a| a.len() == 1)));
    let res: Value =
        ureq::post(&format!("{base}/api/v1/attempts/{aid}/submit")).set("Authorization", &auth).call().unwrap().into_json().unwrap();
    assert!(res["score"].is_string() && res["max_score"] == "100" && res["passed"].is_boolean(), "{res}");
    match ureq::put(&format!("{base}/api/v1/attempts/{aid}/answers/{}", att["questions"][0]["id"]))
        .set("Authorization", &auth)
        .send_json(json!({"choices": ["A"]}))
    {
        Err(ureq::Error::Status(409, _)) => {}
        other => panic!("expected 409 after submission, got {other:?}"),
    }
    let spec: Value = ureq::get(&format!("{base}/api/openapi.json")).call().unwrap().into_json().unwrap();
    for p in [
        "/api/v1/auth/token",
        "/api/v1/me/sittings",
        "/api/v1/sittings/{id}/attempts",
        "/api/v1/attempts/{id}",
        "/api/v1/attempts/{id}/answers/{version_id}",
        "/api/v1/attempts/{id}/submit",
        "/api/v1/sittings",
        "/api/v1/sittings/{id}/results",
    ] {
        assert!(spec["paths"][p].is_object(), "OpenAPI lacks {p}");
    }
    // security headers on every response
    let r = ureq::get(&format!("{base}/login")).call().unwrap();
    assert!(r.header("Content-Security-Policy").unwrap().contains("script-src 'self'"));
    assert_eq!(r.header("X-Frame-Options"), Some("DENY"));
}
