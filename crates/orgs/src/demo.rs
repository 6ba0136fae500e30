//! The demo's org tree: a fictional city federation (示范市总工会) with
//! districts/counties, industry unions, streets and about three hundred
//! grassroots unions, plus staff accounts at each level. Other modules seed
//! their demo records into it (`Module::seed_demo`). Generated from a
//! fixed seed so tests and screenshots can rely on it; re-running refreshes
//! it (missing orgs are created, demo passwords reset, nothing duplicated).

use chrono::{Datelike, NaiveDate};
use rand::{rngs::StdRng, Rng, SeedableRng};

use {
    crate::store::{self as orgs, OrgInput},
    platform::{
        auth::{self, NewUser, Password, Username},
        error::AppError,
        ids::OrgId,
        scope::{Actor, Role, Scope},
        web::AppState,
    },
};

pub const DEMO_PASSWORD: &str = "Demo@2026";
pub const SEED: u64 = 20261121;

/// (code, name, region code, login prefix)
pub const COUNTIES: &[(&str, &str, &str, &str)] = &[
    ("SF-01", "示范市秦川区总工会", "610402", "qinchuan"),
    ("SF-02", "示范市渭水区总工会", "610404", "weishui"),
    ("SF-03", "示范市兴城市总工会", "610481", "xingcheng"),
    ("SF-04", "示范市三塬县总工会", "610422", "sanyuan"),
    ("SF-05", "示范市泾河县总工会", "610423", "jinghe"),
];

pub const INDUSTRIES: &[(&str, &str, &str)] = &[
    ("SF-I1", "示范市教育工会", "jiaoyu"),
    ("SF-I2", "示范市卫生健康工会", "weijian"),
    ("SF-I3", "示范市交通运输工会", "jiaotong"),
];

const STREETS: &[&str] = &["城关街道", "东关街道", "西兰街道", "北塬镇"];
const FIRMS: &[&str] = &[
    "华秦", "渭丰", "长乐", "兴业", "明德", "恒通", "秦源", "泰和", "丰源", "启航", "宏达", "瑞祥",
    "新城", "德润", "金桥", "正阳", "同心", "安康", "永盛", "博远",
];
const TRADES: &[&str] = &[
    "纺织有限公司",
    "机械制造有限公司",
    "物流有限公司",
    "食品有限公司",
    "建筑工程有限公司",
    "商贸有限公司",
    "电子科技有限公司",
    "快递服务站",
    "物业服务有限公司",
    "医药有限公司",
    "餐饮管理有限公司",
    "汽车运输有限公司",
];
const SCHOOLS: &[&str] = &[
    "第一中学",
    "第二中学",
    "实验小学",
    "职业技术学院",
    "第三小学",
    "幼儿园",
];
const HOSPITALS: &[&str] = &[
    "人民医院",
    "中医医院",
    "妇幼保健院",
    "疾控中心",
    "社区卫生服务中心",
];

const CREDIT_CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const CREDIT_WEIGHTS: [usize; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// A valid GB 32100 code for a union legal person (authority 8, kind 1).
pub fn credit_code(rng: &mut StdRng, region: &str) -> String {
    let mut s = format!("81{region}");
    for _ in 0..9 {
        s.push(CREDIT_CHARS[rng.gen_range(0..CREDIT_CHARS.len())] as char);
    }
    let sum: usize = s
        .bytes()
        .zip(CREDIT_WEIGHTS)
        .map(|(b, w)| {
            CREDIT_CHARS
                .iter()
                .position(|c| *c == b)
                .expect("from the set")
                * w
        })
        .sum();
    s.push(CREDIT_CHARS[(31 - sum % 31) % 31] as char);
    s
}

fn date(rng: &mut StdRng, from_year: i32, to_year: i32) -> NaiveDate {
    let y = rng.gen_range(from_year..=to_year);
    NaiveDate::from_ymd_opt(y, rng.gen_range(1..=12), rng.gen_range(1..=28)).expect("valid")
}

struct Seeder<'a> {
    st: &'a AppState,
    scope: Scope,
    rng: StdRng,
    created: usize,
}

