//! The retention purge of N closed appeals on PostgreSQL while SMTP intake runs: the
//! engine's purge next to the same updates written as plain SQL, and the committed SMTP
//! messages per second during each next to SMTP intake alone.
//!
//! `cargo bench -p redress-intake --bench retention_purge -- [N] [BATCH] [CONNECTIONS]`
//! (defaults 1,000,000 appeals a side, batches of 500, 8 SMTP connections).
//!
//! One appeal is filed through the SMTP listener (a multipart message with an attachment),
//! withdrawn with a reason, given a staff note, then put under legal hold; the 2N closed
//! appeals are its copies, made by set-based SQL (`INSERT ... SELECT ... FROM
//! generate_series`) table by table, with their own ids, references, senders, contacts,
//! metadata and status tokens, closed 800 days before and up to N seconds more. N in
//! queue `plain`, purged by plain SQL; N in queue `engine`, purged by `Engine::purge_due`.
//! Before the purges, intake alone is also measured with the schema's purge re-arm
//! triggers disabled, then enabled again, for what they cost it. The seeding is not timed;
//! the tables' non-unique indexes are dropped for it and built again from their
//! definitions before anything is measured. PostgreSQL is taken from
//! `REDRESS_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`); the benchmark needs it.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redress_core::{Actor, Command, Role};
use redress_engine::privacy::{RetentionSettings, MARKER};
use redress_engine::testing::TestDb;
use redress_engine::{Engine, EngineSettings, MessageIdSigner, SystemClock};
use redress_intake::email::smtp::SmtpServer;
use redress_intake::email::{EmailIntake, EmailIntakeSettings};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait, TryGetable,
};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::watch;
use uuid::Uuid;

const BACKEND: DbBackend = DbBackend::Postgres;
const SIDES: [&str; 2] = ["plain", "engine"];

/// An appeal as it arrives by mail: a text part and a screenshot attached.
fn message(i: usize) -> Vec<u8> {
    format!(
        "From: Person {i} <user{i}@example.org>\r\nTo: appeals@redress.test\r\n\
         Subject: My account was deactivated\r\nMessage-ID: <purge-bench-{i}-{}@mail.example.org>\r\n\
         Date: Tue, 24 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n\
         --b\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=\"screenshot.png\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk\r\n\
         --b--\r\n",
        Uuid::now_v7().simple(),
        "I only saved a pin of a painting; please restore my account. ".repeat(16)
    )
    .into_bytes()
}

async fn expect_code(reader: &mut BufReader<TcpStream>, code: &str) {
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).await.expect("read reply");
        assert!(line.starts_with(code), "expected {code}, got {line:?}");
        if line.as_bytes().get(3) != Some(&b'-') {
            return;
        }
    }
}

async fn write(reader: &mut BufReader<TcpStream>, bytes: &[u8]) {
    reader.get_mut().write_all(bytes).await.expect("write");
}

/// One SMTP connection sending messages, each waiting for its 250 (which comes after the
/// commit), until `limit` messages are counted in `sent` or `stop` is set.
async fn client(addr: SocketAddr, sent: Arc<AtomicUsize>, limit: usize, stop: Arc<AtomicBool>) {
    let stream = TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let mut reader = BufReader::new(stream);
    expect_code(&mut reader, "220").await;
    write(&mut reader, b"EHLO bench\r\n").await;
    expect_code(&mut reader, "250").await;
    while !stop.load(Ordering::Relaxed) {
        let i = sent.fetch_add(1, Ordering::Relaxed);
        if i >= limit {
            break;
        }
        write(
            &mut reader,
            format!("MAIL FROM:<user{i}@example.org>\r\n").as_bytes(),
        )
        .await;
        expect_code(&mut reader, "250").await;
        write(&mut reader, b"RCPT TO:<appeals@redress.test>\r\n").await;
        expect_code(&mut reader, "250").await;
        write(&mut reader, b"DATA\r\n").await;
        expect_code(&mut reader, "354").await;
        let mut data = message(i);
        data.extend_from_slice(b".\r\n");
        write(&mut reader, &data).await;
        expect_code(&mut reader, "250").await;
    }
    write(&mut reader, b"QUIT\r\n").await;
}

