//! The indicator vocabulary: every figure the system reports is declared
//! once, by the module that owns its records, as an [`Indicator`] over a
//! [`RecordSource`] the module also declares. The reports engine computes all
//! of them for any org subtree and period in one pass per source, caches the
//! per-org values of cached sources, and lists the records behind each figure
//! (drill-down) from the same declaration, so a figure always equals its list.
//!
//! A counted indicator's definition is a SQL condition over its source's
//! FROM clause (which joins `orgs o`, the org the record belongs to) and a
//! [`Measure`]: count the matching records, count distinct values of a column
//! per org, or sum an integer column. Period bounds are tokens the engine
//! binds as parameters: `{start}`, `{end}` (ISO dates), `{end_at}` (the first
//! instant after the period, Beijing midnight, as RFC 3339 UTC text),
//! `{born36}`, `{born46}`, `{born55}` (birth-date cut-offs for age at the end
//! of the period: born after `{born36}` ⇔ 35 or younger).

use serde::Serialize;

use numfmt::Unit;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A stock at the end of the period (members on 31 December).
    PointInTime,
    /// Events within the period (members joined in 2026).
    Flow,
    /// `num / den` of two other indicators, shown as a percentage with both parts.
    Ratio {
        num: &'static str,
        den: &'static str,
    },
    /// Typed in per org and period (what the system does not model), flagged manual everywhere.
    Manual,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::PointInTime => "point_in_time",
            Kind::Flow => "flow",
            Kind::Ratio { .. } => "ratio",
            Kind::Manual => "manual",
        }
    }
    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            Kind::PointInTime => ("期末数", "end of period"),
            Kind::Flow => ("期内发生", "during period"),
            Kind::Ratio { .. } => ("比率", "ratio"),
            Kind::Manual => ("手工填报", "entered manually"),
        }
    }
}

/// How a figure rolls up over an org subtree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// Sum of rows (orgs) or of entered values (manual indicators).
    Sum,
    /// Each org counted once per period, however many records it has (certificate events).
    DistinctOrgs,
    /// Each person counted once per union. For stocks the registry guarantees
    /// one current membership per person (a transfer ends the old membership
    /// the day the new one starts), so a membership count is a person count;
    /// for flows the engine counts distinct persons per union.
    DistinctPersons,
    /// Numerator and denominator are rolled up, then divided.
    Ratio,
    /// Each distinct value (a household, …) counted once per union.
    Distinct,
    /// The sum of a column's values over the records.
    SumOfValues,
}

/// What an indicator measures over the matching records of its source, per
/// org (then summed over the subtree).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    /// The number of matching records.
    Count,
    /// The number of distinct values of a column per org: persons,
    /// households, orgs with a certificate event.
    Distinct(&'static str),
    /// The sum of an integer column: money in fen, area in ㎡, 人次.
    Sum(&'static str),
}

/// How a drill-down column shows its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Show {
    Text,
    /// An integer, right-aligned.
    Number,
    /// An integer number of fen, shown in yuan.
    Money,
    /// An ISO date taken as a birth date: shown as the age at the end of the period.
    AgeAtEnd,
    /// A stored code shown by its label: (value, 中文, English).
    Label(&'static [(&'static str, &'static str, &'static str)]),
    /// A 0/1 flag, shown as the given text when 1.
    Flag(&'static str, &'static str),
    /// Text linking to `href` with `{}` replaced by the row's `id_key` column.
    Link {
        href: &'static str,
        id_key: &'static str,
    },
    /// Read for links, not shown.
    Hidden,
}

/// One column of a drill-down list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DrillColumn {
    /// The key in the API's rows (stable).
    pub key: &'static str,
    /// The SQL expression; with [`RecordSource::drill_group`] an expression
    /// valid under that GROUP BY (an aggregate, or a column of a grouped key).
    pub expr: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    pub show: Show,
}

impl DrillColumn {
    pub const fn new(
        key: &'static str,
        expr: &'static str,
        zh: &'static str,
        en: &'static str,
        show: Show,
    ) -> DrillColumn {
        DrillColumn {
            key,
            expr,
            zh,
            en,
            show,
        }
    }
}

