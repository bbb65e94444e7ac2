//! Many rows in one PostgreSQL statement. The rows travel as a single JSON document that
//! `json_to_recordset` turns back into a relation, so a statement binds a handful of
//! parameters however many rows it writes, and its text (hence its prepared plan) is the
//! same for every batch. Building thousands of bind parameters per statement, and planning
//! such statements, is what otherwise dominates writing large batches.

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, Value};

/// `json_to_recordset($n::json) AS r(name type, ...)`, reading the document bound at `$n`.
pub(crate) fn recordset(param: usize, columns: &[(&str, &str)]) -> String {
    let definition: Vec<String> = columns
        .iter()
        .map(|(name, sql_type)| format!("{name} {sql_type}"))
        .collect();
    format!(
        "json_to_recordset(${param}::json) AS r({})",
        definition.join(", ")
    )
}

/// Runs `sql` with the rows as its first parameter and `rest` after them. Returns the
/// number of rows the statement affected. Rows are best borrowed structs serialised
/// straight into the document, not `serde_json::Value`s built first: on a batch of
/// thousands, building and dropping those trees costs more than the statement.
pub(crate) async fn execute<C: ConnectionTrait, R: serde::Serialize>(
    conn: &C,
    sql: &str,
    rows: &[R],
    rest: impl IntoIterator<Item = Value>,
) -> Result<u64, DbErr> {
    let document = serde_json::to_string(rows).map_err(|e| DbErr::Custom(e.to_string()))?;
    let values = std::iter::once(Value::from(document)).chain(rest);
    let result = conn
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            values,
        ))
        .await?;
    Ok(result.rows_affected())
}

/// Whether `conn` takes the one-statement path.
pub(crate) fn applies<C: ConnectionTrait>(conn: &C) -> bool {
    conn.get_database_backend() == DbBackend::Postgres
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recordset_names_each_column_with_its_type() {
        assert_eq!(
            recordset(1, &[("id", "uuid"), ("account_id", "text")]),
            "json_to_recordset($1::json) AS r(id uuid, account_id text)"
        );
    }
}