impl Seeder<'_> {
    /// Creates the org unless its code exists; returns its id either way.
    async fn org(
        &mut self,
        parent: OrgId,
        mut input: OrgInput,
        region: &str,
    ) -> anyhow::Result<OrgId> {
        if let Some(o) = orgs::get_by_code_unscoped(&self.st.db, &input.code).await? {
            return Ok(o.id);
        }
        let rng = &mut self.rng;
        input.region_code = region.to_string();
        input.founded_on = date(rng, 1985, 2024).to_string();
        if input.level == "grassroots" {
            if rng.gen_bool(0.45) {
                input.credit_code = credit_code(rng, region);
                input.legal_cert_status = "valid".into();
                input.legal_cert_no =
                    format!("工法证字第{:08}号", rng.gen_range(10_000_000..99_999_999));
                input.legal_cert_on = date(rng, 2015, 2026).to_string();
            }
        } else {
            input.credit_code = credit_code(rng, region);
            input.legal_cert_status = "valid".into();
            input.legal_cert_no =
                format!("工法证字第{:08}号", rng.gen_range(10_000_000..99_999_999));
            input.legal_cert_on = date(rng, 2010, 2020).to_string();
        }
        let start = date(rng, 2021, 2025);
        input.term_no = rng.gen_range(1..=12).to_string();
        input.term_start = start.to_string();
        input.term_end = start
            .with_year(start.year_ce().1 as i32 + 5)
            .unwrap_or(start)
            .to_string();
        let f = input.parse()?;
        self.created += 1;
        Ok(orgs::create(&self.st.db, &self.scope, parent, &f).await?.id)
    }

    fn grassroots_type(&mut self) -> &'static str {
        match self.rng.gen_range(0..100) {
            0..=64 => "企业",
            65..=74 => "事业",
            75..=82 => "机关",
            83..=91 => "新业态",
            _ => "社会组织",
        }
    }
}

/// Codes of the demo's grassroots unions (as `seed` creates them).
pub fn grassroots_codes() -> Vec<String> {
    let mut out = Vec::new();
    for (code, ..) in COUNTIES {
        for s in 1..=STREETS.len() {
            for g in 1..=12 {
                out.push(format!("{code}-S{s}-{g:03}"));
            }
        }
        for g in 1..=5 {
            out.push(format!("{code}-Z{g:02}"));
        }
    }
    for (code, ..) in INDUSTRIES {
        for g in 1..=12 {
            out.push(format!("{code}-{g:03}"));
        }
    }
    out
}

