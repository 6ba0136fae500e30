//! Small helpers for building portable SQL with a dynamic number of values.

use sqlx::{any::AnyRow, AnyConnection};

/// A value for a dynamically built statement. Nulls are typed so PostgreSQL
/// accepts them for BIGINT and TEXT columns alike.
#[derive(Clone, Debug)]
pub enum V {
    I(i64),
    T(String),
    NullI,
    NullT,
}

impl From<i64> for V {
    fn from(v: i64) -> V {
        V::I(v)
    }
}
impl From<String> for V {
    fn from(v: String) -> V {
        V::T(v)
    }
}
impl From<&str> for V {
    fn from(v: &str) -> V {
        V::T(v.to_string())
    }
}
impl From<Option<String>> for V {
    fn from(v: Option<String>) -> V {
        v.map(V::T).unwrap_or(V::NullT)
    }
}
impl From<Option<i64>> for V {
    fn from(v: Option<i64>) -> V {
        v.map(V::I).unwrap_or(V::NullI)
    }
}

pub fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    vals: &'q [V],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for v in vals {
        q = match v {
            V::I(i) => q.bind(*i),
            V::T(s) => q.bind(s.as_str()),
            V::NullI => q.bind(None::<i64>),
            V::NullT => q.bind(None::<String>),
        };
    }
    q
}

/// Parameters per statement: well under SQLite's 32766 and PostgreSQL's 65535.
const MAX_PARAMS: usize = 8_000;

/// Multi-row INSERT in chunks; returns the `RETURNING` rows if asked.
pub async fn insert_many(
    conn: &mut AnyConnection,
    table: &str,
    columns: &[&str],
    rows: &[Vec<V>],
    returning: Option<&str>,
) -> Result<Vec<AnyRow>, sqlx::Error> {
    let mut out = Vec::new();
    if rows.is_empty() {
        return Ok(out);
    }
    let per = (MAX_PARAMS / columns.len()).max(1);
    let sqlite = is_sqlite(conn);
    for chunk in rows.chunks(per) {
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
        let mut n = 0;
        for (i, _) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(',');
            }
            sql.push('(');
            for c in 0..columns.len() {
                if c > 0 {
                    sql.push(',');
                }
                n += 1;
                push_param(&mut sql, sqlite, n);
            }
            sql.push(')');
        }
        if let Some(r) = returning {
            sql.push_str(" RETURNING ");
            sql.push_str(r);
        }
        let q = chunk
            .iter()
            .flatten()
            .fold(sqlx::query(&sql), |q, v| match v {
                V::I(i) => q.bind(*i),
                V::T(s) => q.bind(s.as_str()),
                V::NullI => q.bind(None::<i64>),
                V::NullT => q.bind(None::<String>),
            });
        if returning.is_some() {
            out.extend(q.fetch_all(&mut *conn).await?);
        } else {
            q.execute(&mut *conn).await?;
        }
    }
    Ok(out)
}

/// SQLite resolves every `$N` by name with a linear walk per parameter, so
/// statements with thousands of `$N` spend most of their time there (25% of
/// an import in perf). Anonymous `?` binds positionally at no cost; it is
/// used for the long generated statements on SQLite. PostgreSQL needs `$N`.
pub fn is_sqlite(conn: &AnyConnection) -> bool {
    conn.backend_name().eq_ignore_ascii_case("sqlite")
}

fn push_param(sql: &mut String, sqlite: bool, n: usize) {
    if sqlite {
        sql.push('?');
    } else {
        sql.push('$');
        sql.push_str(&n.to_string());
    }
}

/// "$1,$2,…,$n" (or "?,?,…" on SQLite) for a statement whose only
/// parameters these are.
pub fn placeholders_for(conn: &AnyConnection, n: usize) -> String {
    let sqlite = is_sqlite(conn);
    let mut s = String::with_capacity(n * 4);
    for i in 1..=n {
        if i > 1 {
            s.push(',');
        }
        push_param(&mut s, sqlite, i);
    }
    s
}

/// "$1,$2,…,$n" starting after `offset` placeholders.
pub fn placeholders(offset: usize, n: usize) -> String {
    (offset + 1..=offset + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(",")
}