/// Where a module's counted indicators find their records: declared once by
/// the module, served unchanged by the engine, the per-org cache, the
/// drill-down, the breakdown by child org, the xlsx export and the CLI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordSource {
    /// Stable key: cache keys, logs, the catalogue API.
    pub key: &'static str,
    /// The FROM clause with its joins; it joins `orgs o`, the org each
    /// record belongs to, which the engine scopes by path.
    pub from: &'static str,
    /// For large subtrees, the same records read in storage order: a FROM
    /// clause of CROSS JOINs (which SQLite takes as the join order) and the
    /// join conditions, ending in `AND `. None: `from` serves every size.
    pub scan: Option<(&'static str, &'static str)>,
    /// The record's org column, by which a few orgs are read through its index.
    pub org_column: &'static str,
    /// A date column every flow of this source bounds by the period: rows
    /// are narrowed to the span of the periods asked before any condition.
    pub window: Option<&'static str>,
    /// Whether per-org values are cached. Only for sources whose every
    /// writer bumps the org's data version (`dataver::touch`) in its
    /// transaction — otherwise a cached figure would go stale.
    pub cached: bool,
    /// The measure of its indicators unless one says otherwise.
    pub measure: Measure,
    /// How its figures roll up, as the catalogue states it.
    pub aggregation: Aggregation,
    /// What its drill-down lists ("orgs", "members", …): the page's subject.
    pub subject: &'static str,
    /// The rows hold personal data: only masked columns may be listed, and
    /// every drill-down is written to the audit log.
    pub personal: bool,
    pub drill_columns: &'static [DrillColumn],
    pub drill_order: &'static str,
    /// For a [`Measure::Distinct`] source, the GROUP BY that makes one
    /// drill-down row per (org, distinct value).
    pub drill_group: Option<&'static str>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Definition {
    /// Measured over the records of `source` in the subtree matching `when`.
    Records {
        source: &'static RecordSource,
        when: &'static str,
        measure: Measure,
    },
    /// Computed from other indicators (ratios).
    Derived,
    /// Entered by hand per org and period (`manual_values`).
    Entered,
}

/// A section of the figures table (one sheet in the xlsx export).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Section {
    pub key: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    /// Display order.
    pub order: u32,
}

pub const ORGS: Section = Section {
    key: "orgs",
    zh: "组织建设",
    en: "Organisations",
    order: 10,
};
pub const MEMBERS: Section = Section {
    key: "members",
    zh: "会员发展",
    en: "Members",
    order: 20,
};
pub const MEMBER_PROFILE: Section = Section {
    key: "member_profile",
    zh: "会员构成",
    en: "Member profile",
    order: 30,
};
pub const OTHER_WORK: Section = Section {
    key: "other",
    zh: "其他工作(手工填报)",
    en: "Other work (entered manually)",
    order: 90,
};

#[derive(Clone, Copy, Debug)]
pub struct Indicator {
    /// Stable code used in URLs, the API, the CLI and exports.
    pub code: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    pub unit: Unit,
    pub kind: Kind,
    pub aggregation: Aggregation,
    pub section: Section,
    /// Indicators sharing a group are the parts of one breakdown (a chart):
    /// "org_type", "new_employment", "age", "education".
    pub group: Option<&'static str>,
    pub definition: Definition,
    /// What the figure counts, in words, for the catalogue page and the API.
    pub about_zh: &'static str,
    pub about_en: &'static str,
    /// Shown among the dashboard's headline figures.
    pub headline: bool,
}

impl Indicator {
    /// A figure measured over records, with the source's own measure.
    #[allow(clippy::too_many_arguments)]
    pub const fn records(
        code: &'static str,
        name_zh: &'static str,
        name_en: &'static str,
        unit: Unit,
        kind: Kind,
        section: Section,
        source: &'static RecordSource,
        when: &'static str,
    ) -> Indicator {
        Indicator {
            code,
            name_zh,
            name_en,
            unit,
            kind,
            aggregation: source.aggregation,
            section,
            group: None,
            definition: Definition::Records {
                source,
                when,
                measure: source.measure,
            },
            about_zh: "",
            about_en: "",
            headline: false,
        }
    }

