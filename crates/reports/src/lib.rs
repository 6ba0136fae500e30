//! 统计: the indicator catalogue, figures for any subtree and period,
//! drill-down to the records behind each figure, dashboards, exports.
//!
//! Every module declares its own indicators (`Module::indicators`); this one
//! owns the engine and the manually entered indicators of work the system
//! does not model yet.

pub mod cli;
pub mod export;
pub mod figures;
pub mod http;
mod i18n;
pub mod period;

use numfmt::Unit;
use platform::{
    indicator::{Indicator, OTHER_WORK},
    module::{Migration, Module},
};

/// Work the system does not record yet, entered per org and period.
pub fn indicators() -> Vec<Indicator> {
    vec![
        Indicator::manual(
            "work_publicity_reports",
            "宣传报道",
            "Publicity reports published",
            Unit::Piece,
            OTHER_WORK,
        )
        .about(
            "各级工会在媒体刊发的宣传报道篇数(手工填报,下级填报值逐级汇总)",
            "News reports published by the unions (entered by hand; the subtree's entries are summed)",
        ),
        Indicator::manual(
            "work_cadre_training",
            "培训工会干部",
            "Union cadres trained",
            Unit::PersonTime,
            OTHER_WORK,
        )
        .about(
            "统计期内培训工会干部人次(手工填报,下级填报值逐级汇总)",
            "Union cadre training attendances in the period (entered by hand; summed over the subtree)",
        ),
    ]
}

const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "manual_values",
    sql: include_str!("../migrations/0001_manual_values.sql"),
}];

pub fn module() -> Module {
    Module {
        nav: Some(("nav.reports", "/reports")),
        migrations: MIGRATIONS,
        i18n: i18n::CATALOG,
        routes: http::routes,
        cli: cli::COMMANDS,
        indicators,
        // The city's first dashboard view served from a warm cache, kept
        // warm after writes in this process and by a watch for others.
        on_start: |st| {
            figures::warm_up(st.db.clone());
            figures::warm_after_writes(st.db.clone());
            figures::keep_warm(
                st.db.clone(),
                std::time::Duration::from_secs(st.cfg.stats_watch_secs),
            );
        },
        ..Module::new("reports")
    }
}
