//! The MIME structure limits: nesting of any kind and depth is refused before mail-parser
//! builds it, and decoding bombs are refused before they allocate. Every parse runs on a
//! thread with a small stack, so a message that would overflow a worker overflows here.

mod common;

use common::hostile::{self, on_small_stack};
use redress_intake::email::mime::{self, MimeError};
use redress_intake::email::structure::{self, StructureError, MAX_NESTING};

fn parse(raw: Vec<u8>) -> Result<mime::ParsedEmail, MimeError> {
    on_small_stack(move || mime::parse(&raw, 20))
}

fn too_deep() -> MimeError {
    MimeError::Structure(StructureError::TooDeep { limit: MAX_NESTING })
}

#[test]
fn a_message_nested_thirty_thousand_deep_is_refused_without_touching_the_stack() {
    let raw = hostile::nested_messages(30_000, "<deep@example.org>");
    assert!(raw.len() > 1_500_000, "{} bytes", raw.len());
    assert_eq!(parse(raw).expect_err("refused"), too_deep());
}

#[test]
fn nesting_up_to_the_limit_parses_and_one_more_level_is_refused() {
    let at_limit = hostile::nested_messages(MAX_NESTING, "<limit@example.org>");
    assert_eq!(
        structure::check(&at_limit).expect("within the limit").depth,
        MAX_NESTING
    );
    let email = parse(at_limit).expect("parses");
    assert_eq!(email.from, "nest@example.org");
    assert_eq!(
        email.attachments.len(),
        1,
        "the attached message is recorded"
    );

    let over = hostile::nested_messages(MAX_NESTING + 1, "<over@example.org>");
    assert_eq!(parse(over).expect_err("refused"), too_deep());
}

#[test]
fn deep_multiparts_and_digests_count_as_nesting_too() {
    let multiparts = hostile::nested_multiparts(MAX_NESTING, "<mp@example.org>");
    assert_eq!(
        structure::check(&multiparts).expect("at the limit").depth,
        MAX_NESTING
    );
    assert!(parse(multiparts).expect("parses").text.contains("hello"));
    let deeper = hostile::nested_multiparts(20_000, "<mp2@example.org>");
    assert_eq!(parse(deeper).expect_err("refused"), too_deep());

    // A digest's parts are messages without saying so: two levels per digest.
    let digests = hostile::nested_digests(MAX_NESTING / 2, "<dg@example.org>");
    assert_eq!(
        structure::check(&digests).expect("at the limit").depth,
        MAX_NESTING
    );
    parse(digests).expect("parses");
    let deeper = hostile::nested_digests(10_000, "<dg2@example.org>");
    assert_eq!(parse(deeper).expect_err("refused"), too_deep());
}

#[test]
fn nesting_hidden_in_a_base64_attached_message_is_found_and_refused() {
    let raw = hostile::encoded_nested_messages(30_000, "<b64deep@example.org>");
    assert_eq!(parse(raw).expect_err("refused"), too_deep());

    let shallow = hostile::encoded_nested_messages(3, "<b64shallow@example.org>");
    let email = parse(shallow).expect("an ordinary forwarded message");
    assert!(email.text.contains("Please look at the attached mail."));
}

#[test]
fn an_encoded_attachment_of_thousands_of_messages_is_refused_before_it_is_unpacked() {
    let bomb = hostile::encoded_sibling_messages(8_000, "<bomb@example.org>");
    assert!(bomb.len() < 750_000, "{} bytes", bomb.len());
    let started = std::time::Instant::now();
    let refused = parse(bomb).expect_err("refused");
    assert!(
        matches!(
            refused,
            MimeError::Structure(StructureError::TooCostly { .. })
        ),
        "{refused:?}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "mail-parser took 17 s and 3.5 GB on this before: {:?}",
        started.elapsed()
    );

    let few = hostile::encoded_sibling_messages(3, "<few@example.org>");
    let shape = structure::check(&few).expect("a few attached messages");
    assert!(shape.copied_bytes > 0);
    parse(few).expect("parses");
}

#[test]
fn the_corpus_is_well_within_the_limits() {
    for entry in
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus")).expect("corpus")
    {
        let path = entry.expect("entry").path();
        let raw = std::fs::read(&path).expect("read");
        let shape = structure::check(&raw).expect("ordinary mail passes");
        assert!(shape.depth <= 4, "{}: {shape:?}", path.display());
    }
}
