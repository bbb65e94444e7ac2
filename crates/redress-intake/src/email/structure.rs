//! How deep and how costly a message's MIME structure is, measured the way mail-parser will
//! walk it, before mail-parser builds it.
//!
//! mail-parser 0.11.9 (pinned in the workspace) parses iteratively, but the message it
//! returns nests one `Message` inside another for every attached message, and dropping or
//! copying that tree recurses once per level: a 1.5 MB message nesting `message/rfc822`
//! thirty thousand deep overflowed a 2 MiB worker stack and aborted the process. It also
//! copies the decoded text of a transfer-encoded attached message once for every message
//! nested inside it, so 600 KB of base64 holding a few thousand sibling messages made it
//! allocate 3.5 GB. This walk repeats the parser's steps (its own stream, header parser and
//! decoders, so both see the same boundaries) without building anything, and stops as soon
//! as a limit is crossed.

use mail_parser::parsers::MessageStream;
use mail_parser::{ContentType, GetHeader, Header, HeaderName, HeaderValue, MessageParser};

/// Containers (multiparts and attached messages) open at once, at most. Postfix's
/// `mime_nesting_limit` has the same default; real mail stays far below it.
pub const MAX_NESTING: usize = 100;
/// How many transfer-encoded attached messages inside each other mail-parser decodes
/// (its `MAX_NESTED_ENCODED`); deeper ones stay opaque attachments.
const DECODED_LEVELS: usize = 3;
/// Copies of decoded attached messages allowed, as a multiple of the message's size.
const COPY_FACTOR: usize = 4;
/// Copies always allowed, so a small message is never refused for a few encoded parts.
const COPY_FLOOR: usize = 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StructureError {
    #[error("MIME parts are nested deeper than {limit} levels")]
    TooDeep { limit: usize },
    #[error("the transfer-encoded attached messages would unpack to more than {limit} bytes")]
    TooCostly { limit: usize },
}

/// What the walk saw: the deepest nesting and the bytes mail-parser would copy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shape {
    pub depth: usize,
    pub copied_bytes: usize,
}

/// Walks `raw` and refuses it when parsing it would nest deeper than [`MAX_NESTING`] or copy
/// more than four times its size (at least 1 MiB).
pub fn check(raw: &[u8]) -> Result<Shape, StructureError> {
    let mut walk = Walk {
        parser: MessageParser::default(),
        shape: Shape::default(),
        copy_limit: raw.len().saturating_mul(COPY_FACTOR).max(COPY_FLOOR),
    };
    walk.message(raw, DECODED_LEVELS, 0)?;
    Ok(walk.shape)
}

struct Walk {
    parser: MessageParser,
    shape: Shape,
    copy_limit: usize,
}

