//! Bearer tokens under hostile input: arbitrary bytes, well-formed tokens with mutated
//! headers, claims, signatures and base64. Verification never panics, and accepts a token
//! only when it is signed with a configured key of the algorithm it names and carries every
//! configured claim with the configured value. [`expected`] states that policy on its own,
//! from the decoded JSON, and every generated token is held against it.
//!
//! Bounded for CI: a fixed number of cases per property. Seeds of failures proptest finds
//! are kept in `token_fuzz.regressions` and replayed first; tokens that once broke the
//! verifier are kept in `fixtures/token_regressions.jsonl` and replayed by
//! `tokens_that_once_broke_verification_stay_handled`.

use std::path::PathBuf;
use std::sync::LazyLock;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chrono::{DateTime, TimeZone, Utc};
use jsonwebtoken::{Algorithm, EncodingKey};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use redress_core::Actor;
use redress_graphql::auth::{AuthError, AuthSettings, Verifier};
use serde_json::{json, Map, Value};

const SECRET: &str = "a-test-secret-that-is-long-enough-for-hs256";
const ISSUER: &str = "redress";
const AUDIENCE: &str = "redress-api";
const LEEWAY: i64 = 30;

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

/// The two shapes of configuration: the embedded default, and an identity provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Setup {
    /// HS256 with `SECRET`.
    Secret,
    /// RS256 and ES256 from `jwks.json` (kids `rsa-1`, `ec-1`); HS256 off.
    Jwks,
}

impl Setup {
    fn name(self) -> &'static str {
        match self {
            Setup::Secret => "hs256",
            Setup::Jwks => "jwks",
        }
    }

    fn from_name(name: &str) -> Self {
        match name {
            "hs256" => Setup::Secret,
            "jwks" => Setup::Jwks,
            other => panic!("unknown setup {other}"),
        }
    }

    fn verifier(self) -> &'static Verifier {
        static SECRET_VERIFIER: LazyLock<Verifier> = LazyLock::new(|| Setup::Secret.build());
        static JWKS_VERIFIER: LazyLock<Verifier> = LazyLock::new(|| Setup::Jwks.build());
        match self {
            Setup::Secret => &SECRET_VERIFIER,
            Setup::Jwks => &JWKS_VERIFIER,
        }
    }

    fn build(self) -> Verifier {
        let settings = match self {
            Setup::Secret => AuthSettings {
                hs256_secret: Some(SECRET.to_owned()),
                ..AuthSettings::default()
            },
            Setup::Jwks => AuthSettings {
                jwks_file: Some(fixture("jwks.json")),
                ..AuthSettings::default()
            },
        };
        assert_eq!(settings.issuer.as_deref(), Some(ISSUER));
        assert_eq!(settings.audience.as_deref(), Some(AUDIENCE));
        assert_eq!(settings.leeway_seconds, LEEWAY);
        Verifier::from_settings(&settings).expect("verifier")
    }
}

/// Who signs a token, and with which algorithm they really sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signer {
    Secret,
    OtherSecret,
    Rsa,
    Ec,
    /// HS256 keyed with the RSA public key's PEM: the algorithm-confusion attack.
    RsaPublicPemAsSecret,
    /// No signature at all.
    Nobody,
}

impl Signer {
    fn sign(self, signing_input: &str) -> String {
        static KEYS: LazyLock<[EncodingKey; 5]> = LazyLock::new(|| {
            let read = |name| std::fs::read(fixture(name)).expect("fixture");
            [
                EncodingKey::from_secret(SECRET.as_bytes()),
                EncodingKey::from_secret(b"another-secret-another-secret-another"),
                EncodingKey::from_rsa_pem(&read("rsa_private.pem")).expect("rsa"),
                EncodingKey::from_ec_pem(&read("ec_private.pem")).expect("ec"),
                EncodingKey::from_secret(&read("rsa_public.pem")),
            ]
        });
        let (key, algorithm) = match self {
            Signer::Secret => (&KEYS[0], Algorithm::HS256),
            Signer::OtherSecret => (&KEYS[1], Algorithm::HS256),
            Signer::Rsa => (&KEYS[2], Algorithm::RS256),
            Signer::Ec => (&KEYS[3], Algorithm::ES256),
            Signer::RsaPublicPemAsSecret => (&KEYS[4], Algorithm::HS256),
            Signer::Nobody => return String::new(),
        };
        jsonwebtoken::crypto::sign(signing_input.as_bytes(), key, algorithm).expect("sign")
    }

