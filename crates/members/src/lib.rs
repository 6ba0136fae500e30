//! 会员实名制: the real-name member roster — persons, memberships and their
//! history, import/export, online join, transfers, member cards, search.

pub mod card;
mod cli;
pub mod demo;
pub mod directory;
pub mod gen;
pub mod http;
mod i18n;
pub mod import;
pub mod indicators;
pub mod join;
mod keyed;
mod limits;
pub mod model;
pub mod otp;
pub mod sqlite_bulk;
pub mod store;
pub mod survey;
pub mod transfer;
pub mod vocab;

use std::sync::Arc;

use platform::{
    module::{Migration, Module, OrgHold},
    person::PersonDirectory,
};

/// Typed ids of the roster's records.
pub mod ids {
    pub use platform::ids::{OrgId, UserId};

    platform::id_type!(
        PersonId,
        MembershipId,
        CardId,
        JoinRequestId,
        TransferId,
        ImportJobId
    );
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "members",
        sql: include_str!("../migrations/0001_members.sql"),
    },
    Migration {
        version: 2,
        name: "event_org_date_index",
        sql: include_str!("../migrations/0002_event_org_date_index.sql"),
    },
    Migration {
        version: 3,
        name: "transfer_consent",
        sql: include_str!("../migrations/0003_transfer_consent.sql"),
    },
    Migration {
        version: 4,
        name: "mask_last_four",
        sql: include_str!("../migrations/0004_mask_last_four.sql"),
    },
    Migration {
        version: 5,
        name: "join_uniform",
        sql: include_str!("../migrations/0005_join_uniform.sql"),
    },
];

pub fn module() -> Module {
    Module {
        nav: Some(("nav.members", "/members")),
        migrations: MIGRATIONS,
        i18n: i18n::CATALOG,
        routes: || http::routes().merge(join::routes()).merge(card::routes()),
        indicators: indicators::indicators,
        summary: indicators::summary,
        yearly_return: survey::contribution,
        seed_demo: Some(|st| Box::pin(demo::seed(st))),
        // Imports a dead process left running are marked partial or
        // failed; rejects files hold full ID numbers: deleted after
        // `rejects_keep_days`, swept at start and hourly.
        on_start: import::on_start,
        cli: cli::COMMANDS,
        keyed_migrations: keyed::MIGRATIONS,
        org_holds: &[OrgHold {
            count_sql: "SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND status <> 'ended'",
            zh: "该组织还有{n}名在籍会员,请先办理转会或退会",
            en:
                "This org still has {n} active members; transfer them or end their membership first",
        }],
        person_directories: || {
            vec![Arc::new(directory::RosterDirectory) as Arc<dyn PersonDirectory>]
        },
        ..Module::new("members")
    }
}
