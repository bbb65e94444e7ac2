//! Search on SQLite and on PostgreSQL: each kind of query, what a role without personal
//! data may find, and hostile queries.

mod common;

use chrono::Utc;
use common::{clock, email, enforcement, engine};
use redress_core::{Actor, Channel, Command, Role};
use redress_engine::repo::handles;
use redress_engine::search::{Matched, SearchQuery, SearchResults, Visibility};
use redress_engine::{Engine, EngineSettings, Filing, IncomingAppeal, StoredAppeal};
use redress_migrations::{Migrator, MigratorTrait};
use serde_json::json;

const FULL: Visibility = Visibility::WithPersonalData;
const LIMITED: Visibility = Visibility::WithoutPersonalData;

async fn search(engine: &Engine, query: &str, visibility: Visibility) -> SearchResults {
    let query: SearchQuery = query.parse().expect("a query");
    engine.search(&query, visibility, 20).await.expect("search")
}

fn found(results: &SearchResults) -> Vec<(String, Matched)> {
    results
        .hits
        .iter()
        .map(|hit| (hit.appeal.reference.to_string(), hit.matched))
        .collect()
}

async fn file(engine: &Engine, incoming: IncomingAppeal) -> StoredAppeal {
    match engine
        .file(&Actor::appellant(&incoming.sender), incoming)
        .await
        .expect("file")
    {
        Filing::Created(stored) => stored,
        other => panic!("expected a new case, got {other:?}"),
    }
}

fn mail(message_id: &str, sender: &str, account: Option<&str>, body: &str) -> IncomingAppeal {
    IncomingAppeal {
        sender: sender.into(),
        body: body.into(),
        ..email(message_id, account)
    }
}

fn dm(event_id: &str, social_id: &str, body: &str) -> IncomingAppeal {
    IncomingAppeal {
        channel: Channel::X,
        channel_message_id: Some(event_id.into()),
        sender: social_id.into(),
        contact: None,
        account_id: None,
        enforcement_id: None,
        identity_verified: false,
        subject: None,
        body: body.into(),
        in_reply_to: None,
        metadata: json!({}),
    }
}

async fn note(engine: &Engine, appeal: &StoredAppeal, text: &str) {
    engine
        .apply(
            appeal.id,
            None,
            &Command::Note { text: text.into() },
            &Actor::staff("triager-1", [Role::Triager]),
        )
        .await
        .expect("note");
}

/// How many migrations, counted from the newest, undo the search indexes (the search
/// migration and the stored message vectors after it).
fn reference(appeal: &StoredAppeal) -> String {
    appeal.reference.to_string()
}

