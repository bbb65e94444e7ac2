//! One parse of a raw message into what intake needs: ids, sender, subject, the text
//! (HTML turned to text, any charset turned to UTF-8), attachment metadata, and the headers
//! that classification and identity look at.
//!
//! Text is stored as it came except for U+0000, which PostgreSQL cannot store in text or
//! JSON: it becomes U+FFFD here, at the edge, so such a message is filed on every backend
//! instead of failing its commit on every retry.

use std::borrow::Cow;

use mail_parser::{Addr, HeaderValue, Message, MessageParser, MimeHeaders};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::structure::{self, StructureError};

/// RFC 5322 section 2.1.1: no line is longer; a longer Message-ID is not one.
const MAX_MESSAGE_ID_BYTES: usize = 998;
/// RFC 5321 section 4.5.3.1.3: a path holds at most 256 octets, brackets included.
const MAX_ADDRESS_BYTES: usize = 254;

/// An attachment as recorded: its content stays out of the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttachmentInfo {
    pub name: Option<String>,
    pub content_type: String,
    pub size: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedEmail {
    /// The Message-ID in angle brackets; a message without one is named by a hash of its
    /// bytes, so a retried delivery is still recognised.
    pub message_id: String,
    pub has_message_id: bool,
    /// The From address, lower-cased.
    pub from: String,
    /// Where `from` was found; only an address written as one in the From header can be
    /// vouched for by Authentication-Results.
    pub from_source: SenderSource,
    pub from_name: Option<String>,
    pub subject: Option<String>,
    pub text: String,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub attachments: Vec<AttachmentInfo>,
    pub attachments_omitted: usize,
    pub content_type: Option<String>,
    pub report_type: Option<String>,
    /// Every header, name as sent and value unfolded, in order.
    pub headers: Vec<(String, String)>,
}

impl ParsedEmail {
    /// Values of the header `name` (case-insensitive), in order of appearance.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The domain of the From address.
    pub fn from_domain(&self) -> &str {
        self.from.rsplit_once('@').map_or("", |(_, domain)| domain)
    }

    /// The first language tag of the Content-Language header (RFC 3282), when it is a
    /// well-formed BCP 47 tag; routing rules read it, so a malformed value counts as none
    /// rather than as a language no rule names.
    pub fn content_language(&self) -> Option<&str> {
        let first = self.header("Content-Language")?.split(',').next()?.trim();
        is_language_tag(first).then_some(first)
    }

    /// Ids this message answers, most recent first: In-Reply-To, then References from the
    /// end (the last reference is the message replied to).
    pub fn thread_ids(&self) -> impl Iterator<Item = &str> {
        self.in_reply_to
            .iter()
            .chain(self.references.iter().rev())
            .map(String::as_str)
    }
}

