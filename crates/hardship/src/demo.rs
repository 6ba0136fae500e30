//! The demo's hardship work: 低保 lines for the city and its counties, a
//! few hundred households filed across the demo counties' grassroots unions
//! (through the review chain, the notice and the confirmation), some since
//! closed; this year's and last year's campaigns (送温暖 twice, 金秋助学, 夏送
//! 清凉, 日常救助) with their budgets allocated to the counties, and their
//! disbursements applied, approved and paid — so the pages, the figures and
//! the 帮扶救助 paragraphs have records. Deterministic; seeded once (a second
//! run finds the campaigns and leaves everything as it is).

use chrono::{Datelike, NaiveDate};
use rand::{rngs::StdRng, Rng, SeedableRng};

use crate::{
    files::{self, FileId, FileInput, MemberInput},
    grants::{self, ApplyInput, CampaignId, CampaignInput, GrantInput},
    model::Line,
};
use platform::{
    error::AppResult,
    ids::OrgId,
    person::PersonInput,
    review::{self, ReviewId},
    scope::{Actor, Role, Scope},
    time, tree,
    web::AppState,
};

/// A demo campaign: kind, name, start (month, day), end, standard fen, month paid.
type Plan = (&'static str, &'static str, (u32, u32), (u32, u32), i64, u32);

/// Households filed in the demo.
pub const DEMO_FILES: usize = 240;
const SEED: u64 = 20_261_212;

/// Address codes of the demo's hardship households: Baoji counties the
/// roster's generator does not use, so no demo member shares a number.
const REGIONS: &[&str] = &["610304", "610323", "610324", "610326", "610327"];
const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗",
];
const GIVEN: &[&str] = &[
    "建国", "秀英", "桂兰", "志强", "红梅", "海燕", "玉兰", "建华", "小红", "国庆", "丽娟", "永刚",
    "淑珍", "文明", "春花", "德胜", "秀兰", "长江", "金凤", "卫东",
];

/// A valid GB 11643 number (check character right).
pub fn id_number(rng: &mut StdRng, n: usize) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const C: &[u8] = b"10X98765432";
    let region = REGIONS[n % REGIONS.len()];
    let birth = NaiveDate::from_ymd_opt(
        rng.gen_range(1962..=1992),
        rng.gen_range(1..=12),
        rng.gen_range(1..=28),
    )
    .expect("valid");
    // The sequence keeps numbers distinct across the demo.
    let body = format!("{region}{}{:03}", birth.format("%Y%m%d"), n % 1000);
    let sum: u32 = body
        .bytes()
        .zip(W)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    format!("{body}{}", C[(sum % 11) as usize] as char)
}

fn name(rng: &mut StdRng) -> String {
    format!(
        "{}{}",
        SURNAMES[rng.gen_range(0..SURNAMES.len())],
        GIVEN[rng.gen_range(0..GIVEN.len())]
    )
}

/// A staff scope of an org (the demo acts as its staff at each level).
async fn staff_of(st: &AppState, org: i64) -> anyhow::Result<Scope> {
    let path: String = sqlx::query_scalar("SELECT path FROM orgs WHERE id = $1")
        .bind(org)
        .fetch_one(st.db.pool())
        .await?;
    Ok(Scope::new(
        Actor::system("demo"),
        OrgId(org),
        path,
        Role::Staff,
        "",
    ))
}

/// Approves an item at every step: the county's 初审, then the city's 终审.
async fn approve_all(
    st: &AppState,
    kind: &dyn review::ReviewKind,
    id: ReviewId,
) -> anyhow::Result<()> {
    loop {
        let city = tree::system_scope(&st.db).await?;
        let item = review::get(&st.db, &city, id).await?;
        let Some(waiting) = item.waiting_org_id else {
            return Ok(());
        };
        let scope = staff_of(st, waiting.0).await?;
        review::approve(&st.db, &scope, kind, id, "同意").await?;
    }
}

async fn org_id(st: &AppState, code: &str) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar("SELECT id FROM orgs WHERE code = $1")
        .bind(code)
        .fetch_one(st.db.pool())
        .await?)
}

