//! Inputs for the mail fuzz tests: arbitrary bytes, MIME trees built from odd headers,
//! boundaries, encodings and text, chains nested far past the limits, and mutations of all
//! of these; SMTP conversations cut into arbitrary chunks.

use base64::Engine as _;
use proptest::prelude::*;

use crate::common::hostile;

/// Header text: the ordinary, the encoded, the broken and the hostile.
fn fragment() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => "[ -~]{0,40}".prop_map(String::into_bytes),
        2 => any::<String>().prop_map(String::into_bytes),
        1 => prop::collection::vec(any::<u8>(), 0..24),
        1 => Just(b"\0".to_vec()),
        1 => "[ -~]{0,20}".prop_map(|text| {
            format!("=?utf-8?b?{}?=", base64::engine::general_purpose::STANDARD.encode(text)).into_bytes()
        }),
        1 => "[a-zA-Z0-9_=]{0,30}".prop_map(|text| format!("=?utf-8?q?{text}?=").into_bytes()),
        1 => prop_oneof![
            Just(b"=?utf-8?q?Name_=3Cuser=40example=2Eorg=3E?=".to_vec()),
            Just(b"=?utf-8?q?=3D=3Futf-8=3Fq=3F=3D3D=3F=3D?=".to_vec()),
            Just(b"=?x-unknown?q?abc?=".to_vec()),
            Just(b"=?utf-8?b?!!!?=".to_vec()),
            Just(b"=?iso-2022-jp?b?GyRCJEgbKEI=?=".to_vec()),
            Just(b"\"quoted \\\" string\"".to_vec()),
            Just(b"<>".to_vec()),
            Just(b"group: a@example.org, b@example.org;".to_vec()),
            Just(b"undisclosed-recipients:;".to_vec()),
        ],
        1 => (1usize..200).prop_map(|depth| {
            let mut comment = vec![b'('; depth];
            comment.extend(std::iter::repeat_n(b')', depth));
            comment
        }),
        1 => (1usize..20_000).prop_map(|len| vec![b'a'; len]),
    ]
}

fn text() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(fragment(), 0..4).prop_map(|parts| parts.concat())
}

fn header_name() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => prop::sample::select(vec![
            "From", "To", "Cc", "Subject", "Message-ID", "In-Reply-To", "References",
            "Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "Return-Path",
            "Authentication-Results", "Auto-Submitted", "Precedence", "MIME-Version", "Date",
            "Received", "X-Autoreply",
        ])
        .prop_map(|name| name.as_bytes().to_vec()),
        1 => "[A-Za-z-]{1,40}".prop_map(String::into_bytes),
        1 => prop::collection::vec(any::<u8>(), 0..8),
    ]
}

fn header() -> impl Strategy<Value = Vec<u8>> {
    (header_name(), text(), prop::bool::weighted(0.1)).prop_map(|(name, value, folded)| {
        let mut line = name;
        line.extend_from_slice(b": ");
        line.extend_from_slice(&value);
        if folded {
            line.extend_from_slice(b"\r\n\tcontinued");
        }
        line.extend_from_slice(b"\r\n");
        line
    })
}

fn from_header() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => Just(b"From: Maria <maria@example.org>\r\n".to_vec()),
        1 => Just(b"From: =?utf-8?q?Name_=3Cuser=40example=2Eorg=3E?=\r\n".to_vec()),
        1 => Just(b"From: =?utf-8?q?no_address?=\r\n".to_vec()),
        1 => Just(b"From: us\0er@example.org\r\n".to_vec()),
        1 => Just(b"From: Ma\0ria <maria@example.org>\r\n".to_vec()),
        1 => Just(b"From: <>\r\n".to_vec()),
        1 => "[a-z0-9]{200,3000}".prop_map(|local| format!("From: <{local}@example.org>\r\n").into_bytes()),
        1 => text().prop_map(|value| [b"From: ".as_slice(), &value, b"\r\n"].concat()),
        1 => Just(Vec::new()),
    ]
}

/// A MIME part as it will be written.
#[derive(Debug, Clone)]
enum Part {
    Leaf {
        headers: Vec<Vec<u8>>,
        body: Vec<u8>,
    },
    Multipart {
        subtype: &'static str,
        boundary: Vec<u8>,
        closed: bool,
        children: Vec<Part>,
    },
    Message {
        encoding: &'static str,
        inner: Box<Part>,
    },
}

fn boundary() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => "[a-zA-Z0-9'()+_,./:=?-]{1,70}".prop_map(String::into_bytes),
        1 => Just(Vec::new()),
        1 => Just(b"--".to_vec()),
        1 => (1usize..5000).prop_map(|len| vec![b'x'; len]),
        1 => prop::collection::vec(any::<u8>(), 1..10),
    ]
}