/// One open container, as mail-parser's `MessageParserState` knows it.
struct Level {
    /// An attached message (or the message itself) rather than a multipart.
    message: bool,
    /// A `multipart/digest`, whose parts are messages unless they say otherwise.
    digest: bool,
    boundary: Option<Vec<u8>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Multipart { digest: bool },
    Message,
    Leaf,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum TransferEncoding {
    Identity,
    Base64,
    QuotedPrintable,
}

impl Walk {
    /// Walks one message (the whole input, or the decoded body of an encoded attached
    /// message) whose outermost container sits at `base_depth`. Returns how many attached
    /// messages it holds without transfer encoding: mail-parser copies a decoded body once
    /// for each of them.
    fn message(
        &mut self,
        raw: &[u8],
        decoded_levels: usize,
        base_depth: usize,
    ) -> Result<usize, StructureError> {
        let mut stream = MessageStream::new(raw);
        let mut state = Level {
            message: true,
            digest: false,
            boundary: None,
        };
        let mut stack: Vec<Level> = Vec::new();
        let mut headers: Vec<Header<'_>> = Vec::new();
        let mut plain_messages = 0usize;
        'outer: loop {
            headers.clear();
            if !stream.parse_headers(&self.parser, &mut headers) {
                break;
            }
            let content_type = headers
                .header_value(&HeaderName::ContentType)
                .and_then(HeaderValue::as_content_type);
            let mut kind = kind_of(content_type, state.digest);
            if let Kind::Multipart { digest } = kind {
                // A multipart without a boundary, or whose first boundary never comes, is
                // read as one opaque part.
                kind = Kind::Leaf;
                if let Some(boundary) = content_type.and_then(|ct| ct.attribute("boundary")) {
                    if stream.seek_next_part(boundary.as_bytes()) {
                        let inner = Level {
                            message: false,
                            digest,
                            boundary: Some(boundary.as_bytes().to_vec()),
                        };
                        self.open(&mut stack, std::mem::replace(&mut state, inner), base_depth)?;
                        stream.skip_crlf();
                        continue;
                    }
                }
            }
            let encoding = transfer_encoding(&headers);
            if kind == Kind::Message && encoding == TransferEncoding::Identity {
                let inner = Level {
                    message: true,
                    digest: false,
                    boundary: state.boundary.take(),
                };
                self.open(&mut stack, std::mem::replace(&mut state, inner), base_depth)?;
                plain_messages += 1;
                continue;
            }
            let boundary = state.boundary.as_deref().unwrap_or_default();
            let (end, body) = match encoding {
                TransferEncoding::Base64 => stream.decode_base64_mime(boundary),
                TransferEncoding::QuotedPrintable => stream.decode_quoted_printable_mime(boundary),
                TransferEncoding::Identity => stream.mime_part(boundary),
            };
            if end == usize::MAX {
                // Undecodable: mail-parser keeps the part as text up to the next boundary.
                let (_, found) = stream.seek_part_end(state.boundary.as_deref());
                if !found {
                    state.boundary = None;
                }
            } else if kind == Kind::Message && decoded_levels > 0 {
                let depth = base_depth + stack.len() + 1;
                self.reach(depth)?;
                let inner_messages = self.message(&body, decoded_levels - 1, depth)?;
                self.copy(body.len().saturating_mul(inner_messages + 1))?;
            }
            if state.boundary.is_none() {
                if stream.offset() >= raw.len() {
                    break;
                }
                continue;
            }
            loop {
                if state.message {
                    // The end of an attached message: back to the multipart around it.
                    let Some(mut parent) = stack.pop() else {
                        break 'outer;
                    };
                    parent.boundary = state.boundary.take();
                    state = parent;
                }
                if !stream.is_multipart_end() {
                    break;
                }
                let Some(parent) = stack.pop() else {
                    break 'outer;
                };
                state = parent;
                let Some(boundary) = &state.boundary else {
                    break 'outer;
                };
                if stream.seek_next_part_offset(boundary).is_none() {
                    break 'outer;
                }
            }
        }
        Ok(plain_messages)
    }

    fn open(
        &mut self,
        stack: &mut Vec<Level>,
        outer: Level,
        base_depth: usize,
    ) -> Result<(), StructureError> {
        stack.push(outer);
        self.reach(base_depth + stack.len())
    }

    fn reach(&mut self, depth: usize) -> Result<(), StructureError> {
        self.shape.depth = self.shape.depth.max(depth);
        if depth > MAX_NESTING {
            return Err(StructureError::TooDeep { limit: MAX_NESTING });
        }
        Ok(())
    }

    fn copy(&mut self, bytes: usize) -> Result<(), StructureError> {
        self.shape.copied_bytes = self.shape.copied_bytes.saturating_add(bytes);
        if self.shape.copied_bytes > self.copy_limit {
            return Err(StructureError::TooCostly {
                limit: self.copy_limit,
            });
        }
        Ok(())
    }
}

/// mail-parser's classification of a part (its private `mime_type`), reduced to what
/// matters for nesting.
fn kind_of(content_type: Option<&ContentType<'_>>, in_digest: bool) -> Kind {
    match content_type {
        Some(ct) => match ct.ctype() {
            "multipart" => Kind::Multipart {
                digest: ct.subtype() == Some("digest"),
            },
            "message" if matches!(ct.subtype(), Some("rfc822" | "global")) => Kind::Message,
            _ => Kind::Leaf,
        },
        None if in_digest => Kind::Message,
        None => Kind::Leaf,
    }
}

fn transfer_encoding(headers: &Vec<Header<'_>>) -> TransferEncoding {
    match headers.header_value(&HeaderName::ContentTransferEncoding) {
        Some(HeaderValue::Text(value)) if value.eq_ignore_ascii_case("base64") => {
            TransferEncoding::Base64
        }
        Some(HeaderValue::Text(value)) if value.eq_ignore_ascii_case("quoted-printable") => {
            TransferEncoding::QuotedPrintable
        }
        _ => TransferEncoding::Identity,
    }
}
