//! The demo's mutual aid: the city federation's in-patient plan for this
//! year, every active member of two grassroots unions per county enrolled,
//! and claims of every outcome — paid (one capped), rejected, under review,
//! a draft — walked through the real review chain with their documents.
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
    // Claims in the first county's first union, decided by 秦川区 and 市总.
    let base = scope_of(st, "SF-01-S1-001").await?;
    let county = scope_of(st, "SF-01").await?;
    let enrolments = store::enrolments(db, &base, plan.id).await?;
    let event =
        time::today().min(chrono::NaiveDate::from_ymd_opt(year, 3, 10).unwrap_or(time::today()));
    // (amount, days, outcome): paid, paid at the per-claim cap, rejected, pending, draft.
    let plans: [(&str, &str, &str); 5] = [
        ("2600", "8", "approve"),
        ("18000", "21", "approve"),
        ("900", "2", "reject"),
        ("4200", "12", "pending"),
        ("1500", "5", "draft"),
    ];
    for (e, (amount, days, outcome)) in enrolments.iter().zip(plans) {
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
        if outcome == "pending" {
            continue;
        }
        review::approve(db, &county, &ClaimKind, rid, "材料齐全,同意").await?;
        if outcome == "approve" {
            review::approve(db, &city, &ClaimKind, rid, "同意赔付").await?;
        } else {
            review::reject(db, &city, &ClaimKind, rid, "不属于本计划保障范围(门诊费用)").await?;
        }
    }
    Ok(())
}