/// SMTP intake on `connections` connections: `limit` messages, or until stopped.
struct Intake {
    stop: Arc<AtomicBool>,
    started: Instant,
    sent: Arc<AtomicUsize>,
    limit: usize,
    clients: Vec<tokio::task::JoinHandle<()>>,
}

impl Intake {
    fn start(addr: SocketAddr, connections: usize, limit: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicUsize::new(0));
        let clients = (0..connections)
            .map(|_| tokio::spawn(client(addr, sent.clone(), limit, stop.clone())))
            .collect();
        Self {
            stop,
            started: Instant::now(),
            sent,
            limit,
            clients,
        }
    }

    /// Stops it after the messages under way; the committed messages and their time.
    async fn finish(self) -> (usize, Duration) {
        self.stop.store(true, Ordering::Relaxed);
        self.complete().await
    }

    /// Waits for its `limit` messages; the committed messages and their time.
    async fn complete(self) -> (usize, Duration) {
        for client in self.clients {
            client.await.expect("client");
        }
        let sent = self.sent.load(Ordering::Relaxed).min(self.limit);
        (sent, self.started.elapsed())
    }
}

async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(BACKEND, sql))
        .await
        .expect(sql)
        .expect("a row")
        .try_get_by_index(0)
        .expect("a number")
}

/// The rows of `sql` as pairs of their first two columns.
async fn pairs<A: TryGetable, B: TryGetable>(db: &DatabaseConnection, sql: &str) -> Vec<(A, B)> {
    db.query_all_raw(Statement::from_string(BACKEND, sql))
        .await
        .expect(sql)
        .iter()
        .map(|row| {
            (
                row.try_get_by_index(0).expect("first column"),
                row.try_get_by_index(1).expect("second column"),
            )
        })
        .collect()
}

async fn run(db: &DatabaseConnection, sql: &str) {
    db.execute_unprepared(sql).await.expect(sql);
}

/// The id of the appeal numbered `g` (SQL) of side `side`: time-ordered like the engine's
/// UUIDv7 ids, from `base_ms`, the plain side's before the engine's.
fn appeal_id(side: usize, n: usize, base_ms: i64) -> String {
    let first = base_ms + (side * n) as i64;
    format!(
        "(lpad(to_hex({first} + g), 12, '0') || '7000' || '8{side}00' || lpad(to_hex(g), 12, '0'))::uuid"
    )
}

/// The copies of the template's rows of `table`: every column as the template's, but for
/// `overrides` (column, SQL over the template row `t` and the copy's number `g`).
async fn copy_rows(
    db: &DatabaseConnection,
    table: &str,
    appeal_column: &str,
    template: Uuid,
    n: usize,
    overrides: &[(&str, String)],
) {
    let columns: Vec<String> = db
        .query_all_raw(Statement::from_sql_and_values(
            BACKEND,
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 AND is_generated = 'NEVER' \
             ORDER BY ordinal_position",
            [table.into()],
        ))
        .await
        .expect("columns")
        .iter()
        .map(|row| row.try_get_by_index(0).expect("name"))
        .collect();
    let values: Vec<String> = columns
        .iter()
        .map(|column| {
            overrides
                .iter()
                .find(|(name, _)| name == column)
                .map_or_else(|| format!("t.{column}"), |(_, value)| value.clone())
        })
        .collect();
    run(
        db,
        &format!(
            "INSERT INTO {table} ({}) SELECT {} FROM {table} t CROSS JOIN generate_series(1, {n}) AS g \
             WHERE t.{appeal_column} = '{template}'",
            columns.join(", "),
            values.join(", ")
        ),
    )
    .await;
}

