//! Volume: pairing guesses rate limited, and a flood of refusals audited up to its budget.

use crate::audit::{audit, audited, names_peer};
use crate::common::Env;
use crate::web::{relaxed, up_env, Web};
use serde_json::{json, Value};
use std::time::Instant;

#[tokio::test]
async fn pairing_guesses_are_rate_limited_offers_are_single_use_and_all_is_audited() {
    let env = Env::new();
    // The default pairing limit (5 a minute per address); the request limit relaxed.
    let _sup = up_env(&env, &[("PADDOCK_SERVER__REQUESTS_PER_MINUTE", "100000")]);
    let web = Web::of(&env);
    let offer: Value =
        serde_json::from_str(&env.ok(&["pair", "--json", "--role", "admin"])).expect("offer");
    let claim = |secret: Value| {
        let web = &web;
        async move {
            web.call(
                "POST",
                "/api/v1/pair",
                None,
                Some(json!({"secret": secret, "device_name": "probe"})),
            )
            .await
        }
    };
    let first = claim(offer["secret"].clone()).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let admin = first.body["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    // Single use: the same secret again, and its short code, are refused.
    let again = claim(offer["secret"].clone()).await;
    assert_eq!(again.status, 401, "{}", again.body);
    let code = claim(offer["code"].clone()).await;
    assert_eq!(code.status, 401, "{}", code.body);
    // Guesses: the fifth attempt of the minute is the last one heard.
    let guess = claim(json!("ABCD-EFGH")).await;
    assert_eq!(guess.status, 401, "{}", guess.body);
    let guess = claim(json!("0".repeat(64))).await;
    assert_eq!(guess.status, 401, "{}", guess.body);
    let limited = claim(json!("WXYZ-2345")).await;
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert!(limited.headers.contains_key("retry-after"));
    let entries = audit(&web, &admin).await;
    let failed = entries
        .iter()
        .filter(|e| e["action"] == "device.pair" && e["result"] == "unauthenticated")
        .count();
    assert_eq!(
        failed, 4,
        "every wrong or spent secret is audited: {entries:#?}"
    );
    assert!(entries.iter().any(|e| e["action"] == "device.pair"
        && e["detail"]
            .as_str()
            .is_some_and(|d| d.contains("already used"))));
    let e = audited(&web, &admin, "rate.limited", "pairing").await;
    names_peer(&e);
}

#[tokio::test]
async fn a_flood_of_refusals_is_audited_up_to_the_budget_and_counted() {
    let env = Env::new();
    let mut vars = relaxed().to_vec();
    vars.push(("PADDOCK_SERVER__AUDITED_REFUSALS_PER_MINUTE", "5"));
    let _sup = up_env(&env, &vars);
    let web = Web::of(&env);
    let admin = web.token(&env, "admin").await;
    let began = Instant::now();
    for n in 0..200 {
        let r = web
            .call("GET", "/api/v1/sessions", Some(&format!("bogus{n}")), None)
            .await;
        assert_eq!(r.status, 401);
    }
    let entries = audit(&web, &admin).await;
    let refusals: Vec<_> = entries
        .iter()
        .filter(|e| e["action"] == "auth.unauthenticated")
        .collect();
    // The budget is a bucket of 5 refilled at 5 a minute: a slow machine that takes t
    // seconds for the 200 requests earns t / 12 more entries, no more.
    let refilled = (began.elapsed().as_secs_f64() * 5.0 / 60.0).floor() as usize;
    assert!(
        (5..=5 + refilled).contains(&refusals.len()),
        "200 refusals, 5 written (+{refilled} refilled): {entries:#?}"
    );
    // An entry after the budget ran out says how many were left out; none is counted twice.
    let left_out: u64 = refusals
        .iter()
        .filter_map(|e| {
            let detail = e["detail"].as_str()?;
            let (_, tail) = detail.split_once(" (")?;
            tail.split_once(" more refusals")?.0.parse::<u64>().ok()
        })
        .sum();
    assert!(
        refusals.len() as u64 + left_out <= 200,
        "{left_out} left out: {entries:#?}"
    );
    if refusals.len() > 5 {
        assert!(left_out > 0, "{entries:#?}");
    }
}
