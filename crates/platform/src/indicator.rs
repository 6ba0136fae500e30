//! The indicator catalogue: every figure the system reports is declared once,
//! by the module that owns its records (`orgs::indicators`,
//! `members::indicators`, …), as an [`Indicator`]. The reports engine
//! (`reports::figures`) computes all of them for any org subtree and period
//! in one pass per record source, and lists the records behind each figure.
//!
//! A counted indicator's definition is a SQL condition over one record
//! [`Source`] (aliases: `o` orgs, `h` org_history, `m` memberships,
//! `e` membership_events, `p` persons). Period bounds are written as tokens
//! the engine binds as parameters: `{start}`, `{end}` (ISO dates),
//! `{end_at}` (the first instant after the period, Beijing midnight, as RFC
//! 3339 UTC text), `{born36}`, `{born46}`, `{born55}` (birth-date cut-offs for
//! age at the end of the period: born after `{born36}` ⇔ 35 or younger).

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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
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
}

/// The records a counted indicator is made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// `orgs o`
    Orgs,
    /// `org_history h JOIN orgs o`
    OrgHistory,
    /// `memberships m JOIN orgs o JOIN persons p`
    Memberships,
    /// `membership_events e JOIN orgs o JOIN persons p`
    MemberEvents,
}

impl Source {
    /// Whether the drill-down lists members (personal data: masked, audited).
    pub fn lists_members(self) -> bool {
        matches!(self, Source::Memberships | Source::MemberEvents)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Definition {
    /// Counted from the records of `source` in the subtree matching `when`.
    Records { source: Source, when: &'static str },
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
}

impl Indicator {
    /// A figure counted from records.
    #[allow(clippy::too_many_arguments)]
    pub const fn records(
        code: &'static str,
        name_zh: &'static str,
        name_en: &'static str,
        unit: Unit,
        kind: Kind,
        section: Section,
        source: Source,
        when: &'static str,
    ) -> Indicator {
        let aggregation = match source {
            Source::Orgs => Aggregation::Sum,
            Source::OrgHistory => Aggregation::DistinctOrgs,
            Source::Memberships | Source::MemberEvents => Aggregation::DistinctPersons,
        };
        Indicator {
            code,
            name_zh,
            name_en,
            unit,
            kind,
            aggregation,
            section,
            group: None,
            definition: Definition::Records { source, when },
            about_zh: "",
            about_en: "",
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
        }
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

    pub fn source(&self) -> Option<Source> {
        match self.definition {
            Definition::Records { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The indicators of the registered modules (`module::Registry::new`).
static REGISTERED: std::sync::RwLock<Vec<Indicator>> = std::sync::RwLock::new(Vec::new());

/// Adds indicators to the catalogue; one already there by code is kept.
pub(crate) fn register(list: Vec<Indicator>) {
    let mut all = REGISTERED.write().unwrap_or_else(|e| e.into_inner());
    for i in list {
        if !all.iter().any(|x| x.code == i.code) {
            all.push(i);
        }
    }
    // Stable: keeps each module's declaration order within a section.
    all.sort_by_key(|i| i.section.order);
}

/// Every indicator of every registered module, in section order then
/// declaration order.
pub fn catalogue() -> Vec<Indicator> {
    REGISTERED.read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Finds an indicator by code, or says which codes exist.
pub fn find(code: &str) -> crate::error::AppResult<Indicator> {
    catalogue()
        .into_iter()
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
            definition: i.about_zh,
            definition_en: i.about_en,
        }
    }
}
