//! The hook for the yearly statistical return (统计年报): the ACFTU's survey
//! (基层工会调查表 / 基层以上工会调查表) asks for figures grouped in areas —
//! 组织建设, 会员, 工会干部, 民主管理, 劳动保护, 法律工作, 帮扶, 经费 … A
//! module declares the survey items its records answer, each bound to one of
//! its indicators, and the consistency rules (逻辑检查) between them; items
//! the survey asks for that no module records yet are declared as such so
//! the return lists them instead of leaving them out. The reports crate
//! writes the return from these declarations.

/// One area of the survey (one sheet of the return).
#[derive(Clone, Copy, Debug)]
pub struct Area {
    /// Stable key; the same key declared by two modules is one area.
    pub key: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    /// Sheet order.
    pub order: u32,
}

pub const ORGANISATION: Area = Area {
    key: "organisation",
    zh: "组织建设",
    en: "Organisation",
    order: 10,
};
pub const MEMBERS: Area = Area {
    key: "members",
    zh: "会员",
    en: "Members",
    order: 20,
};
pub const CADRES: Area = Area {
    key: "cadres",
    zh: "工会干部",
    en: "Union cadres",
    order: 30,
};
pub const DEMOCRATIC: Area = Area {
    key: "democratic",
    zh: "民主管理",
    en: "Democratic management",
    order: 40,
};
pub const PROTECTION: Area = Area {
    key: "protection",
    zh: "劳动保护",
    en: "Labour protection",
    order: 50,
};
pub const LEGAL: Area = Area {
    key: "legal",
    zh: "法律工作",
    en: "Legal work",
    order: 60,
};
pub const ASSISTANCE: Area = Area {
    key: "assistance",
    zh: "帮扶服务",
    en: "Assistance and services",
    order: 70,
};
pub const FUNDS: Area = Area {
    key: "funds",
    zh: "经费",
    en: "Funds",
    order: 80,
};

/// Where an item's value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The figure of this indicator for the org subtree and reference period.
    Indicator(&'static str),
    /// The survey asks for it; Gonghui does not record it yet.
    NotRecorded,
}

/// One line of the return.
#[derive(Clone, Copy, Debug)]
pub struct Item {
    pub area: Area,
    /// The survey's line code within the area (e.g. "Z01"), as the
    /// federation's consolidation sheets number them; unique across modules.
    pub code: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    /// The unit as printed (个, 人, 万元 …).
    pub unit: &'static str,
    pub answer: Answer,
}

/// How the two sides of a rule compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relation {
    /// left ≤ right (a subtotal within its total, women within members).
    AtMost,
    /// left = right (parts that add up to their total).
    Equals,
}

/// One consistency rule of the 逻辑检查, between items by their codes; the
/// left side may be a sum of items ("Z02+Z03"). Checked per org and for the
/// total; a failure names the org and the rule.
#[derive(Clone, Copy, Debug)]
pub struct Check {
    pub left: &'static [&'static str],
    pub relation: Relation,
    pub right: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
}

/// What a module contributes to the return.
#[derive(Clone, Debug, Default)]
pub struct Contribution {
    pub items: Vec<Item>,
    pub checks: Vec<Check>,
}

/// Check a module's contribution against the registered indicators and the
/// other items: unique codes, known indicators, rules over known items.
/// Called by the registry when modules register.
pub fn check(all: &[Contribution], known_indicator: impl Fn(&str) -> bool) -> Result<(), String> {
    let mut codes = std::collections::HashSet::new();
    for c in all {
        for item in &c.items {
            if !codes.insert(item.code) {
                return Err(format!("return item {} is declared twice", item.code));
            }
            if let Answer::Indicator(code) = item.answer {
                if !known_indicator(code) {
                    return Err(format!("return item {}: no indicator {code}", item.code));
                }
            }
        }
    }
    for c in all {
        for rule in &c.checks {
            for code in rule.left.iter().chain(std::iter::once(&rule.right)) {
                if !codes.contains(code) {
                    return Err(format!("return check {:?}: no item {code}", rule.zh));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(code: &'static str, answer: Answer) -> Item {
        Item {
            area: MEMBERS,
            code,
            zh: "",
            en: "",
            unit: "人",
            answer,
        }
    }

    #[test]
    fn contributions_are_checked_at_registration() {
        let known = |c: &str| c == "members_total";
        let ok = Contribution {
            items: vec![
                item("H01", Answer::Indicator("members_total")),
                item("H02", Answer::NotRecorded),
            ],
            checks: vec![Check {
                left: &["H02"],
                relation: Relation::AtMost,
                right: "H01",
                zh: "",
                en: "",
            }],
        };
        assert!(check(std::slice::from_ref(&ok), known).is_ok());
        assert!(check(&[ok.clone(), ok.clone()], known)
            .unwrap_err()
            .contains("twice"));
        let unknown = Contribution {
            items: vec![item("H09", Answer::Indicator("nope"))],
            checks: vec![],
        };
        assert!(check(&[unknown], known).unwrap_err().contains("nope"));
        let bad_rule = Contribution {
            items: vec![],
            checks: vec![Check {
                left: &["X1"],
                relation: Relation::Equals,
                right: "H01",
                zh: "r",
                en: "",
            }],
        };
        assert!(check(&[ok, bad_rule], known).unwrap_err().contains("X1"));
    }
}
