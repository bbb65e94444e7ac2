//! Search latency over a large correspondence, and what the search indexes cost filing.
//!
//! `cargo bench -p redress-engine --bench search -- [POSTGRES_MESSAGES] [SQLITE_MESSAGES]`
//! (defaults 100000 and 100000; the target sizes are 1000000 and 100000). Seeds that many
//! messages (two per appeal, 30 words each drawn with a skewed frequency from a vocabulary
//! of 5,000 made-up words, and a note on every tenth appeal) with multi-row INSERTs while
//! the search indexes are dropped, builds them with the migration, then times
//! `Engine::search` for a reference, an address and a two-word text query (each with a
//! fresh value per run), p50 and p99. Then files appeals through the engine on two fresh
//! databases, one with the search indexes and one without, for the filing rate ratio.
//! PostgreSQL comes from `REDRESS_TEST_POSTGRES_URL` and is skipped when unreachable.

use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use redress_core::{Actor, AppealReference};
use redress_engine::search::{SearchQuery, Visibility};
use redress_engine::testing::TestDb;
use redress_engine::{Engine, EngineSettings, IncomingAppeal, SystemClock};
use redress_migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, Value};
use serde_json::json;
use support::{mail_appeal, numeric_args, percentile, seed_wave};
use uuid::Uuid;

mod support;

const VOCABULARY: usize = 5_000;
const WORDS_PER_MESSAGE: usize = 30;
const ROWS_PER_INSERT: usize = 200;
const RUNS: usize = 300;
const FILINGS: usize = 1_000;

/// SplitMix64: a deterministic stream, so every run seeds the same data.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A word rank, low ranks far more often than high ones (rank ≈ V·u²).
    fn rank(&mut self) -> usize {
        let u = self.unit();
        ((VOCABULARY as f64) * u * u) as usize % VOCABULARY
    }
}

/// The made-up word of `rank`: syllables, so the tokenizers see ordinary words.
fn word(rank: usize) -> String {
    const SYLLABLES: [&str; 20] = [
        "ka", "lo", "mi", "ne", "su", "ta", "ro", "vi", "de", "pa", "ga", "ze", "bo", "fu", "ri",
        "no", "se", "ha", "ju", "we",
    ];
    let mut n = rank;
    let mut word = String::from(SYLLABLES[n % 20]);
    n /= 20;
    word.push_str(SYLLABLES[n % 20]);
    n /= 20;
    word.push_str(SYLLABLES[n % 20]);
    word
}

