//! Generator of realistic fictional rosters: valid GB 11643 ID numbers over
//! real region codes, Chinese names, mobile numbers, the usual spread of
//! education, 农民工 and new-employment groups. Deterministic for a seed.
//! Used by `gonghui gen members`, the benchmarks and the demo data.

use chrono::{Datelike, NaiveDate};
use rand::{rngs::StdRng, Rng, SeedableRng};

use super::model::RawMember;

/// Real county-level codes (Shaanxi mostly, as in the seeds, and a few others).
const REGIONS: &[&str] = &[
    "610402", "610403", "610404", "610422", "610423", "610424", "610425", "610426", "610428",
    "610429", "610430", "610431", "610481", "610102", "610103", "610104", "610111", "610112",
    "610113", "610114", "610202", "610302", "610502", "610602", "610702", "610802", "610902",
    "611002", "110105", "110108", "410105", "510104", "440305", "320102", "500103", "520102",
    "620102", "640104",
];
const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁",
    "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金", "石", "廖", "贾", "夏",
    "韦", "付", "方", "白", "邹", "孟", "熊", "秦", "邱", "江", "尹", "薛", "闫", "段", "雷", "侯",
    "龙", "史", "陶", "黎", "贺", "顾", "毛", "郝", "龚", "邵", "万", "钱", "严", "覃", "武",
    "欧阳", "司马",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "秀", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
    "明", "超", "霞", "平", "刚", "桂", "英", "华", "建", "国", "文", "辉", "玲", "红", "鹏", "飞",
    "鑫", "宇", "浩", "博", "晨", "阳", "梅", "琳", "婷", "雪", "慧", "丹", "欣", "怡", "佳", "悦",
    "凯", "斌", "波", "宁", "峰", "林", "海", "亮", "成", "志", "春", "秋", "梦", "桃", "兰", "萍",
    "荣", "瑞", "祥", "福", "安", "康", "乐", "琪", "思", "雨", "泽", "晓",
];
const EDUCATION: &[(&str, u32)] = &[
    ("研究生(硕士)", 3),
    ("大学本科", 22),
    ("大学专科", 25),
    ("中等专科", 10),
    ("职业高中", 5),
    ("技工学校", 5),
    ("普通高中", 15),
    ("初中", 13),
    ("小学", 2),
];
const POLITICAL: &[(&str, u32)] = &[("中共党员", 18), ("共青团员", 12), ("群众", 70)];
const SKILLS: &[(&str, u32)] = &[
    ("", 40),
    ("初级工", 20),
    ("中级工", 18),
    ("高级工", 12),
    ("技师", 6),
    ("高级技师", 4),
];
const GROUPS: &[(&str, u32)] = &[
    ("", 880),
    ("快递员", 25),
    ("外卖送餐员", 25),
    ("货车司机", 20),
    ("网约车司机", 15),
    ("家政服务员", 10),
    ("护工护理员", 10),
    ("保安员", 10),
    ("商场信息员", 5),
];
const NATIONS: &[(&str, u32)] = &[("汉族", 95), ("回族", 3), ("满族", 1), ("蒙古族", 1)];
const FIRMS: &[&str] = &[
    "华秦", "渭丰", "长乐", "兴业", "明德", "恒通", "秦源", "泰和", "丰源", "启航",
];
const TRADES: &[&str] = &[
    "纺织有限公司",
    "物流有限公司",
    "食品有限公司",
    "商贸有限公司",
    "快递服务站",
    "物业公司",
];

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// Appends the GB 11643 check character to 17 digits.
pub fn with_check(first17: &str) -> String {
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{first17}{check}")
}

fn pick<'a>(rng: &mut StdRng, table: &[(&'a str, u32)]) -> &'a str {
    let total: u32 = table.iter().map(|(_, w)| w).sum();
    let mut x = rng.gen_range(0..total);
    for (v, w) in table {
        if x < *w {
            return v;
        }
        x -= w;
    }
    table[0].0
}

pub struct Generator {
    rng: StdRng,
    orgs: Vec<String>,
    /// Joins fall between these years.
    pub join_years: (i32, i32),
    today: NaiveDate,
}

impl Generator {
    pub fn new(seed: u64, orgs: Vec<String>, today: NaiveDate) -> Generator {
        Generator {
            rng: StdRng::seed_from_u64(seed),
            orgs,
            join_years: (2012, today.year()),
            today,
        }
    }