fn leaf() -> impl Strategy<Value = Part> {
    let content_type = prop::sample::select(vec![
        "text/plain; charset=utf-8",
        "text/plain; charset=iso-8859-1",
        "text/plain; charset=utf-16",
        "text/plain; charset=x-unknown",
        "text/html",
        "application/pdf; name=\"a.pdf\"",
        "image/png",
        "message/rfc822",
        "message/delivery-status",
        "multipart/mixed",
    ]);
    let encoding =
        prop::sample::select(vec!["", "base64", "quoted-printable", "7bit", "x-uuencode"]);
    (
        content_type,
        encoding,
        prop::collection::vec(header(), 0..3),
        prop::collection::vec(fragment(), 0..6),
    )
        .prop_map(|(content_type, encoding, mut headers, body)| {
            headers.push(format!("Content-Type: {content_type}\r\n").into_bytes());
            if !encoding.is_empty() {
                headers.push(format!("Content-Transfer-Encoding: {encoding}\r\n").into_bytes());
            }
            Part::Leaf {
                headers,
                body: body.join(&b"\r\n"[..]),
            }
        })
}

fn part() -> impl Strategy<Value = Part> {
    leaf().prop_recursive(6, 48, 4, |inner| {
        prop_oneof![
            (
                prop::sample::select(vec!["mixed", "alternative", "related", "digest", "report"]),
                boundary(),
                prop::bool::weighted(0.8),
                prop::collection::vec(inner.clone(), 0..4),
            )
                .prop_map(|(subtype, boundary, closed, children)| Part::Multipart {
                    subtype,
                    boundary,
                    closed,
                    children,
                }),
            (
                prop::sample::select(vec!["", "", "base64", "quoted-printable"]),
                inner,
            )
                .prop_map(|(encoding, inner)| Part::Message {
                    encoding,
                    inner: Box::new(inner),
                }),
        ]
    })
}

fn render(part: &Part, out: &mut Vec<u8>) {
    match part {
        Part::Leaf { headers, body } => {
            for header in headers {
                out.extend_from_slice(header);
            }
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(body);
            out.extend_from_slice(b"\r\n");
        }
        Part::Multipart {
            subtype,
            boundary,
            closed,
            children,
        } => {
            out.extend_from_slice(
                format!("Content-Type: multipart/{subtype}; boundary=\"").as_bytes(),
            );
            out.extend_from_slice(boundary);
            out.extend_from_slice(b"\"\r\n\r\npreamble\r\n");
            for child in children {
                out.extend_from_slice(b"--");
                out.extend_from_slice(boundary);
                out.extend_from_slice(b"\r\n");
                render(child, out);
            }
            if *closed {
                out.extend_from_slice(b"--");
                out.extend_from_slice(boundary);
                out.extend_from_slice(b"--\r\n");
            }
        }
        Part::Message { encoding, inner } => {
            let mut body = b"From: inner@example.org\r\nSubject: inner\r\n".to_vec();
            render(inner, &mut body);
            out.extend_from_slice(b"Content-Type: message/rfc822\r\n");
            match *encoding {
                "base64" => {
                    out.extend_from_slice(b"Content-Transfer-Encoding: base64\r\n\r\n");
                    let encoded = base64::engine::general_purpose::STANDARD.encode(&body);
                    for line in encoded.as_bytes().chunks(76) {
                        out.extend_from_slice(line);
                        out.extend_from_slice(b"\r\n");
                    }
                }
                "quoted-printable" => {
                    out.extend_from_slice(b"Content-Transfer-Encoding: quoted-printable\r\n\r\n");
                    for byte in body {
                        out.extend_from_slice(format!("={byte:02X}").as_bytes());
                    }
                    out.extend_from_slice(b"\r\n");
                }
                _ => {
                    out.extend_from_slice(b"\r\n");
                    out.extend_from_slice(&body);
                }
            }
        }
    }
}

/// A whole message from random headers and a random MIME tree.
fn structured_message() -> impl Strategy<Value = Vec<u8>> {
    (
        from_header(),
        prop::collection::vec(header(), 0..8),
        prop_oneof![
            3 => (0u32..1_000_000).prop_map(|n| Some(format!("<fuzz{n}@example.org>"))),
            1 => Just(None),
            1 => Just(Some("<with\0nul@example.org>".to_owned())),
            // Random, so that PostgreSQL cannot compress it below its index row limit.
            1 => "[a-zA-Z0-9]{900,4000}".prop_map(|id| Some(format!("<{id}@example.org>"))),
        ],
        part(),
    )
        .prop_map(|(from, headers, message_id, body)| {
            let mut raw = from;
            for header in headers {
                raw.extend_from_slice(&header);
            }
            if let Some(id) = message_id {
                raw.extend_from_slice(format!("Message-ID: {id}\r\n").as_bytes());
            }
            raw.extend_from_slice(b"MIME-Version: 1.0\r\n");
            render(&body, &mut raw);
            raw
        })
}