/// 2N copies of the closed `template`, N a side.
#[allow(
    clippy::disallowed_methods,
    reason = "the benchmark arranges rows without the engine"
)]
async fn seed(db: &DatabaseConnection, template: Uuid, n: usize) {
    // The copies go in faster without the tables' plain indexes, which are built again
    // afterwards exactly as the schema defines them; unique ones stay and check the copies.
    let indexes: Vec<(String, String)> = pairs(
        db,
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i \
         WHERE i.indrelid::regclass::text IN \
             ('appeals', 'messages', 'appeal_events', 'appeal_status_tokens', 'outbox', 'audit_log') \
           AND NOT i.indisunique \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
    )
    .await;
    for (name, _) in &indexes {
        run(db, &format!("DROP INDEX {name}")).await;
    }
    let base_ms = scalar(
        db,
        "SELECT (extract(epoch FROM now() - interval '830 days') * 1000)::bigint",
    )
    .await;
    for (side, queue) in SIDES.iter().enumerate() {
        let id = appeal_id(side, n, base_ms);
        let person = format!("'{queue}' || g || '@example.org'");
        let closed = "now() - interval '800 days' - g * interval '1 second'";
        copy_rows(
            db,
            "appeals",
            "id",
            template,
            n,
            &[
                ("id", id.clone()),
                ("reference", format!("'P-{side}-' || g")),
                ("queue", format!("'{queue}'")),
                ("contact", person.clone()),
                ("legal_hold", "false".to_owned()),
                ("filed_at", format!("{closed} - interval '3 days'")),
                ("sla_started_at", format!("{closed} - interval '3 days'")),
                ("updated_at", closed.to_owned()),
            ],
        )
        .await;
        copy_rows(
            db,
            "messages",
            "appeal_id",
            template,
            n,
            &[
                ("id", format!("md5(t.id::text || '{side}-' || g)::uuid")),
                ("appeal_id", id.clone()),
                (
                    "channel_message_id",
                    format!(
                        "CASE WHEN t.channel_message_id IS NULL THEN NULL \
                         ELSE '<seed-{queue}-' || g || '-' || left(t.id::text, 8) || '@mail.example.org>' END"
                    ),
                ),
                ("sender", person.clone()),
                ("body", "t.body || ' ' || g".to_owned()),
                (
                    "metadata",
                    format!(
                        "t.metadata || jsonb_build_object('envelope_from', {person}, \
                         'from_name', 'Person ' || g, 'recipients', jsonb_build_array('appeals@redress.test'))"
                    ),
                ),
                ("received_at", format!("{closed} - interval '3 days'")),
            ],
        )
        .await;
        copy_rows(
            db,
            "appeal_events",
            "appeal_id",
            template,
            n,
            &[
                ("appeal_id", id.clone()),
                (
                    "actor_id",
                    format!(
                        "CASE WHEN t.actor_kind = 'appellant' THEN {person} ELSE t.actor_id END"
                    ),
                ),
            ],
        )
        .await;
        copy_rows(
            db,
            "appeal_status_tokens",
            "appeal_id",
            template,
            n,
            &[
                ("appeal_id", id.clone()),
                ("token_hash", format!("md5('{queue}' || g)")),
            ],
        )
        .await;
        copy_rows(
            db,
            "outbox",
            "appeal_id",
            template,
            n,
            &[
                ("id", format!("md5(t.id::text || '{side}-' || g)::uuid")),
                ("appeal_id", id.clone()),
                (
                    "idempotency_key",
                    format!("replace(t.idempotency_key, t.appeal_id::text, ({id})::text)"),
                ),
                ("status", "'delivered'".to_owned()),
            ],
        )
        .await;
        copy_rows(
            db,
            "audit_log",
            "appeal_id",
            template,
            n,
            &[
                ("id", format!("md5(t.id::text || '{side}-' || g)::uuid")),
                ("appeal_id", id),
            ],
        )
        .await;
    }
    for (_, definition) in &indexes {
        run(db, definition).await;
    }
    run(db, "VACUUM ANALYZE").await;
    run(db, "CHECKPOINT").await;
}