redress_engine::backend_tests! {
    async fn each_kind_of_query_finds_its_appeal(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        enforcement(&test.db, "acct-1", "spam").await;
        enforcement(&test.db, "acct-2", "nudity").await;
        let mailed = file(&engine, mail("<a@x>", "Ana.Person@Example.org", Some("acct-1"),
            "I only saved that flamingo pin, I never posted it.")).await;
        let registered = file(&engine, mail("<b@x>", "other@example.net", Some("acct-2"),
            "Please restore my account.")).await;
        let direct = file(&engine, dm("dm-1", "birdwatcher", "Why was my account closed? Flamingo!")).await;
        handles::link(&test.db, Channel::X, "linkedbird", "acct-2", Utc::now()).await.expect("link");
        note(&engine, &registered, "Called the appellant; she mentioned a heron photo.").await;

        let results = search(&engine, &mailed.reference.as_str().to_lowercase(), FULL).await;
        assert_eq!(found(&results), vec![(reference(&mailed), Matched::Reference)]);

        let results = search(&engine, "ana.person@example.org", FULL).await;
        assert_eq!(found(&results), vec![(reference(&mailed), Matched::ContactAddress)]);

        // acct-2's registered address is acct-2@example.org (the fixture's).
        let results = search(&engine, "ACCT-2@example.org", FULL).await;
        assert_eq!(found(&results), vec![(reference(&registered), Matched::AccountAddress)]);

        let results = search(&engine, "@birdwatcher", FULL).await;
        assert_eq!(found(&results), vec![(reference(&direct), Matched::SocialHandle)]);
        let results = search(&engine, "@linkedbird", FULL).await;
        assert_eq!(found(&results), vec![(reference(&registered), Matched::LinkedHandle)]);

        let results = search(&engine, "acct-1", FULL).await;
        assert_eq!(found(&results), vec![(reference(&mailed), Matched::AccountId)]);
        let results = search(&engine, "ext-acct-2-nudity", FULL).await;
        assert_eq!(found(&results), vec![(reference(&registered), Matched::EnforcementExternalId)]);

        // Two words, in any case and order, newest case first.
        let results = search(&engine, "FLAMINGO pin", FULL).await;
        assert_eq!(found(&results), vec![(reference(&mailed), Matched::MessageText)]);
        let results = search(&engine, "flamingo", FULL).await;
        assert_eq!(found(&results), vec![
            (reference(&direct), Matched::MessageText),
            (reference(&mailed), Matched::MessageText),
        ]);
        let snippet = results.hits[1].snippet.as_deref().expect("a snippet");
        assert!(snippet.contains("saved that flamingo pin"), "{snippet}");

        // The subject is searched with the body.
        let results = search(&engine, "banned", FULL).await;
        assert_eq!(results.hits.len(), 2, "both mails carry the fixture's subject");

        let results = search(&engine, "heron photo", FULL).await;
        assert_eq!(found(&results), vec![(reference(&registered), Matched::NoteText)]);
        assert!(results.hits[0].snippet.as_deref().is_some_and(|s| s.contains("heron photo")));

        let results = search(&engine, "flamingo heron", FULL).await;
        assert!(results.hits.is_empty(), "every word must be in one message or note");
        assert!(!results.withheld);
        test.cleanup().await;
    }

    async fn a_role_without_personal_data_finds_nothing_by_it(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        enforcement(&test.db, "acct-1", "spam").await;
        let mailed = file(&engine, mail("<a@x>", "ana@example.org", Some("acct-1"),
            "My neighbour Jolanda Kowalczyk can confirm the pin was saved.")).await;
        file(&engine, dm("dm-1", "birdwatcher", "hello")).await;
        note(&engine, &mailed, "Checked the pin: saved, not posted.").await;

        for query in ["ana@example.org", "acct-1@example.org", "@birdwatcher", "kowalczyk", "jolanda kowalczyk"] {
            let results = search(&engine, query, LIMITED).await;
            assert!(results.hits.is_empty(), "{query} found {:?}", found(&results));
            assert!(results.withheld, "{query} says it was withheld");
            assert!(!search(&engine, query, FULL).await.hits.is_empty(), "{query} is findable with access");
        }

        // Notes and ids are not personal data; a note's snippet is the note's text only.
        let results = search(&engine, "pin saved", LIMITED).await;
        assert_eq!(found(&results), vec![(reference(&mailed), Matched::NoteText)]);
        let snippet = results.hits[0].snippet.as_deref().expect("a snippet");
        assert!(!snippet.contains("Jolanda"), "{snippet}");
        let results = search(&engine, "acct-1", LIMITED).await;
        assert_eq!(found(&results), vec![(reference(&mailed), Matched::AccountId)]);
        let results = search(&engine, mailed.reference.as_str(), LIMITED).await;
        assert_eq!(found(&results), vec![(reference(&mailed), Matched::Reference)]);
        test.cleanup().await;
    }

    async fn hostile_queries_are_refused_or_find_nothing(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        enforcement(&test.db, "acct-1", "spam").await;
        file(&engine, mail("<a@x>", "ana@example.org", Some("acct-1"), "saved pin")).await;

        for refused in ["", "   ", "\0", &"x".repeat(10_000), "RDR-0000-0001"] {
            assert!(refused.parse::<SearchQuery>().is_err(), "{refused:.20} is refused");
        }
        let hostile = [
            "\"", "\"\"", "'", "''; DROP TABLE appeals; --", "*", "pin*", "NEAR(saved pin)",
            "saved OR pin", "-pin", "^saved", "saved:pin", "a & b | !c", "(", ")", "{}", "\\",
            "pin\0saved", "x@y\0", "@", "@@", "@\"", "a@b@c", "%", "_", "saved AND NOT pin",
            "text:saved", "message_search", "💥 pin", "ｐｉｎ",
        ];
        for query in hostile {
            for visibility in [FULL, LIMITED] {
                let parsed: SearchQuery = query.parse().expect("a query");
                let results = engine.search(&parsed, visibility, 20).await;
                assert!(results.is_ok(), "{query:?}: {results:?}");
            }
        }
        let long_words = "pin ".repeat(60);
        assert_eq!(search(&engine, &long_words, FULL).await.hits.len(), 1);
        // Words joined by search syntax are still words.
        assert_eq!(search(&engine, "\"saved\" OR pin*", FULL).await.hits.len(), 0, "`or` is a word here");
        assert_eq!(search(&engine, "\"saved\" pin*", FULL).await.hits.len(), 1);
        test.cleanup().await;
    }

    async fn only_the_first_hundred_thousand_characters_are_indexed(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        enforcement(&test.db, "acct-1", "spam").await;
        let body = format!("early {} lateword", "filler ".repeat(20_000));
        let huge = file(&engine, mail("<a@x>", "ana@example.org", Some("acct-1"), &body)).await;
        let results = search(&engine, "early", FULL).await;
        assert_eq!(found(&results), vec![(reference(&huge), Matched::MessageText)]);
        assert!(results.hits[0].snippet.as_deref().is_some_and(|s| s.chars().count() < 200));
        assert!(search(&engine, "lateword", FULL).await.hits.is_empty());
        test.cleanup().await;
    }

    async fn first_limits_the_hits(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        for i in 0..5 {
            let account = format!("acct-{i}");
            enforcement(&test.db, &account, "spam").await;
            file(&engine, mail(&format!("<{i}@x>"), "ana@example.org", Some(&account), "saved pin")).await;
        }
        let query: SearchQuery = "saved pin".parse().expect("a query");
        let all = engine.search(&query, FULL, 20).await.expect("search");
        assert_eq!(all.hits.len(), 5);
        let two = engine.search(&query, FULL, 2).await.expect("search");
        assert_eq!(two.hits, all.hits[..2].to_vec(), "the newest two");
        let ids: Vec<_> = all.hits.iter().map(|h| h.appeal.id).collect();
        let mut newest_first = ids.clone();
        newest_first.sort_by(|a, b| b.cmp(a));
        assert_eq!(ids, newest_first);
        test.cleanup().await;
    }

    async fn the_migration_indexes_what_was_there_before_it(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        enforcement(&test.db, "acct-1", "spam").await;
        let mailed = file(&engine, mail("<a@x>", "Ana@Example.org", Some("acct-1"), "saved pin")).await;
        note(&engine, &mailed, "heron photo").await;
        test.migrate_down_to_before("m20261129_001300_search").await.expect("migrate down");
        Migrator::up(&test.db, None).await.expect("migrate up");
        for query in ["saved pin", "heron", "ana@example.org"] {
            let results = search(&engine, query, FULL).await;
            assert_eq!(results.hits.len(), 1, "{query}");
        }
        enforcement(&test.db, "acct-2", "spam").await;
        let later = file(&engine, mail("<b@x>", "bo@example.org", Some("acct-2"), "saved pin again")).await;
        let results = search(&engine, "saved pin", FULL).await;
        assert_eq!(results.hits.iter().map(|h| h.appeal.id).collect::<Vec<_>>(), vec![later.id, mailed.id]);
        test.cleanup().await;
    }
}