/// Chains nested far past the limit, of each kind, some hidden in base64.
fn deep_chain() -> impl Strategy<Value = Vec<u8>> {
    let depth = prop_oneof![4 => 1usize..400, 1 => 2_000usize..6_000];
    (0usize..4, depth, 0u32..1_000_000).prop_map(|(kind, depth, n)| {
        let id = format!("<chain{n}@example.org>");
        match kind {
            0 => hostile::nested_messages(depth, &id),
            1 => hostile::nested_multiparts(depth, &id),
            2 => hostile::nested_digests(depth, &id),
            _ => hostile::encoded_nested_messages(depth, &id),
        }
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, byte: u8 },
    Insert { at: usize, bytes: Vec<u8> },
    Delete { at: usize, len: usize },
    Truncate { at: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Flip { at, byte }),
        (any::<usize>(), fragment()).prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (any::<usize>(), 0usize..64).prop_map(|(at, len)| Mutation::Delete { at, len }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
    ]
}

fn mutate(mut raw: Vec<u8>, mutations: Vec<Mutation>) -> Vec<u8> {
    for mutation in mutations {
        let len = raw.len().max(1);
        match mutation {
            Mutation::Flip { at, byte } => {
                if let Some(slot) = raw.get_mut(at % len) {
                    *slot = byte;
                }
            }
            Mutation::Insert { at, bytes } => {
                let at = at % (raw.len() + 1);
                raw.splice(at..at, bytes);
            }
            Mutation::Delete { at, len: count } => {
                let at = at % len;
                let end = (at + count).min(raw.len());
                if at < end {
                    raw.drain(at..end);
                }
            }
            Mutation::Truncate { at } => raw.truncate(at % len),
        }
    }
    raw
}

/// Anything a sender could put after DATA.
pub fn raw_message() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        2 => prop::collection::vec(any::<u8>(), 0..2048),
        5 => structured_message(),
        1 => deep_chain(),
        3 => (
            prop_oneof![structured_message(), deep_chain()],
            prop::collection::vec(mutation(), 1..6),
        )
            .prop_map(|(raw, mutations)| mutate(raw, mutations)),
    ]
}

/// The envelope sender as SMTP or a webhook would pass it.
pub fn envelope_from() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some(String::new())),
        Just(Some("maria@example.org".to_owned())),
        Just(Some("se\0nder@example.org".to_owned())),
        any::<String>().prop_map(Some),
    ]
}

/// What goes between the brackets of MAIL FROM.
fn envelope_path() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => Just(b"maria@example.org".to_vec()),
        1 => Just(Vec::new()),
        1 => Just(b"se\0nder@example.org".to_vec()),
        1 => "[ -~]{0,300}".prop_map(String::into_bytes),
        1 => prop::collection::vec(any::<u8>(), 0..40),
    ]
}

/// One step of a client: a command, a message, or noise.
fn client_step() -> impl Strategy<Value = Vec<u8>> {
    let command = prop::sample::select(vec![
        "EHLO client.example.org",
        "HELO client",
        "LHLO client",
        "MAIL FROM:<maria@example.org>",
        "MAIL FROM:<>",
        "MAIL FROM:<a@example.org> SIZE=99999999999",
        "MAIL FROM:<a@example.org> BODY=8BITMIME SMTPUTF8",
        "RCPT TO:<appeals@redress.test>",
        "RCPT TO:<someone@elsewhere.example>",
        "RCPT TO:<>",
        "DATA",
        "BDAT 10 LAST",
        "RSET",
        "NOOP",
        "VRFY postmaster",
        "EXPN list",
        "HELP",
        "STARTTLS",
        "AUTH PLAIN AGFAYg==",
        "QUIT",
    ]);
    prop_oneof![
        6 => command.prop_map(|line| format!("{line}\r\n").into_bytes()),
        4 => (envelope_path(), raw_message()).prop_map(|(from, raw)| {
            let mut transaction = b"MAIL FROM:<".to_vec();
            transaction.extend_from_slice(&from);
            transaction.extend_from_slice(b">\r\nRCPT TO:<appeals@redress.test>\r\nDATA\r\n");
            transaction.extend(crate::common::dot_stuffed(&raw));
            transaction
        }),
        3 => raw_message().prop_map(|raw| crate::common::dot_stuffed(&raw)),
        1 => text().prop_map(|line| [line.as_slice(), b"\r\n"].concat()),
        1 => prop::collection::vec(any::<u8>(), 0..256),
        1 => (1usize..40_000).prop_map(|len| {
            let mut line = b"MAIL FROM:<".to_vec();
            line.extend(std::iter::repeat_n(b'a', len));
            line.extend_from_slice(b"@example.org>\r\n");
            line
        }),
        1 => Just(b"MAIL FROM:<se\0nder@example.org>\r\n".to_vec()),
    ]
}

/// A whole conversation and the sizes it is cut into on the wire.
pub fn conversation() -> impl Strategy<Value = (Vec<u8>, Vec<usize>)> {
    (
        prop::collection::vec(client_step(), 0..12),
        prop::collection::vec(1usize..4096, 1..16),
    )
        .prop_map(|(steps, cuts)| {
            let mut bytes = b"EHLO fuzz.example.org\r\n".to_vec();
            bytes.extend(steps.concat());
            (bytes, cuts)
        })
}
