//! Nothing accepted is lost and nothing is accepted twice: 250 comes only after the commit,
//! a database failure answers 451, and a server killed between DATA and the commit leaves
//! the sender without a 250, so its retry files exactly one appeal.

mod common;

use std::time::Duration;

use common::{corpus, intake, start_smtp, RawClient};
use redress_engine::testing::Backend;
use sea_orm::{ConnectionTrait, TransactionTrait};

const SENDER: &str = "francoise@example.fr";
const RECIPIENT: &str = "appeals@redress.test";

/// Waits until a PostgreSQL session is blocked on a lock, i.e. the server is inside the
/// commit path; SQLite has no such view, where the blocked reply below shows the same.
async fn wait_for_blocked_query(db: &sea_orm::DatabaseConnection, backend: Backend) {
    if backend != Backend::Postgres {
        return;
    }
    for _ in 0..300 {
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT count(*) AS waiting FROM pg_stat_activity WHERE wait_event_type = 'Lock'",
            ))
            .await
            .expect("pg_stat_activity")
            .expect("a row");
        let waiting: i64 = row.try_get("", "waiting").expect("count");
        if waiting > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the intake never reached the database");
}

redress_engine::backend_tests! {
    async fn a_database_failure_answers_451_and_the_retry_is_filed_once(test) {
        let clock = common::clock();
        let smtp = start_smtp(intake(&test.db, &clock)).await;
        let mut client = RawClient::connect(smtp.addr).await;
        client.command("EHLO c").await;
        test.db.execute_unprepared("ALTER TABLE messages RENAME TO messages_unavailable").await.expect("break");
        let reply = client.send_mail(SENDER, RECIPIENT, &corpus("iso_8859_1_8bit.eml")).await;
        assert_eq!(reply.code, 451, "{reply:?}");
        test.db.execute_unprepared("ALTER TABLE messages_unavailable RENAME TO messages").await.expect("repair");
        assert_eq!(common::appeal_count(&test.db).await, 0, "the failed attempt left nothing");

        let retry = client.send_mail(SENDER, RECIPIENT, &corpus("iso_8859_1_8bit.eml")).await;
        assert_eq!(retry.code, 250, "same session, retried: {retry:?}");
        assert!(retry.text().starts_with("accepted as appeal"), "{retry:?}");
        assert_eq!(common::appeal_count(&test.db).await, 1);
        smtp.shutdown().await;
        test.cleanup().await;
    }

    async fn a_server_killed_between_data_and_commit_gives_no_250_and_the_retry_files_once(test) {
        let clock = common::clock();
        let smtp = start_smtp(intake(&test.db, &clock)).await;
        let mut client = RawClient::connect(smtp.addr).await;
        client.command("EHLO c").await;

        // Hold the database so the server cannot commit: the only SQLite connection, or an
        // exclusive lock on the PostgreSQL messages table.
        #[allow(clippy::disallowed_methods, reason = "the test holds a transaction open to block the server's commit")]
        let blocker = test.db.begin().await.expect("begin");
        if test.backend == Backend::Postgres {
            blocker.execute_unprepared("LOCK TABLE messages IN ACCESS EXCLUSIVE MODE").await.expect("lock");
        }
        assert_eq!(client.command(&format!("MAIL FROM:<{SENDER}>")).await.code, 250);
        assert_eq!(client.command(&format!("RCPT TO:<{RECIPIENT}>")).await.code, 250);
        assert_eq!(client.command("DATA").await.code, 354);
        client.send(common::dot_stuffed(&corpus("iso_8859_1_8bit.eml"))).await;
        wait_for_blocked_query(&test.db, test.backend).await;
        assert!(
            tokio::time::timeout(Duration::from_millis(300), client.reply()).await.is_err(),
            "no reply while the commit cannot happen"
        );

        smtp.task.abort();
        assert!(smtp.task.await.expect_err("killed").is_cancelled());
        assert_eq!(client.reply().await, None, "the connection drops without a 250");
        blocker.rollback().await.expect("release");
        assert_eq!(common::appeal_count(&test.db).await, 0);

        let restarted = start_smtp(intake(&test.db, &clock)).await;
        let mut client = RawClient::connect(restarted.addr).await;
        client.command("EHLO c").await;
        let retry = client.send_mail(SENDER, RECIPIENT, &corpus("iso_8859_1_8bit.eml")).await;
        assert_eq!(retry.code, 250, "{retry:?}");
        assert!(retry.text().starts_with("accepted as appeal"), "a first commit, not a duplicate: {retry:?}");
        let again = client.send_mail(SENDER, RECIPIENT, &corpus("iso_8859_1_8bit.eml")).await;
        assert_eq!(again.text(), "already received");
        assert_eq!(common::appeal_count(&test.db).await, 1);
        restarted.shutdown().await;
        test.cleanup().await;
    }
}