    /// Whether a token signed so, naming `alg` and `kid`, is signed by a key `setup` trusts
    /// for that algorithm.
    fn trusted(self, setup: Setup, alg: &str, kid: Option<&str>) -> bool {
        match (setup, self, alg) {
            (Setup::Secret, Signer::Secret, "HS256") => true,
            (Setup::Jwks, Signer::Rsa, "RS256") => kid.is_none_or(|kid| kid == "rsa-1"),
            (Setup::Jwks, Signer::Ec, "ES256") => kid.is_none_or(|kid| kid == "ec-1"),
            _ => false,
        }
    }
}

/// The policy, from the decoded parts: accepted only if signed by a trusted key of the
/// named algorithm, with no `crit`, `iss` and `aud` as configured, a subject, and `exp`
/// (and `nbf`, when present) within the leeway of now.
fn expected(setup: Setup, header: &[u8], claims: &[u8], signer: Signer) -> bool {
    let Ok(Value::Object(header)) = serde_json::from_slice::<Value>(header) else {
        return false;
    };
    let Ok(Value::Object(claims)) = serde_json::from_slice::<Value>(claims) else {
        return false;
    };
    let optional_string = |value: Option<&Value>| match value {
        None | Some(Value::Null) => Some(None),
        Some(Value::String(text)) => Some(Some(text.clone())),
        Some(_) => None,
    };
    let (Some(Value::String(alg)), Some(kid), Some(_typ), Some(_jku)) = (
        header.get("alg"),
        optional_string(header.get("kid")),
        optional_string(header.get("typ")),
        optional_string(header.get("jku")),
    ) else {
        return false;
    };
    let no_crit = matches!(header.get("crit"), None | Some(Value::Null));
    no_crit && signer.trusted(setup, alg, kid.as_deref()) && claims_acceptable(&claims)
}

fn claims_acceptable(claims: &Map<String, Value>) -> bool {
    let now = now().timestamp();
    let subject = claims
        .get("sub")
        .and_then(Value::as_str)
        .is_some_and(|sub| !sub.trim().is_empty() && !sub.chars().any(char::is_control));
    let issuer = claims.get("iss").and_then(Value::as_str) == Some(ISSUER);
    let audience = match claims.get("aud") {
        Some(Value::String(aud)) => aud == AUDIENCE,
        Some(Value::Array(items)) => {
            items.iter().all(Value::is_string) && items.iter().any(|item| item == AUDIENCE)
        }
        _ => false,
    };
    let expiry = claims
        .get("exp")
        .and_then(Value::as_i64)
        .is_some_and(|exp| exp >= 0 && exp.saturating_add(LEEWAY) > now);
    let not_before = match claims.get("nbf") {
        None | Some(Value::Null) => true,
        Some(nbf) => nbf
            .as_i64()
            .is_some_and(|nbf| nbf.saturating_sub(LEEWAY) <= now),
    };
    subject && issuer && audience && expiry && not_before
}

fn accepted(result: &Result<Actor, AuthError>) -> bool {
    result.is_ok()
}

// ---- generators -------------------------------------------------------------------------
//
// A case starts from a token one of the setups accepts and applies up to three mutations
// to it, so that each single defect (a claim missing, an algorithm swapped, a key of the
// wrong kind) is tried often, alone and in pairs.

