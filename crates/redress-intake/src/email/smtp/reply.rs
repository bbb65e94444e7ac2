//! SMTP replies, each with its enhanced status code (RFC 3463).

use std::fmt::Display;

use smtp_proto::Response;

use crate::email::mime::MimeError;
use crate::email::pipeline::{Delivered, IntakeError};
use crate::email::structure::StructureError;

/// Appends one reply line to `out`.
pub fn write(out: &mut Vec<u8>, code: u16, esc: [u8; 3], message: impl Display) {
    // Writing into a Vec cannot fail.
    let _ = Response::new(code, esc[0], esc[1], esc[2], message).write(out);
}

/// The reply to a completed DATA: 250 only for what is committed.
pub fn for_delivery(out: &mut Vec<u8>, result: &Result<Delivered, IntakeError>) {
    match result {
        Ok(Delivered::Filed { reference, .. }) => {
            write(
                out,
                250,
                [2, 0, 0],
                format_args!("accepted as appeal {reference}"),
            );
        }
        Ok(Delivered::Threaded { reference, .. }) => {
            write(
                out,
                250,
                [2, 0, 0],
                format_args!("added to appeal {reference}"),
            );
        }
        Ok(Delivered::Duplicate { .. }) => {
            write(out, 250, [2, 0, 0], "already received");
        }
        Ok(Delivered::Recorded { classification }) => {
            write(
                out,
                250,
                [2, 0, 0],
                format_args!("recorded ({})", classification.as_str()),
            );
        }
        Err(IntakeError::Malformed(MimeError::Structure(
            reason @ StructureError::TooDeep { .. },
        ))) => {
            write(out, 554, [5, 6, 0], format_args!("rejected: {reason}"));
        }
        Err(IntakeError::Malformed(MimeError::Structure(
            reason @ StructureError::TooCostly { .. },
        ))) => {
            write(out, 552, [5, 3, 4], format_args!("rejected: {reason}"));
        }
        Err(IntakeError::Malformed(reason)) => {
            write(out, 550, [5, 6, 0], format_args!("rejected: {reason}"));
        }
        Err(IntakeError::TooLarge { limit, .. }) => {
            write(
                out,
                552,
                [5, 3, 4],
                format_args!("message exceeds the limit of {limit} bytes"),
            );
        }
        Err(IntakeError::Unavailable(_)) => {
            write(
                out,
                451,
                [4, 3, 0],
                "temporarily unable to store the message, try again later",
            );
        }
        Err(IntakeError::Refused(reason)) => {
            write(out, 554, [5, 6, 0], format_args!("refused: {reason}"));
        }
    }
}
