use sea_orm::entity::prelude::*;

/// A contiguous run of a bulk job's accounts, restored in order from its own checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bulk_restore_slices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub job_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub slice: i32,
    /// The slice holds the accounts after this one (all from the first when unset)...
    pub after_account: Option<String>,
    /// ...up to and including this one (all to the last when unset).
    pub upto_account: Option<String>,
    /// The last account of the slice processed; the slice resumes after it.
    pub checkpoint: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
