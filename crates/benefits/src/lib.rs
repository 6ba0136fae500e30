//! 普惠 (member benefits): partner merchants and their clerk accounts,
//! offers with eligibility and limits, voucher campaigns (送温暖 消费券), and
//! redemption with the member card at the counter — one transaction that
//! verifies the card and records the use — with usage, settlement, figures
//! and the annual summary's paragraph.

mod counter;
pub mod demo;
pub mod http;
mod i18n;
pub mod indicators;
mod limits;
pub mod model;
pub mod redeem;
pub mod store;

use platform::{
    module::{KeyedMigration, Migration, Module, OrgHold},
    scope::Role,
};

/// Typed ids of the module's records.
pub mod ids {
    platform::id_type!(MerchantId, OfferId, CampaignId, RedemptionId);
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "benefits",
        sql: include_str!("../migrations/0001_benefits.sql"),
    },
    Migration {
        version: 2,
        name: "redemption indexes",
        sql: include_str!("../migrations/0002_redemption_indexes.sql"),
    },
];

/// Changes of stored rows that SQL cannot make. Merchants' coordinates were
/// first kept as typed (GCJ-02, from 高德); they are kept in WGS-84 now, like
/// the stations': the transform is not linear, so it runs here, once, in
/// the platform's data-migration transaction (it needs no key).
const DATA_MIGRATIONS: &[KeyedMigration] = &[KeyedMigration {
    version: 1,
    name: "merchant coordinates GCJ-02 → WGS-84",
    run: |conn, _keys| Box::pin(merchants_to_wgs84(conn)),
}];

async fn merchants_to_wgs84(conn: &mut sqlx::AnyConnection) -> anyhow::Result<()> {
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT id, lng_e6, lat_e6 FROM merchants WHERE lng_e6 IS NOT NULL AND lat_e6 IS NOT NULL",
    )
    .fetch_all(&mut *conn)
    .await?;
    for r in rows {
        let (id, x, y): (i64, i64, i64) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
        let wgs = geo::to_wgs(geo::LatLng::from_e6(y, x), geo::Datum::Gcj02);
        let (lat, lng) = wgs.to_e6();
        sqlx::query("UPDATE merchants SET lng_e6 = $1, lat_e6 = $2 WHERE id = $3")
            .bind(lng)
            .bind(lat)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Where a merchant's clerk lands after signing in.
pub const CLERK_HOME: &str = "/redeem";

pub fn module() -> Module {
    Module {
        nav: Some(("benefits.nav", "/benefits")),
        migrations: MIGRATIONS,
        keyed_migrations: DATA_MIGRATIONS,
        i18n: i18n::CATALOG,
        routes: http::routes,
        indicators: indicators::indicators,
        summary: indicators::summary,
        seed_demo: Some(|st| Box::pin(demo::seed(st))),
        org_holds: &[OrgHold {
            count_sql: "SELECT COUNT(*) FROM merchants WHERE org_id = $1 AND status <> 'ended'",
            zh: "该组织还有{n}家合作商户,请先终止合作或移交给其他工会",
            en: "This org still has {n} partner merchants; end or hand over their agreements first",
        }],
        homes: &[(Role::Merchant, CLERK_HOME)],
        ..Module::new("benefits")
    }
}