/// Files the template through SMTP, closes it, adds a staff note and holds it.
#[allow(
    clippy::disallowed_methods,
    reason = "the note is added without the engine, as nothing else writes one here"
)]
async fn template(engine: &Engine, addr: SocketAddr) -> Uuid {
    Intake::start(addr, 1, 1).complete().await;
    let db = engine.db();
    let row = db
        .query_one_raw(Statement::from_string(
            BACKEND,
            "SELECT appeal_id FROM messages WHERE appeal_id IS NOT NULL",
        ))
        .await
        .expect("template")
        .expect("the template was filed");
    let id: Uuid = row.try_get_by_index(0).expect("id");
    let staff = Actor::staff("ada", [Role::Admin]);
    engine
        .apply(
            id,
            None,
            &Command::Withdraw {
                reason: "the appellant wrote that Jo Example will call instead".into(),
            },
            &staff,
        )
        .await
        .expect("withdraw");
    run(
        db,
        "INSERT INTO appeal_events (appeal_id, version, kind, actor_kind, actor_id, payload, occurred_at) \
         SELECT id, version + 1, 'note_added', 'staff', 'ada', jsonb_build_object( \
           'kind', jsonb_build_object('type', 'note_added', 'text', 'Jo Example rang from 0207 946 0000'), \
           'actor', jsonb_build_object('kind', 'staff', 'subject', 'ada', 'roles', jsonb_build_array('admin')), \
           'at', now()), now() FROM appeals",
    )
    .await;
    run(db, "UPDATE appeals SET version = version + 1").await;
    engine
        .set_legal_hold(&staff, id, true, "the template the copies are made of")
        .await
        .expect("hold");
    id
}

/// The purge's updates, set-based, per batch of the same size in one transaction each.
#[allow(
    clippy::disallowed_methods,
    reason = "the plain-SQL baseline writes without the engine"
)]
async fn plain_sql(db: &DatabaseConnection, batch: u64, last: Uuid) -> (Duration, usize) {
    let statements = [
        "UPDATE messages SET body = '[removed]', subject = CASE WHEN subject IS NULL THEN NULL ELSE '[removed]' END, \
         sender = '[removed]', recipient = CASE WHEN recipient IS NULL THEN NULL ELSE '[removed]' END, in_reply_to = NULL, \
         metadata = metadata - ARRAY['from_name', 'envelope_from', 'recipients', 'references', 'identity', \
           'claimed_account', 'thread', 'from_source', 'attachments', 'attachments_omitted'] \
         WHERE appeal_id = ANY($1)",
        "UPDATE appeals SET contact = NULL, purged_kinds = 63 WHERE id = ANY($1)",
        "DELETE FROM handle_confirmations WHERE appeal_id = ANY($1)",
        "DELETE FROM outbox WHERE appeal_id = ANY($1) AND status <> 'pending' AND topic <> 'request_restoration'",
        "DELETE FROM appeal_status_tokens WHERE appeal_id = ANY($1)",
        "UPDATE appeal_events SET payload = jsonb_set(payload, \
           ARRAY['kind', CASE kind WHEN 'note_added' THEN 'text' ELSE 'reason' END], '\"[removed]\"') \
         WHERE appeal_id = ANY($1) AND kind IN ('note_added', 'withdrawn')",
        "UPDATE appeal_events SET actor_id = '[removed]', payload = CASE \
           WHEN jsonb_typeof(payload #> '{actor,identity}') = 'string' \
           THEN jsonb_set(payload, '{actor,identity}', '\"[removed]\"') ELSE payload END \
         WHERE appeal_id = ANY($1) AND actor_kind = 'appellant'",
        "UPDATE audit_log SET details = '{\"removed\": \"[removed]\"}' WHERE appeal_id = ANY($1)",
    ];
    let start = Instant::now();
    let mut done = 0;
    let mut after = Uuid::nil();
    loop {
        let txn = db.begin().await.expect("begin");
        let ids: Vec<Uuid> = txn
            .query_all_raw(Statement::from_sql_and_values(
                BACKEND,
                "SELECT id FROM appeals WHERE id > $1 AND id <= $2 AND queue = 'plain' \
                 ORDER BY id LIMIT $3 FOR UPDATE",
                [after.into(), last.into(), (batch as i64).into()],
            ))
            .await
            .expect("batch")
            .iter()
            .map(|r| r.try_get_by_index(0).expect("id"))
            .collect();
        let Some(next) = ids.last().copied() else {
            txn.commit().await.expect("commit");
            break;
        };
        for sql in statements {
            txn.execute_raw(Statement::from_sql_and_values(
                BACKEND,
                sql,
                [ids.clone().into()],
            ))
            .await
            .expect(sql);
        }
        txn.commit().await.expect("commit");
        done += ids.len();
        after = next;
    }
    (start.elapsed(), done)
}

