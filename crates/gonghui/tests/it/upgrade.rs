//! A database made before migrations were kept per module (one global
//! sequence in `schema_migrations`, versions 1–4) is opened by this binary
//! and upgraded in place: the records move under the module keys, the
//! newer migrations run, and every row, the audit chain and every figure stay
//! as they were. On SQLite and on PostgreSQL.

use chrono::Datelike;
use gonghui::{
    platform::{audit, db::Db, time, tree},
    reports::{figures, period::Period},
    testing,
};

/// Row counts of every table the demo fills.
async fn counts(db: &Db) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for t in [
        "orgs",
        "org_history",
        "users",
        "audit_log",
        "persons",
        "memberships",
        "membership_events",
        "cards",
        "manual_values",
        "org_data_version",
    ] {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {t}"))
            .fetch_one(db.pool())
            .await
            .unwrap();
        out.push((t.to_string(), n));
    }
    out
}

async fn city_figures(db: &Db) -> serde_json::Value {
    let scope = tree::system_scope(db).await.unwrap();
    let period = Period::year(time::today().year()).unwrap();
    let t = figures::table_uncached(db, &scope, scope.org_id, period)
        .await
        .unwrap();
    let mut v = serde_json::to_value(&t).unwrap();
    // The stations and mutual-aid modules came after that era: their
    // tables are dropped below, so their sections are not compared.
    if let Some(sections) = v["sections"].as_array_mut() {
        sections.retain(|s| s["key"] != "stations" && s["key"] != "mutual_aid");
    }
    v
}

async fn module_migrations(db: &Db) -> Vec<(String, i64)> {
    sqlx::query_as("SELECT module, version FROM module_migrations ORDER BY module, version")
        .fetch_all(db.pool())
        .await
        .unwrap()
}

/// The benefits module's tables, children first.
const BENEFITS_TABLES: [&str; 7] = [
    "redemptions",
    "vouchers",
    "campaign_merchants",
    "voucher_campaigns",
    "offers",
    "merchant_clerks",
    "merchants",
];