    /// `num / den` as a percentage.
    pub const fn ratio(
        code: &'static str,
        name_zh: &'static str,
        name_en: &'static str,
        section: Section,
        num: &'static str,
        den: &'static str,
    ) -> Indicator {
        Indicator {
            code,
            name_zh,
            name_en,
            unit: Unit::Percent,
            kind: Kind::Ratio { num, den },
            aggregation: Aggregation::Ratio,
            section,
            group: None,
            definition: Definition::Derived,
            about_zh: "",
            about_en: "",
            headline: false,
        }
    }

    /// A value typed in per org and period.
    pub const fn manual(
        code: &'static str,
        name_zh: &'static str,
        name_en: &'static str,
        unit: Unit,
        section: Section,
    ) -> Indicator {
        Indicator {
            code,
            name_zh,
            name_en,
            unit,
            kind: Kind::Manual,
            aggregation: Aggregation::Sum,
            section,
            group: None,
            definition: Definition::Entered,
            about_zh: "",
            about_en: "",
            headline: false,
        }
    }

    /// Measures this indicator differently from its source's default (a sum
    /// of a column, a distinct count), rolling up as `aggregation` says.
    pub const fn measure(mut self, measure: Measure, aggregation: Aggregation) -> Indicator {
        if let Definition::Records { source, when, .. } = self.definition {
            self.definition = Definition::Records {
                source,
                when,
                measure,
            };
            self.aggregation = aggregation;
        }
        self
    }

    /// A headline figure of the dashboard.
    pub const fn headline(mut self) -> Indicator {
        self.headline = true;
        self
    }

    pub const fn group(mut self, g: &'static str) -> Indicator {
        self.group = Some(g);
        self
    }

    pub const fn about(mut self, zh: &'static str, en: &'static str) -> Indicator {
        self.about_zh = zh;
        self.about_en = en;
        self
    }

    pub fn is_manual(&self) -> bool {
        self.kind == Kind::Manual
    }

    pub fn source(&self) -> Option<&'static RecordSource> {
        match self.definition {
            Definition::Records { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Finds an indicator of `catalogue` by code, or says where the codes are.
pub fn find(catalogue: &[Indicator], code: &str) -> crate::error::AppResult<Indicator> {
    catalogue
        .iter()
        .copied()
        .find(|i| i.code == code.trim())
        .ok_or_else(|| {
            crate::error::AppError::invalid(
                format!(
                    "未知的指标代码“{}”;可用的指标代码见 /api/v1/reports/indicators 或 /reports/table",
                    code.trim()
                ),
                format!(
                    "Unknown indicator code “{}”; see /api/v1/reports/indicators or /reports/table for the codes",
                    code.trim()
                ),
            )
        })
}

/// The catalogue as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IndicatorInfo {
    pub code: &'static str,
    pub name: &'static str,
    pub name_en: &'static str,
    /// Unit symbol (人, 个, %…).
    pub unit: &'static str,
    /// point_in_time | flow | ratio | manual
    pub kind: &'static str,
    pub aggregation: Aggregation,
    pub section: &'static str,
    pub group: Option<&'static str>,
    pub numerator: Option<&'static str>,
    pub denominator: Option<&'static str>,
    pub manual: bool,
    /// The record source a counted indicator is measured over.
    pub source: Option<&'static str>,
    pub definition: &'static str,
    pub definition_en: &'static str,
}

impl From<&Indicator> for IndicatorInfo {
    fn from(i: &Indicator) -> Self {
        let (num, den) = match i.kind {
            Kind::Ratio { num, den } => (Some(num), Some(den)),
            _ => (None, None),
        };
        IndicatorInfo {
            code: i.code,
            name: i.name_zh,
            name_en: i.name_en,
            unit: i.unit.symbol(),
            kind: i.kind.as_str(),
            aggregation: i.aggregation,
            section: i.section.key,
            group: i.group,
            numerator: num,
            denominator: den,
            manual: i.is_manual(),
            source: i.source().map(|s| s.key),
            definition: i.about_zh,
            definition_en: i.about_en,
        }
    }
}