pub async fn seed(st: &AppState) -> anyhow::Result<()> {
    let done: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM hardship_campaigns")
        .fetch_one(st.db.pool())
        .await?;
    if done > 0 {
        return Ok(());
    }
    let city = tree::system_scope(&st.db).await?;
    let year = time::today().year();
    let mut rng = StdRng::seed_from_u64(SEED);
    // 低保 lines: the city's default and each county's own, both years.
    for y in [year - 1, year] {
        let step = i64::from(year - y) * 3_000;
        files::set_line(
            &st.db,
            &city,
            city.org_id,
            i64::from(y),
            Line {
                line_fen: 70_000 - step,
                deep_pct: 100,
                relative_pct: 150,
            },
        )
        .await?;
        for (i, (code, ..)) in orgs::demo::COUNTIES.iter().enumerate() {
            let county = org_id(st, code).await?;
            let line = Line {
                line_fen: 68_000 + 1_000 * i as i64 - step,
                deep_pct: 100,
                relative_pct: 150,
            };
            files::set_line(&st.db, &city, OrgId(county), i64::from(y), line).await?;
        }
    }
    // Households, filed by the grassroots unions of the demo counties.
    let unions: Vec<String> = orgs::demo::grassroots_codes()
        .into_iter()
        .filter(|c| {
            !c.starts_with("SF-I")
                && (c.ends_with("-001")
                    || c.ends_with("-002")
                    || c.ends_with("-003")
                    || c.contains("-Z"))
        })
        .collect();
    let mut filed: Vec<(FileId, i64)> = Vec::new();
    for n in 0..DEMO_FILES {
        let union = org_id(st, &unions[n % unions.len()]).await?;
        let scope = staff_of(st, union).await?;
        let head = name(&mut rng);
        let size = rng.gen_range(2..=5);
        let roll = rng.gen_range(0..100);
        // Monthly per-capita income around the line (700元): most under it.
        let per_capita: i64 = match roll {
            0..=39 => rng.gen_range(20_000..66_000),
            40..=84 => rng.gen_range(72_000..100_000),
            _ => rng.gen_range(120_000..180_000),
        };
        let (category, primary) = match roll {
            0..=39 => ("deep", ["无劳动能力", "下岗失业", "重特大疾病"][n % 3]),
            40..=84 => (
                "relative",
                ["有劳动能力未就业", "子女上学", "社保待遇未落实"][n % 3],
            ),
            _ => ("sudden", ["重特大疾病", "意外事故", "自然灾害"][n % 3]),
        };
        let mut members = vec![MemberInput {
            name: head.clone(),
            relation: "本人".into(),
            income_fen: per_capita * size,
            health: ["良好", "慢性病", "重病"][n % 3].into(),
            disability: if n % 9 == 0 {
                "肢体三级".into()
            } else {
                String::new()
            },
            insurance: "城镇职工医保".into(),
            schooling: String::new(),
        }];
        for k in 1..size {
            members.push(MemberInput {
                name: name(&mut rng),
                relation: ["配偶", "子女", "子女", "父母"][(k as usize - 1) % 4].into(),
                income_fen: 0,
                health: "良好".into(),
                disability: String::new(),
                insurance: "城乡居民医保".into(),
                schooling: if k >= 2 {
                    "在读".into()
                } else {
                    String::new()
                },
            });
        }
        let input = FileInput {
            org_id: Some(union),
            head: PersonInput {
                name: head,
                id_kind: String::new(),
                id_number: id_number(&mut rng, n),
                phone: format!("139{:08}", 10_000_000 + n * 7919 % 89_999_999),
            },
            category: category.into(),
            override_reason: String::new(),
            primary_cause: primary.into(),
            secondary_causes: if n % 4 == 0 {
                vec!["未参保".into()]
            } else {
                Vec::new()
            },
            members,
            housing: ["自有住房", "租房", "公租房"][n % 3].into(),
            employer_status: ["正常经营", "停产半停产", "破产改制"][n % 3].into(),
            zero_employment: n % 11 == 0,
            single_parent: n % 13 == 0,
            bank_name: "示范市农商银行".into(),
            bank_account: format!("62210{:011}", 3_000_000_000u64 + n as u64 * 104_729),
        };
        let id = match files::create(st, &scope, &input).await {
            Ok(id) => id,
            Err(e) => {
                tracing::debug!(error = %e, n, "demo file skipped");
                continue;
            }
        };
        let rid: i64 = sqlx::query_scalar("SELECT review_id FROM hardship_files WHERE id = $1")
            .bind(id.0)
            .fetch_one(st.db.pool())
            .await?;
        // A few are still under review or on notice.
        if n % 25 == 7 {
            continue;
        }
        approve_all(st, &files::FileReview, ReviewId(rid)).await?;
        if n % 25 == 8 {
            continue;
        }
        // Notice over: filed some time in the last two years.
        let days = rng.gen_range(40..600);
        let confirmed = time::today() - chrono::Duration::days(days);
        sqlx::query("UPDATE hardship_files SET notice_until = $1 WHERE id = $2")
            .bind((confirmed - chrono::Duration::days(1)).to_string())
            .bind(id.0)
            .execute(st.db.pool())
            .await?;
        let county = staff_of(st, county_of(st, union).await?).await?;
        files::confirm(&st.db, &county, id, "").await?;
        sqlx::query("UPDATE hardship_files SET confirmed_on = $1 WHERE id = $2")
            .bind(confirmed.to_string())
            .bind(id.0)
            .execute(st.db.pool())
            .await?;
        filed.push((id, union));
    }
    // Closed files: lifted out of hardship.
    for (i, (id, union)) in filed
        .clone()
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 19 == 4)
    {
        let scope = staff_of(st, *union).await?;
        let input = files::CloseInput {
            closed_on: (time::today() - chrono::Duration::days(10 + i as i64)).to_string(),
            reason: "家庭成员实现稳定就业,人均收入超过当地低保标准".into(),
            measure: "就业创业".into(),
        };
        files::close(&st.db, &scope, *id, &input).await?;
    }
    let open: Vec<(FileId, i64)> = {
        let mut out = Vec::new();
        for (id, union) in &filed {
            let s: String = sqlx::query_scalar("SELECT status FROM hardship_files WHERE id = $1")
                .bind(id.0)
                .fetch_one(st.db.pool())
                .await?;
            if s == "open" {
                out.push((*id, *union));
            }
        }
        out
    };
    // Campaigns of both years, by the city, allocated to the counties.
    let mut next_worker = DEMO_FILES;
    for y in [year - 1, year] {
        let plans: [Plan; 5] = [
            ("warmth", "元旦春节送温暖", (1, 2), (2, 15), 50_000, 1),
            ("warmth", "困难职工家庭专项慰问", (5, 1), (5, 31), 30_000, 5),
            ("summer", "夏送清凉", (6, 15), (8, 31), 20_000, 7),
            ("education", "金秋助学", (8, 1), (9, 30), 300_000, 9),
            ("daily", "日常救助", (1, 1), (12, 31), 100_000, 3),
        ];
        for (kind, title, (sm, sd), (em, ed), standard, pay_month) in plans {
            let starts = NaiveDate::from_ymd_opt(y, sm, sd).expect("date");
            let ends = NaiveDate::from_ymd_opt(y, em, ed).expect("date");
            let pay_on = NaiveDate::from_ymd_opt(y, pay_month, 20).expect("date");
            if pay_on > time::today() {
                continue;
            }
            let cid = grants::create_campaign(
                &st.db,
                &city,
                &CampaignInput {
                    org_id: None,
                    kind: kind.into(),
                    name: format!("{y}年{title}"),
                    starts_on: starts.to_string(),
                    ends_on: ends.to_string(),
                    standard_fen: standard,
                    budget_fen: standard * 800,
                    file_required: false,
                },
            )
            .await?;
            for (code, ..) in orgs::demo::COUNTIES {
                let county = org_id(st, code).await?;
                grants::allocate(&st.db, &city, cid, OrgId(county), standard * 150).await?;
            }
            seed_campaign(st, cid, kind, &open, &mut next_worker, &mut rng, pay_on).await?;
        }
    }
    // 走访慰问 and 春送岗位 (demo_visits.rs).
    crate::demo_visits::seed(st, &open).await?;
    Ok(())
}

