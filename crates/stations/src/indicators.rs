//! 阵地's indicators: stations at the end of the period (in all and by
//! kind), their floor area (㎡), the visits they served in the period (人次),
//! and the service circle — the streets/townships of a subtree with an open
//! station, those without, and the share. Declared here, computed by
//! `reports`; each figure equals its drill-down.

use numfmt::Unit;
use platform::indicator::{
    Aggregation, DrillColumn, Indicator, Kind, Measure, RecordSource, Section, Show,
};

use crate::model::{KINDS, STATUSES};

pub const SECTION: Section = Section {
    key: "stations",
    zh: "服务阵地",
    en: "Service stations",
    order: 60,
};

/// A station exists at the end of the period: opened by then, not closed down by then.
pub const AT_END: &str = "s.opened_on <= {end} AND (s.closed_on IS NULL OR s.closed_on > {end})";

/// Stations with their owner and township. Every writer bumps the owner's
/// data version (and the old owner's on a move).
pub static STATIONS: RecordSource = RecordSource {
    key: "stations",
    from:
        "stations s JOIN orgs o ON o.id = s.org_id JOIN station_townships t ON t.id = s.township_id",
    scan: None,
    org_column: "s.org_id",
    window: None,
    cached: true,
    measure: Measure::Count,
    aggregation: Aggregation::Sum,
    subject: "stations",
    personal: false,
    drill_columns: &[
        DrillColumn::new("org_code", "o.code", "组织代码", "Org code", Show::Hidden),
        DrillColumn::new("org_name", "o.name", "所属工会", "Union", Show::Text),
        DrillColumn::new(
            "id",
            "s.id",
            "编号",
            "No.",
            Show::Link {
                href: "/stations/{}",
                id_key: "id",
            },
        ),
        DrillColumn::new("name", "s.name", "名称", "Name", Show::Text),
        DrillColumn::new("kind", "s.kind", "类型", "Kind", Show::Label(KINDS)),
        DrillColumn::new(
            "township",
            "t.name",
            "街道(乡镇)",
            "Street/township",
            Show::Text,
        ),
        DrillColumn::new("address", "s.address", "地址", "Address", Show::Text),
        DrillColumn::new(
            "area_sqm",
            "s.area_sqm",
            "面积(㎡)",
            "Area (㎡)",
            Show::Number,
        ),
        DrillColumn::new(
            "status",
            "s.status",
            "状态",
            "Status",
            Show::Label(STATUSES),
        ),
        DrillColumn::new(
            "opened_on",
            "s.opened_on",
            "建成日期",
            "Opened on",
            Show::Text,
        ),
    ],
    drill_order: "o.code, s.id",
    drill_group: None,
};

/// Daily visit counts, by the station's owner.
pub static VISITS: RecordSource = RecordSource {
    key: "station_visits",
    from: "station_visits v JOIN orgs o ON o.id = v.org_id JOIN stations s ON s.id = v.station_id",
    org_column: "v.org_id",
    window: Some("v.on_date"),
    subject: "station_visits",
    drill_columns: &[
        DrillColumn::new("org_code", "o.code", "组织代码", "Org code", Show::Hidden),
        DrillColumn::new("org_name", "o.name", "所属工会", "Union", Show::Text),
        DrillColumn::new("name", "s.name", "阵地", "Station", Show::Text),
        DrillColumn::new("kind", "s.kind", "类型", "Kind", Show::Label(KINDS)),
        DrillColumn::new("on_date", "v.on_date", "日期", "Date", Show::Text),
        DrillColumn::new("visits", "v.visits", "服务人次", "Visits", Show::Number),
    ],
    drill_order: "o.code, s.id, v.on_date",
    ..STATIONS
};

/// The streets/townships, by the union that keeps each. Not cached: whether
/// one is covered depends on stations other unions own.
pub static TOWNSHIPS: RecordSource = RecordSource {
    key: "station_townships",
    from: "station_townships t JOIN orgs o ON o.id = t.org_id",
    org_column: "t.org_id",
    window: None,
    cached: false,
    subject: "station_townships",
    drill_columns: &[
        DrillColumn::new("org_code", "o.code", "组织代码", "Org code", Show::Hidden),
        DrillColumn::new("org_name", "o.name", "所属工会", "Union", Show::Text),
        DrillColumn::new(
            "county_code",
            "t.county_code",
            "县级区划代码",
            "County code",
            Show::Text,
        ),
        DrillColumn::new(
            "name",
            "t.name",
            "街道(乡镇)",
            "Street/township",
            Show::Text,
        ),
    ],
    drill_order: "t.county_code, t.name",
    ..STATIONS
};

/// A township is covered when an open station stands in it at the end of
/// the period (a paused one does not serve).
pub const COVERED: &str = "EXISTS (SELECT 1 FROM stations s WHERE s.township_id = t.id \
    AND s.status <> 'paused' AND s.opened_on <= {end} AND (s.closed_on IS NULL OR s.closed_on > {end}))";
pub const UNCOVERED: &str = "NOT EXISTS (SELECT 1 FROM stations s WHERE s.township_id = t.id \
    AND s.status <> 'paused' AND s.opened_on <= {end} AND (s.closed_on IS NULL OR s.closed_on > {end}))";