/// A primary subtag of 2 to 8 letters, then subtags of 1 to 8 letters or digits, at most
/// 35 characters in all (the longest tag RFC 5646 section 4.4.1 asks to be kept whole).
fn is_language_tag(tag: &str) -> bool {
    let mut subtags = tag.split('-');
    let primary_ok = subtags.next().is_some_and(|primary| {
        (2..=8).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_alphabetic())
    });
    primary_ok
        && tag.len() <= 35
        && subtags.all(|subtag| {
            (1..=8).contains(&subtag.len()) && subtag.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

/// Where the sender's address came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SenderSource {
    /// The address of the From header.
    Header,
    /// The From header had no address, but its decoded display name held one: some clients
    /// write the whole header as one RFC 2047 encoded-word.
    DisplayName,
    /// The From header had no address anywhere: the SMTP `MAIL FROM`.
    Envelope,
    /// As `Envelope`, from the `Return-Path` header when the envelope is unknown.
    ReturnPath,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MimeError {
    #[error("the message has no header section")]
    NoHeaders,
    #[error("the message has no From address")]
    NoSender,
    #[error("the From address {0:?} is not an email address")]
    BadSender(String),
    #[error(transparent)]
    Structure(#[from] StructureError),
    #[error("the MIME structure could not be parsed")]
    ParserFailed,
}

/// Parses `raw`, keeping metadata of at most `max_attachments` attachments.
pub fn parse(raw: &[u8], max_attachments: usize) -> Result<ParsedEmail, MimeError> {
    parse_with_envelope(raw, max_attachments, None)
}

/// Parses `raw` as [`parse`] does; `envelope_from` (the SMTP `MAIL FROM`) names the sender
/// when the From header holds no address at all.
pub fn parse_with_envelope(
    raw: &[u8],
    max_attachments: usize,
    envelope_from: Option<&str>,
) -> Result<ParsedEmail, MimeError> {
    // mail-parser checks its own invariants with `debug_assert!`, and some odd structures
    // (an attached message directly inside another, inside a multipart) break them. A
    // panic would drop the connection without an answer and the sender would retry
    // forever; the same input fails the same way every time, so it is refused for good.
    std::panic::catch_unwind(|| parse_unguarded(raw, max_attachments, envelope_from))
        .unwrap_or(Err(MimeError::ParserFailed))
}

fn parse_unguarded(
    raw: &[u8],
    max_attachments: usize,
    envelope_from: Option<&str>,
) -> Result<ParsedEmail, MimeError> {
    structure::check(raw)?;
    let message = MessageParser::default()
        .parse(raw)
        .ok_or(MimeError::NoHeaders)?;
    if message.headers().is_empty() {
        return Err(MimeError::NoHeaders);
    }
    let sender = sender(&message, envelope_from)?;
    let (message_id, has_message_id) = match message.message_id() {
        Some(id) if is_message_id(id) => (bracketed(id), true),
        _ => (content_id(raw), false),
    };
    let all_attachments: Vec<AttachmentInfo> = message
        .attachments()
        .map(|part| AttachmentInfo {
            name: part.attachment_name().map(text),
            content_type: part.content_type().map_or_else(
                || "application/octet-stream".to_owned(),
                |ct| match &ct.c_subtype {
                    Some(sub) => text(&format!("{}/{}", ct.c_type, sub).to_ascii_lowercase()),
                    None => text(&ct.c_type.to_ascii_lowercase()),
                },
            ),
            size: part.len(),
        })
        .collect();
    let attachments_omitted = all_attachments.len().saturating_sub(max_attachments);
    let attachments = all_attachments.into_iter().take(max_attachments).collect();
    let root_type = message.root_part().content_type();
    Ok(ParsedEmail {
        message_id,
        has_message_id,
        from: sender.address,
        from_source: sender.source,
        from_name: sender.name,
        subject: message.subject().map(|s| text(s.trim())),
        text: text(&body_text(&message)),
        in_reply_to: ids(message.in_reply_to()),
        references: ids(message.references()),
        attachments,
        attachments_omitted,
        content_type: root_type.map(|ct| match &ct.c_subtype {
            Some(sub) => format!("{}/{}", ct.c_type, sub).to_ascii_lowercase(),
            None => ct.c_type.to_ascii_lowercase(),
        }),
        report_type: root_type
            .and_then(|ct| ct.attribute("report-type"))
            .map(str::to_ascii_lowercase),
        headers: raw_headers(&message),
    })
}

/// All text parts joined; an HTML-only part is converted to text by the parser.
fn body_text(message: &Message<'_>) -> String {
    let mut text = String::new();
    for index in 0..message.text_body_count() {
        if let Some(part) = message.body_text(index) {
            if !text.is_empty() {
                text.push_str("\n\n");
            }
            text.push_str(part.trim_end());
        }
    }
    text
}

/// `text` with U+0000 replaced by U+FFFD.
pub fn without_nul(text: &str) -> Cow<'_, str> {
    if text.contains('\0') {
        Cow::Owned(text.replace('\0', "\u{FFFD}"))
    } else {
        Cow::Borrowed(text)
    }
}

fn text(value: &str) -> String {
    without_nul(value).into_owned()
}

/// The start of `value`, short enough to quote in a reply line (RFC 5321 allows 512
/// octets).
fn excerpt(value: &str) -> String {
    const SHOWN: usize = 64;
    match value.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("{}...", text(&value[..end])),
        None => text(value),
    }
}

struct Sender {
    address: String,
    name: Option<String>,
    source: SenderSource,
}

/// The From address; when the header has none, an address in its decoded display name,
/// then the envelope sender, then `Return-Path`. A message without a From header, or whose
/// From address is not an address, is refused.
fn sender(message: &Message<'_>, envelope_from: Option<&str>) -> Result<Sender, MimeError> {
    let from = message.from().ok_or(MimeError::NoSender)?;
    let first = from.first();
    if let Some(address) = first.and_then(Addr::address) {
        let address = address.trim().to_ascii_lowercase();
        if !is_address(&address) {
            return Err(MimeError::BadSender(excerpt(&address)));
        }
        return Ok(Sender {
            address,
            name: first.and_then(Addr::name).map(text),
            source: SenderSource::Header,
        });
    }
    let display_name = first.and_then(Addr::name).unwrap_or_default();
    if let Some((address, name)) = address_in(display_name) {
        return Ok(Sender {
            address,
            name,
            source: SenderSource::DisplayName,
        });
    }
    let named = |address: &str, source| {
        let address = address
            .trim()
            .trim_matches(['<', '>'])
            .trim()
            .to_ascii_lowercase();
        is_address(&address).then(|| Sender {
            address,
            name: Some(display_name.trim())
                .filter(|name| !name.is_empty())
                .map(text),
            source,
        })
    };
    envelope_from
        .and_then(|address| named(address, SenderSource::Envelope))
        .or_else(|| {
            ids(message.return_path())
                .first()
                .and_then(|address| named(address, SenderSource::ReturnPath))
        })
        .ok_or(MimeError::NoSender)
}

/// An address written inside a decoded display name, as `Name <user@example.org>` or
/// alone, with the name around it.
fn address_in(display_name: &str) -> Option<(String, Option<String>)> {
    let display_name = display_name.trim();
    let (address, name) = match display_name.rsplit_once('<') {
        Some((name, rest)) => (rest.split_once('>')?.0, name),
        None => (display_name, ""),
    };
    let address = address.trim().to_ascii_lowercase();
    if !is_address(&address) {
        return None;
    }
    let name = name.trim().trim_matches('"').trim();
    Some((address, (!name.is_empty()).then(|| text(name))))
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    let list = match value {
        HeaderValue::Text(id) => std::slice::from_ref(id),
        HeaderValue::TextList(list) => list.as_slice(),
        _ => &[],
    };
    list.iter()
        .filter(|id| is_message_id(id))
        .map(|id| bracketed(id))
        .collect()
}

/// Whether `id` can name a message: not empty, not longer than a header line, and free of
/// control characters (a NUL could not even be stored on PostgreSQL). A message whose
/// Message-ID is not one is named by a hash of its bytes instead.
fn is_message_id(id: &str) -> bool {
    let id = id.trim();
    !id.is_empty() && id.len() <= MAX_MESSAGE_ID_BYTES && !id.contains(char::is_control)
}

fn bracketed(id: &str) -> String {
    format!(
        "<{}>",
        id.trim().trim_start_matches('<').trim_end_matches('>')
    )
}

fn content_id(raw: &[u8]) -> String {
    let digest = Sha256::digest(raw);
    let hex = digest[..16].iter().fold(String::new(), |mut hex, b| {
        use std::fmt::Write;
        let _ = write!(hex, "{b:02x}");
        hex
    });
    format!("<sha256.{hex}@no-message-id.invalid>")
}

fn raw_headers(message: &Message<'_>) -> Vec<(String, String)> {
    let raw = message.raw_message();
    message
        .headers()
        .iter()
        .map(|header| {
            let start = header.offset_start() as usize;
            let end = (header.offset_end() as usize).min(raw.len());
            let value = raw.get(start..end).unwrap_or_default();
            let unfolded = String::from_utf8_lossy(value)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            (header.name().to_owned(), unfolded)
        })
        .collect()
}

/// Whether `address` can be a mailbox: `local@domain`, at most 254 bytes, without white
/// space or control characters.
fn is_address(address: &str) -> bool {
    if address.len() > MAX_ADDRESS_BYTES
        || address.contains(|c: char| c.is_whitespace() || c.is_control())
    {
        return false;
    }
    address
        .rsplit_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty())
}
