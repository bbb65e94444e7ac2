//! A bulk job's accounts split into slices, each with its own checkpoint, so several
//! connections can restore one job at once: a chunk claims only its slice's row, and the
//! job's row is touched last, just before the commit. Jobs started before keep going as a
//! single slice from where their checkpoint was.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::Statement;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum BulkRestoreJobs {
    Table,
    Id,
    Checkpoint,
}

#[derive(DeriveIden)]
enum BulkRestoreSlices {
    Table,
    JobId,
    Slice,
    AfterAccount,
    UptoAccount,
    Checkpoint,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// Creating the slices, copying the checkpoints and dropping the old column happen
    /// together or not at all, on SQLite too (its DDL is transactional), so a start that
    /// fails half-way leaves nothing to trip the next one.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BulkRestoreSlices::Table)
                    .col(ColumnDef::new(BulkRestoreSlices::JobId).uuid().not_null())
                    .col(
                        ColumnDef::new(BulkRestoreSlices::Slice)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(BulkRestoreSlices::AfterAccount)
                            .text()
                            .null(),
                    )
                    .col(ColumnDef::new(BulkRestoreSlices::UptoAccount).text().null())
                    .col(ColumnDef::new(BulkRestoreSlices::Checkpoint).text().null())
                    .primary_key(
                        Index::create()
                            .col(BulkRestoreSlices::JobId)
                            .col(BulkRestoreSlices::Slice),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(BulkRestoreSlices::Table, BulkRestoreSlices::JobId)
                            .to(BulkRestoreJobs::Table, BulkRestoreJobs::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO bulk_restore_slices (job_id, slice, after_account, upto_account, checkpoint) \
                 SELECT id, 0, NULL, NULL, checkpoint FROM bulk_restore_jobs",
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(BulkRestoreJobs::Table)
                    .drop_column(BulkRestoreJobs::Checkpoint)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        let backend = manager.get_database_backend();
        if backend == sea_orm_migration::sea_orm::DbBackend::Postgres {
            // No replica may start a job between the check below and the change of schema.
            conn.execute_unprepared("LOCK TABLE bulk_restore_jobs IN SHARE ROW EXCLUSIVE MODE")
                .await?;
        }
        // One checkpoint cannot say how far each slice of a running job got; resuming from
        // any single point would restore some accounts twice.
        let split = conn
            .query_one_raw(Statement::from_string(
                backend,
                "SELECT count(*) AS n FROM bulk_restore_slices s \
                 JOIN bulk_restore_jobs j ON j.id = s.job_id \
                 WHERE j.status = 'running' AND s.slice > 0",
            ))
            .await?
            .map(|row| row.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0);
        if split > 0 {
            return Err(DbErr::Migration(
                "a running bulk job has several slices; finish or cancel it before migrating down"
                    .to_owned(),
            ));
        }
        manager
            .alter_table(
                Table::alter()
                    .table(BulkRestoreJobs::Table)
                    .add_column(ColumnDef::new(BulkRestoreJobs::Checkpoint).text().null())
                    .to_owned(),
            )
            .await?;
        conn.execute_unprepared(
            "UPDATE bulk_restore_jobs SET checkpoint = \
             (SELECT s.checkpoint FROM bulk_restore_slices s WHERE s.job_id = bulk_restore_jobs.id AND s.slice = 0)",
        )
        .await?;
        manager
            .drop_table(Table::drop().table(BulkRestoreSlices::Table).to_owned())
            .await
    }
}