fn text(random: &mut Random) -> String {
    (0..WORDS_PER_MESSAGE)
        .map(|_| word(random.rank()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `rows` copies of `row` (with `?` for each bound value), numbered for PostgreSQL.
fn values_clause(backend: DbBackend, rows: usize, row: &str) -> String {
    let mut next = 0;
    let mut clause = Vec::with_capacity(rows);
    for _ in 0..rows {
        let mut numbered = String::with_capacity(row.len() + 32);
        for c in row.chars() {
            if c == '?' {
                next += 1;
                match backend {
                    DbBackend::Postgres => {
                        numbered.push('$');
                        numbered.push_str(&next.to_string());
                    }
                    _ => numbered.push('?'),
                }
            } else {
                numbered.push(c);
            }
        }
        clause.push(numbered);
    }
    clause.join(", ")
}

/// One multi-row INSERT of `values`, `row` (a tuple with `?` per value) per row.
async fn insert(db: &DatabaseConnection, head: &str, row: &str, values: Vec<Value>) {
    if values.is_empty() {
        return;
    }
    let backend = db.get_database_backend();
    let per_row = row.matches('?').count();
    let sql = format!(
        "{head} VALUES {}",
        values_clause(backend, values.len() / per_row, row)
    );
    db.execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
        .expect("seed insert");
}

const APPEAL_INSERT: &str = "INSERT INTO appeals (id, reference, contact, tags, sla_started_at, triage_due_at, decision_due_at, filed_at, updated_at, channel, state, priority, priority_rank, queue, identity_verified, four_eyes, escalation_level, sla_paused_ms, sla_marks, version)";
const APPEAL_ROW: &str =
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, 'email', 'filed', 'normal', 1, 'general', TRUE, FALSE, 0, 0, 0, 1)";
const MESSAGE_INSERT: &str = "INSERT INTO messages (id, appeal_id, channel_message_id, sender, subject, body, received_at, direction, channel, classification, metadata)";
const MESSAGE_ROW: &str = "(?, ?, ?, ?, ?, ?, ?, 'inbound', 'email', 'appeal', ?)";
const NOTE_INSERT: &str =
    "INSERT INTO appeal_events (appeal_id, version, payload, occurred_at, kind, actor_kind, actor_id)";
const NOTE_ROW: &str = "(?, 2, ?, ?, 'note_added', 'staff', 'bench')";

/// What the queries look for.
struct Seeded {
    references: Vec<String>,
    addresses: Vec<String>,
}

/// `messages` messages on `messages / 2` appeals, a note on every tenth.
async fn seed(db: &DatabaseConnection, messages: usize) -> Seeded {
    let mut random = Random(7);
    let appeals = messages / 2;
    let now = Utc::now();
    let mut seeded = Seeded {
        references: Vec::with_capacity(appeals),
        addresses: Vec::with_capacity(appeals),
    };
    let mut start = 0;
    while start < appeals {
        let end = (start + ROWS_PER_INSERT).min(appeals);
        let (mut appeal_rows, mut message_rows, mut note_rows) =
            (Vec::new(), Vec::new(), Vec::new());
        for i in start..end {
            let id = Uuid::now_v7();
            // An odd multiplier is a bijection modulo 2^35: every appeal a reference of its own.
            let reference =
                AppealReference::from_seed((i as u64).wrapping_mul(0x9E37_79B1) & ((1 << 35) - 1))
                    .to_string();
            let address = format!("person{i}@example.org");
            seeded.references.push(reference.clone());
            seeded.addresses.push(address.clone());
            appeal_rows.extend::<[Value; 9]>([
                id.into(),
                reference.into(),
                address.clone().into(),
                json!([]).into(),
                now.into(),
                now.into(),
                now.into(),
                now.into(),
                now.into(),
            ]);
            for m in 0..2 {
                message_rows.extend::<[Value; 8]>([
                    Uuid::now_v7().into(),
                    id.into(),
                    format!("<m{i}-{m}@bench>").into(),
                    address.clone().into(),
                    "My account".into(),
                    text(&mut random).into(),
                    now.into(),
                    json!({}).into(),
                ]);
            }
            if i % 10 == 0 {
                let payload = json!({
                    "kind": {"type": "note_added", "text": text(&mut random)},
                    "actor": {"kind": "system", "component": "bench"},
                    "at": now,
                });
                note_rows.extend::<[Value; 3]>([id.into(), payload.into(), now.into()]);
            }
        }
        insert(db, APPEAL_INSERT, APPEAL_ROW, appeal_rows).await;
        insert(db, MESSAGE_INSERT, MESSAGE_ROW, message_rows).await;
        insert(db, NOTE_INSERT, NOTE_ROW, note_rows).await;
        start = end;
    }
    seeded
}

/// How many migrations, counted from the newest, undo the search indexes: the search
/// migration and the stored message vectors after it (and any migration after those).
/// `RUNS` searches of the queries `make` builds; prints p50, p99 and the mean hit count.
async fn time(engine: &Engine, backend: &str, what: &str, mut make: impl FnMut(usize) -> String) {
    let mut took = Vec::with_capacity(RUNS);
    let mut hits = 0;
    for run in 0..RUNS + 20 {
        let query: SearchQuery = make(run).parse().expect("a query");
        let start = Instant::now();
        let results = engine
            .search(&query, Visibility::WithPersonalData, 20)
            .await
            .expect("search");
        let elapsed = start.elapsed();
        // The first runs warm the connection pool and caches.
        if run >= 20 {
            took.push(elapsed);
            hits += results.hits.len();
        }
    }
    took.sort();
    println!(
        "{backend:<9} {what:<22} p50={:>7.2} ms  p99={:>7.2} ms  hits/query={:.1}",
        percentile(&took, 0.5).as_secs_f64() * 1e3,
        percentile(&took, 0.99).as_secs_f64() * 1e3,
        hits as f64 / RUNS as f64
    );
}

async fn search_latency(backend: &str, test: TestDb, messages: usize) {
    let db = &test.db;
    let started = Instant::now();
    // Seeding without the search indexes and building them after, as the migration does on
    // an existing database, is far faster than keeping them up row by row.
    test.migrate_down_to_before("m20261129_001300_search")
        .await
        .expect("drop the search indexes");
    let seeded = seed(db, messages).await;
    let inserted = started.elapsed();
    Migrator::up(db, None)
        .await
        .expect("build the search indexes");
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared("VACUUM ANALYZE")
            .await
            .expect("vacuum");
    } else {
        db.execute_unprepared("ANALYZE").await.expect("analyze");
    }
    println!(
        "{backend:<9} messages={messages} seeded in {:.0} s, indexed in {:.0} s",
        inserted.as_secs_f64(),
        started.elapsed().saturating_sub(inserted).as_secs_f64()
    );
    let engine = Engine::new(db.clone(), EngineSettings::default(), Arc::new(SystemClock));
    let mut random = Random(99);
    let appeals = seeded.references.len();
    time(&engine, backend, "reference", |_| {
        seeded.references[random.below(appeals)].clone()
    })
    .await;
    let mut random = Random(98);
    time(&engine, backend, "address", |_| {
        seeded.addresses[random.below(appeals)].clone()
    })
    .await;
    // Words an appeal would mention: ranks 100 to 600 of the vocabulary, each in about
    // 1 to 3 % of the messages.
    let mut random = Random(97);
    time(&engine, backend, "two words", |_| {
        format!(
            "{} {}",
            word(100 + random.below(500)),
            word(100 + random.below(500))
        )
    })
    .await;
    // The worst case: two of the ten most common words, each in over a third of them.
    let mut random = Random(96);
    time(&engine, backend, "two common words", |_| {
        format!("{} {}", word(random.below(10)), word(random.below(10)))
    })
    .await;
    test.cleanup().await;
}

fn incoming(i: usize) -> IncomingAppeal {
    IncomingAppeal {
        subject: Some("My account".into()),
        ..mail_appeal(i, text(&mut Random(i as u64)))
    }
}

async fn file(db: &DatabaseConnection, n: usize) -> f64 {
    seed_wave(db, n, |_, wave| wave).await;
    let engine = Engine::new(db.clone(), EngineSettings::default(), Arc::new(SystemClock));
    let actor = Actor::system("bench");
    let start = Instant::now();
    for i in 0..n {
        engine.file(&actor, incoming(i)).await.expect("file");
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// Filing through the engine with and without the search indexes, one database each.
async fn filing_rate(backend: &str, with: TestDb, without: TestDb) {
    // The search migrations' own undoing, without undoing the migrations after them, which
    // filing needs (rolling back to before the search migration would undo those too).
    let drop: &[&str] = match without.db.get_database_backend() {
        DbBackend::Postgres => &[
            "DROP INDEX appeal_notes_search",
            "DROP INDEX messages_search_vector",
            "ALTER TABLE messages DROP COLUMN search_vector",
            "DROP INDEX appeals_contact_folded",
        ],
        _ => &[
            "DROP TRIGGER note_search_delete",
            "DROP TRIGGER note_search_insert",
            "DROP TABLE note_search",
            "DROP TRIGGER message_search_update",
            "DROP TRIGGER message_search_delete",
            "DROP TRIGGER message_search_insert",
            "DROP TABLE message_search",
            "DROP INDEX appeals_contact_folded",
        ],
    };
    for statement in drop {
        without
            .db
            .execute_unprepared(statement)
            .await
            .expect("drop the search indexes");
    }
    let bare = file(&without.db, FILINGS).await;
    let indexed = file(&with.db, FILINGS).await;
    println!(
        "{backend:<9} filing appeals={FILINGS}  with search indexes={indexed:>6.0}/s  without={bare:>6.0}/s  with/without={:.2}",
        indexed / bare
    );
    with.cleanup().await;
    without.cleanup().await;
}

#[tokio::main]
async fn main() {
    let sizes = numeric_args();
    let postgres_messages = sizes.first().copied().unwrap_or(100_000);
    let sqlite_messages = sizes.get(1).copied().unwrap_or(100_000);
    search_latency("sqlite", TestDb::sqlite().await, sqlite_messages).await;
    filing_rate("sqlite", TestDb::sqlite().await, TestDb::sqlite().await).await;
    // Filing first: the worst-case text query below takes about a second a run there.
    let (Some(with), Some(without)) = (TestDb::postgres().await, TestDb::postgres().await) else {
        println!("postgres  skipped: server unreachable");
        return;
    };
    filing_rate("postgres", with, without).await;
    if let Some(postgres) = TestDb::postgres().await {
        search_latency("postgres", postgres, postgres_messages).await;
    }
}
