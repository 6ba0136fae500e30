//! The payout of a claim from its plan's benefit rules and caps: a pure
//! function, so every edge (deductible not reached, a cap hit, the person's
//! allowance used up, overflow) is tested without a database.
//!
//! payout = min( days × per-day benefit + (amount − deductible)⁺ × ratio,
//!               the per-claim cap,
//!               what is left of the person's cap for the plan's period )
//!
//! Rounding: the ratio part is rounded down to the fen (a payout is never
//! more than the rules give).

use platform::money::Fen;
use serde::Serialize;

/// A plan's benefit rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    /// Benefit per day in hospital (住院津贴); zero when the plan pays none.
    pub per_day: Fen,
    /// The part of each claim's amount the plan does not pay (起付线).
    pub deductible: Fen,
    /// Share of the amount above the deductible that is paid, in percent (0–100).
    pub ratio_pct: i64,
    /// Most paid for one claim; None = no per-claim cap.
    pub per_claim_cap: Option<Fen>,
    /// Most paid to one person in the plan's period; None = no cap.
    pub person_period_cap: Option<Fen>,
}

/// What is claimed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Claim {
    /// The expenses claimed (medical bills …).
    pub amount: Fen,
    /// Days in hospital (for the per-day benefit).
    pub days: i64,
}

/// Which limit decided the payout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    /// The rules' amount was paid in full.
    None,
    /// The per-claim cap.
    PerClaim,
    /// The person's cap for the period (part of it used by earlier payouts).
    PersonPeriod,
}

/// The computed payout, with its parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Payout {
    /// days × per-day benefit.
    #[schema(value_type = i64)]
    pub per_day_part: Fen,
    /// (amount − deductible)⁺ × ratio, rounded down to the fen.
    #[schema(value_type = i64)]
    pub reimbursed_part: Fen,
    /// What the rules give before the caps.
    #[schema(value_type = i64)]
    pub by_rules: Fen,
    /// What is paid.
    #[schema(value_type = i64)]
    pub paid: Fen,
    pub limited_by: Limit,
}

/// Why a claim cannot be paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Negative amount or days, days beyond a year, a ratio outside 0–100.
    Invalid,
    /// The arithmetic overflows (absurd amounts).
    Overflow,
    /// The person has already been paid the period's cap.
    CapReached,
}

impl Refusal {
    pub fn message(self) -> (&'static str, &'static str) {
        match self {
            Refusal::Invalid => (
                "申请金额、住院天数或计划的赔付比例无效:金额和天数不能为负,天数不能超过366天,比例应在0至100之间",
                "Invalid amount, days or plan ratio: no negative amount or days, at most 366 days, a ratio within 0–100",
            ),
            Refusal::Overflow => (
                "金额过大,无法计算,请核对申请金额",
                "The amounts are too large to compute; check the amount claimed",
            ),
            Refusal::CapReached => (
                "该职工本期已达到赔付上限,不能再申请赔付",
                "This worker has already been paid the period's cap; no further claim can be paid",
            ),
        }
    }
}

