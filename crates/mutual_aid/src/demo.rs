//! The demo's mutual aid: the city federation's in-patient plan for this
//! year, every active member of two grassroots unions per county enrolled,
//! and claims of every outcome — paid (one capped), rejected, under review,
//! a draft — walked through the real review chain with their documents, in
//! 秦川区 and in the second county; a women workers' plan with the women of
//! three unions; last year's accident plan (its enrolments expired).
//! Re-running adds nothing.

use chrono::Datelike;

use platform::{
    attachments,
    ids::OrgId,
    review,
    scope::{Actor, Role, Scope},
    time, tree,
    web::AppState,
};

use crate::store::{self, ClaimInput, ClaimKind, EnrolInput, PlanInput, CLAIM_KIND};

/// A one-page PDF: what the attachment check sniffs as a PDF.
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

async fn scope_of(st: &AppState, code: &str) -> anyhow::Result<Scope> {
    let o = orgs::store::get_by_code_unscoped(&st.db, code)
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo org {code} is missing"))?;
    Ok(Scope::new(
        Actor::system("demo"),
        OrgId(o.id.0),
        o.path,
        Role::Admin,
        "",
    ))
}

pub async fn seed(st: &AppState) -> anyhow::Result<()> {
    let db = &st.db;
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM aid_plans")
        .fetch_one(db.pool())
        .await?;
    if n > 0
        || orgs::store::get_by_code_unscoped(db, "SF-01")
            .await?
            .is_none()
    {
        return Ok(());
    }
    let city = tree::system_scope(db).await?;
    let year = time::today().year();
    let plan = store::create_plan(
        db,
        &city,
        &PlanInput {
            name: format!("{year}年度在职职工住院医疗互助"),
            category: "inpatient".into(),
            period_start: format!("{year}-01-01"),
            period_end: format!("{year}-12-31"),
            contribution: "30".into(),
            per_day: "50".into(),
            deductible: "500".into(),
            ratio_pct: "50".into(),
            per_claim_cap: "3000".into(),
            person_period_cap: "8000".into(),
            required_docs: "住院发票,出院小结".into(),
        },
    )
    .await?;
    let enrolled_on = format!("{year}-01-15");
    for county in ["SF-01", "SF-02", "SF-03", "SF-04", "SF-05"] {
        for g in ["S1-001", "S2-001"] {
            let code = format!("{county}-{g}");
            let s = scope_of(st, &code).await?;
            let active: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM memberships m JOIN orgs o ON o.id = m.org_id WHERE o.code = $1 AND m.status = 'active'",
            )
            .bind(&code)
            .fetch_one(db.pool())
            .await?;
            if active == 0 {
                continue;
            }
            store::enrol(
                db,
                &s,
                plan.id,
                &EnrolInput {
                    org: code.clone(),
                    enrolled_on: enrolled_on.clone(),
                    ..Default::default()
                },
            )
            .await?;
        }
    }
    let event =
        time::today().min(chrono::NaiveDate::from_ymd_opt(year, 3, 10).unwrap_or(time::today()));
    // 秦川区's first union: paid, paid at the per-claim cap, rejected, pending, draft.
    claims(
        st,
        &city,
        plan.id,
        "SF-01",
        "SF-01-S1-001",
        event,
        &[
            ("2600", "8", "approve"),
            ("18000", "21", "approve"),
            ("900", "2", "reject"),
            ("4200", "12", "pending"),
            ("1500", "5", "draft"),
        ],
    )
    .await?;
    // The second county's first union: paid, returned for changes, pending, draft.
    claims(
        st,
        &city,
        plan.id,
        "SF-02",
        "SF-02-S1-001",
        event,
        &[
            ("3100", "6", "approve"),
            ("2200", "4", "return"),
            ("5200", "9", "pending"),
            ("800", "3", "draft"),
        ],
    )
    .await?;
    other_plans(st, &city, year).await?;
    Ok(())
}

