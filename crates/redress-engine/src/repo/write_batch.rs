//! Writes that go to the database together, in one round trip. Each statement is a hop to
//! the database and back: on SQLite a hop to the driver's own thread, on PostgreSQL one over
//! the socket, and for a filing's five inserts the hops, not the writes, were most of the
//! time. SQLite's driver takes several statements in one query and binds each statement's
//! `?` placeholders where the previous one's ended. PostgreSQL prepares one statement at a
//! time, so there the writes become data-modifying `WITH` clauses of one statement, with
//! their `$n` placeholders renumbered.
//!
//! The statements of one batch must be independent writes: on PostgreSQL they all run
//! against the same snapshot, so none sees another's rows. Anything else runs one statement
//! at a time.

use std::fmt::Write;

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

#[derive(Debug, Default)]
pub(crate) struct WriteBatch {
    statements: Vec<Statement>,
}

impl WriteBatch {
    pub(crate) fn push(&mut self, statement: Statement) {
        self.statements.push(statement);
    }

    /// Runs every statement through `conn`; the first failure is the result, and the
    /// caller's transaction then rolls back whatever ran.
    pub(crate) async fn execute<C: ConnectionTrait>(self, conn: &C) -> Result<(), DbErr> {
        let backend = conn.get_database_backend();
        let joinable = self.statements.len() > 1
            && match backend {
                DbBackend::Sqlite => true,
                DbBackend::Postgres => self.statements.iter().all(is_plain_write),
                _ => false,
            };
        if joinable {
            let joined = match backend {
                DbBackend::Postgres => as_with_clauses(self.statements),
                _ => one_after_another(backend, self.statements),
            };
            conn.execute_raw(joined).await?;
            return Ok(());
        }
        for statement in self.statements {
            conn.execute_raw(statement).await?;
        }
        Ok(())
    }
}

/// An INSERT, UPDATE or DELETE with no `WITH` of its own: what PostgreSQL runs as a clause
/// of another statement whether or not anything reads its result.
fn is_plain_write(statement: &Statement) -> bool {
    let head: String = statement
        .sql
        .trim_start()
        .chars()
        .take(6)
        .collect::<String>()
        .to_ascii_uppercase();
    matches!(head.as_str(), "INSERT" | "UPDATE" | "DELETE")
}

/// SQLite: the statements separated by semicolons, their values in order.
fn one_after_another(backend: DbBackend, statements: Vec<Statement>) -> Statement {
    let mut sql = String::new();
    let mut values = Vec::new();
    for statement in statements {
        if !sql.is_empty() {
            sql.push_str(";\n");
        }
        sql.push_str(&statement.sql);
        values.extend(statement.values.map(|v| v.0).unwrap_or_default());
    }
    Statement::from_sql_and_values(backend, sql, values)
}

/// PostgreSQL: `WITH w0 AS (first), w1 AS (second) last`, each statement's placeholders
/// moved past the values of the statements before it.
fn as_with_clauses(statements: Vec<Statement>) -> Statement {
    let last = statements.len().saturating_sub(1);
    let mut sql = String::new();
    let mut values = Vec::new();
    for (n, statement) in statements.into_iter().enumerate() {
        let body = renumber_placeholders(&statement.sql, values.len());
        if n == last {
            sql.push_str(if n == 0 { "" } else { "\n" });
            sql.push_str(&body);
        } else {
            sql.push_str(if n == 0 { "WITH " } else { ",\n" });
            // Writing to a String cannot fail.
            let _ = write!(sql, "w{n} AS ({body})");
        }
        values.extend(statement.values.map(|v| v.0).unwrap_or_default());
    }
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// `$n` becomes `$(n + offset)`, except inside quoted literals and identifiers.
fn renumber_placeholders(sql: &str, offset: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                out.push(c);
                if c == q {
                    quote = None;
                }
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) => {
                let mut digits = String::new();
                while let Some(d) = chars.next_if(char::is_ascii_digit) {
                    digits.push(d);
                }
                out.push('$');
                match digits.parse::<usize>() {
                    Ok(n) => out.push_str(&(n + offset).to_string()),
                    Err(_) => out.push_str(&digits),
                }
            }
            None => out.push(c),
        }
    }
    out
}

#[cfg(all(test, feature = "testing"))]
mod tests {
    use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

    use super::WriteBatch;
    use crate::transact::{in_transaction, Begin};

