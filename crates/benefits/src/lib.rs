//! 普惠 (member benefits): partner merchants and their clerk accounts,
//! offers with eligibility and limits, voucher campaigns (送温暖 消费券), and
//! redemption with the member card at the counter — one transaction that
//! verifies the card and records the use — with usage, settlement, figures
//! and the annual summary's paragraph.

pub mod demo;
pub mod http;
mod i18n;
pub mod indicators;
mod limits;
pub mod model;
pub mod redeem;
pub mod store;

use platform::{
    module::{Migration, Module, OrgHold},
    scope::Role,
};

/// Typed ids of the module's records.
pub mod ids {
    platform::id_type!(MerchantId, OfferId, CampaignId, RedemptionId);
}

const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "benefits",
    sql: include_str!("../migrations/0001_benefits.sql"),
}];

/// Where a merchant's clerk lands after signing in.
pub const CLERK_HOME: &str = "/redeem";

pub fn module() -> Module {
    Module {
        nav: Some(("benefits.nav", "/benefits")),
        migrations: MIGRATIONS,
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