fn timestamp() -> impl Strategy<Value = Value> {
    let now = now().timestamp();
    prop_oneof![
        Just(json!(now + 600)),
        Just(json!(now - LEEWAY)),
        Just(json!(now - LEEWAY + 1)),
        Just(json!(now + LEEWAY)),
        Just(json!(now + LEEWAY + 1)),
        Just(json!(now - 400 * 86_400)),
        Just(json!(0)),
        Just(json!(-1)),
        Just(json!(i64::MIN)),
        Just(json!(i64::MAX)),
        Just(json!(u64::MAX)),
        Just(json!(1.5e300)),
        Just(json!(now as f64 + 600.5)),
        Just(json!(format!("{}", now + 600))),
        Just(json!([now + 600])),
        Just(Value::Null),
        any::<i64>().prop_map(|n| json!(n)),
    ]
}

fn text_claim(good: &'static str) -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(format!("{good} "))),
        Just(json!(good.to_uppercase())),
        Just(json!([good])),
        Just(json!([good, "someone-else"])),
        Just(json!(["someone-else"])),
        Just(json!([])),
        Just(json!([good, 7])),
        Just(json!(7)),
        Just(json!({"value": good})),
        Just(Value::Null),
        ".{0,12}".prop_map(Value::from),
    ]
}

fn subject() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("")),
        Just(json!("  ")),
        Just(json!("ali\u{0}ce")),
        Just(json!("ali\nce")),
        Just(json!(42)),
        Just(Value::Null),
        ".{0,16}".prop_map(Value::from),
    ]
}

fn algorithm() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => prop::sample::select(vec!["HS256", "RS256", "ES256"]).prop_map(Value::from),
        2 => prop::sample::select(vec!["HS384", "HS512", "RS512", "PS256", "ES384", "EdDSA", "none", "None", "hs256", ""]).prop_map(Value::from),
        1 => Just(Value::Null),
        1 => Just(json!(["HS256"])),
        1 => "[A-Za-z0-9]{0,8}".prop_map(Value::from),
    ]
}

