//! STARTTLS with a certificate from PEM files: advertised, negotiated by lettre, and the
//! message filed as over plain SMTP.

mod common;

use common::{corpus, intake, RawClient};
use lettre::address::Envelope;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use redress_intake::email::smtp::{tls, SmtpServer};
use std::net::SocketAddr;
use tokio::sync::watch;

fn certificate_files(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let generated =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, generated.cert.pem()).expect("write cert");
    std::fs::write(&key, generated.signing_key.serialize_pem()).expect("write key");
    (cert, key)
}

redress_engine::backend_tests! {
    async fn lettre_upgrades_with_starttls_and_the_message_is_filed(test) {
        let clock = common::clock();
        let dir = tempfile::tempdir().expect("tempdir");
        let (cert, key) = certificate_files(dir.path());
        let acceptor = tls::acceptor(&cert, &key).expect("acceptor");
        let server = SmtpServer::bind(SocketAddr::from(([127, 0, 0, 1], 0)), intake(&test.db, &clock), "localhost", Some(acceptor))
            .await
            .expect("bind");
        let addr = server.local_addr().expect("addr");
        let (stop, stopped) = watch::channel(false);
        let serving = tokio::spawn(server.run(stopped));

        let mut raw = RawClient::connect(addr).await;
        let ehlo = raw.command("EHLO c").await;
        assert!(ehlo.lines.iter().any(|l| l == "STARTTLS"), "{ehlo:?}");
        assert_eq!(raw.command("STARTTLS").await.code, 220);
        drop(raw);

        let tls = TlsParameters::builder("localhost".to_owned())
            .dangerous_accept_invalid_certs(true)
            .build_rustls()
            .expect("tls parameters");
        let client = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
            .port(addr.port())
            .tls(Tls::Required(tls))
            .build();
        let envelope = Envelope::new(
            Some("maria.lopez@example.org".parse().expect("from")),
            vec!["appeals@redress.test".parse().expect("to")],
        )
        .expect("envelope");
        let response = client.send_raw(&envelope, &corpus("gmail_multipart.eml")).await.expect("sent over TLS");
        assert!(response.is_positive());
        assert_eq!(common::appeal_count(&test.db).await, 1);
        stop.send_replace(true);
        serving.await.expect("join").expect("serve");
        test.cleanup().await;
    }
}

#[test]
fn unreadable_certificate_files_are_named_in_the_error() {
    let Err(error) = tls::acceptor(
        std::path::Path::new("/nonexistent/cert.pem"),
        std::path::Path::new("/nonexistent/key.pem"),
    ) else {
        panic!("missing files cannot make an acceptor");
    };
    assert!(
        error.to_string().contains("/nonexistent/cert.pem"),
        "{error}"
    );
}
