//! Fuzzing of mail intake on stable Rust, bounded so it runs in seconds: arbitrary bytes,
//! generated MIME trees, deep chains and their mutations through the parser (on a small
//! stack), through the whole pipeline into SQLite and PostgreSQL, and cut into arbitrary
//! chunks through the SMTP session. Whatever comes in is stored or refused for good; no
//! input panics, overflows the stack, outgrows its size or earns a 4xx.
//!
//! `PROPTEST_CASES` sets the number of cases (256 by default). Failing seeds are kept in
//! `tests/fuzz-regressions/proptest-seeds.txt` and replayed first; inputs that broke
//! something are kept as files in `tests/fuzz-regressions/` and replayed by
//! `the_inputs_that_once_broke_intake_are_stored_or_refused`.

#[path = "../common/mod.rs"]
mod common;
mod generators;

use std::time::Duration;

use common::hostile::on_small_stack;
use mail_parser::{Message, MessageParser, PartType};
use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, TestCaseError, TestRunner};
use redress_intake::email::mime;
use redress_intake::email::smtp::converse;
use redress_intake::email::structure;
use redress_intake::email::{EmailIntake, Envelope, IntakeError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::runtime::Handle;
use tokio::sync::watch;

const REGRESSIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fuzz-regressions");

fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fuzz-regressions/proptest-seeds.txt"
        )))),
        // Shrinking a DATA stream can take long; a found input is kept either way.
        max_shrink_iters: 256,
        ..ProptestConfig::default()
    }
}

/// How deep mail-parser nested attached messages, counted without recursing.
fn message_depth(message: &Message<'_>) -> usize {
    let mut deepest = 0;
    let mut pending = vec![(message, 0usize)];
    while let Some((message, depth)) = pending.pop() {
        deepest = deepest.max(depth);
        for part in &message.parts {
            if let PartType::Message(inner) = &part.body {
                pending.push((inner, depth + 1));
            }
        }
    }
    deepest
}

/// The parser's side of the properties; runs on the small stack.
fn parse_checked(raw: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(shape) = structure::check(raw) {
        // In a debug build mail-parser's own assertions may fire; intake refuses those
        // messages (see below), so only what parses is compared.
        let parsed = std::panic::catch_unwind(|| MessageParser::default().parse(raw));
        if let Ok(Some(message)) = parsed {
            let depth = message_depth(&message);
            prop_assert!(
                depth <= shape.depth,
                "mail-parser nested {depth} deep where the walk saw {}",
                shape.depth
            );
        }
    }
    if let Ok(email) = mime::parse(raw, 20) {
        let kept = email.text.len()
            + email.subject.as_ref().map_or(0, String::len)
            + email
                .headers
                .iter()
                .map(|(name, value)| name.len() + value.len())
                .sum::<usize>();
        prop_assert!(
            kept <= 8 * raw.len() + 4096,
            "{kept} bytes kept from {}",
            raw.len()
        );
        prop_assert!(!email.text.contains('\0') && !email.message_id.contains('\0'));
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn parsing_never_panics_overflows_or_outgrows_its_input(raw in generators::raw_message()) {
        on_small_stack(move || parse_checked(&raw))?;
    }
}

/// What a message may come to: anything but "try again later".
fn settled(result: &Result<redress_intake::email::Delivered, IntakeError>) -> bool {
    !matches!(result, Err(IntakeError::Unavailable(_)))
}

/// Runs the configured number of cases of `strategy` through `check`, on this worker
/// taken out of the runtime so that `check` may block on the runtime's tasks.
fn fuzz<S: Strategy>(strategy: S, check: impl Fn(&Handle, S::Value) -> Result<(), TestCaseError>) {
    let handle = Handle::current();
    let mut runner = TestRunner::new(ProptestConfig {
        source_file: Some(file!()),
        ..config()
    });
    let outcome =
        tokio::task::block_in_place(|| runner.run(&strategy, |value| check(&handle, value)));
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}

/// One SMTP conversation over an in-memory stream cut at `cuts`; the server's whole answer.
async fn converse_in_chunks(intake: EmailIntake, bytes: Vec<u8>, cuts: Vec<usize>) -> Vec<u8> {
    let (client, server) = tokio::io::duplex(cuts[0]);
    let (_stop, shutdown) = watch::channel(false);
    let session =
        tokio::spawn(async move { converse(server, intake, "mx.redress.test", shutdown).await });
    let (mut from_server, mut to_server) = tokio::io::split(client);
    let writer = tokio::spawn(async move {
        let mut rest = bytes.as_slice();
        for cut in cuts.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (chunk, after) = rest.split_at((*cut).min(rest.len()));
            // The server may hang up first (QUIT, too many errors): that ends the talk.
            if to_server.write_all(chunk).await.is_err() {
                return;
            }
            rest = after;
            tokio::task::yield_now().await;
        }
        let _ = to_server.shutdown().await;
    });
    let mut answer = Vec::new();
    let _ = from_server.read_to_end(&mut answer).await;
    writer.await.expect("writer");
    session.await.expect("session").expect("session io");
    answer
}

