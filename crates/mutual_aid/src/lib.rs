//! 职工互助保障: plans (在职职工住院医疗互助, 重大疾病, 意外伤害, 女职工特殊疾病 …)
//! with their period, contribution and benefit rules; enrolment of roster
//! selections per union with contributions totalled; claims with the plan's
//! required documents up the review chain (基层 → 县区 → 市总); the payout
//! computed from the rules and caps (`rules::payout`, a pure function) and
//! kept in the payout ledger; indicators, summary paragraph, yearly return.

pub mod demo;
mod export;
pub mod http;
mod i18n;
pub mod indicators;
pub mod lists;
pub mod rules;
pub mod sheet_enrol;
pub mod store;

use std::sync::Arc;

use platform::{
    attachments::AttachmentOwner,
    module::{Migration, Module, OrgHold},
    review::ReviewKind,
    summary::Paragraph,
    survey::{self, Answer, Contribution, Item},
};

const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "mutual_aid",
    sql: include_str!("../migrations/0001_mutual_aid.sql"),
}];

pub fn summary() -> Vec<Paragraph> {
    vec![Paragraph {
        key: "mutual_aid.totals",
        section: "assistance",
        indicators: &["aid_insured", "aid_contributions", "aid_payouts", "aid_beneficiaries"],
        zh: "职工互助保障参保人数{aid_insured:wan},参保额达{aid_contributions}[,赔付{aid_payouts},惠及职工{aid_beneficiaries}]。",
        en: "Mutual aid insured {aid_insured:wan} with contributions of {aid_contributions}[, paid {aid_payouts} in {aid_beneficiaries} payouts].",
    }]
}

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
                "HZ01",
                "参加职工互助保障人数",
                "Workers insured by mutual aid",
                "人",
                "aid_insured",
            ),
            item(
                "HZ02",
                "职工互助保障参保金额",
                "Mutual-aid contributions",
                "元",
                "aid_contributions",
            ),
            item(
                "HZ03",
                "职工互助保障赔付金额",
                "Mutual-aid payouts",
                "元",
                "aid_payouts",
            ),
            item(
                "HZ04",
                "职工互助保障受益人次",
                "Mutual-aid payouts made",
                "人次",
                "aid_beneficiaries",
            ),
        ],
        checks: vec![],
    }
}

pub fn module() -> Module {
    Module {
        nav: Some(("nav.mutual_aid", "/mutual-aid")),
        migrations: MIGRATIONS,
        i18n: i18n::CATALOG,
        routes: http::routes,
        indicators: indicators::indicators,
        summary,
        yearly_return,
        seed_demo: Some(|st| Box::pin(demo::seed(st))),
        org_holds: &[OrgHold {
            count_sql: "SELECT COUNT(*) FROM aid_claims WHERE org_id = $1 AND status IN ('draft', 'submitted')",
            zh: "该组织还有{n}件未办结的互助保障赔付申请,请先办结",
            en: "This org still has {n} mutual-aid claims in progress; settle them first",
        }],
        review_kinds: || vec![Arc::new(store::ClaimKind) as Arc<dyn ReviewKind>],
        attachment_owners: || vec![Arc::new(store::ClaimFiles) as Arc<dyn AttachmentOwner>],
        ..Module::new("mutual_aid")
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
            .all(|(k, ..)| k.starts_with("aid.") || *k == "nav.mutual_aid"));
    }
}