const KIND_AT_END: [&str; 5] = [
    "s.kind = 'love' AND s.opened_on <= {end} AND (s.closed_on IS NULL OR s.closed_on > {end})",
    "s.kind = 'maternal' AND s.opened_on <= {end} AND (s.closed_on IS NULL OR s.closed_on > {end})",
    "s.kind = 'driver' AND s.opened_on <= {end} AND (s.closed_on IS NULL OR s.closed_on > {end})",
    "s.kind = 'library' AND s.opened_on <= {end} AND (s.closed_on IS NULL OR s.closed_on > {end})",
    "s.kind = 'centre' AND s.opened_on <= {end} AND (s.closed_on IS NULL OR s.closed_on > {end})",
];

pub fn indicators() -> Vec<Indicator> {
    let kind = |code, zh, en, when| {
        Indicator::records(
            code,
            zh,
            en,
            Unit::Ge,
            Kind::PointInTime,
            SECTION,
            &STATIONS,
            when,
        )
        .group("stations_by_kind")
    };
    vec![
        Indicator::records(
            "stations_total",
            "服务阵地",
            "Service stations",
            Unit::Ge,
            Kind::PointInTime,
            SECTION,
            &STATIONS,
            AT_END,
        )
        .about(
            "期末已建成且未撤销的各类服务阵地(爱心驿站、母婴关爱室、司机之家、职工书屋、职工服务中心)",
            "Stations of every kind built by the end of the period and not closed down",
        )
        .headline(),
        kind(
            "stations_love",
            "工会爱心驿站",
            "Union care stations",
            KIND_AT_END[0],
        )
        .about(
            "期末的工会爱心驿站(户外劳动者服务站)",
            "Union care stations for outdoor workers at the end of the period",
        ),
        kind("stations_maternal", "母婴关爱室", "Mother-and-baby rooms", KIND_AT_END[1])
            .about("期末的母婴关爱室", "Mother-and-baby rooms at the end of the period"),
        kind("stations_driver", "司机之家", "Drivers' homes", KIND_AT_END[2])
            .about("期末的司机之家", "Drivers' homes at the end of the period"),
        kind("stations_library", "职工书屋", "Workers' reading rooms", KIND_AT_END[3])
            .about("期末的职工书屋", "Workers' reading rooms at the end of the period"),
        kind("stations_centre", "职工服务中心", "Workers' service centres", KIND_AT_END[4])
            .about("期末的职工服务中心", "Workers' service centres at the end of the period"),
        Indicator::records(
            "stations_area",
            "服务阵地面积",
            "Station floor area",
            Unit::SquareMetre,
            Kind::PointInTime,
            SECTION,
            &STATIONS,
            AT_END,
        )
        .measure(Measure::Sum("s.area_sqm"), Aggregation::SumOfValues)
        .about(
            "期末各类服务阵地的建筑面积合计(平方米)",
            "Floor area of the stations at the end of the period (㎡)",
        ),
        Indicator::records(
            "stations_visits",
            "服务阵地服务人次",
            "Station visits",
            Unit::PersonTime,
            Kind::Flow,
            SECTION,
            &VISITS,
            "v.on_date >= {start} AND v.on_date <= {end}",
        )
        .measure(Measure::Sum("v.visits"), Aggregation::SumOfValues)
        .about(
            "统计期内各服务阵地登记的每日服务人次之和",
            "Visits recorded by the stations, day by day, in the period",
        )
        .headline(),
        Indicator::records(
            "stations_townships",
            "街道(乡镇)数",
            "Streets/townships",
            Unit::Ge,
            Kind::PointInTime,
            SECTION,
            &TOWNSHIPS,
            "1 = 1",
        )
        .about(
            "本组织及下级工会所辖的街道(乡镇)数(服务圈的统计单位)",
            "Streets/townships kept by the unions of the subtree (the unit of the service circle)",
        ),
        Indicator::records(
            "stations_townships_covered",
            "已建服务阵地的街道(乡镇)",
            "Streets/townships with a station",
            Unit::Ge,
            Kind::PointInTime,
            SECTION,
            &TOWNSHIPS,
            COVERED,
        )
        .about(
            "期末有开放的服务阵地的街道(乡镇):职工15分钟(约1公里)服务圈",
            "Streets/townships with an open station at the end of the period: the 15-minute (about 1 km) service circle",
        ),
        Indicator::records(
            "stations_townships_uncovered",
            "尚无服务阵地的街道(乡镇)",
            "Streets/townships without a station",
            Unit::Ge,
            Kind::PointInTime,
            SECTION,
            &TOWNSHIPS,
            UNCOVERED,
        )
        .about(
            "期末没有开放的服务阵地的街道(乡镇),明细即清单",
            "Streets/townships without an open station at the end of the period; the drill-down lists them",
        ),
        Indicator::ratio(
            "stations_circle",
            "服务圈覆盖率",
            "Service-circle coverage",
            SECTION,
            "stations_townships_covered",
            "stations_townships",
        )
        .about(
            "已建服务阵地的街道(乡镇)占全部街道(乡镇)的比例",
            "Share of streets/townships with an open station",
        )
        .headline(),
    ]
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_are_unique_and_prefixed() {
        let all = super::indicators();
        let mut codes: Vec<_> = all.iter().map(|i| i.code).collect();
        assert!(codes.iter().all(|c| c.starts_with("stations_")));
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
    }
}
