//! What a message is before anything is filed: an appeal (or a reply to one), or mail that
//! must be recorded and never answered (auto-replies, bounces, our own mail coming back).

use redress_engine::MessageIdSigner;

use super::mime::ParsedEmail;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Classification {
    Appeal,
    AutoReply,
    Bounce,
    Loop,
}

impl Classification {
    /// The label stored on the message row.
    pub fn as_str(self) -> &'static str {
        match self {
            Classification::Appeal => "appeal",
            Classification::AutoReply => "auto_reply",
            Classification::Bounce => "bounce",
            Classification::Loop => "loop",
        }
    }
}

/// `envelope_from` is the SMTP `MAIL FROM` (`Some("")` for the null sender `<>`), when known.
pub fn classify(
    email: &ParsedEmail,
    envelope_from: Option<&str>,
    own_addresses: &[String],
    signer: &MessageIdSigner,
) -> Classification {
    if is_loop(email, own_addresses, signer) {
        Classification::Loop
    } else if is_bounce(email, envelope_from) {
        Classification::Bounce
    } else if is_auto_reply(email) {
        Classification::AutoReply
    } else {
        Classification::Appeal
    }
}

/// Our own mail arriving back: its Message-ID is one we signed, or it is from one of our
/// sending addresses.
fn is_loop(email: &ParsedEmail, own_addresses: &[String], signer: &MessageIdSigner) -> bool {
    signer.verify(&email.message_id).is_some()
        || own_addresses
            .iter()
            .any(|own| own.eq_ignore_ascii_case(&email.from))
}

fn is_bounce(email: &ParsedEmail, envelope_from: Option<&str>) -> bool {
    let null_sender = |path: &str| path.trim().trim_matches(['<', '>']).trim().is_empty();
    let report = email.content_type.as_deref() == Some("multipart/report")
        && email.report_type.as_deref() == Some("delivery-status");
    let local = email.from.split('@').next().unwrap_or_default();
    report
        || envelope_from.is_some_and(null_sender)
        || email.header_values("Return-Path").any(null_sender)
        || local.eq_ignore_ascii_case("mailer-daemon")
}

/// RFC 3834 and the de-facto headers of common autoresponders.
fn is_auto_reply(email: &ParsedEmail) -> bool {
    let auto_submitted = email
        .header_values("Auto-Submitted")
        .any(|value| !value.trim().eq_ignore_ascii_case("no"));
    let precedence = email.header_values("Precedence").any(|value| {
        let value = value.trim();
        ["bulk", "junk", "list", "auto_reply"]
            .iter()
            .any(|p| value.eq_ignore_ascii_case(p))
    });
    auto_submitted
        || precedence
        || email.header("X-Autoreply").is_some()
        || email.header("X-Autorespond").is_some()
        || email.header("X-Auto-Response-Suppress").is_some()
}