/// Claims of `union`'s enrolments in `plan`, walked to their outcome by
/// the union, its county and the city.
#[allow(clippy::too_many_arguments)]
async fn claims(
    st: &AppState,
    city: &Scope,
    plan: i64,
    county: &str,
    union: &str,
    event: chrono::NaiveDate,
    outcomes: &[(&str, &str, &str)],
) -> anyhow::Result<()> {
    let db = &st.db;
    let base = scope_of(st, union).await?;
    let county = scope_of(st, county).await?;
    let enrolments = store::enrolments(db, &base, plan).await?;
    for (e, &(amount, days, outcome)) in enrolments.iter().zip(outcomes) {
        let c = store::create_claim(
            db,
            &base,
            &ClaimInput {
                enrolment_id: e.id,
                event_date: event.to_string(),
                category: "住院治疗".into(),
                amount: amount.into(),
                days: days.into(),
            },
        )
        .await?;
        for doc in ["住院发票", "出院小结"] {
            attachments::upload(
                st,
                &base,
                CLAIM_KIND,
                c.id,
                &format!("{doc}.pdf"),
                doc,
                PDF.to_vec().into(),
            )
            .await?;
        }
        if outcome == "draft" {
            continue;
        }
        let rid = store::submit_claim(db, &base, c.id).await?;
        match outcome {
            "pending" => continue,
            "return" => {
                review::return_for_changes(db, &county, &ClaimKind, rid, "请补充费用明细清单")
                    .await?;
                continue;
            }
            _ => {}
        }
        review::approve(db, &county, &ClaimKind, rid, "材料齐全,同意").await?;
        if outcome == "approve" {
            review::approve(db, city, &ClaimKind, rid, "同意赔付").await?;
        } else {
            review::reject(db, city, &ClaimKind, rid, "不属于本计划保障范围(门诊费用)").await?;
        }
    }
    Ok(())
}

/// The women workers' plan (the women of three unions) and last year's
/// accident plan (two unions; their enrolments have expired).
async fn other_plans(st: &AppState, city: &Scope, year: i32) -> anyhow::Result<()> {
    let db = &st.db;
    let female = store::create_plan(
        db,
        city,
        &PlanInput {
            name: format!("{year}年度女职工特殊疾病互助"),
            category: "female".into(),
            period_start: format!("{year}-01-01"),
            period_end: format!("{year}-12-31"),
            contribution: "20".into(),
            per_day: "0".into(),
            deductible: "0".into(),
            ratio_pct: "100".into(),
            per_claim_cap: "10000".into(),
            person_period_cap: "10000".into(),
            required_docs: "诊断证明".into(),
        },
    )
    .await?;
    for code in ["SF-01-S1-001", "SF-02-S1-001", "SF-03-S2-001"] {
        let Ok(s) = scope_of(st, code).await else {
            continue;
        };
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT m.id FROM memberships m JOIN orgs o ON o.id = m.org_id JOIN persons p ON p.id = m.person_id \
             WHERE o.code = $1 AND m.status = 'active' AND p.gender = 'female' ORDER BY m.id",
        )
        .bind(code)
        .fetch_all(db.pool())
        .await?;
        if ids.is_empty() {
            continue;
        }
        store::enrol(
            db,
            &s,
            female.id,
            &EnrolInput {
                membership_ids: ids,
                enrolled_on: format!("{year}-02-01"),
                ..Default::default()
            },
        )
        .await?;
    }
    let last = year - 1;
    let accident = store::create_plan(
        db,
        city,
        &PlanInput {
            name: format!("{last}年度职工意外伤害互助"),
            category: "accident".into(),
            period_start: format!("{last}-01-01"),
            period_end: format!("{last}-12-31"),
            contribution: "10".into(),
            per_day: "30".into(),
            deductible: "200".into(),
            ratio_pct: "80".into(),
            per_claim_cap: "5000".into(),
            person_period_cap: "".into(),
            required_docs: "医疗发票,事故证明".into(),
        },
    )
    .await?;
    for code in ["SF-04-S1-001", "SF-05-S1-001"] {
        let Ok(s) = scope_of(st, code).await else {
            continue;
        };
        let active: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM memberships m JOIN orgs o ON o.id = m.org_id WHERE o.code = $1 AND m.status = 'active'",
        )
        .bind(code)
        .fetch_one(db.pool())
        .await?;
        if active == 0 {
            continue;
        }
        // Enrolled last year, on a date inside last year's period.
        store::enrol(
            db,
            &s,
            accident.id,
            &EnrolInput {
                org: code.into(),
                enrolled_on: format!("{last}-01-20"),
                ..Default::default()
            },
        )
        .await?;
    }
    Ok(())
}
