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

/// The outcome of one verification, short enough for a table.
fn outcome(result: Result<Actor, AuthError>) -> &'static str {
    match result {
        Ok(_) => "accepted",
        Err(AuthError::Expired) => "expired",
        Err(AuthError::NotYetValid) => "not yet valid",
        Err(AuthError::UnknownKey) => "unknown key",
        Err(AuthError::AlgorithmNotAccepted(_)) => "algorithm not accepted",
        Err(AuthError::Malformed) => "malformed",
        Err(_) => "invalid",
    }
}

fn without(mut claims: Value, name: &str) -> Value {
    claims.as_object_mut().expect("object").remove(name);
    claims
}

/// A verifier and a way to sign tokens it should accept: the embedded default (HS256) and
/// an identity provider's JWKS (RS256, keys chosen by `kid`).
struct Setup {
    name: &'static str,
    verifier: Verifier,
    sign: fn(&Value) -> String,
}

fn setups() -> Vec<Setup> {
    let jwks = AuthSettings {
        jwks_file: Some(fixture("jwks.json")),
        ..AuthSettings::default()
    };
    vec![
        Setup {
            name: "HS256",
            verifier: Verifier::from_settings(&hs256_settings()).expect("verifier"),
            sign: hs256,
        },
        Setup {
            name: "RS256 via JWKS",
            verifier: Verifier::from_settings(&jwks).expect("verifier"),
            sign: |claims| sign(Algorithm::RS256, &rsa_key(), claims, Some("rsa-1")),
        },
    ]
}

#[test]
fn configured_claims_must_be_present_and_match() {
    let at = |offset: TimeDelta| json!((now() + offset).timestamp());
    let cases = [
        ("all claims as configured", claims(json!({})), "accepted"),
        ("no aud", without(claims(json!({})), "aud"), "invalid"),
        ("aud null", claims(json!({"aud": null})), "invalid"),
        ("no iss", without(claims(json!({})), "iss"), "invalid"),
        ("iss null", claims(json!({"iss": null})), "invalid"),
        (
            "iss as an array holding ours",
            claims(json!({"iss": ["redress"]})),
            "invalid",
        ),
        (
            "another aud",
            claims(json!({"aud": "another-api"})),
            "invalid",
        ),
        (
            "aud array without ours",
            claims(json!({"aud": ["billing", "search"]})),
            "invalid",
        ),
        ("aud empty array", claims(json!({"aud": []})), "invalid"),
        (
            "aud array with ours",
            claims(json!({"aud": ["billing", "redress-api"]})),
            "accepted",
        ),
        ("aud as a number", claims(json!({"aud": 7})), "invalid"),
        ("no exp", without(claims(json!({})), "exp"), "invalid"),
        (
            "exp as a string",
            claims(json!({"exp": "4102444800"})),
            "invalid",
        ),
        ("negative exp", claims(json!({"exp": -1})), "invalid"),
        (
            "exp far past",
            claims(json!({"exp": at(-TimeDelta::days(400))})),
            "expired",
        ),
        (
            "exp one second before the leeway ends",
            claims(json!({"exp": at(-TimeDelta::seconds(29))})),
            "accepted",
        ),
        (
            "exp exactly a leeway ago",
            claims(json!({"exp": at(-TimeDelta::seconds(30))})),
            "expired",
        ),
        (
            "exp at the end of i64",
            claims(json!({"exp": i64::MAX})),
            "accepted",
        ),
        ("exp past i64", claims(json!({"exp": u64::MAX})), "invalid"),
        (
            "nbf in the future",
            claims(json!({"nbf": at(TimeDelta::minutes(5))})),
            "not yet valid",
        ),
        (
            "nbf within the leeway",
            claims(json!({"nbf": at(TimeDelta::seconds(30))})),
            "accepted",
        ),
        (
            "nbf just past the leeway",
            claims(json!({"nbf": at(TimeDelta::seconds(31))})),
            "not yet valid",
        ),
        (
            "nbf at the start of i64",
            claims(json!({"nbf": i64::MIN})),
            "accepted",
        ),
        ("nbf as a string", claims(json!({"nbf": "soon"})), "invalid"),
        ("no sub", without(claims(json!({})), "sub"), "invalid"),
        ("empty sub", claims(json!({"sub": " "})), "invalid"),
        (
            "sub with NUL",
            claims(json!({"sub": "ali\u{0}ce"})),
            "invalid",
        ),
        ("sub as a number", claims(json!({"sub": 42})), "invalid"),
    ];
    for setup in setups() {
        for (case, claims, expected) in &cases {
            let token = (setup.sign)(claims);
            assert_eq!(
                outcome(setup.verifier.actor_from_token(&token, now())),
                *expected,
                "{}: {case}",
                setup.name
            );
        }
    }
}