/// What is left of each side, as (what, how many rows) pairs: both sides must read alike.
async fn remains(db: &DatabaseConnection, queue: &str) -> Vec<(String, i64)> {
    let side = format!("SELECT id FROM appeals WHERE queue = '{queue}'");
    let sql = format!(
        "SELECT 'appeal ' || coalesce(contact, '-') || ' ' || purged_kinds, count(*) FROM appeals WHERE queue = '{queue}' GROUP BY 1 \
         UNION ALL SELECT 'message ' || body || ' ' || sender || ' ' || coalesce(subject, '-') || ' ' || metadata::text, count(*) \
           FROM messages WHERE appeal_id IN ({side}) GROUP BY 1 \
         UNION ALL SELECT 'event ' || kind || ' ' || actor_id || ' ' || payload::text, count(*) \
           FROM appeal_events WHERE appeal_id IN ({side}) GROUP BY 1 \
         UNION ALL SELECT 'token', count(*) FROM appeal_status_tokens WHERE appeal_id IN ({side}) \
         UNION ALL SELECT 'outbox ' || topic || ' ' || status, count(*) FROM outbox WHERE appeal_id IN ({side}) GROUP BY 1 \
         UNION ALL SELECT 'audit ' || action || ' ' || details::text, count(*) FROM audit_log WHERE appeal_id IN ({side}) GROUP BY 1 \
         ORDER BY 1"
    );
    let mut rows: Vec<(String, i64)> = pairs(db, &sql).await;
    rows.retain(|(_, count)| *count > 0);
    rows
}

/// The schema's triggers that re-arm the purge when personal data comes after it.
async fn rearm_triggers(db: &DatabaseConnection) -> Vec<(String, String)> {
    pairs(
        db,
        "SELECT tgrelid::regclass::text, tgname::text FROM pg_trigger \
         WHERE NOT tgisinternal AND tgname LIKE 'purge\\_rearm%' \
           AND tgrelid::regclass::text NOT LIKE '%.%' ORDER BY 1, 2",
    )
    .await
}

/// SMTP intake alone without the re-arm triggers, then with them again: what they cost
/// intake, against the rate with them measured just before (`rate_alone`).
async fn rearm_cost(
    db: &DatabaseConnection,
    addr: SocketAddr,
    connections: usize,
    messages: usize,
    rate_alone: f64,
) {
    let triggers = rearm_triggers(db).await;
    assert!(
        !triggers.is_empty(),
        "the schema re-arms the purge with triggers"
    );
    for (table, trigger) in &triggers {
        run(
            db,
            &format!("ALTER TABLE {table} DISABLE TRIGGER {trigger}"),
        )
        .await;
    }
    let (sent, took) = Intake::start(addr, connections, messages).complete().await;
    let without = rate(sent, took);
    for (table, trigger) in &triggers {
        run(db, &format!("ALTER TABLE {table} ENABLE TRIGGER {trigger}")).await;
    }
    let (sent_again, took_again) = Intake::start(addr, connections, messages).complete().await;
    let with_again = rate(sent_again, took_again);
    println!(
        "SMTP intake alone without the {} re-arm triggers: {sent} messages in {took:.2?} ({without:.0}/s); \
         with them again: {sent_again} in {took_again:.2?} ({with_again:.0}/s); \
         with / without: {:.2} and {:.2}",
        triggers.len(),
        rate_alone / without,
        with_again / without
    );
}