#[tokio::test]
async fn a_database_of_the_single_sequence_era_upgrades_in_place() {
    let env = testing::demo_env().await.unwrap();
    let db = env.state.db.clone();
    // Later modules' demo records go first (their tables are dropped
    // below, and come back empty with their migrations).
    for t in BENEFITS_TABLES.iter().chain(&[
        "hardship_fair_employers",
        "hardship_fairs",
        "hardship_visits",
        "hardship_worksites",
        "hardship_grants",
        "hardship_batches",
        "hardship_allocations",
        "hardship_campaigns",
        "hardship_checks",
        "hardship_objections",
        "hardship_members",
        "hardship_files",
        "hardship_lines",
    ]) {
        sqlx::query(&format!("DELETE FROM {t}"))
            .execute(db.pool())
            .await
            .unwrap();
    }
    // That main had no 职工人数 (orgs migration 1): the figures compared
    // below are those of a demo without it.
    sqlx::query("DELETE FROM org_workforce")
        .execute(db.pool())
        .await
        .unwrap();
    let before_counts = counts(&db).await;
    let before_figures = city_figures(&db).await;
    assert!(before_counts
        .iter()
        .all(|(t, n)| *n > 0 || t == "manual_values" || t == "cards"));

    // Put the migration records back the way the previous main kept them,
    // and take away what that main did not have (the members module's
    // index migration came with the per-module records; its index was
    // created by the old migration 3, which the demo database has; the
    // review chain's tables, platform migration 3, the attachments table,
    // migration 4, the person references, migration 5, and the accounts'
    // columns, migration 6, came later still; so did the keyed audit chain,
    // migration 7: that main hashed entries with plain SHA-256).
    testing::rechain_unkeyed(&db, 1, true).await.unwrap();
    // (That main wrote no marker of a keyed chain in the data directory.)
    std::fs::remove_file(env.data_dir().join(audit::KEYED_MARKER)).unwrap();
    let old_head: String = sqlx::query_scalar("SELECT hash FROM audit_head WHERE id = 1")
        .fetch_one(db.pool())
        .await
        .unwrap();
    let mut tx = db.begin_write().await.unwrap();
    for stmt in [
        "DROP TABLE org_workforce",
        // The stations and mutual-aid modules came later still.
        "DROP TABLE aid_payouts",
        "DROP TABLE aid_claims",
        "DROP TABLE aid_enrolments",
        "DROP TABLE aid_plans",
        "DROP TABLE station_visits",
        "DROP TABLE stations",
        "DROP TABLE station_townships",
        "DROP TABLE hardship_fair_employers",
        "DROP TABLE hardship_fairs",
        "DROP TABLE hardship_visits",
        "DROP TABLE hardship_worksites",
        "DROP TABLE hardship_grants",
        "DROP TABLE hardship_batches",
        "DROP TABLE hardship_allocations",
        "DROP TABLE hardship_campaigns",
        "DROP TABLE hardship_checks",
        "DROP TABLE hardship_objections",
        "DROP TABLE hardship_members",
        "DROP TABLE hardship_files",
        "DROP TABLE hardship_lines",
        "DROP TABLE person_ref_orgs",
        "DROP TABLE person_refs",
        "ALTER TABLE audit_head DROP COLUMN format",
        "ALTER TABLE audit_head DROP COLUMN key_id",
        "DROP TABLE attachments",
        "ALTER TABLE users DROP COLUMN must_change_password",
        "ALTER TABLE sessions DROP COLUMN last_seen",
        "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (1, 'platform', '2026-11-01T00:00:00Z'), \
         (2, 'members', '2026-11-01T00:00:00Z'), (3, 'reports', '2026-11-01T00:00:00Z'), (4, 'figure_cache', '2026-11-01T00:00:00Z')",
        "DROP TABLE module_migrations",
        "DROP TABLE redemptions",
        "DROP TABLE vouchers",
        "DROP TABLE campaign_merchants",
        "DROP TABLE voucher_campaigns",
        "DROP TABLE offers",
        "DROP TABLE merchant_clerks",
        "DROP TABLE merchants",
        "DROP TABLE review_steps",
        "DROP TABLE review_items",
    ] {
        sqlx::query(stmt).execute(&mut *tx.tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    db.close().await;
    drop(db);

    let env = testing::reopen(env, gonghui::modules::registry())
        .await
        .unwrap();
    let db = &env.state.db;

    // The old records under the module keys, and every later migration
    // applied: the same records as a database made new by this binary.
    let upgraded = module_migrations(db).await;
    for old in [
        ("platform", 1),
        ("platform", 2),
        ("members", 1),
        ("reports", 1),
    ] {
        assert!(
            upgraded.contains(&(old.0.to_string(), old.1)),
            "{old:?} adopted"
        );
    }
    let fresh = testing::env(gonghui::modules::registry()).await.unwrap();
    assert_eq!(upgraded, module_migrations(&fresh.state.db).await);
    let applied_at: String = sqlx::query_scalar(
        "SELECT applied_at FROM module_migrations WHERE module = 'platform' AND version = 1",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(applied_at, "2026-11-01T00:00:00Z", "the old record is kept");
    assert!(
        sqlx::query("SELECT 1 FROM schema_migrations")
            .fetch_optional(db.pool())
            .await
            .is_err(),
        "the old table is gone"
    );
    assert_eq!(counts(db).await, before_counts, "every row is kept");
    // The old chain was verified and re-keyed on open: it verifies under
    // the key, and no hash is the old one.
    let format: String = sqlx::query_scalar("SELECT format FROM audit_head WHERE id = 1")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(format, audit::FORMAT_HMAC);
    let new_head: String = sqlx::query_scalar("SELECT hash FROM audit_head WHERE id = 1")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_ne!(new_head, old_head, "re-keyed");
    let verified = audit::verify(db).await.unwrap();
    assert!(verified.problems.is_empty(), "{:?}", verified.problems);
    assert!(verified.checked > 0);
    assert_eq!(
        city_figures(db).await,
        before_figures,
        "every figure is kept"
    );
}

/// A database whose records name a version this binary does not know was
/// made by a newer Gonghui: refused, with the version named, its records kept.
#[tokio::test]
async fn a_database_from_a_newer_single_sequence_is_refused() {
    let env = testing::env(gonghui::modules::registry()).await.unwrap();
    let db = env.state.db.clone();
    sqlx::query("CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
        .execute(db.pool())
        .await
        .unwrap();
    sqlx::query("INSERT INTO schema_migrations VALUES (9, 'future', '2027-01-01T00:00:00Z')")
        .execute(db.pool())
        .await
        .unwrap();
    db.close().await;
    drop(db);
    let err = testing::reopen(env, gonghui::modules::registry())
        .await
        .err()
        .expect("refused");
    assert!(format!("{err:#}").contains("9"), "{err:#}");
}
