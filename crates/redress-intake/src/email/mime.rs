//! One parse of a raw message into what intake needs: ids, sender, subject, the text
//! (HTML turned to text, any charset turned to UTF-8), attachment metadata, and the headers
//! that classification and identity look at.

use mail_parser::{HeaderValue, Message, MessageParser, MimeHeaders};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::structure::{self, StructureError};

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

    /// Ids this message answers, most recent first: In-Reply-To, then References from the
    /// end (the last reference is the message replied to).
    pub fn thread_ids(&self) -> impl Iterator<Item = &str> {
        self.in_reply_to
            .iter()
            .chain(self.references.iter().rev())
            .map(String::as_str)
    }
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
}

/// Parses `raw`, keeping metadata of at most `max_attachments` attachments.
pub fn parse(raw: &[u8], max_attachments: usize) -> Result<ParsedEmail, MimeError> {
    structure::check(raw)?;
    let message = MessageParser::default()
        .parse(raw)
        .ok_or(MimeError::NoHeaders)?;
    if message.headers().is_empty() {
        return Err(MimeError::NoHeaders);
    }
    let sender = message
        .from()
        .and_then(|from| from.first())
        .ok_or(MimeError::NoSender)?;
    let from = sender
        .address()
        .map(|a| a.trim().to_ascii_lowercase())
        .ok_or(MimeError::NoSender)?;
    if !is_address(&from) {
        return Err(MimeError::BadSender(from));
    }
    let from_name = sender.name().map(str::to_owned);
    let (message_id, has_message_id) = match message.message_id() {
        Some(id) if !id.trim().is_empty() => (bracketed(id), true),
        _ => (content_id(raw), false),
    };
    let all_attachments: Vec<AttachmentInfo> = message
        .attachments()
        .map(|part| AttachmentInfo {
            name: part.attachment_name().map(str::to_owned),
            content_type: part.content_type().map_or_else(
                || "application/octet-stream".to_owned(),
                |ct| match &ct.c_subtype {
                    Some(sub) => format!("{}/{}", ct.c_type, sub).to_ascii_lowercase(),
                    None => ct.c_type.to_ascii_lowercase(),
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
        from,
        from_name,
        subject: message.subject().map(|s| s.trim().to_owned()),
        text: body_text(&message),
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

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(id) => vec![bracketed(id)],
        HeaderValue::TextList(list) => list.iter().map(|id| bracketed(id)).collect(),
        _ => Vec::new(),
    }
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

fn is_address(address: &str) -> bool {
    match address.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && !domain.is_empty() && !address.contains(char::is_whitespace)
        }
        None => false,
    }
}
