//! An SMTP relay stand-in on loopback, shared by the mail tests.

use std::net::SocketAddr;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// An SMTP relay on loopback that keeps what it receives and answers RCPT with `rcpt_reply`.
pub async fn relay(rcpt_reply: &'static str) -> (SocketAddr, tokio::task::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.expect("accept");
        let mut stream = BufReader::new(stream);
        let mut data = Vec::new();
        stream
            .get_mut()
            .write_all(b"220 relay.test ESMTP\r\n")
            .await
            .expect("greet");
        let mut in_data = false;
        loop {
            let mut line = String::new();
            if stream.read_line(&mut line).await.expect("read") == 0 {
                return data;
            }
            if in_data {
                if line == ".\r\n" {
                    in_data = false;
                    stream
                        .get_mut()
                        .write_all(b"250 2.0.0 queued\r\n")
                        .await
                        .expect("write");
                } else {
                    data.extend_from_slice(line.as_bytes());
                }
                continue;
            }
            let verb = line.get(..4).unwrap_or_default().to_ascii_uppercase();
            let reply: &[u8] = match verb.as_str() {
                "EHLO" => b"250-relay.test\r\n250 8BITMIME\r\n",
                "RCPT" => rcpt_reply.as_bytes(),
                "DATA" => {
                    in_data = true;
                    b"354 go ahead\r\n"
                }
                "QUIT" => {
                    stream
                        .get_mut()
                        .write_all(b"221 bye\r\n")
                        .await
                        .expect("write");
                    return data;
                }
                _ => b"250 ok\r\n",
            };
            stream.get_mut().write_all(reply).await.expect("write");
        }
    });
    (addr, task)
}
