//! Messages built to hurt a parser: nesting far past any limit, decoding bombs, NULs.

use std::fmt::Write as _;

use base64::Engine as _;

/// The stack a test gives the parser: smaller than a tokio worker's 2 MiB, so a message
/// that could overflow a worker overflows here first and aborts the test run.
pub const PARSER_STACK_BYTES: usize = 512 * 1024;

/// Runs `f` on a thread with [`PARSER_STACK_BYTES`] of stack.
pub fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .name("small-stack".into())
        .stack_size(PARSER_STACK_BYTES)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("no panic")
}

fn head(from: &str, message_id: &str) -> String {
    format!(
        "From: {from}\r\nTo: appeals@redress.test\r\nSubject: nested\r\nMessage-ID: {message_id}\r\nMIME-Version: 1.0\r\n"
    )
}

/// An appeal whose body is a `message/rfc822` holding another, `depth` times over.
pub fn nested_messages(depth: usize, message_id: &str) -> Vec<u8> {
    let mut raw = head("Nesting <nest@example.org>", message_id);
    raw.push_str("Content-Type: message/rfc822\r\n\r\n");
    for _ in 1..depth {
        raw.push_str("From: inner@example.org\r\nContent-Type: message/rfc822\r\n\r\n");
    }
    raw.push_str("From: inner@example.org\r\nSubject: the bottom\r\n\r\nhello\r\n");
    raw.into_bytes()
}

/// `multipart/mixed` parts inside each other, `depth` deep.
pub fn nested_multiparts(depth: usize, message_id: &str) -> Vec<u8> {
    let mut raw = head("Nesting <nest@example.org>", message_id);
    for level in 0..depth {
        let _ = write!(
            raw,
            "Content-Type: multipart/mixed; boundary=\"b{level}\"\r\n\r\n--b{level}\r\n"
        );
    }
    raw.push_str("Content-Type: text/plain\r\n\r\nhello\r\n");
    for level in (0..depth).rev() {
        let _ = write!(raw, "--b{level}--\r\n");
    }
    raw.into_bytes()
}

/// A `multipart/digest` (whose parts are messages by default) in each message, `depth`
/// deep.
pub fn nested_digests(depth: usize, message_id: &str) -> Vec<u8> {
    let mut raw = head("Nesting <nest@example.org>", message_id);
    for level in 0..depth {
        let _ = write!(
            raw,
            "Content-Type: multipart/digest; boundary=\"d{level}\"\r\n\r\n--d{level}\r\n\r\n"
        );
    }
    raw.push_str("Subject: the bottom\r\n\r\nhello\r\n");
    for level in (0..depth).rev() {
        let _ = write!(raw, "--d{level}--\r\n");
    }
    raw.into_bytes()
}

/// A base64 `message/rfc822` attachment whose decoded body holds `depth` nested messages:
/// invisible to anything that reads only the raw bytes.
pub fn encoded_nested_messages(depth: usize, message_id: &str) -> Vec<u8> {
    let inner = nested_messages(depth, "<inner@example.org>");
    attached_base64(&inner, message_id)
}

/// A base64 `message/rfc822` attachment whose decoded body is a multipart of `count`
/// small sibling messages: mail-parser copies the decoded body once per sibling.
pub fn encoded_sibling_messages(count: usize, message_id: &str) -> Vec<u8> {
    let mut inner = String::from(
        "From: inner@example.org\r\nContent-Type: multipart/mixed; boundary=\"s\"\r\n\r\n",
    );
    for _ in 0..count {
        inner.push_str(
            "--s\r\nContent-Type: message/rfc822\r\n\r\nFrom: x@example.org\r\n\r\nhi\r\n",
        );
    }
    inner.push_str("--s--\r\n");
    attached_base64(inner.as_bytes(), message_id)
}

fn attached_base64(inner: &[u8], message_id: &str) -> Vec<u8> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(inner);
    let mut raw = head("Forwarding <fwd@example.org>", message_id);
    raw.push_str("Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n");
    raw.push_str(
        "--outer\r\nContent-Type: text/plain\r\n\r\nPlease look at the attached mail.\r\n",
    );
    raw.push_str(
        "--outer\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n",
    );
    for line in encoded.as_bytes().chunks(76) {
        raw.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        raw.push_str("\r\n");
    }
    raw.push_str("--outer--\r\n");
    raw.into_bytes()
}
