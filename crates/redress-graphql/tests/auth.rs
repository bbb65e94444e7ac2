//! Bearer tokens: accepted only when signed with a configured key and algorithm, in time,
//! for the configured issuer and audience. Keys under `tests/fixtures` exist only for tests.

use std::path::PathBuf;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use redress_core::{Actor, Role};
use redress_graphql::auth::{mint_dev_token, AuthError, AuthSettings, Verifier};
use serde_json::{json, Value};

const SECRET: &str = "a-test-secret-that-is-long-enough-for-hs256";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0)
        .single()
        .expect("valid time")
}

fn hs256_settings() -> AuthSettings {
    AuthSettings {
        hs256_secret: Some(SECRET.to_owned()),
        ..AuthSettings::default()
    }
}

fn claims(overrides: Value) -> Value {
    let mut claims = json!({
        "sub": "alice",
        "iss": "redress",
        "aud": "redress-api",
        "exp": (now() + TimeDelta::minutes(10)).timestamp(),
        "roles": ["reviewer"],
    });
    if let (Some(base), Some(extra)) = (claims.as_object_mut(), overrides.as_object()) {
        for (key, value) in extra {
            base.insert(key.clone(), value.clone());
        }
    }
    claims
}

fn sign(algorithm: Algorithm, key: &EncodingKey, claims: &Value, kid: Option<&str>) -> String {
    let mut header = Header::new(algorithm);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).expect("sign")
}

fn hs256(claims: &Value) -> String {
    sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(SECRET.as_bytes()),
        claims,
        None,
    )
}

fn rsa_key() -> EncodingKey {
    EncodingKey::from_rsa_pem(&std::fs::read(fixture("rsa_private.pem")).expect("read"))
        .expect("rsa key")
}

fn ec_key() -> EncodingKey {
    EncodingKey::from_ec_pem(&std::fs::read(fixture("ec_private.pem")).expect("read"))
        .expect("ec key")
}

#[test]
fn a_valid_hs256_token_names_the_staff_member_and_roles() {
    let verifier = Verifier::from_settings(&hs256_settings()).expect("verifier");
    let token = hs256(&claims(
        json!({"roles": ["reviewer", "senior_reviewer", "someone_elses_role"]}),
    ));
    let actor = verifier
        .actor_from_header(&format!("Bearer {token}"), now())
        .expect("accepted");
    assert_eq!(
        actor,
        Actor::staff("alice", [Role::Reviewer, Role::SeniorReviewer])
    );
}

#[test]
fn expiry_and_not_before_follow_the_injected_clock() {
    let verifier = Verifier::from_settings(&hs256_settings()).expect("verifier");
    let token = hs256(&claims(json!({})));
    assert!(verifier.actor_from_token(&token, now()).is_ok());
    assert_eq!(
        verifier.actor_from_token(&token, now() + TimeDelta::minutes(11)),
        Err(AuthError::Expired)
    );
    let early = hs256(&claims(
        json!({"nbf": (now() + TimeDelta::minutes(5)).timestamp()}),
    ));
    assert_eq!(
        verifier.actor_from_token(&early, now()),
        Err(AuthError::NotYetValid)
    );
    assert!(verifier
        .actor_from_token(&early, now() + TimeDelta::minutes(6))
        .is_ok());
}

#[test]
fn issuer_audience_and_expiry_are_required() {
    let verifier = Verifier::from_settings(&hs256_settings()).expect("verifier");
    for bad in [
        claims(json!({"iss": "someone-else"})),
        claims(json!({"aud": "another-api"})),
    ] {
        assert!(matches!(
            verifier.actor_from_token(&hs256(&bad), now()),
            Err(AuthError::Invalid(_))
        ));
    }
    let mut no_exp = claims(json!({}));
    no_exp.as_object_mut().expect("object").remove("exp");
    assert!(verifier.actor_from_token(&hs256(&no_exp), now()).is_err());
}

#[test]
fn a_wrong_secret_is_refused() {
    let verifier = Verifier::from_settings(&hs256_settings()).expect("verifier");
    let forged = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(b"another-secret-another-secret-another"),
        &claims(json!({})),
        None,
    );
    assert!(matches!(
        verifier.actor_from_token(&forged, now()),
        Err(AuthError::Invalid(_))
    ));
}