    fn insert(backend: DbBackend, values: &[(i64, &str)]) -> Statement {
        let placeholders: Vec<String> = (0..values.len())
            .map(|i| match backend {
                DbBackend::Postgres => format!("(${}, ${})", 2 * i + 1, 2 * i + 2),
                _ => "(?, ?)".to_owned(),
            })
            .collect();
        let bound = values
            .iter()
            .flat_map(|(n, label)| [Value::from(*n), Value::from(*label)]);
        Statement::from_sql_and_values(
            backend,
            format!(
                "INSERT INTO batch_probe (n, label) VALUES {}",
                placeholders.join(", ")
            ),
            bound,
        )
    }

    async fn rows(conn: &impl ConnectionTrait) -> Vec<(i64, String)> {
        let backend = conn.get_database_backend();
        conn.query_all_raw(Statement::from_string(
            backend,
            "SELECT n, label FROM batch_probe ORDER BY n",
        ))
        .await
        .expect("select")
        .into_iter()
        .map(|row| {
            (
                row.try_get::<i64>("", "n").expect("n"),
                row.try_get::<String>("", "label").expect("label"),
            )
        })
        .collect()
    }

    #[test]
    fn placeholders_move_past_earlier_values_but_literals_keep_theirs() {
        assert_eq!(
            super::renumber_placeholders(
                r#"INSERT INTO "t$1" (a, b) VALUES ($1, '$2 it''s $3') RETURNING $12"#,
                10
            ),
            r#"INSERT INTO "t$1" (a, b) VALUES ($11, '$2 it''s $3') RETURNING $22"#
        );
        assert_eq!(super::renumber_placeholders("SELECT $1", 0), "SELECT $1");
    }

    #[test]
    fn only_plain_writes_become_with_clauses() {
        let statement = |sql: &str| Statement::from_string(DbBackend::Postgres, sql);
        assert!(super::is_plain_write(&statement(
            "  insert INTO t VALUES (1)"
        )));
        assert!(super::is_plain_write(&statement("UPDATE t SET a = 1")));
        assert!(super::is_plain_write(&statement("DELETE FROM t")));
        assert!(!super::is_plain_write(&statement(
            "SELECT pg_notify('c', '')"
        )));
        assert!(!super::is_plain_write(&statement(
            "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x"
        )));
    }

    crate::backend_tests! {
        async fn runs_every_statement_with_its_own_values_in_order(db) {
            let conn = &db.db;
            let backend = conn.get_database_backend();
            conn.execute_unprepared("CREATE TABLE batch_probe (n BIGINT PRIMARY KEY, label TEXT NOT NULL)")
                .await
                .expect("create");
            conn.execute_raw(insert(backend, &[(1, "one")])).await.expect("seed");
            let mut batch = WriteBatch::default();
            batch.push(insert(backend, &[(2, "two"), (3, "it's $1")]));
            batch.push(Statement::from_string(backend, "UPDATE batch_probe SET label = 'ONE' WHERE n = 1"));
            batch.push(insert(backend, &[(4, "four")]));
            batch.push(insert(backend, &[(5, "five"), (6, "six")]));
            batch.execute(conn).await.expect("batch");
            assert_eq!(
                rows(conn).await,
                vec![
                    (1, "ONE".to_owned()),
                    (2, "two".to_owned()),
                    (3, "it's $1".to_owned()),
                    (4, "four".to_owned()),
                    (5, "five".to_owned()),
                    (6, "six".to_owned()),
                ]
            );
            db.cleanup().await;
        }

        async fn a_failing_statement_fails_the_batch_and_its_transaction_keeps_nothing(db) {
            let conn = &db.db;
            let backend = conn.get_database_backend();
            conn.execute_unprepared("CREATE TABLE batch_probe (n BIGINT PRIMARY KEY, label TEXT NOT NULL)")
                .await
                .expect("create");
            conn.execute_raw(insert(backend, &[(2, "already there")])).await.expect("seed");
            let mut batch = WriteBatch::default();
            batch.push(insert(backend, &[(1, "one")]));
            batch.push(insert(backend, &[(2, "duplicate key")]));
            batch.push(insert(backend, &[(3, "three")]));
            let err = in_transaction(conn, Begin::Deferred, async |txn| batch.execute(txn).await)
                .await
                .expect_err("the duplicate key fails");
            assert!(crate::error::is_unique_violation(&err), "{err}");
            assert_eq!(rows(conn).await, vec![(2, "already there".to_owned())]);
            db.cleanup().await;
        }
    }
}
