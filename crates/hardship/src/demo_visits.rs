//! The demo's 走访慰问 and 春送岗位: households visited in 送温暖 (some
//! again in the spring's 专项慰问, some by their county union too), workers
//! and 劳模 without a file visited in person, worksites visited in 夏送清凉
//! (some twice), both years; and a handful of job fairs with their employers.
//! Deterministic; called once from the hardship demo's seeding.

use chrono::{Datelike, NaiveDate};
use rand::{rngs::StdRng, Rng, SeedableRng};

use crate::{
    files::FileId,
    jobs::{self, JobFairEmployerInput, JobFairInput},
    visits::{self, VisitInput, VisitWorksiteInput},
};
use platform::{
    ids::OrgId,
    person::PersonInput,
    scope::{Actor, Role, Scope},
    time,
    web::AppState,
};

const SEED: u64 = 20_261_130;

const VISITORS: &[&str] = &[
    "工会主席、帮扶中心主任",
    "工会副主席、女工委员",
    "工会主席、经审主任",
    "帮扶干部两名",
];
const GOODS: &[(&str, i64)] = &[
    ("米、面、油各一份", 30_000),
    ("棉被一床、米面油", 45_000),
    ("慰问品一份", 20_000),
];
const SITES: &[(&str, &str, &str)] = &[
    ("地铁3号线土建工地", "site", "渭河大道与秦川路口"),
    ("安置房二期项目工地", "site", "新城北路88号"),
    ("城区环卫所", "institution", "环城东路12号"),
    ("公交集团第二车队", "enterprise", "客运站东侧"),
    ("物流园快递分拨中心", "enterprise", "物流园区3号库"),
    ("高速改扩建项目部", "site", "连霍高速K1120处"),
    ("自来水公司管网抢修队", "enterprise", "水厂路6号"),
    ("中心医院急诊科", "institution", "人民路1号"),
];
const EMPLOYERS: &[(&str, i64)] = &[
    ("示范市建工集团有限公司", 120),
    ("示范市家政服务有限公司", 60),
    ("秦川智能制造股份有限公司", 150),
    ("渭水物流有限公司", 80),
    ("示范市商贸城管理有限公司", 45),
    ("兴城食品加工有限公司", 90),
    ("示范市物业服务集团", 70),
    ("三塬新能源科技有限公司", 110),
];
const SURNAMES: &[&str] = &["王", "李", "张", "刘", "陈", "杨", "赵", "黄"];
const GIVEN: &[&str] = &[
    "国强", "秀梅", "建军", "丽华", "永安", "春兰", "志明", "桂英",
];

fn scope_of(org: i64, path: String) -> Scope {
    Scope::new(Actor::system("demo"), OrgId(org), path, Role::Staff, "")
}

async fn org(st: &AppState, code: &str) -> anyhow::Result<(i64, String)> {
    Ok(
        sqlx::query_as::<_, (i64, String)>("SELECT id, path FROM orgs WHERE code = $1")
            .bind(code)
            .fetch_one(st.db.pool())
            .await?,
    )
}

async fn org_by_id(st: &AppState, id: i64) -> anyhow::Result<String> {
    Ok(sqlx::query_scalar("SELECT path FROM orgs WHERE id = $1")
        .bind(id)
        .fetch_one(st.db.pool())
        .await?)
}

async fn campaign(st: &AppState, kind: &str, year: i32) -> anyhow::Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT MIN(id) FROM hardship_campaigns WHERE kind = $1 AND starts_on >= $2 AND starts_on <= $3",
    )
    .bind(kind)
    .bind(format!("{year}-01-01"))
    .bind(format!("{year}-12-31"))
    .fetch_one(st.db.pool())
    .await?)
}

