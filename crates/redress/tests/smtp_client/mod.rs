//! Mail handed to the service's SMTP listener as a sending mail server hands it over, to
//! the address the tests' service takes appeals at.

use std::net::SocketAddr;

use lettre::address::Envelope;
use lettre::transport::smtp::Error;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

/// Sends `raw` from `sender`; the server's answer to the data, its lines joined, or the
/// error a refusal comes back as.
pub async fn try_send(smtp: SocketAddr, sender: &str, raw: &[u8]) -> Result<String, Error> {
    let envelope = Envelope::new(
        Some(sender.parse().expect("from")),
        vec!["appeals@redress.test".parse().expect("to")],
    )
    .expect("envelope");
    let client = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.ip().to_string())
        .port(smtp.port())
        .build();
    let response = client.send_raw(&envelope, raw).await?;
    Ok(response.message().collect::<Vec<_>>().join(" "))
}

/// Sends `raw` from `sender`, which the server must accept; returns its answer, such as
/// `accepted as appeal RDR-...`.
pub async fn send(smtp: SocketAddr, sender: &str, raw: &[u8]) -> String {
    try_send(smtp, sender, raw).await.expect("accepted")
}

/// The last word of an answer: the reference in `accepted as appeal RDR-...`.
pub fn reference_in(answer: &str) -> &str {
    answer.rsplit(' ').next().expect("reference")
}
