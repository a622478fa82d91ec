//! Tests of pairing, tokens, rotation, revocation and the clocks they are measured on.

use super::secrets::b64;
use super::*;
use crate::clock::ManualClock;
use paddock_proto::access::PairingOffer;
use std::os::unix::fs::PermissionsExt;

/// Access on a clock the test moves; tokens last 10 min, offers 60 s.
fn access_at(clock: &ManualClock) -> (tempfile::TempDir, Access) {
    let dir = tempfile::tempdir().expect("dir");
    let store = Store::open_in_memory().expect("store");
    let a = Access::open_with_clock(
        dir.path(),
        Some(store),
        Duration::from_secs(60),
        Duration::from_secs(600),
        Arc::new(clock.clone()),
    )
    .expect("open");
    (dir, a)
}

fn offer(a: &Access) -> PairingOffer {
    a.create_pairing(Role::Viewer, None, "https://h:1", "ab")
        .expect("offer")
}

#[test]
fn a_wall_clock_set_back_never_lets_an_offer_outlive_its_window() {
    let clock = ManualClock::default();
    let (_dir, a) = access_at(&clock);
    let o = offer(&a);
    clock.jump_wall(-3600);
    clock.advance(Duration::from_secs(59));
    let early = offer(&a);
    a.claim(&early.secret, "in time")
        .expect("an offer within its window pairs");
    clock.advance(Duration::from_secs(1));
    assert!(matches!(
        a.claim(&o.secret, "late"),
        Err(AccessError::PairingExpired)
    ));
}

#[test]
fn a_wall_clock_set_forward_past_an_offers_window_ends_it_and_a_small_step_does_not() {
    let clock = ManualClock::default();
    let (_dir, a) = access_at(&clock);
    let (kept, ended) = (offer(&a), offer(&a));
    clock.jump_wall(10);
    a.claim(&kept.secret, "phone")
        .expect("10 s forward is within the window");
    clock.jump_wall(3600);
    assert!(matches!(
        a.claim(&ended.secret, "tablet"),
        Err(AccessError::PairingExpired)
    ));
}

#[test]
fn a_token_from_before_the_clock_was_set_back_is_refused_as_future_and_refresh_recovers() {
    let clock = ManualClock::default();
    let (_dir, a) = access_at(&clock);
    let grant = a.claim(&offer(&a).secret, "phone").expect("claim");
    clock.jump_wall(-30);
    a.verify(&grant.access_token)
        .expect("a step back within the leeway is tolerated");
    clock.jump_wall(-3600);
    let err = a
        .verify(&grant.access_token)
        .expect_err("issued in the future");
    assert!(err.to_string().contains("check this host's clock"), "{err}");
    let fresh = a
        .refresh(&grant.refresh_token)
        .expect("refresh carries no time");
    a.verify(&fresh.access_token).expect("the new token works");
}

#[test]
fn a_wall_clock_set_forward_expires_tokens_and_refresh_recovers() {
    let clock = ManualClock::default();
    let (_dir, a) = access_at(&clock);
    let grant = a.claim(&offer(&a).secret, "phone").expect("claim");
    clock.jump_wall(601);
    assert!(matches!(
        a.verify(&grant.access_token),
        Err(AccessError::Expired)
    ));
    let fresh = a.refresh(&grant.refresh_token).expect("refresh");
    a.verify(&fresh.access_token)
        .expect("valid on the new time");
}

#[test]
fn a_rotated_refresh_tokens_grace_is_measured_on_the_monotonic_clock() {
    let clock = ManualClock::default();
    let (_dir, a) = access_at(&clock);
    let grant = a.claim(&offer(&a).secret, "phone").expect("claim");
    a.refresh(&grant.refresh_token).expect("rotate");
    // The wall clock going back an hour does not lengthen the grace...
    clock.jump_wall(-3600);
    clock.advance(ROTATION_GRACE);
    assert!(matches!(
        a.refresh(&grant.refresh_token),
        Err(AccessError::RefreshReused { .. })
    ));
}

#[test]
fn a_wall_clock_set_forward_does_not_end_a_rotations_grace() {
    let clock = ManualClock::default();
    let (_dir, a) = access_at(&clock);
    let grant = a.claim(&offer(&a).secret, "phone").expect("claim");
    a.refresh(&grant.refresh_token).expect("rotate");
    clock.jump_wall(3600);
    a.refresh(&grant.refresh_token)
        .expect("a racing request within the grace still gets the new token");
}

fn access(ttl: Duration) -> (tempfile::TempDir, Access) {
    let dir = tempfile::tempdir().expect("dir");
    let store = Store::open_in_memory().expect("store");
    let a = Access::open(dir.path(), Some(store), ttl, Duration::from_secs(60)).expect("open");
    (dir, a)
}