/// Every line is a well-formed reply, and the only 4xx are the protocol's own (closing
/// after too many errors, too many recipients), never one for a message.
fn answer_checked(answer: &[u8]) -> Result<(), TestCaseError> {
    let answer = String::from_utf8_lossy(answer);
    prop_assert!(answer.is_empty() || answer.ends_with("\r\n"), "{answer:?}");
    for line in answer.lines() {
        let code: u16 = line
            .get(..3)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| TestCaseError::fail(format!("not a reply: {line:?}")))?;
        prop_assert!((200..600).contains(&code), "{line:?}");
        prop_assert!(!line.contains('\0'), "{line:?}");
        prop_assert!(line.len() <= 510, "RFC 5321 allows 512 octets: {line:?}");
        if (400..500).contains(&code) {
            prop_assert!(
                line.starts_with("421 4.7.0") || line.starts_with("452 4.5.3"),
                "a retry asked for: {line:?}"
            );
        }
    }
    Ok(())
}

redress_engine::backend_tests! {
    async fn every_message_is_stored_or_refused_for_good(test) {
        let clock = common::clock();
        let intake = common::intake(&test.db, &clock);
        fuzz((generators::raw_message(), generators::envelope_from()), move |handle, (raw, mail_from)| {
            let envelope = Envelope { mail_from, rcpt_to: vec!["appeals@redress.test".to_owned()] };
            let result = handle.block_on(intake.receive(&raw, &envelope));
            prop_assert!(settled(&result), "{result:?}");
            Ok(())
        });
        test.cleanup().await;
    }

    async fn smtp_sessions_answer_everything_and_never_ask_for_a_retry(test) {
        let clock = common::clock();
        let intake = common::intake(&test.db, &clock);
        fuzz(generators::conversation(), move |handle, (bytes, cuts)| {
            let talk = converse_in_chunks(intake.clone(), bytes, cuts);
            let answer = handle
                .block_on(async { tokio::time::timeout(Duration::from_secs(60), talk).await })
                .map_err(|_| TestCaseError::fail("the session hung"))?;
            answer_checked(&answer)
        });
        test.cleanup().await;
    }

    async fn the_inputs_that_once_broke_intake_are_stored_or_refused(test) {
        let clock = common::clock();
        let intake = common::intake(&test.db, &clock);
        let mut replayed = 0;
        for entry in std::fs::read_dir(REGRESSIONS).expect("regressions folder") {
            let path = entry.expect("entry").path();
            if path.extension().is_none_or(|ext| ext != "eml") {
                continue;
            }
            let raw = std::fs::read(&path).expect("read");
            let parsed = raw.clone();
            on_small_stack(move || parse_checked(&parsed))
                .unwrap_or_else(|err| panic!("{}: {err}", path.display()));
            let envelope = Envelope { mail_from: Some("fuzz@example.org".to_owned()), rcpt_to: vec!["appeals@redress.test".to_owned()] };
            let result = intake.receive(&raw, &envelope).await;
            assert!(settled(&result), "{}: {result:?}", path.display());
            replayed += 1;
        }
        assert!(replayed > 0, "no regression inputs found in {REGRESSIONS}");
        test.cleanup().await;
    }
}