fn rate(count: usize, took: Duration) -> f64 {
    count as f64 / took.as_secs_f64()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = args.first().copied().unwrap_or(1_000_000);
    let batch = args.get(1).copied().unwrap_or(500) as u64;
    let connections = args.get(2).copied().unwrap_or(8).max(1);
    let test = TestDb::postgres_with_pool(24)
        .await
        .expect("PostgreSQL is needed for this benchmark");
    let engine = Engine::new(
        test.db.clone(),
        EngineSettings::default(),
        Arc::new(SystemClock),
    );
    let mut settings = EmailIntakeSettings::new(MessageIdSigner::new("bench"));
    settings.accepted_domains = vec!["redress.test".to_owned()];
    let server = SmtpServer::bind(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        EmailIntake::new(engine.clone(), settings),
        "bench",
        None,
    )
    .await
    .expect("bind");
    let addr = server.local_addr().expect("addr");
    let (stop_server, stopped) = watch::channel(false);
    let serving = tokio::spawn(server.run(stopped));

    let seeding = Instant::now();
    let template = template(&engine, addr).await;
    seed(&test.db, template, n).await;
    let plain_last: Uuid = test
        .db
        .query_one_raw(Statement::from_string(
            BACKEND,
            "SELECT id FROM appeals WHERE queue = 'plain' ORDER BY id DESC LIMIT 1",
        ))
        .await
        .expect("last")
        .expect("row")
        .try_get_by_index(0)
        .expect("id");
    println!(
        "seeded {} closed appeals ({} messages, {} events) in {:.1?}",
        2 * n,
        scalar(&test.db, "SELECT count(*) FROM messages").await,
        scalar(&test.db, "SELECT count(*) FROM appeal_events").await,
        seeding.elapsed()
    );

    let alone = (4 * connections * 100).min(4_000);
    let (sent, took) = Intake::start(addr, connections, alone).complete().await;
    let rate_alone = rate(sent, took);
    println!("SMTP intake alone: {sent} messages in {took:.2?} ({rate_alone:.0}/s)");
    rearm_cost(&test.db, addr, connections, alone, rate_alone).await;
    run(&test.db, "CHECKPOINT").await;

    let intake = Intake::start(addr, connections, usize::MAX);
    let (plain, purged) = plain_sql(&test.db, batch, plain_last).await;
    let (sent_plain, took_plain) = intake.finish().await;
    assert_eq!(purged, n, "plain SQL purged every appeal of its side");
    println!(
        "plain SQL: {purged} appeals in {plain:.2?} ({:.0}/s); SMTP intake meanwhile {sent_plain} messages ({:.0}/s, {:.0}% of alone)",
        rate(purged, plain),
        rate(sent_plain, took_plain),
        100.0 * rate(sent_plain, took_plain) / rate_alone
    );
    run(&test.db, "CHECKPOINT").await;

    let retention = RetentionSettings {
        batch_size: batch,
        ..RetentionSettings::default()
    };
    let intake = Intake::start(addr, connections, usize::MAX);
    let start = Instant::now();
    while engine.purge_due(&retention).await.expect("purge").claimed() > 0 {}
    let through_engine = start.elapsed();
    let (sent_engine, took_engine) = intake.finish().await;
    let rate_during = rate(sent_engine, took_engine);
    println!(
        "engine: {n} appeals in {through_engine:.2?} ({:.0}/s); SMTP intake meanwhile {sent_engine} messages ({rate_during:.0}/s)",
        rate(n, through_engine),
    );
    println!(
        "engine / plain SQL: {:.2}; SMTP intake during the engine's purge / alone: {:.2}",
        through_engine.as_secs_f64() / plain.as_secs_f64(),
        rate_during / rate_alone
    );

    let (plain_left, engine_left) = (
        remains(&test.db, "plain").await,
        remains(&test.db, "engine").await,
    );
    stop_server.send_replace(true);
    serving.await.expect("join").expect("serve");
    test.cleanup().await;
    for (what, count) in engine_left.iter().take(40) {
        println!("left by the engine: {count} x {what}");
    }
    let (plain_set, engine_set): (BTreeSet<_>, BTreeSet<_>) =
        (plain_left.iter().collect(), engine_left.iter().collect());
    let differing: Vec<_> = plain_set
        .symmetric_difference(&engine_set)
        .take(20)
        .collect();
    assert!(
        differing.is_empty(),
        "the engine left what plain SQL did not, or the other way round: {differing:?}"
    );
    assert!(engine_left.iter().any(|(what, _)| what.contains(MARKER)));
}