#[test]
fn unset_issuer_and_audience_are_not_required() {
    let settings = AuthSettings {
        issuer: None,
        audience: None,
        ..hs256_settings()
    };
    let verifier = Verifier::from_settings(&settings).expect("verifier");
    let bare = without(without(claims(json!({})), "iss"), "aud");
    assert_eq!(
        outcome(verifier.actor_from_token(&hs256(&bare), now())),
        "accepted"
    );
    // Unset means unchecked: a token naming some issuer and audience passes too.
    assert_eq!(
        outcome(verifier.actor_from_token(&hs256(&claims(json!({}))), now())),
        "accepted"
    );
}

#[test]
fn unsigned_tokens_are_refused_however_alg_none_is_spelled() {
    use base64_free::encode;
    for setup in setups() {
        for alg in ["none", "None", "NONE", "nOnE", ""] {
            let header = json!({"alg": alg, "typ": "JWT"}).to_string();
            let payload = claims(json!({})).to_string();
            let body = format!(
                "{}.{}",
                encode(header.as_bytes()),
                encode(payload.as_bytes())
            );
            for token in [format!("{body}."), body.clone(), format!("{body}.c2ln")] {
                assert_ne!(
                    outcome(setup.verifier.actor_from_token(&token, now())),
                    "accepted",
                    "{}: alg {alg:?} as {token}",
                    setup.name
                );
            }
        }
    }
}

#[test]
fn hs256_signed_with_the_public_key_is_refused_wherever_rs256_is_configured() {
    let public_pem = std::fs::read(fixture("rsa_public.pem")).expect("read");
    let confused = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(&public_pem),
        &claims(json!({})),
        Some("rsa-1"),
    );
    let pem = AuthSettings {
        rsa_public_keys: vec![fixture("rsa_public.pem")],
        ..AuthSettings::default()
    };
    let jwks = AuthSettings {
        jwks_file: Some(fixture("jwks.json")),
        ..AuthSettings::default()
    };
    for settings in [pem.clone(), jwks] {
        let verifier = Verifier::from_settings(&settings).expect("verifier");
        assert_eq!(
            outcome(verifier.actor_from_token(&confused, now())),
            "algorithm not accepted"
        );
    }
    // With a secret configured as well, HS256 is on, but only its own secret verifies.
    let both = AuthSettings {
        hs256_secret: Some(SECRET.to_owned()),
        ..pem
    };
    let verifier = Verifier::from_settings(&both).expect("verifier");
    assert_eq!(
        outcome(verifier.actor_from_token(&confused, now())),
        "invalid"
    );
}

#[test]
fn a_kid_that_names_no_key_of_the_algorithm_is_refused() {
    let verifier = Verifier::from_settings(&AuthSettings {
        jwks_file: Some(fixture("jwks.json")),
        ..AuthSettings::default()
    })
    .expect("verifier");
    let body = claims(json!({}));
    for (kid, expected) in [
        (Some("rsa-1"), "accepted"),
        // No kid: every RSA key of the set is tried.
        (None, "accepted"),
        (Some("rotated-away"), "unknown key"),
        // The kid of the EC key on an RS256 token.
        (Some("ec-1"), "unknown key"),
        (Some(""), "unknown key"),
    ] {
        let token = sign(Algorithm::RS256, &rsa_key(), &body, kid);
        assert_eq!(
            outcome(verifier.actor_from_token(&token, now())),
            expected,
            "kid {kid:?}"
        );
    }
}

#[test]
fn critical_header_extensions_are_refused() {
    let verifier = Verifier::from_settings(&hs256_settings()).expect("verifier");
    let mut header = Header::new(Algorithm::HS256);
    header.crit = Some(vec!["exp-policy".to_owned()]);
    let token = jsonwebtoken::encode(
        &header,
        &claims(json!({"exp-policy": "lenient"})),
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("sign");
    assert_eq!(outcome(verifier.actor_from_token(&token, now())), "invalid");
}

#[test]
fn a_negative_leeway_is_a_configuration_error() {
    let settings = AuthSettings {
        leeway_seconds: -1,
        ..hs256_settings()
    };
    assert!(matches!(
        Verifier::from_settings(&settings),
        Err(redress_graphql::auth::AuthSetupError::NegativeLeeway)
    ));
}
