//! Changes of the roster's stored data that need the keys, run once when the
//! platform opens (`Module::keyed_migrations`).

use platform::{
    crypto::Keys,
    module::{BoxFuture, KeyedMigration},
};
use sqlx::{AnyConnection, Row};

pub const MIGRATIONS: &[KeyedMigration] = &[KeyedMigration {
    version: 1,
    name: "keyed_row_hash",
    run: rekey_row_hashes,
}];

/// Recomputes every person's change-detection hash with the key
/// (`model::row_hash`) from the stored fields, decrypting the ID and phone:
/// hashes written before were plain SHA-256. The fields are those
/// `Person::seal` hashes, in its order, so a re-import of an unchanged row
/// stays "unchanged".
fn rekey_row_hashes<'a>(
    conn: &'a mut AnyConnection,
    keys: &'a Keys,
) -> BoxFuture<'a, anyhow::Result<()>> {
    Box::pin(async move {
        let mut after = 0i64;
        loop {
            let rows = sqlx::query(
                "SELECT id, name, id_enc, id_kind, gender, birth_date, phone_enc, nation, education, political, \
                 hukou_type, hukou_place, migrant, skill_level, workplace, new_employment_group \
                 FROM persons WHERE id > $1 ORDER BY id LIMIT 5000",
            )
            .bind(after)
            .fetch_all(&mut *conn)
            .await?;
            let Some(last) = rows.last() else {
                break;
            };
            after = last.try_get("id")?;
            for r in &rows {
                let id: i64 = r.try_get("id")?;
                let number = keys.decrypt(&r.try_get::<String, _>("id_enc")?)?;
                let phone = match r.try_get::<Option<String>, _>("phone_enc")? {
                    Some(p) => Some(keys.decrypt(&p)?),
                    None => None,
                };
                let canonical = serde_json::json!([
                    r.try_get::<String, _>("name")?,
                    number,
                    r.try_get::<String, _>("id_kind")?,
                    r.try_get::<String, _>("gender")?,
                    r.try_get::<Option<String>, _>("birth_date")?,
                    phone,
                    r.try_get::<String, _>("nation")?,
                    r.try_get::<String, _>("education")?,
                    r.try_get::<String, _>("political")?,
                    r.try_get::<String, _>("hukou_type")?,
                    r.try_get::<String, _>("hukou_place")?,
                    r.try_get::<i64, _>("migrant")? == 1,
                    r.try_get::<String, _>("skill_level")?,
                    r.try_get::<String, _>("workplace")?,
                    r.try_get::<String, _>("new_employment_group")?,
                ]);
                sqlx::query("UPDATE persons SET row_hash = $1 WHERE id = $2")
                    .bind(crate::model::row_hash(keys, &canonical))
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
            }
        }
        Ok(())
    })
}
