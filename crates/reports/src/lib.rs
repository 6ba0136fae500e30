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
mod return_http;
pub mod yearly_return;

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

/// The survey's lines that no module records yet (工会干部, 民主管理, 劳动保护,
/// 法律工作, 帮扶, 经费): listed in the return as not recorded, not left
/// out. A module that comes to record one declares it itself and removes it
/// here (codes are unique across modules).
pub fn yearly_return() -> platform::survey::Contribution {
    use platform::survey::{
        Answer::NotRecorded, Area, Contribution, Item, ASSISTANCE, CADRES, DEMOCRATIC, FUNDS,
        LEGAL, PROTECTION,
    };
    const fn nr(
        area: Area,
        code: &'static str,
        zh: &'static str,
        en: &'static str,
        unit: &'static str,
    ) -> Item {
        Item {
            area,
            code,
            zh,
            en,
            unit,
            answer: NotRecorded,
        }
    }
    Contribution {
        items: vec![
            nr(
                CADRES,
                "G01",
                "专职工会工作人员",
                "Full-time union staff",
                "人",
            ),
            nr(
                CADRES,
                "G02",
                "兼职工会工作人员",
                "Part-time union staff",
                "人",
            ),
            nr(CADRES, "G03", "#女性", "of which: women", "人"),
            nr(
                DEMOCRATIC,
                "M01",
                "建立职代会制度的单位",
                "Units with a workers' congress",
                "个",
            ),
            nr(
                DEMOCRATIC,
                "M02",
                "职工代表人数",
                "Workers' representatives",
                "人",
            ),
            nr(DEMOCRATIC, "M03", "#女职工代表", "of which: women", "人"),
            nr(
                DEMOCRATIC,
                "M04",
                "实行厂务公开的单位",
                "Units practising open management",
                "个",
            ),
            nr(DEMOCRATIC, "M05", "职工董事", "Worker directors", "人"),
            nr(DEMOCRATIC, "M06", "职工监事", "Worker supervisors", "人"),
            nr(
                DEMOCRATIC,
                "M07",
                "工资专项集体合同",
                "Collective wage contracts",
                "份",
            ),
            nr(
                DEMOCRATIC,
                "M08",
                "工资专项集体合同覆盖企业",
                "Enterprises covered by wage contracts",
                "个",
            ),
            nr(
                DEMOCRATIC,
                "M09",
                "工资专项集体合同覆盖职工",
                "Workers covered by wage contracts",
                "人",
            ),
            nr(
                PROTECTION,
                "B01",
                "劳动保护监督检查委员会",
                "Labour-protection supervision committees",
                "个",
            ),
            nr(
                PROTECTION,
                "B02",
                "工会劳动保护监督检查员",
                "Union labour-protection inspectors",
                "人",
            ),
            nr(PROTECTION, "B03", "安全隐患排查", "Hazards found", "处"),
            nr(
                LEGAL,
                "L01",
                "劳动法律监督组织",
                "Labour-law supervision bodies",
                "个",
            ),
            nr(
                LEGAL,
                "L02",
                "劳动争议调解委员会",
                "Labour-dispute mediation committees",
                "个",
            ),
            nr(
                LEGAL,
                "L03",
                "受理劳动争议案件",
                "Labour disputes received",
                "件",
            ),
            nr(LEGAL, "L04", "提供法律援助", "Legal-aid cases", "件"),
            nr(ASSISTANCE, "A01", "建档困难职工", "Hardship files", "户"),
            nr(
                ASSISTANCE,
                "A02",
                "送温暖慰问职工",
                "Workers visited (送温暖)",
                "人次",
            ),
            nr(FUNDS, "F01", "工会经费收入", "Union funds received", "万元"),
            nr(FUNDS, "F02", "工会经费支出", "Union funds spent", "万元"),
            nr(
                FUNDS,
                "F03",
                "经费审查委员会开展审查",
                "Audits by the funds audit committees",
                "次",
            ),
        ],
        checks: vec![],
    }
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
        yearly_return,
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
