//! 阵地: the stations unions run for workers — 工会爱心驿站 (户外劳动者服务站),
//! 母婴关爱室, 司机之家, 职工书屋, 职工服务中心 — with their place (stored in
//! WGS-84, typed in any of the Chinese maps' datums), area, facilities,
//! hours, status and daily visits; the public phone page "附近的驿站"; the
//! 15-minute service circle over the streets/townships (街道/乡镇); their
//! indicators, summary paragraph and lines of the yearly return.

pub mod demo;
/// The datum transforms and distances live in the leaf crate `gonghui-geo`
/// (merchants' coordinates use them too).
pub use geo;
pub mod http;
mod i18n;
pub mod indicators;
mod limits;
pub mod model;
pub mod store;

use platform::{
    module::{Migration, Module, OrgHold},
    summary::Paragraph,
    survey::{self, Answer, Check, Contribution, Item, Relation},
};

const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "stations",
    sql: include_str!("../migrations/0001_stations.sql"),
}];

/// The summary's paragraph on stations (section 维权服务), in the seeds' voice.
pub fn summary() -> Vec<Paragraph> {
    vec![Paragraph {
        key: "stations.built",
        section: "rights",
        indicators: &[
            "stations_love",
            "stations_maternal",
            "stations_driver",
            "stations_library",
            "stations_centre",
            "stations_area",
            "stations_visits",
            "stations_circle",
        ],
        zh: "建成工会爱心驿站{stations_love}[、母婴关爱室{stations_maternal}][、司机之家{stations_driver}][、职工书屋{stations_library}][、职工服务中心{stations_centre}],总面积达{stations_area},服务户外劳动者和职工群众{stations_visits:wan},为户外劳动者解决了就餐、饮水、休息等多方面难题[;街道(乡镇)职工15分钟服务圈覆盖率达{stations_circle}]。",
        en: "Built {stations_love} union care stations[, {stations_maternal} mother-and-baby rooms][, {stations_driver} drivers' homes][, {stations_library} workers' reading rooms][, {stations_centre} workers' service centres], {stations_area} in all, serving outdoor workers and others {stations_visits:wan}, with meals, water and rest[; the 15-minute service circle covers {stations_circle} of streets/townships].",
    }]
}

/// Lines of the yearly return (帮扶服务) the stations answer.
pub fn yearly_return() -> Contribution {
    let item = |code, zh, en, unit, ind| Item {
        area: survey::ASSISTANCE,
        code,
        zh,
        en,
        unit,
        answer: Answer::Indicator(ind),
    };
    Contribution {
        items: vec![
            item(
                "ZD01",
                "服务阵地数",
                "Service stations",
                "个",
                "stations_total",
            ),
            item(
                "ZD02",
                "其中:工会爱心驿站(户外劳动者服务站)",
                "of which union care stations",
                "个",
                "stations_love",
            ),
            item(
                "ZD03",
                "其中:母婴关爱室",
                "of which mother-and-baby rooms",
                "个",
                "stations_maternal",
            ),
            item(
                "ZD04",
                "其中:司机之家",
                "of which drivers' homes",
                "个",
                "stations_driver",
            ),
            item(
                "ZD05",
                "其中:职工书屋",
                "of which workers' reading rooms",
                "个",
                "stations_library",
            ),
            item(
                "ZD06",
                "其中:职工服务中心",
                "of which workers' service centres",
                "个",
                "stations_centre",
            ),
            item(
                "ZD07",
                "服务阵地面积",
                "Station floor area",
                "平方米",
                "stations_area",
            ),
            item(
                "ZD08",
                "服务阵地服务人次",
                "Station visits",
                "人次",
                "stations_visits",
            ),
        ],
        checks: vec![Check {
            left: &["ZD02", "ZD03", "ZD04", "ZD05", "ZD06"],
            relation: Relation::Equals,
            right: "ZD01",
            zh: "各类服务阵地之和应等于服务阵地总数",
            en: "The kinds of station add up to the total",
        }],
    }
}

pub fn module() -> Module {
    Module {
        nav: Some(("nav.stations", "/stations")),
        migrations: MIGRATIONS,
        i18n: i18n::CATALOG,
        routes: http::routes,
        indicators: indicators::indicators,
        summary,
        yearly_return,
        seed_demo: Some(|st| Box::pin(demo::seed(st))),
        org_holds: &[OrgHold {
            count_sql: "SELECT COUNT(*) FROM stations WHERE org_id = $1 AND status <> 'closed'",
            zh: "该组织还有{n}处未撤销的服务阵地,请先移交或撤销",
            en: "This org still runs {n} stations; hand them over or close them first",
        }],
        ..Module::new("stations")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn catalog_is_sorted_and_prefixed() {
        for w in super::i18n::CATALOG.windows(2) {
            assert!(w[0].0 < w[1].0, "{} before {}", w[0].0, w[1].0);
        }
        assert!(super::i18n::CATALOG
            .iter()
            .all(|(k, ..)| k.starts_with("station.") || *k == "nav.stations"));
    }
}