    pub fn row(&mut self, n: u64) -> RawMember {
        let rng = &mut self.rng;
        let female = rng.gen_bool(0.46);
        let join_year = rng.gen_range(self.join_years.0..=self.join_years.1);
        let mut joined =
            NaiveDate::from_ymd_opt(join_year, rng.gen_range(1..=12), rng.gen_range(1..=28))
                .expect("valid");
        if joined > self.today {
            joined = self.today;
        }
        // Of working age when joining: 18 .. retirement age - 1.
        let max_age = if female { 54 } else { 59 };
        let age = rng.gen_range(18..=max_age);
        let birth_year = (joined.year() - age).max(1940);
        let birth =
            NaiveDate::from_ymd_opt(birth_year, rng.gen_range(1..=12), rng.gen_range(1..=28))
                .expect("valid");
        let birth = if birth.year() + age > joined.year() {
            birth
        } else {
            birth.with_year(birth.year() + 1).unwrap_or(birth)
        };
        let region = REGIONS[rng.gen_range(0..REGIONS.len())];
        // Sequence: odd for men, even for women; mixed with n so IDs rarely collide.
        let seq = ((n * 7919 + rng.gen_range(0..50) as u64) % 500) as u32 * 2 + u32::from(!female);
        let id = with_check(&format!(
            "{region}{}{:03}",
            birth.format("%Y%m%d"),
            seq % 1000
        ));
        let surname = SURNAMES[rng.gen_range(0..SURNAMES.len())];
        let given: String = (0..rng.gen_range(1..=2))
            .map(|_| GIVEN[rng.gen_range(0..GIVEN.len())])
            .collect();
        let group = pick(rng, GROUPS);
        let migrant = !group.is_empty() && rng.gen_bool(0.6) || rng.gen_bool(0.18);
        let phone = format!(
            "1{}{:09}",
            rng.gen_range(3..=9),
            rng.gen_range(0..1_000_000_000u64)
        );
        RawMember {
            name: format!("{surname}{given}"),
            gender: if female { "女".into() } else { "男".into() },
            birth_date: birth.to_string(),
            nation: pick(rng, NATIONS).into(),
            id_kind: "居民身份证".into(),
            id_number: id,
            education: pick(rng, EDUCATION).into(),
            skill_level: pick(rng, SKILLS).into(),
            phone,
            hukou_type: if migrant {
                "农业户口".into()
            } else {
                "非农业户口".into()
            },
            hukou_place: "陕西省".into(),
            political: pick(rng, POLITICAL).into(),
            workplace: format!(
                "示范市{}{}",
                FIRMS[rng.gen_range(0..FIRMS.len())],
                TRADES[rng.gen_range(0..TRADES.len())]
            ),
            migrant: if migrant { "是".into() } else { "否".into() },
            new_employment_group: group.into(),
            change_kind: "入会".into(),
            change_date: joined.to_string(),
            org_code: self.orgs[rng.gen_range(0..self.orgs.len())].clone(),
        }
    }
}

/// Writes `count` rows to a .csv (UTF-8 with BOM) or .xlsx file.
pub fn write_file(
    path: &std::path::Path,
    count: u64,
    seed: u64,
    orgs: Vec<String>,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        !orgs.is_empty(),
        "没有可用的工会编码 / no union codes given"
    );
    let mut g = Generator::new(seed, orgs, platform::time::today());
    let headers = crate::import::template_headers();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "csv" => {
            use std::io::Write;
            let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
            file.write_all("\u{feff}".as_bytes())?;
            let mut w = csv::Writer::from_writer(file);
            w.write_record(&headers)?;
            for n in 0..count {
                w.write_record(g.row(n).cells())?;
            }
            w.flush()?;
        }
        "xlsx" => {
            use sheet::{write_xlsx, CellOut, SheetOut};
            let rows = (0..count)
                .map(|n| g.row(n).cells().into_iter().map(CellOut::Text).collect())
                .collect();
            let bytes = write_xlsx(&[SheetOut {
                name: "会员名册".into(),
                headers,
                rows,
                col_widths: None,
            }])
            .map_err(|e| anyhow::anyhow!("{}", e.message().0))?;
            std::fs::write(path, bytes)?;
        }
        _ => anyhow::bail!("输出文件须为 .csv 或 .xlsx / the output must be .csv or .xlsx"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::RetirementRule;

    #[test]
    fn generated_rows_are_valid_and_deterministic() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
        let mut g = Generator::new(1, vec!["SF-01-S1-001".into()], today);
        let mut h = Generator::new(1, vec!["SF-01-S1-001".into()], today);
        for n in 0..2000 {
            let r = g.row(n);
            assert_eq!(r.id_number, h.row(n).id_number);
            r.parse(today, &RetirementRule::default())
                .unwrap_or_else(|e| panic!("{r:?}: {e}"));
        }
        assert_eq!(with_check("11010519491231002"), "11010519491231002X");
    }
}
