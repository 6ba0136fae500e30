//! The SQLite import writer (`members::sqlite_bulk`) on the demo roster:
//! deferred indexes are rebuilt, a rollback restores them, and only tables
//! no larger than the import defer theirs.

use gonghui::{
    demo,
    members::{
        gen::Generator,
        sqlite_bulk::{SqliteBulk, DEFER_MIN_ROWS},
        store::{self, Counts, Prepared, Unions},
    },
    platform::{self, time},
    testing,
};

/// Index name → CREATE statement, as SQLite holds them.
async fn indexes(db: &platform::db::Db) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name",
    )
    .fetch_all(db.pool())
    .await
    .unwrap()
}

async fn count(db: &platform::db::Db, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(db.pool())
        .await
        .unwrap()
}

fn rows(env: &testing::TestEnv, seed: u64, n: u64) -> Vec<Prepared> {
    let mut g = Generator::new(seed, demo::grassroots_codes(), time::today());
    let rule = Default::default();
    (0..n)
        .filter_map(|i| store::prepare(&env.state.keys, i as usize + 2, &g.row(i), &rule).ok())
        .collect()
}

/// Runs `rows` through the bulk writer as an import of `claimed` rows.
async fn import(
    env: &testing::TestEnv,
    rows: &[Prepared],
    claimed: u64,
    commit: bool,
) -> (Vec<String>, Counts) {
    import_with(env, rows, claimed, DEFER_MIN_ROWS, commit).await
}

async fn import_with(
    env: &testing::TestEnv,
    rows: &[Prepared],
    claimed: u64,
    min_rows: u64,
    commit: bool,
) -> (Vec<String>, Counts) {
    let db = &env.state.db;
    let scope = platform::tree::system_scope(&env.state.db).await.unwrap();
    let unions = Unions::load(db, &scope).await.unwrap();
    let file = db.sqlite_file().unwrap().to_path_buf();
    let _guard = db.write_guard().await;
    let mut bulk = SqliteBulk::begin(&file, None).unwrap();
    let deferred = bulk.prepare_with(claimed, min_rows).unwrap();
    let mut counts = Counts::default();
    for o in bulk.apply(&unions, None, rows).unwrap() {
        counts.add(&o);
    }
    bulk.finish(commit).unwrap();
    (deferred, counts)
}

#[tokio::test]
async fn a_large_import_rebuilds_the_indexes_it_deferred() {
    let env = testing::demo_env().await.unwrap();
    let db = &env.state.db;
    if db.sqlite_file().is_none() {
        return; // the bulk writer is SQLite's
    }
    let before = indexes(db).await;
    let persons = count(db, "persons").await;
    let batch = rows(&env, 7, 300);
    // Claimed large: every table is smaller than the import.
    let (deferred, counts) = import(&env, &batch, 1_000_000, true).await;
    assert_eq!(deferred.len(), 7, "{deferred:?}");
    assert_eq!(counts.new as usize, batch.len());
    assert_eq!(indexes(db).await, before, "every index is back, the same");
    assert_eq!(count(db, "persons").await, persons + batch.len() as i64);
    // The rebuilt name index finds the new people.
    let name = &batch[0].row.person.name;
    let found: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM persons INDEXED BY persons_name WHERE name = $1")
            .bind(name)
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert!(found >= 1);

    // Again, now that they are stored: found through the in-memory
    // prefixes and the index, nothing new.
    let (_, again) = import(&env, &batch, 1_000_000, true).await;
    assert_eq!(again.new, 0);
    assert_eq!(again.unchanged as usize, batch.len());
}

#[tokio::test]
async fn a_rolled_back_large_import_leaves_rows_and_indexes_as_before() {
    let env = testing::demo_env().await.unwrap();
    let db = &env.state.db;
    if db.sqlite_file().is_none() {
        return;
    }
    let before = indexes(db).await;
    let (persons, events) = (
        count(db, "persons").await,
        count(db, "membership_events").await,
    );
    let batch = rows(&env, 8, 200);
    let (deferred, counts) = import(&env, &batch, 1_000_000, false).await;
    assert!(!deferred.is_empty());
    assert_eq!(counts.new as usize, batch.len());
    assert_eq!(indexes(db).await, before);
    assert_eq!(count(db, "persons").await, persons);
    assert_eq!(count(db, "membership_events").await, events);
}

#[tokio::test]
async fn only_tables_no_larger_than_the_import_defer_their_indexes() {
    let env = testing::demo_env().await.unwrap();
    let db = &env.state.db;
    if db.sqlite_file().is_none() {
        return;
    }
    // Below the threshold: nothing deferred.
    let (deferred, _) = import(&env, &rows(&env, 9, 50), DEFER_MIN_ROWS - 1, true).await;
    assert!(deferred.is_empty());
    // As many rows as persons, fewer than 会籍变化 events: the person
    // indexes go, the event indexes stay.
    let persons = count(db, "persons").await as u64;
    assert!(persons < count(db, "membership_events").await as u64);
    let (deferred, _) = import_with(&env, &rows(&env, 10, 20), persons, 0, true).await;
    assert!(
        deferred.contains(&"persons_name".to_string()),
        "{deferred:?}"
    );
    assert!(
        !deferred.iter().any(|n| n.starts_with("membership_events")),
        "{deferred:?}"
    );
}