async fn county_of(st: &AppState, org: i64) -> anyhow::Result<i64> {
    let path: String = sqlx::query_scalar("SELECT path FROM orgs WHERE id = $1")
        .bind(org)
        .fetch_one(st.db.pool())
        .await?;
    for id in path.split('/').filter_map(|s| s.parse::<i64>().ok()) {
        let level: String = sqlx::query_scalar("SELECT level FROM orgs WHERE id = $1")
            .bind(id)
            .fetch_one(st.db.pool())
            .await?;
        if level == "county" {
            return Ok(id);
        }
    }
    anyhow::bail!("org {org} has no county")
}

/// One application per union with open files: the households (for 金秋助学,
/// those with a child admitted, their notice attached) and, for the visits,
/// some workers without a file; approved up the chain and paid.
async fn seed_campaign(
    st: &AppState,
    cid: CampaignId,
    kind: &str,
    open: &[(FileId, i64)],
    next_worker: &mut usize,
    rng: &mut StdRng,
    pay_on: NaiveDate,
) -> anyhow::Result<()> {
    let mut by_union: std::collections::BTreeMap<i64, Vec<FileId>> = Default::default();
    for (id, union) in open {
        by_union.entry(*union).or_default().push(*id);
    }
    for (union, ids) in by_union {
        let scope = staff_of(st, union).await?;
        let c = grants::campaign(&st.db, &scope, cid).await?;
        let org = tree::node(&st.db, &scope, OrgId(union)).await?;
        let mut people = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            let take = match kind {
                "education" => id.0 % 3 == 0,
                "daily" => id.0 % 4 == 1,
                "summer" => false,
                _ => true,
            };
            if !take {
                continue;
            }
            if kind == "education" {
                notice(st, &scope, *id).await?;
            }
            people.push(GrantInput {
                file_id: Some(id.0),
                amount_fen: (kind == "daily" && i % 3 == 0).then_some(c.standard_fen / 2),
                school: if kind == "education" {
                    ["西北大学", "陕西师范大学", "西安交通大学", "长安大学"][i % 4].into()
                } else {
                    String::new()
                },
                ..Default::default()
            });
        }
        if kind == "summer" {
            // 夏送清凉 visits any worker, no file needed (a worksite in the heat);
            // 送温暖 helps filed households only (grants::Eligibility).
            for _ in 0..rng.gen_range(2..6) {
                let n = *next_worker;
                *next_worker += 1;
                people.push(GrantInput {
                    name: name(rng),
                    id_number: id_number(rng, n),
                    ..Default::default()
                });
            }
        }
        if people.is_empty() {
            continue;
        }
        let input = ApplyInput {
            campaign_id: cid.0,
            org_id: Some(union),
            title: String::new(),
            people,
        };
        let batch = match grants::apply_in(st, &scope, &c, &org, &input).await {
            Ok(b) => b,
            Err(e) => {
                tracing::debug!(error = %e, "demo application skipped");
                continue;
            }
        };
        let (b, _) = grants::batch(&st.db, &scope, batch).await?;
        if let Some(rid) = b.review_id {
            approve_all(st, &grants::BatchReview, ReviewId(rid)).await?;
        }
        let (b, _) = grants::batch(&st.db, &scope, batch).await?;
        if b.status == "approved" {
            grants::pay_in(&st.db, &scope, &b, pay_on, "银行转账", "王会计").await?;
        }
    }
    Ok(())
}

/// Attaches a (tiny) admission notice to a file, once.
async fn notice(st: &AppState, scope: &Scope, id: FileId) -> AppResult<()> {
    let has: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM attachments WHERE owner_kind = 'hardship_file' AND owner_id = $1 AND label = '录取通知书'",
    )
    .bind(id.0)
    .fetch_one(st.db.pool())
    .await?;
    if has > 0 {
        return Ok(());
    }
    let pdf = format!(
        "%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n% 录取通知书 {}\ntrailer<</Root 1 0 R>>\n%%EOF\n",
        id.0
    );
    platform::attachments::upload(
        st,
        scope,
        "hardship_file",
        id.0,
        "录取通知书.pdf",
        "录取通知书",
        axum::body::Bytes::from(pdf.into_bytes()),
    )
    .await?;
    Ok(())
}