/// The org tree and the staff accounts only (tests that count members by hand use this).
pub async fn seed_orgs_and_accounts(
    st: &AppState,
) -> anyhow::Result<Vec<(String, String, String)>> {
    let actor = Actor::system("demo");
    let root = match orgs::root(&st.db).await? {
        Some(r) => r,
        None => {
            let input = OrgInput {
                code: "SF".into(),
                name: "示范市总工会".into(),
                short_name: "市总".into(),
                level: "city".into(),
                org_type: "机关".into(),
                region_code: "610400".into(),
                credit_code: "81610400MC1234567A".into(),
                legal_cert_status: "valid".into(),
                legal_cert_no: "工法证字第61040001号".into(),
                ..Default::default()
            };
            let mut f = input.parse().or_else(|_| {
                OrgInput {
                    credit_code: String::new(),
                    ..input.clone()
                }
                .parse()
            })?;
            f.credit_code = None;
            let id = orgs::create_root(&st.db, &actor, &f).await?;
            orgs::get_unscoped(&st.db, id)
                .await?
                .ok_or(AppError::NotFound)?
        }
    };
    if root.code != "SF" {
        anyhow::bail!(
            "此数据库已有其他市总工会({}),不能载入演示数据;请用 --data-dir 指定新的目录 / this database belongs to another federation; use a fresh --data-dir",
            root.name
        );
    }
    let scope = Scope::system(actor.clone(), root.id, root.path.clone());
    let mut s = Seeder {
        st,
        scope,
        rng: StdRng::seed_from_u64(SEED),
        created: 0,
    };
    let mut logins: Vec<(String, OrgId, Role)> = vec![
        ("sf_admin".into(), root.id, Role::Admin),
        ("sf_staff".into(), root.id, Role::Staff),
        ("sf_auditor".into(), root.id, Role::Auditor),
    ];

    for (ci, (code, name, region, login)) in COUNTIES.iter().enumerate() {
        let county = s
            .org(
                root.id,
                OrgInput {
                    code: code.to_string(),
                    name: name.to_string(),
                    level: "county".into(),
                    org_type: "机关".into(),
                    ..Default::default()
                },
                region,
            )
            .await?;
        logins.push((format!("{login}_admin"), county, Role::Admin));
        logins.push((format!("{login}_staff"), county, Role::Staff));
        let district = name.trim_start_matches("示范市").trim_end_matches("总工会");
        for (si, street) in STREETS.iter().enumerate() {
            let scode = format!("{code}-S{}", si + 1);
            let sid = s
                .org(
                    county,
                    OrgInput {
                        code: scode.clone(),
                        name: format!("{district}{street}工会"),
                        level: "street".into(),
                        org_type: "联合工会".into(),
                        ..Default::default()
                    },
                    region,
                )
                .await?;
            if ci == 0 && si == 0 {
                logins.push((format!("{login}_s1_admin"), sid, Role::Admin));
            }
            for gi in 0..12 {
                let firm = FIRMS[s.rng.gen_range(0..FIRMS.len())];
                let trade = TRADES[s.rng.gen_range(0..TRADES.len())];
                let ty = s.grassroots_type();
                let gname = if ty == "新业态" {
                    format!("{district}{street}{firm}新就业形态劳动者联合工会")
                } else {
                    format!("示范市{firm}{trade}工会")
                };
                let gid = s
                    .org(
                        sid,
                        OrgInput {
                            code: format!("{scode}-{:03}", gi + 1),
                            name: gname,
                            level: "grassroots".into(),
                            org_type: ty.into(),
                            ..Default::default()
                        },
                        region,
                    )
                    .await?;
                if ci == 0 && si == 0 && gi == 0 {
                    logins.push(("jc_clerk".into(), gid, Role::Staff));
                }
            }
        }
        for gi in 0..5 {
            let firm = FIRMS[s.rng.gen_range(0..FIRMS.len())];
            s.org(
                county,
                OrgInput {
                    code: format!("{code}-Z{:02}", gi + 1),
                    name: format!("{district}{firm}机关事务中心工会"),
                    level: "grassroots".into(),
                    org_type: "机关".into(),
                    ..Default::default()
                },
                region,
            )
            .await?;
        }
    }
    for (ii, (code, name, login)) in INDUSTRIES.iter().enumerate() {
        let ind = s
            .org(
                root.id,
                OrgInput {
                    code: code.to_string(),
                    name: name.to_string(),
                    level: "industry".into(),
                    org_type: "机关".into(),
                    ..Default::default()
                },
                "610400",
            )
            .await?;
        logins.push((format!("{login}_admin"), ind, Role::Admin));
        let units: &[&str] = match ii {
            0 => SCHOOLS,
            1 => HOSPITALS,
            _ => TRADES,
        };
        for gi in 0..12 {
            let unit = units[gi % units.len()];
            let firm = FIRMS[(gi * 7 + ii) % FIRMS.len()];
            let ty = if ii == 2 { "企业" } else { "事业" };
            s.org(
                ind,
                OrgInput {
                    code: format!("{code}-{:03}", gi + 1),
                    name: format!("示范市{firm}{unit}工会"),
                    level: "grassroots".into(),
                    org_type: ty.into(),
                    ..Default::default()
                },
                "610400",
            )
            .await?;
        }
    }

    // Accounts: created if missing, password reset to the demo password.
    let pw = Password::parse(DEMO_PASSWORD)?;
    let existing: Vec<String> = auth::list_users(&st.db, &s.scope)
        .await?
        .into_iter()
        .map(|u| u.username)
        .collect();
    let mut out = Vec::new();
    for (user, org, role) in &logins {
        let username = Username::parse(user)?;
        let org_row = orgs::get_unscoped(&st.db, *org)
            .await?
            .ok_or(AppError::NotFound)?;
        if existing.iter().any(|e| e == user) {
            auth::set_password(&st.db, &s.scope, &username, &pw).await?;
        } else {
            let display = format!("{}{}", org_row.short_name_or_name(), role.label().zh);
            auth::create_user(
                &st.db,
                &s.scope,
                NewUser {
                    username,
                    display_name: display,
                    role: *role,
                    org_id: *org,
                    // Only the city administrator sees full ID and phone
                    // numbers: the permission is granted explicitly.
                    perms: if user == "sf_admin" {
                        "unmask".into()
                    } else {
                        String::new()
                    },
                    password: pw.clone(),
                },
            )
            .await?;
        }
        out.push((
            user.clone(),
            org_row.name.clone(),
            role.as_str().to_string(),
        ));
    }
    tracing::info!(created = s.created, "demo orgs seeded");
    Ok(out)
}