#[test]
fn a_secret_pairs_once_and_its_token_works_until_revoked() {
    let (dir, a) = access(Duration::from_secs(60));
    let offer = a
        .create_pairing(Role::Viewer, None, "https://h:1", "ab")
        .expect("offer");
    let grant = a.claim(&offer.secret, "phone").expect("claim");
    assert_eq!(grant.role, Role::Viewer);
    let p = a.verify(&grant.access_token).expect("valid");
    assert_eq!(p.role, Role::Viewer);
    assert!(matches!(
        a.claim(&offer.secret, "again"),
        Err(AccessError::PairingUsed)
    ));
    assert!(matches!(
        a.claim(&offer.code, "again"),
        Err(AccessError::PairingUsed)
    ));
    let refreshed = a.refresh(&grant.refresh_token).expect("refresh");
    a.revoke(&grant.device_id).expect("revoke");
    assert!(matches!(
        a.verify(&grant.access_token),
        Err(AccessError::Revoked)
    ));
    assert!(matches!(
        a.verify(&refreshed.access_token),
        Err(AccessError::Revoked)
    ));
    assert!(matches!(
        a.refresh(&grant.refresh_token),
        Err(AccessError::Revoked)
    ));
    let mode = std::fs::metadata(dir.path().join("token.key"))
        .expect("key")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn refresh_tokens_rotate_racing_requests_share_the_new_one_and_the_old_one_dies() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("p.db");
    let open = || {
        let store = Store::open(&db).expect("store");
        Access::open(
            dir.path(),
            Some(store),
            Duration::from_secs(60),
            Duration::from_secs(60),
        )
        .expect("open")
    };
    let a = open();
    let offer = a
        .create_pairing(Role::Operator, None, "https://h:1", "ab")
        .expect("offer");
    let first = a.claim(&offer.secret, "phone").expect("claim");
    let second = a.refresh(&first.refresh_token).expect("refresh");
    assert_ne!(second.refresh_token, first.refresh_token, "rotated");
    assert!(a.verify(&second.access_token).is_ok());
    // Another tab refreshing with the same old token just now gets the same new token.
    let racing = a.refresh(&first.refresh_token).expect("within the grace");
    assert_eq!(racing.refresh_token, second.refresh_token);
    // Once the grace is over the new one works, and rotates.
    a.age_rotations(ROTATION_GRACE);
    let third = a.refresh(&second.refresh_token).expect("the new one works");
    assert_ne!(third.refresh_token, second.refresh_token);
    // The rotation is stored: after a restart only the newest token works.
    drop(a);
    let a = open();
    assert!(matches!(
        a.refresh(&second.refresh_token),
        Err(AccessError::BadRefresh)
    ));
    assert!(a.refresh(&third.refresh_token).is_ok());
}

#[test]
fn a_refresh_token_reused_after_its_grace_revokes_the_device_and_is_audited() {
    let (_dir, a) = access(Duration::from_secs(60));
    let a = a.with_refresh_grace(Duration::from_secs(5));
    let offer = a
        .create_pairing(Role::Operator, None, "https://h:1", "ab")
        .expect("offer");
    let first = a.claim(&offer.secret, "phone").expect("claim");
    let second = a.refresh(&first.refresh_token).expect("rotate");
    a.refresh(&first.refresh_token)
        .expect("within the configured grace");
    a.age_rotations(Duration::from_secs(5));
    let err = a
        .refresh(&first.refresh_token)
        .expect_err("reused after the grace");
    assert!(
        matches!(&err, AccessError::RefreshReused { device, grace_secs: 5 } if *device == first.device_id.0),
        "{err}"
    );
    assert!(err.to_string().contains("pair it again"), "{err}");
    // Whoever holds the newer tokens is out too: the device is revoked.
    assert!(matches!(
        a.verify(&second.access_token),
        Err(AccessError::Revoked)
    ));
    assert!(matches!(
        a.refresh(&second.refresh_token),
        Err(AccessError::Revoked)
    ));
    assert!(a
        .device(&first.device_id)
        .is_some_and(|d| d.revoked_at.is_some()));
    let log = a.audit_log(10, None, None).expect("audit");
    assert!(
        log.iter().any(|e| e.action == "device.revoke"
            && e.detail.as_deref().is_some_and(|d| d.contains("reused"))),
        "{log:?}"
    );
    // A token never issued is only unknown, and revokes nothing.
    assert!(matches!(
        a.refresh("pdr_made_up"),
        Err(AccessError::BadRefresh)
    ));
}

#[test]
fn short_codes_work_in_any_case_and_expired_or_wrong_ones_are_refused() {
    let (_d, a) = access(Duration::from_secs(60));
    let offer = a
        .create_pairing(Role::Operator, None, "https://h:1", "ab")
        .expect("offer");
    assert!(matches!(
        a.claim("WRONG-CODE", "x"),
        Err(AccessError::PairingInvalid)
    ));
    let typed = offer.code.to_lowercase().replace('-', " ");
    assert_eq!(
        a.claim(&typed, "tablet").expect("code").role,
        Role::Operator
    );
    let old = a
        .create_pairing(Role::Operator, Some(Duration::ZERO), "https://h:1", "ab")
        .expect("offer");
    assert!(matches!(
        a.claim(&old.secret, "x"),
        Err(AccessError::PairingExpired)
    ));
}

#[test]
fn tampered_and_foreign_tokens_are_refused() {
    let (_d, a) = access(Duration::from_secs(60));
    let (_d2, b) = access(Duration::from_secs(60));
    let offer = a
        .create_pairing(Role::Guest, None, "u", "f")
        .expect("offer");
    let grant = a.claim(&offer.secret, "x").expect("claim");
    let mut parts: Vec<String> = grant.access_token.split('.').map(str::to_owned).collect();
    parts[1] = b64(br#"{"sub":"owner","device_id":"x","role":"admin","permissions":[],"iat":0,"exp":99999999999,"jti":"a"}"#);
    assert!(matches!(
        a.verify(&parts.join(".")),
        Err(AccessError::BadToken(_))
    ));
    assert!(
        b.verify(&grant.access_token).is_err(),
        "another key's token"
    );
    assert!(matches!(a.verify(""), Err(AccessError::MissingToken)));
    assert!(a.verify("a.b").is_err());
}
