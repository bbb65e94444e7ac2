//! Console sessions and sign-ins in progress on SQLite and on PostgreSQL: a session renewed
//! by use past half its idle time, never beyond its end; one left idle ends; a closed one is
//! gone; a sign-in is taken once and not after it expired, and expired ones are forgotten
//! as new ones start; no secret shows in a value's Debug form.

mod common;

use chrono::TimeDelta;
use common::{clock, engine};
use redress_core::Role;
use redress_engine::staff_sessions::{NewStaffSession, PendingSignIn};
use redress_engine::EngineSettings;
use sea_orm::EntityTrait;

fn session(idle_minutes: i64, lifetime_minutes: i64) -> NewStaffSession {
    NewStaffSession {
        subject: "rita".into(),
        roles: vec![Role::Reviewer, Role::Support],
        idle: TimeDelta::minutes(idle_minutes),
        lifetime: TimeDelta::minutes(lifetime_minutes),
    }
}

redress_engine::backend_tests! {
    async fn a_session_is_renewed_by_use_until_its_end(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        let opened = engine.open_staff_session("hash-a", session(60, 150)).await.expect("open");
        assert_eq!(opened.expires_at, clock.now_plus(TimeDelta::minutes(60)));

        // Used before half its idle time: not renewed (no write per request).
        clock.advance(TimeDelta::minutes(20));
        let read = engine.staff_session("hash-a").await.expect("read").expect("live");
        assert_eq!(read.expires_at, opened.expires_at);
        assert_eq!(read.roles, vec![Role::Reviewer, Role::Support]);

        // Past half: renewed to a full idle time from now.
        clock.advance(TimeDelta::minutes(20));
        let renewed = engine.staff_session("hash-a").await.expect("read").expect("live");
        assert_eq!(renewed.expires_at, clock.now_plus(TimeDelta::minutes(60)));

        // Renewals never pass the end.
        clock.advance(TimeDelta::minutes(55));
        let late = engine.staff_session("hash-a").await.expect("read").expect("live");
        assert_eq!(late.expires_at, opened.ends_at);
        clock.advance(TimeDelta::minutes(56));
        assert_eq!(engine.staff_session("hash-a").await.expect("read"), None);

        // Another session left idle ends; a closed one is gone and says so once.
        engine.open_staff_session("hash-b", session(30, 600)).await.expect("open");
        engine.open_staff_session("hash-c", session(30, 600)).await.expect("open");
        clock.advance(TimeDelta::minutes(31));
        assert_eq!(engine.staff_session("hash-b").await.expect("read"), None);
        assert!(engine.close_staff_session("hash-c").await.expect("close").is_some());
        assert!(engine.close_staff_session("hash-c").await.expect("close").is_none());
        assert_eq!(engine.staff_session("unknown").await.expect("read"), None);
        test.cleanup().await;
    }

    async fn a_sign_in_is_taken_once_and_not_after_it_expired(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        let pending = PendingSignIn {
            pkce_verifier: "verifier".into(),
            nonce: "nonce".into(),
            return_to: "#/case/abc".into(),
        };
        engine.remember_sign_in("state-1", &pending, TimeDelta::minutes(10)).await.expect("remember");
        engine.remember_sign_in("state-2", &pending, TimeDelta::minutes(10)).await.expect("remember");
        assert_eq!(engine.take_sign_in("state-1").await.expect("take"), Some(pending.clone()));
        assert_eq!(engine.take_sign_in("state-1").await.expect("take"), None);
        clock.advance(TimeDelta::minutes(11));
        assert_eq!(engine.take_sign_in("state-2").await.expect("take"), None);
        test.cleanup().await;
    }

    async fn expired_sign_ins_are_forgotten_when_new_ones_start(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        let pending = PendingSignIn {
            pkce_verifier: "verifier".into(),
            nonce: "nonce".into(),
            return_to: "#/queue".into(),
        };
        for state in ["abandoned-1", "abandoned-2", "abandoned-3"] {
            engine.remember_sign_in(state, &pending, TimeDelta::minutes(10)).await.expect("remember");
        }
        clock.advance(TimeDelta::minutes(11));
        engine.remember_sign_in("fresh", &pending, TimeDelta::minutes(10)).await.expect("remember");
        let kept: Vec<String> = redress_engine::entity::staff_sign_in::Entity::find()
            .all(engine.db())
            .await
            .expect("sign-ins")
            .into_iter()
            .map(|row| row.state_hash)
            .collect();
        assert_eq!(kept, vec!["fresh".to_owned()]);
        test.cleanup().await;
    }

    async fn a_servers_check_of_a_session_does_not_renew_it(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        engine.open_staff_session("hash-a", session(60, 600)).await.expect("open");
        clock.advance(TimeDelta::minutes(45));
        assert!(engine.staff_session_alive("hash-a").await.expect("alive"));
        clock.advance(TimeDelta::minutes(16));
        assert!(!engine.staff_session_alive("hash-a").await.expect("alive"));
        assert!(!engine.staff_session_alive("unknown").await.expect("alive"));
        test.cleanup().await;
    }
}

#[test]
fn debug_forms_show_no_secret() {
    let pending = PendingSignIn {
        pkce_verifier: "the-verifier".into(),
        nonce: "the-nonce".into(),
        return_to: "#/queue".into(),
    };
    let new = session(60, 600);
    let row = redress_engine::entity::staff_sign_in::Model {
        state_hash: "hash".into(),
        pkce_verifier: "the-verifier".into(),
        nonce: "the-nonce".into(),
        return_to: "#/queue".into(),
        created_at: chrono::Utc::now(),
        expires_at: chrono::Utc::now(),
    };
    for text in [
        format!("{pending:?}"),
        format!("{new:?}"),
        format!("{row:?}"),
    ] {
        for secret in ["the-verifier", "the-nonce"] {
            assert!(!text.contains(secret), "{text}");
        }
    }
}
