//! A Transparency Database that takes every batch, for tests about what operators see of
//! submissions rather than about the database's answers (those are in `tdb`).

use redress_engine::transparency::tdb::TdbStatement;
use redress_engine::transparency::tdb_submission::{BatchAnswer, Created, TdbApi};

pub struct Accepting;

#[async_trait::async_trait]
impl TdbApi for Accepting {
    async fn submit(&self, statements: &[TdbStatement]) -> BatchAnswer {
        BatchAnswer::Created(
            statements
                .iter()
                .map(|s| Created {
                    puid: s.puid.clone(),
                    uuid: Some(format!("uuid-of-{}", s.puid)),
                })
                .collect(),
        )
    }

    async fn existing_uuid(&self, _puid: &str) -> Result<Option<String>, String> {
        Ok(None)
    }
}