#[test]
fn alg_none_and_unconfigured_algorithms_are_refused() {
    use base64_free::encode;
    let verifier = Verifier::from_settings(&hs256_settings()).expect("verifier");
    let unsigned = format!(
        "{}.{}.",
        encode(br#"{"alg":"none","typ":"JWT"}"#),
        encode(claims(json!({})).to_string().as_bytes())
    );
    assert!(verifier.actor_from_token(&unsigned, now()).is_err());
    let rs256 = sign(Algorithm::RS256, &rsa_key(), &claims(json!({})), None);
    assert!(matches!(
        verifier.actor_from_token(&rs256, now()),
        Err(AuthError::AlgorithmNotAccepted(_))
    ));
    let hs384 = sign(
        Algorithm::HS384,
        &EncodingKey::from_secret(SECRET.as_bytes()),
        &claims(json!({})),
        None,
    );
    assert!(matches!(
        verifier.actor_from_token(&hs384, now()),
        Err(AuthError::AlgorithmNotAccepted(_))
    ));
}

#[test]
fn rs256_and_es256_verify_with_pem_public_keys_and_hs256_is_then_off() {
    let settings = AuthSettings {
        rsa_public_keys: vec![fixture("rsa_public.pem")],
        ec_public_keys: vec![fixture("ec_public.pem")],
        issuer: Some("https://idp.example".to_owned()),
        audience: Some("redress".to_owned()),
        roles_claim: "realm_access.roles".to_owned(),
        ..AuthSettings::default()
    };
    let verifier = Verifier::from_settings(&settings).expect("verifier");
    let idp_claims = claims(json!({
        "iss": "https://idp.example",
        "aud": "redress",
        "roles": ["admin"],
        "realm_access": {"roles": ["support"]},
    }));
    for token in [
        sign(Algorithm::RS256, &rsa_key(), &idp_claims, None),
        sign(Algorithm::ES256, &ec_key(), &idp_claims, None),
    ] {
        let actor = verifier.actor_from_token(&token, now()).expect("accepted");
        assert_eq!(actor, Actor::staff("alice", [Role::Support]));
    }
    // An attacker signing HS256 with the public key as the secret gets nowhere.
    let public_pem = std::fs::read(fixture("rsa_public.pem")).expect("read");
    let confused = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(&public_pem),
        &idp_claims,
        None,
    );
    assert!(matches!(
        verifier.actor_from_token(&confused, now()),
        Err(AuthError::AlgorithmNotAccepted(_))
    ));
}

#[test]
fn a_jwks_file_selects_the_key_by_kid() {
    let settings = AuthSettings {
        jwks_file: Some(fixture("jwks.json")),
        ..AuthSettings::default()
    };
    let verifier = Verifier::from_settings(&settings).expect("verifier");
    let rsa = sign(
        Algorithm::RS256,
        &rsa_key(),
        &claims(json!({})),
        Some("rsa-1"),
    );
    let ec = sign(
        Algorithm::ES256,
        &ec_key(),
        &claims(json!({})),
        Some("ec-1"),
    );
    assert!(verifier.actor_from_token(&rsa, now()).is_ok());
    assert!(verifier.actor_from_token(&ec, now()).is_ok());
    let unknown_kid = sign(
        Algorithm::RS256,
        &rsa_key(),
        &claims(json!({})),
        Some("rotated-away"),
    );
    assert_eq!(
        verifier.actor_from_token(&unknown_kid, now()),
        Err(AuthError::UnknownKey)
    );
}

#[test]
fn dev_tokens_verify_with_the_same_settings() {
    let settings = hs256_settings();
    let token = mint_dev_token(
        &settings,
        "bob",
        &[Role::Triager],
        now(),
        TimeDelta::hours(1),
    )
    .expect("mint");
    let actor = Verifier::from_settings(&settings)
        .expect("verifier")
        .actor_from_token(&token, now())
        .expect("accepted");
    assert_eq!(actor, Actor::staff("bob", [Role::Triager]));
}

#[test]
fn the_embedded_default_generates_a_secret_once() {
    let dir = std::env::temp_dir().join(format!("redress-secret-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("dir");
    let settings = AuthSettings {
        hs256_secret_file: dir.join("jwt.secret"),
        ..AuthSettings::default()
    };
    let token = mint_dev_token(
        &settings,
        "carol",
        &[Role::Admin],
        now(),
        TimeDelta::hours(1),
    )
    .expect("mint");
    let verifier = Verifier::from_settings(&settings).expect("verifier");
    assert!(verifier.actor_from_token(&token, now()).is_ok());
    assert!(matches!(
        Verifier::from_settings(&AuthSettings {
            hs256_secret: Some("short".to_owned()),
            ..AuthSettings::default()
        }),
        Err(redress_graphql::auth::AuthSetupError::WeakSecret)
    ));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn replicas_starting_together_share_one_generated_secret() {
    let dir = tempfile_dir("redress-secret-race");
    let settings = AuthSettings {
        hs256_secret_file: dir.join("jwt.secret"),
        ..AuthSettings::default()
    };
    let secrets: Vec<String> = std::thread::scope(|scope| {
        let starts: Vec<_> = (0..8)
            .map(|_| scope.spawn(|| settings.hs256_secret().expect("secret").expect("hs256")))
            .collect();
        starts
            .into_iter()
            .map(|s| s.join().expect("thread"))
            .collect()
    });
    assert_eq!(secrets[0].len(), 64);
    assert!(secrets.iter().all(|s| *s == secrets[0]), "{secrets:?}");
    let on_disk = std::fs::read_to_string(dir.join("jwt.secret")).expect("read");
    assert_eq!(on_disk, secrets[0]);
    let leftovers = std::fs::read_dir(&dir).expect("list").count();
    assert_eq!(leftovers, 1, "no staging files are left behind");
    std::fs::remove_dir_all(dir).ok();
}

fn tempfile_dir(prefix: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

#[test]
fn malformed_headers_are_refused() {
    let verifier = Verifier::from_settings(&hs256_settings()).expect("verifier");
    assert_eq!(
        verifier.actor_from_header("Basic dXNlcjpwYXNz", now()),
        Err(AuthError::Malformed)
    );
    assert_eq!(
        verifier.actor_from_header("Bearer ", now()),
        Err(AuthError::Malformed)
    );
}

/// Base64url without padding, enough to hand-craft an unsigned token.
mod base64_free {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    pub fn encode(bytes: &[u8]) -> String {
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..=chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    }
}