/// The payout of `claim` under `rules`, when `paid_before` has already been
/// paid to the same person under the same plan in the same period.
pub fn payout(rules: &Rules, claim: &Claim, paid_before: Fen) -> Result<Payout, Refusal> {
    if claim.amount.fen() < 0
        || !(0..=366).contains(&claim.days)
        || !(0..=100).contains(&rules.ratio_pct)
        || rules.per_day.fen() < 0
        || rules.deductible.fen() < 0
        || paid_before.fen() < 0
    {
        return Err(Refusal::Invalid);
    }
    let per_day_part = rules
        .per_day
        .checked_mul(claim.days)
        .ok_or(Refusal::Overflow)?;
    let above = (claim.amount.fen() - rules.deductible.fen()).max(0);
    let reimbursed = (i128::from(above) * i128::from(rules.ratio_pct)) / 100;
    let reimbursed_part = Fen::from_fen(i64::try_from(reimbursed).map_err(|_| Refusal::Overflow)?);
    let by_rules = per_day_part
        .checked_add(reimbursed_part)
        .ok_or(Refusal::Overflow)?;
    let mut paid = by_rules;
    let mut limited_by = Limit::None;
    if let Some(cap) = rules.per_claim_cap {
        if paid > cap {
            paid = cap.max(Fen::from_fen(0));
            limited_by = Limit::PerClaim;
        }
    }
    if let Some(cap) = rules.person_period_cap {
        let left = cap.checked_sub(paid_before).ok_or(Refusal::Overflow)?;
        if left.fen() <= 0 {
            return Err(Refusal::CapReached);
        }
        if paid > left {
            paid = left;
            limited_by = Limit::PersonPeriod;
        }
    }
    Ok(Payout {
        per_day_part,
        reimbursed_part,
        by_rules,
        paid,
        limited_by,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn y(v: i64) -> Fen {
        Fen::yuan(v)
    }

    /// 在职职工住院医疗互助: 50元/天, 起付线 500元, 报销 50%, 每次最多 3000元, 每人每期最多 8000元.
    const INPATIENT: Rules = Rules {
        per_day: Fen::yuan(50),
        deductible: Fen::yuan(500),
        ratio_pct: 50,
        per_claim_cap: Some(Fen::yuan(3000)),
        person_period_cap: Some(Fen::yuan(8000)),
    };

    fn claim(amount: i64, days: i64) -> Claim {
        Claim {
            amount: y(amount),
            days,
        }
    }

    #[test]
    fn the_rules_and_their_parts() {
        let p = payout(&INPATIENT, &claim(2500, 10), y(0)).unwrap();
        assert_eq!(p.per_day_part, y(500));
        assert_eq!(p.reimbursed_part, y(1000));
        assert_eq!(p.paid, y(1500));
        assert_eq!(p.limited_by, Limit::None);
    }

    #[test]
    fn below_the_deductible_only_the_days_are_paid() {
        let p = payout(&INPATIENT, &claim(400, 3), y(0)).unwrap();
        assert_eq!(p.reimbursed_part, y(0));
        assert_eq!(p.paid, y(150));
        let p = payout(&INPATIENT, &claim(500, 0), y(0)).unwrap();
        assert_eq!(p.paid, y(0), "exactly the deductible: nothing");
    }

    #[test]
    fn the_per_claim_cap() {
        let p = payout(&INPATIENT, &claim(20_000, 20), y(0)).unwrap();
        assert_eq!(p.by_rules, y(1000 + 9750));
        assert_eq!(p.paid, y(3000));
        assert_eq!(p.limited_by, Limit::PerClaim);
    }

    #[test]
    fn the_persons_cap_for_the_period() {
        let p = payout(&INPATIENT, &claim(20_000, 20), y(6500)).unwrap();
        assert_eq!(p.paid, y(1500), "what is left of 8000");
        assert_eq!(p.limited_by, Limit::PersonPeriod);
        assert_eq!(
            payout(&INPATIENT, &claim(20_000, 20), y(8000)),
            Err(Refusal::CapReached)
        );
        assert_eq!(
            payout(&INPATIENT, &claim(100, 0), y(9000)),
            Err(Refusal::CapReached),
            "paid beyond the cap already (a plan changed): nothing more"
        );
    }

    #[test]
    fn ratio_rounds_down_to_the_fen() {
        let r = Rules {
            per_day: y(0),
            deductible: y(0),
            ratio_pct: 33,
            per_claim_cap: None,
            person_period_cap: None,
        };
        let p = payout(
            &r,
            &Claim {
                amount: Fen::from_fen(101),
                days: 0,
            },
            y(0),
        )
        .unwrap();
        assert_eq!(p.paid, Fen::from_fen(33));
    }

    #[test]
    fn bad_input_is_refused() {
        assert_eq!(
            payout(&INPATIENT, &claim(-1, 0), y(0)),
            Err(Refusal::Invalid)
        );
        assert_eq!(
            payout(&INPATIENT, &claim(1, -1), y(0)),
            Err(Refusal::Invalid)
        );
        assert_eq!(
            payout(&INPATIENT, &claim(1, 367), y(0)),
            Err(Refusal::Invalid)
        );
        let bad = Rules {
            ratio_pct: 101,
            ..INPATIENT
        };
        assert_eq!(payout(&bad, &claim(1, 0), y(0)), Err(Refusal::Invalid));
        let huge = Rules {
            per_day: Fen::from_fen(i64::MAX / 2),
            ..INPATIENT
        };
        assert_eq!(payout(&huge, &claim(1, 300), y(0)), Err(Refusal::Overflow));
        for r in [Refusal::Invalid, Refusal::Overflow, Refusal::CapReached] {
            let (zh, en) = r.message();
            assert!(!zh.is_empty() && !en.is_empty());
        }
    }

    proptest! {
        #[test]
        fn never_over_a_cap_never_negative(
            amount in 0i64..1_000_000_000, days in 0i64..=366, before in 0i64..2_000_000,
            per_day in 0i64..100_000, deductible in 0i64..1_000_000, ratio in 0i64..=100,
            claim_cap in proptest::option::of(0i64..5_000_000),
            person_cap in proptest::option::of(1i64..5_000_000),
        ) {
            let r = Rules {
                per_day: Fen::from_fen(per_day),
                deductible: Fen::from_fen(deductible),
                ratio_pct: ratio,
                per_claim_cap: claim_cap.map(Fen::from_fen),
                person_period_cap: person_cap.map(Fen::from_fen),
            };
            let c = Claim { amount: Fen::from_fen(amount), days };
            match payout(&r, &c, Fen::from_fen(before)) {
                Ok(p) => {
                    prop_assert!(p.paid.fen() >= 0);
                    prop_assert!(p.paid <= p.by_rules);
                    if let Some(cap) = claim_cap { prop_assert!(p.paid.fen() <= cap); }
                    if let Some(cap) = person_cap { prop_assert!(p.paid.fen() + before <= cap); }
                    prop_assert!(p.reimbursed_part.fen() <= (amount - deductible).max(0));
                }
                Err(e) => prop_assert_eq!(e, Refusal::CapReached),
            }
        }
    }
}