/// One change to an accepted token.
#[derive(Debug, Clone)]
enum Mutation {
    SetClaim(&'static str, Value),
    RemoveClaim(&'static str),
    SetHeader(&'static str, Value),
    RemoveHeader(&'static str),
    SignWith(Signer),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let claim = |name: &'static str, values: BoxedStrategy<Value>| {
        prop_oneof![
            2 => values.prop_map(move |value| Mutation::SetClaim(name, value)),
            1 => Just(Mutation::RemoveClaim(name)),
        ]
    };
    prop_oneof![
        2 => claim("sub", subject().boxed()),
        2 => claim("iss", text_claim(ISSUER).boxed()),
        2 => claim("aud", text_claim(AUDIENCE).boxed()),
        2 => claim("exp", timestamp().boxed()),
        2 => timestamp().prop_map(|value| Mutation::SetClaim("nbf", value)),
        2 => algorithm().prop_map(|value| Mutation::SetHeader("alg", value)),
        1 => Just(Mutation::RemoveHeader("alg")),
        1 => prop::sample::select(vec![json!("rsa-1"), json!("ec-1"), json!("rotated-away"), json!(""), Value::Null, json!(1)])
            .prop_map(|value| Mutation::SetHeader("kid", value)),
        1 => Just(Mutation::RemoveHeader("kid")),
        1 => prop::sample::select(vec![json!("at+jwt"), json!(7)]).prop_map(|value| Mutation::SetHeader("typ", value)),
        1 => prop::sample::select(vec![json!(["exp"]), json!([]), Value::Null]).prop_map(|value| Mutation::SetHeader("crit", value)),
        1 => Just(Mutation::SetHeader("jku", json!("https://attacker.example/jwks.json"))),
        2 => prop::sample::select(vec![Signer::Secret, Signer::OtherSecret, Signer::Rsa, Signer::Ec, Signer::RsaPublicPemAsSecret, Signer::Nobody])
            .prop_map(Mutation::SignWith),
    ]
}

/// An accepted token's parts: signed by `signer`, with the matching `alg` and `kid`.
fn accepted_parts(signer: Signer) -> (Map<String, Value>, Map<String, Value>) {
    let (alg, kid) = match signer {
        Signer::Rsa => ("RS256", Some("rsa-1")),
        Signer::Ec => ("ES256", Some("ec-1")),
        _ => ("HS256", None),
    };
    let mut header = Map::new();
    header.insert("alg".into(), alg.into());
    header.insert("typ".into(), "JWT".into());
    if let Some(kid) = kid {
        header.insert("kid".into(), kid.into());
    }
    let claims = json!({
        "sub": "alice",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "exp": now().timestamp() + 600,
        "roles": ["reviewer"],
    });
    (header, claims.as_object().cloned().expect("an object"))
}

prop_compose! {
    /// Header, claims and signer of a case.
    fn mutated_token()(
        signer in prop::sample::select(vec![Signer::Secret, Signer::Rsa, Signer::Ec]),
        mutations in prop::collection::vec(mutation(), 0..=3),
    ) -> (Map<String, Value>, Map<String, Value>, Signer, Vec<Mutation>) {
        let (mut header, mut claims) = accepted_parts(signer);
        let mut signed_by = signer;
        for mutation in &mutations {
            match mutation {
                Mutation::SetClaim(name, value) => { claims.insert((*name).to_owned(), value.clone()); }
                Mutation::RemoveClaim(name) => { claims.remove(*name); }
                Mutation::SetHeader(name, value) => { header.insert((*name).to_owned(), value.clone()); }
                Mutation::RemoveHeader(name) => { header.remove(*name); }
                Mutation::SignWith(other) => signed_by = *other,
            }
        }
        (header, claims, signed_by, mutations)
    }
}

/// How the token's text is spelled: the canonical compact form, or a base64 or framing
/// variation of it. Variations are signed over their own text, so only the spelling is
/// wrong, and they must still be refused.
#[derive(Debug, Clone)]
enum Spelling {
    Canonical,
    /// A segment padded with `=`.
    Padded(usize),
    /// A segment in the standard alphabet (`+/`) instead of the URL-safe one.
    StandardAlphabet(usize),
    /// Whitespace inside a segment.
    Space(usize),
    /// An extra segment.
    FourSegments,
    /// The signature flipped in one character.
    TamperedSignature(usize),
    /// A character dropped from the end of the signature.
    TruncatedSignature,
}

fn spelling() -> impl Strategy<Value = Spelling> {
    prop_oneof![
        12 => Just(Spelling::Canonical),
        1 => (0..2usize).prop_map(Spelling::Padded),
        1 => (0..2usize).prop_map(Spelling::StandardAlphabet),
        1 => (0..3usize).prop_map(Spelling::Space),
        1 => Just(Spelling::FourSegments),
        1 => any::<usize>().prop_map(Spelling::TamperedSignature),
        1 => Just(Spelling::TruncatedSignature),
    ]
}

/// The token for `header` and `claims` signed by `signer` and spelled so; the flag says
/// whether the spelling is the canonical one.
fn spell(header: &[u8], claims: &[u8], signer: Signer, spelling: &Spelling) -> (String, bool) {
    let mut segments = [
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims),
    ];
    let canonical = segments.clone();
    match spelling {
        Spelling::Padded(index) => {
            segments[*index] = STANDARD
                .encode(if *index == 0 { header } else { claims })
                .replace('+', "-")
                .replace('/', "_");
        }
        Spelling::StandardAlphabet(index) => {
            segments[*index] = segments[*index].replace('-', "+").replace('_', "/");
        }
        Spelling::Space(index) => {
            if let Some(segment) = segments.get_mut(*index) {
                let middle = segment.len() / 2;
                segment.insert(middle, ' ');
            }
        }
        _ => {}
    }
    let signing_input = segments.join(".");
    let mut signature = signer.sign(&signing_input);
    match spelling {
        Spelling::TamperedSignature(at) if !signature.is_empty() => {
            let at = at % signature.len();
            let flipped = if signature.as_bytes()[at] == b'A' {
                "B"
            } else {
                "A"
            };
            signature.replace_range(at..=at, flipped);
        }
        Spelling::TruncatedSignature => {
            signature.pop();
        }
        _ => {}
    }
    let token = match spelling {
        Spelling::FourSegments => format!("{signing_input}.{signature}.{signature}"),
        _ => format!("{signing_input}.{signature}"),
    };
    let intact = segments == canonical
        && !matches!(
            spelling,
            Spelling::FourSegments | Spelling::TamperedSignature(_) | Spelling::TruncatedSignature
        );
    (token, intact)
}

/// 512 cases per property in CI; `PROPTEST_CASES` runs longer searches locally.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(512);
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn well_formed_tokens_are_accepted_exactly_as_the_policy_says(
        (header, claims, signer, mutations) in mutated_token(),
        spelling in spelling(),
    ) {
        let header = serde_json::to_vec(&header).expect("json");
        let claims = serde_json::to_vec(&claims).expect("json");
        let (token, canonical) = spell(&header, &claims, signer, &spelling);
        for setup in [Setup::Secret, Setup::Jwks] {
            let result = setup.verifier().actor_from_token(&token, now());
            let policy = canonical && expected(setup, &header, &claims, signer);
            prop_assert_eq!(
                accepted(&result), policy,
                "{}: {:?} for {} after {:?} (header {}, claims {})",
                setup.name(), result, token, mutations,
                String::from_utf8_lossy(&header), String::from_utf8_lossy(&claims)
            );
        }
    }

    #[test]
    fn arbitrary_parts_signed_with_the_secret_never_pass_the_policy(
        header in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..64),
            "\\{[\"a-z0-9:,\\[\\] ]{0,40}\\}".prop_map(String::into_bytes),
            Just(br#"{"alg":"HS256"}"#.to_vec()),
        ],
        claims in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..96),
            "\\{[\"a-z0-9:,\\[\\] ]{0,80}\\}".prop_map(String::into_bytes),
        ],
    ) {
        let (token, _) = spell(&header, &claims, Signer::Secret, &Spelling::Canonical);
        let result = Setup::Secret.verifier().actor_from_token(&token, now());
        if accepted(&result) {
            prop_assert!(
                expected(Setup::Secret, &header, &claims, Signer::Secret),
                "accepted against the policy: {}", token
            );
        }
    }

    #[test]
    fn arbitrary_text_is_refused_without_a_panic(
        text in prop_oneof![
            any::<Vec<u8>>().prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
            "[A-Za-z0-9_=+/. -]{0,120}",
            "e[A-Za-z0-9_-]{0,40}\\.e[A-Za-z0-9_-]{0,60}\\.[A-Za-z0-9_-]{0,60}",
        ],
    ) {
        for setup in [Setup::Secret, Setup::Jwks] {
            let verifier = setup.verifier();
            let header = format!("Bearer {text}");
            prop_assert!(verifier.actor_from_token(&text, now()).is_err());
            prop_assert!(verifier.actor_from_header(&header, now()).is_err());
        }
    }
}

/// One line of `fixtures/token_regressions.jsonl`: a token that once broke verification,
/// the setup it was verified with, the outcome required now, and what went wrong.
#[derive(serde::Deserialize)]
struct Regression {
    setup: String,
    token: String,
    accepted: bool,
    found: String,
}

#[test]
fn tokens_that_once_broke_verification_stay_handled() {
    let corpus = std::fs::read_to_string(fixture("token_regressions.jsonl")).expect("corpus");
    let mut replayed = 0;
    for line in corpus.lines().filter(|line| !line.trim().is_empty()) {
        let case: Regression = serde_json::from_str(line).expect("regression line");
        let verifier = Setup::from_name(&case.setup).verifier();
        let result = verifier.actor_from_token(&case.token, now());
        assert_eq!(
            accepted(&result),
            case.accepted,
            "{}: {result:?} ({})",
            case.token,
            case.found
        );
        replayed += 1;
    }
    assert!(replayed > 0, "the corpus is empty");
}