/// A valid 统一社会信用代码 of an enterprise (91…) in `region`.
fn credit_code(rng: &mut StdRng, region: &str) -> String {
    const CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    const W: [usize; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let mut s = format!("91{region}");
    for _ in 0..9 {
        s.push(CHARS[rng.gen_range(0..CHARS.len())] as char);
    }
    let sum: usize = s
        .bytes()
        .zip(W)
        .map(|(b, w)| CHARS.iter().position(|c| *c == b).expect("from the set") * w)
        .sum();
    s.push(CHARS[(31 - sum % 31) % 31] as char);
    s
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

/// Records a visit, logging (not failing on) a refusal: the demo goes on.
async fn visit(st: &AppState, scope: &Scope, input: VisitInput) {
    if let Err(e) = visits::create(st, scope, &input).await {
        tracing::debug!(error = %e, "demo visit skipped");
    }
}

pub async fn seed(st: &AppState, open: &[(FileId, i64)]) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(SEED);
    let today = time::today();
    let year = today.year();
    for y in [year - 1, year] {
        let warmth = campaign(st, "warmth", y).await?;
        let summer = campaign(st, "summer", y).await?;
        // 送温暖: every open household by its union before the Spring
        // Festival; every third again in May; a few by the county union too.
        for (i, (file, union)) in open.iter().enumerate() {
            if y < year && i % 2 == 1 {
                continue;
            }
            let path = org_by_id(st, *union).await?;
            let scope = scope_of(*union, path.clone());
            let met: Vec<String> = sqlx::query_scalar(
                "SELECT name FROM hardship_members WHERE file_id = $1 ORDER BY id",
            )
            .bind(file.0)
            .fetch_all(st.db.pool())
            .await?;
            let (goods, goods_fen) = GOODS[i % GOODS.len()];
            let on = day(y, 1, 5 + (i % 20) as u32);
            if on > today {
                continue;
            }
            visit(
                st,
                &scope,
                VisitInput {
                    visited_on: on.to_string(),
                    visitors: VISITORS[i % VISITORS.len()].into(),
                    campaign_id: warmth,
                    occasion: "warmth".into(),
                    file_id: Some(file.0),
                    persons_met: met.into_iter().take(1 + i % 3).collect(),
                    money_fen: 50_000,
                    goods: goods.into(),
                    goods_fen,
                    ..Default::default()
                },
            )
            .await;
            if i % 3 == 0 && day(y, 5, 12) <= today {
                visit(
                    st,
                    &scope,
                    VisitInput {
                        visited_on: day(y, 5, 12 + (i % 10) as u32).min(today).to_string(),
                        visitors: VISITORS[(i + 1) % VISITORS.len()].into(),
                        occasion: "warmth".into(),
                        file_id: Some(file.0),
                        money_fen: 30_000,
                        note: "困难职工家庭专项慰问".into(),
                        ..Default::default()
                    },
                )
                .await;
            }
            if i % 7 == 0 {
                // The county union visits too: once for it, once for the union.
                let county = path.split('/').filter(|s| !s.is_empty()).nth(1);
                if let Some(cid) = county.and_then(|c| c.parse::<i64>().ok()) {
                    let cpath = org_by_id(st, cid).await?;
                    visit(
                        st,
                        &scope_of(cid, cpath),
                        VisitInput {
                            visited_on: day(y, 1, 28).min(today).to_string(),
                            visitors: "县区总工会领导".into(),
                            campaign_id: warmth,
                            file_id: Some(file.0),
                            money_fen: 100_000,
                            ..Default::default()
                        },
                    )
                    .await;
                }
            }
        }
        // Workers and 劳模 without a file, visited in person by the counties.
        for (ci, (code, county_name, ..)) in orgs::demo::COUNTIES.iter().enumerate() {
            let (cid, cpath) = org(st, code).await?;
            let short = county_name
                .trim_start_matches("示范市")
                .trim_end_matches("总工会");
            let scope = scope_of(cid, cpath);
            for k in 0..4 {
                let n = 700 + ci * 10 + k;
                let on = day(y, 1, 10 + k as u32);
                if on > today {
                    continue;
                }
                let name = format!(
                    "{}{}",
                    SURNAMES[(ci + k) % SURNAMES.len()],
                    GIVEN[(ci * 3 + k) % GIVEN.len()]
                );
                visit(
                    st,
                    &scope,
                    VisitInput {
                        visited_on: on.to_string(),
                        visitors: "县区总工会主席".into(),
                        campaign_id: warmth,
                        person: Some(PersonInput {
                            name,
                            id_number: crate::demo::id_number(&mut rng, n),
                            ..Default::default()
                        }),
                        money_fen: if k == 0 { 200_000 } else { 80_000 },
                        goods: if k == 0 {
                            "劳模慰问品".into()
                        } else {
                            String::new()
                        },
                        note: if k == 0 {
                            "走访慰问劳动模范".into()
                        } else {
                            String::new()
                        },
                        ..Default::default()
                    },
                )
                .await;
            }
            // 夏送清凉: the county's worksites, some visited twice.
            for (si, (site, kind, address)) in SITES.iter().enumerate() {
                if (si + ci) % 3 == 2 {
                    continue;
                }
                for again in 0..(1 + usize::from(si % 4 == 0)) {
                    let on = day(y, 7, 1 + (si * 3 + again * 20) as u32 % 28);
                    if on > today {
                        continue;
                    }
                    visit(
                        st,
                        &scope,
                        VisitInput {
                            visited_on: on.to_string(),
                            visitors: "工会主席、劳动保护部".into(),
                            campaign_id: summer,
                            worksite: Some(VisitWorksiteInput {
                                name: format!("{short}{site}"),
                                kind: (*kind).into(),
                                address: (*address).into(),
                            }),
                            workers: rng.gen_range(30..400),
                            goods: "绿豆汤、藿香正气水、防暑降温用品".into(),
                            goods_fen: rng.gen_range(10..60) * 10_000,
                            ..Default::default()
                        },
                    )
                    .await;
                }
            }
        }
    }
    // Job fairs: the city's 春风行动 and the counties' own, both years.
    let (city, city_path) = org(st, "SF").await?;
    let mut fairs: Vec<(i64, String, NaiveDate, &str, &str, &str)> = Vec::new();
    for y in [year - 1, year] {
        fairs.push((
            city,
            city_path.clone(),
            day(y, 2, 26),
            "春风行动暨春送岗位大型招聘会",
            "市人力资源市场",
            "spring",
        ));
    }
    for (ci, (code, ..)) in orgs::demo::COUNTIES.iter().enumerate().take(3) {
        let (id, path) = org(st, code).await?;
        fairs.push((
            id,
            path,
            day(year, 3, 10 + ci as u32 * 5),
            if ci == 1 {
                "线上招聘会"
            } else {
                "春送岗位专场招聘会"
            },
            if ci == 1 {
                "“职工之家”小程序"
            } else {
                "区县职工服务中心"
            },
            if ci == 1 { "online" } else { "onsite" },
        ));
    }
    // A grassroots union's own small fair (a street's employment station).
    let (street, street_path) = org(st, "SF-01-S1-001").await?;
    fairs.push((
        street,
        street_path,
        day(year, 4, 8),
        "就业援助月招聘会",
        "街道职工服务站",
        "special",
    ));
    for (fi, (org_id, path, on, name, place, kind)) in fairs.into_iter().enumerate() {
        if on > today {
            continue;
        }
        let mut employers = Vec::new();
        let mut placed = 0;
        for k in 0..(4 + fi % 4) {
            let ei = (fi + k) % EMPLOYERS.len();
            let (ename, base) = EMPLOYERS[ei];
            let posts = base + rng.gen_range(0..40);
            let p = rng.gen_range(posts / 8..posts / 3);
            placed += p;
            employers.push(JobFairEmployerInput {
                name: ename.into(),
                // One code per employer, the same at every fair.
                credit_code: if ei % 4 == 3 {
                    String::new()
                } else {
                    credit_code(
                        &mut StdRng::seed_from_u64(ei as u64),
                        orgs::demo::COUNTIES[ei % orgs::demo::COUNTIES.len()].2,
                    )
                },
                posts,
                placed: (k % 2 == 0).then_some(p),
            });
        }
        let input = JobFairInput {
            org_id: Some(org_id),
            held_on: on.to_string(),
            name: format!("{}年{name}", on.year()),
            place: place.into(),
            kind: kind.into(),
            employers,
            placed,
            ..Default::default()
        };
        if let Err(e) = jobs::create(&st.db, &scope_of(org_id, path), &input).await {
            tracing::debug!(error = %e, "demo fair skipped");
        }
    }
    Ok(())
}
