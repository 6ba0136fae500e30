//! 职工人数 on the org record (recorded as of dates, imported, its figures
//! equal to their drill-downs) and the yearly statistical return (统计年报):
//! child-org columns and totals, items not recorded, the 逻辑检查 naming the
//! org and rule, scope, the CLI, and the file opened by LibreOffice. Runs on
//! SQLite, and on PostgreSQL when GONGHUI_TEST_DATABASE_URL is set.

use crate::common::{audit_count, org_id, Client};
use gonghui::testing;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const FROM: &str = "2025-10-01";
const TO: &str = "2026-09-30";

async fn server() -> testing::TestServer {
    testing::TestServer::start(testing::demo_env().await.unwrap())
        .await
        .unwrap()
}

/// Every sheet of a workbook as text rows (header first), read with calamine.
fn read_sheets(bytes: &[u8]) -> Vec<(String, Vec<Vec<String>>)> {
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let names = wb.sheet_names().to_vec();
    names
        .into_iter()
        .map(|n| {
            let range = wb.worksheet_range(&n).unwrap();
            let rows = range
                .rows()
                .map(|r| r.iter().map(|c| c.to_string()).collect())
                .collect();
            (n, rows)
        })
        .collect()
}

fn sheet<'a>(all: &'a [(String, Vec<Vec<String>>)], name: &str) -> &'a [Vec<String>] {
    &all.iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("sheet {name}"))
        .1
}

fn row<'a>(rows: &'a [Vec<String>], code: &str) -> &'a [String] {
    rows.iter()
        .find(|r| r[0] == code)
        .unwrap_or_else(|| panic!("row {code}"))
}

async fn figures(c: &Client, org: i64) -> Value {
    let (s, t) = c
        .get_json(&format!(
            "/api/v1/reports/figures?org={org}&from={FROM}&to={TO}"
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    t
}

fn fig<'a>(t: &'a Value, code: &str) -> &'a Value {
    t["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["figures"].as_array().unwrap())
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("{code}"))
}

/// The drill-down's measure: the sum its rows add up to, or its count.
async fn drilled(c: &Client, org: i64, code: &str) -> i64 {
    let (s, d) = c
        .get_json(&format!(
            "/api/v1/reports/drill?org={org}&from={FROM}&to={TO}&code={code}&per_page=500"
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{code}: {d}");
    let rows = d["rows"].as_array().unwrap();
    assert_eq!(rows.len() as i64, d["total"].as_i64().unwrap(), "{code}");
    match d["sum"].as_i64() {
        Some(sum) => {
            let key = match code {
                "orgs_workforce_women" => "women",
                "orgs_workforce_migrant" => "migrant",
                _ => "workforce",
            };
            let listed: i64 = rows.iter().map(|r| r[key].as_i64().unwrap()).sum();
            assert_eq!(listed, sum, "{code}: the rows add up to the sum");
            sum
        }
        None => d["total"].as_i64().unwrap(),
    }
}

async fn return_xlsx(c: &Client, body: Value) -> reqwest::Response {
    c.http
        .post(format!("{}/api/v1/reports/return", c.base))
        .header("x-csrf-token", &c.csrf)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// The new org figures — 职工人数, 女职工, 农民工, unions reporting, unions
/// at every level — equal their drill-downs, in total and in every child
/// org's cell; 入会率 is members ÷ workforce with both parts.
#[tokio::test]
async fn workforce_figures_equal_their_drill_downs() {
    let server = server().await;
    let c = Client::signed_in(&server, "qinchuan_admin").await;
    let county = org_id(&c, "SF-01").await;
    let t = figures(&c, county).await;
    let kids: Vec<i64> = t["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["id"].as_i64().unwrap())
        .collect();
    assert!(!kids.is_empty());
    for code in [
        "orgs_workforce",
        "orgs_workforce_women",
        "orgs_workforce_migrant",
        "orgs_workforce_reported",
        "orgs_unions_all",
        "orgs_grassroots_legal_person",
    ] {
        let f = fig(&t, code);
        let v = f["value"].as_i64().unwrap();
        assert!(v > 0, "{code} has demo data");
        assert_eq!(drilled(&c, county, code).await, v, "{code}");
        for (k, cell) in kids
            .iter()
            .zip(f["breakdown"].as_array().unwrap().iter().skip(1))
        {
            assert_eq!(
                drilled(&c, *k, code).await,
                cell["value"].as_i64().unwrap(),
                "{code} of child {k}"
            );
        }
    }
    // Every grassroots union of the demo recorded its workforce.
    assert_eq!(
        fig(&t, "orgs_workforce_reported")["value"],
        fig(&t, "orgs_grassroots")["value"]
    );
    let rate = fig(&t, "members_join_rate");
    assert_eq!(rate["numerator"], fig(&t, "members_total")["value"]);
    assert_eq!(rate["denominator"], fig(&t, "orgs_workforce")["value"]);
    let pct = rate["value"].as_f64().unwrap();
    assert!((60.0..100.0).contains(&pct), "{pct}");
    // The unions of every level: the county, its streets and its grassroots unions.
    assert_eq!(
        fig(&t, "orgs_unions_all")["value"].as_i64().unwrap(),
        fig(&t, "orgs_grassroots")["value"].as_i64().unwrap() + 1 + 4,
        "SF-01 itself and its four streets"
    );
}

/// Recording 职工人数: the latest value as of the period's end counts; the
/// rules refuse with Chinese and English messages and write nothing; a
/// federation, another county's union and a date in the future are refused.
#[tokio::test]
async fn workforce_is_recorded_as_of_dates() {
    let server = server().await;
    let c = Client::signed_in(&server, "qinchuan_admin").await;
    let union = org_id(&c, "SF-01-S1-001").await;
    let county = org_id(&c, "SF-01").await;
    let before = fig(&figures(&c, union).await, "orgs_workforce")["value"]
        .as_i64()
        .unwrap();
    let (s, v) = c
        .json(
            Method::POST,
            &format!("/api/v1/orgs/{union}/workforce"),
            Some(json!({"as_of": "2026-09-01", "workforce": 500, "women": 200, "migrant": 100})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["workforce"], 500);
    assert_eq!(
        fig(&figures(&c, union).await, "orgs_workforce")["value"],
        500
    );
    // A value after the period's end does not change the period's figure.
    let (s, _) = c
        .json(
            Method::POST,
            &format!("/api/v1/orgs/{union}/workforce"),
            Some(json!({"as_of": "2026-10-15", "workforce": 900})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        fig(&figures(&c, union).await, "orgs_workforce")["value"],
        500
    );
    let (_, hist) = c.get_json(&format!("/api/v1/orgs/{union}/workforce")).await;
    let dates: Vec<&str> = hist
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["as_of"].as_str().unwrap())
        .collect();
    assert_eq!(dates[0], "2026-10-15", "latest first: {dates:?}");
    assert!(dates.contains(&"2026-09-01"));
    assert!(before > 0);

    let n = hist.as_array().unwrap().len();
    for (body, zh) in [
        (
            json!({"as_of": "2026-09-02", "workforce": 10, "women": 11}),
            "女职工人数",
        ),
        (
            json!({"as_of": "2026-09-02", "workforce": 10, "migrant": 11}),
            "农民工人数",
        ),
        (json!({"as_of": "2026-09-02", "workforce": -1}), "超出范围"),
        (json!({"as_of": "2999-01-01", "workforce": 10}), "晚于今天"),
        (json!({"as_of": "2026-02-30", "workforce": 10}), "截至日期"),
    ] {
        let (s, e) = c
            .json(
                Method::POST,
                &format!("/api/v1/orgs/{union}/workforce"),
                Some(body.clone()),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {e}");
        let msg = e.to_string();
        assert!(msg.contains(zh), "{body}: {msg}");
    }
    // A federation's figure is its subtree's sum: not recorded on it.
    let (s, e) = c
        .json(
            Method::POST,
            &format!("/api/v1/orgs/{county}/workforce"),
            Some(json!({"as_of": "2026-09-02", "workforce": 10})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(e.to_string().contains("不是基层工会"), "{e}");
    let (_, hist) = c.get_json(&format!("/api/v1/orgs/{union}/workforce")).await;
    assert_eq!(hist.as_array().unwrap().len(), n, "nothing written");

    // Another county's union: 404, and the attempt audited.
    let city = Client::signed_in(&server, "sf_admin").await;
    let other = org_id(&city, "SF-02-S1-001").await;
    let denied = audit_count(&server, "scope.denied").await;
    let (s, _) = c
        .json(
            Method::POST,
            &format!("/api/v1/orgs/{other}/workforce"),
            Some(json!({"as_of": "2026-09-02", "workforce": 10})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = c.get_json(&format!("/api/v1/orgs/{other}/workforce")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(audit_count(&server, "scope.denied").await >= denied + 2);

    // The org page: the history and the form; a refusal shown on the page.
    let (s, page) = c.text(&format!("/orgs/{union}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("id=\"workforce-history\""), "{page}");
    assert!(page.contains(
        "action=\"/orgs/{union}/workforce\""
            .replace("{union}", &union.to_string())
            .as_str()
    ));
    let (s, page) = c
        .post_form(
            &format!("/orgs/{union}/workforce"),
            &[("as_of", "2026-09-03"), ("workforce", "12人")],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("应为不小于0的整数"), "{page}");
    let (s, _) = c
        .post_form(
            &format!("/orgs/{union}/workforce"),
            &[
                ("as_of", "2026-09-03"),
                ("workforce", "1,234"),
                ("women", "600"),
            ],
        )
        .await;
    assert!(s.is_success() || s.is_redirection(), "{s}");
    assert_eq!(
        fig(&figures(&c, union).await, "orgs_workforce")["value"],
        1234
    );
    assert!(audit_count(&server, "org.workforce").await >= 3);
}

/// The import: all or nothing; every bad row named with its reason; codes
/// outside the caller's subtree read as unknown.
#[tokio::test]
async fn workforce_import_is_all_or_nothing() {
    let server = server().await;
    let c = Client::signed_in(&server, "qinchuan_admin").await;
    let post = |body: Vec<u8>| {
        c.http
            .post(format!("{}/api/v1/orgs/workforce/import", c.base))
            .header("x-csrf-token", &c.csrf)
            .body(body)
            .send()
    };
    let bad = "组织编码,截至日期,职工人数,女职工人数,农民工人数\n\
               SF-01-S1-001,2026-09-30,300,100,50\n\
               SF-01-S1-002,2026-09-30,30,40,0\n\
               SF-02-S1-001,2026-09-30,30,10,0\n\
               SF-01-S1-001,2026-09-30,301,100,50\n\
               SF-01,2026-09-30,30,10,0\n";
    let r = post(bad.as_bytes().to_vec()).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let rep: Value = r.json().await.unwrap();
    assert_eq!(rep["committed"], false, "{rep}");
    let rejects = rep["rejects"].as_array().unwrap();
    let lines: Vec<i64> = rejects
        .iter()
        .map(|r| r["line"].as_i64().unwrap())
        .collect();
    assert_eq!(lines, vec![3, 4, 5, 6], "{rep}");
    assert!(rejects[0]["reason"]
        .as_str()
        .unwrap()
        .contains("女职工人数"));
    assert!(rejects[1]["reason"]
        .as_str()
        .unwrap()
        .contains("找不到组织编码"));
    assert!(rejects[2]["reason"].as_str().unwrap().contains("重复"));
    assert!(rejects[3]["reason_en"]
        .as_str()
        .unwrap()
        .contains("not a grassroots union"));
    let union = org_id(&c, "SF-01-S1-001").await;
    let (_, hist) = c.get_json(&format!("/api/v1/orgs/{union}/workforce")).await;
    assert!(
        hist.as_array()
            .unwrap()
            .iter()
            .all(|h| h["as_of"] != "2026-09-30"),
        "nothing written: {hist}"
    );
    // A file that is not a spreadsheet, or without the columns.
    let r = post(b"\x00\x01\x02garbage".to_vec()).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = post("名称,人数\nx,1\n".as_bytes().to_vec()).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("组织编码"));

    let good = "组织编码,截至日期,职工人数,女职工人数,农民工人数\n\
                SF-01-S1-001,2026-09-30,300,100,50\n\
                SF-01-S1-002,2026-09-30,400,,\n";
    let rep: Value = post(good.as_bytes().to_vec())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rep["committed"], true, "{rep}");
    assert_eq!(rep["new"], 2);
    assert_eq!(
        fig(&figures(&c, union).await, "orgs_workforce")["value"],
        300
    );
    // The same file again changes nothing.
    let rep: Value = post(good.as_bytes().to_vec())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rep["unchanged"], 2, "{rep}");
    // The page: template, a refused file listed row by row, then a good one.
    let (s, page) = c.text("/orgs/workforce/import").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("id=\"workforce-import\""), "{page}");
    let r = c
        .http
        .get(format!("{}/orgs/workforce/template.xlsx", c.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let t = gonghui::sheet::read_table(&r.bytes().await.unwrap(), 10).unwrap();
    assert_eq!(t.headers[..3], ["组织编码", "截至日期", "职工人数"]);
    let r = c
        .upload(
            "/orgs/workforce/import",
            bad.as_bytes().to_vec(),
            "职工.csv",
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("未导入任何数据") && page.contains("重复"),
        "{page}"
    );
    let next = "组织编码,截至日期,职工人数,女职工人数,农民工人数\n\
                SF-01-S1-003,2026-09-30,77,7,7\n";
    let r = c
        .upload(
            "/orgs/workforce/import",
            next.as_bytes().to_vec(),
            "职工.csv",
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("已导入"));
    let u3 = org_id(&c, "SF-01-S1-003").await;
    assert_eq!(fig(&figures(&c, u3).await, "orgs_workforce")["value"], 77);
    // An auditor reads, never writes.
    let auditor = Client::signed_in(&server, "sf_auditor").await;
    let r = auditor
        .http
        .post(format!("{}/api/v1/orgs/workforce/import", auditor.base))
        .header("x-csrf-token", &auditor.csrf)
        .body(good.as_bytes().to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

/// The city's return: one sheet per area with code, name, unit, 本级, one
/// column per county/industry union and the total; values equal the
/// figures; items not recorded marked 未统计; the 逻辑检查 passes on the
/// demo; the file opens in LibreOffice.
#[tokio::test]
async fn the_city_return_has_child_columns_totals_and_checks() {
    let server = server().await;
    let c = Client::signed_in(&server, "sf_admin").await;
    let before = audit_count(&server, "report.return").await;
    let r = return_xlsx(&c, json!({"from": FROM, "to": TO})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let cd = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(cd.contains(".xlsx"), "{cd}");
    let bytes = r.bytes().await.unwrap().to_vec();
    assert_eq!(audit_count(&server, "report.return").await, before + 1);
    let all = read_sheets(&bytes);
    let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "封面",
            "组织建设",
            "会员",
            "工会干部",
            "民主管理",
            "劳动保护",
            "法律工作",
            "帮扶服务",
            "经费",
            "逻辑检查"
        ]
    );
    let members = sheet(&all, "会员");
    let header = &members[0];
    assert_eq!(&header[..3], ["代码", "指标名称", "计量单位"]);
    assert!(header[3].starts_with("本级"));
    assert_eq!(header.last().unwrap(), "合计");
    // Five counties and three industry unions, then the total.
    assert_eq!(header.len(), 3 + 1 + 8 + 1, "{header:?}");
    assert!(
        header.iter().any(|h| h.contains("SF-01")) && header.iter().any(|h| h.contains("SF-I3"))
    );

    let city = org_id(&c, "SF").await;
    let t = figures(&c, city).await;
    let total = header.len() - 1;
    for (code, ind) in [
        ("H04", "members_total"),
        ("H01", "orgs_workforce"),
        ("H05", "members_women"),
        ("H08", "members_joined"),
    ] {
        let f = fig(&t, ind);
        let line = row(members, code);
        assert_eq!(line[total], f["value"].to_string(), "{code}");
        for (k, cell) in f["breakdown"].as_array().unwrap().iter().enumerate() {
            assert_eq!(line[3 + k], cell["value"].to_string(), "{code} column {k}");
        }
        // The columns add up to the total.
        let sum: i64 = line[3..total]
            .iter()
            .map(|v| v.parse::<i64>().unwrap())
            .sum();
        assert_eq!(sum.to_string(), line[total], "{code}");
    }
    let rate = row(members, "H10");
    let expect = fig(&t, "members_join_rate")["value"].as_f64().unwrap();
    assert_eq!(rate[total].parse::<f64>().unwrap(), expect);
    let org = sheet(&all, "组织建设");
    assert_eq!(
        row(org, "Z01")[total],
        fig(&t, "orgs_unions_all")["value"].to_string()
    );
    assert_eq!(row(org, "Z14")[total], "未统计");
    assert!(row(sheet(&all, "工会干部"), "G01")[3..]
        .iter()
        .all(|v| v == "未统计"));
    let checks = sheet(&all, "逻辑检查");
    assert_eq!(checks.len(), 2, "{checks:?}");
    assert_eq!(checks[1][4], "通过");
    assert!(sheet(&all, "封面")
        .iter()
        .any(|r| r[1].contains("2025-10-01 至 2026-09-30")));

    // LibreOffice opens it: headless conversion of every sheet to UTF-8 CSV.
    if std::process::Command::new("soffice")
        .arg("--version")
        .output()
        .is_ok()
    {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("return.xlsx");
        std::fs::write(&file, &bytes).unwrap();
        let profile = format!("-env:UserInstallation=file://{}/lo", dir.path().display());
        let out = std::process::Command::new("soffice")
            .arg(&profile)
            .args([
                "--headless",
                "--convert-to",
                // UTF-8, every sheet to its own file (return-<sheet>.csv).
                "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
                "--outdir",
            ])
            .arg(dir.path())
            .arg(&file)
            .output()
            .unwrap();
        let read = |sheet: &str| {
            let csv = dir.path().join(format!("return-{sheet}.csv"));
            std::fs::read_to_string(&csv).unwrap_or_else(|e| {
                panic!(
                    "{sheet}: {e}; soffice: {} {}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                )
            })
        };
        assert!(read("封面").contains("示范市总工会"));
        assert!(read("逻辑检查").contains("通过"));
        let h04 = read("会员")
            .lines()
            .find(|l| l.starts_with("H04,"))
            .unwrap()
            .to_string();
        assert!(
            h04.ends_with(&format!(",{}", fig(&t, "members_total")["value"])),
            "{h04}"
        );
    } else {
        panic!("soffice is not installed (.ci/run installs libreoffice-calc-nogui)");
    }

    // The page: choose, check, download.
    let (s, page) = c.text("/reports/return").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("id=\"return-pick\""));
    let (s, page) = c
        .text(&format!("/reports/return?org={city}&from={FROM}&to={TO}"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("全部逻辑检查通过"), "{page}");
    let r = c
        .http
        .post(format!("{}/reports/return", c.base))
        .form(&[
            ("_csrf", c.csrf.as_str()),
            ("org", &city.to_string()),
            ("from", FROM),
            ("to", TO),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(read_sheets(&r.bytes().await.unwrap()).len(), 10);
    // Without the token the export is refused.
    let r = c
        .http
        .post(format!("{}/api/v1/reports/return", c.base))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

/// An inconsistency in one union's records shows in the 逻辑检查 sheet
/// under that union's county column (and the total), naming the rule.
#[tokio::test]
async fn the_logic_check_names_the_inconsistent_org() {
    let server = server().await;
    let c = Client::signed_in(&server, "sf_admin").await;
    // A union in SF-02 records a workforce without women: its women
    // members now outnumber its women workers.
    let union = org_id(&c, "SF-02-S1-001").await;
    let t = figures(&c, union).await;
    assert!(fig(&t, "members_women")["value"].as_i64().unwrap() > 0);
    let (s, e) = c
        .json(
            Method::POST,
            &format!("/api/v1/orgs/{union}/workforce"),
            Some(json!({"as_of": "2026-09-30", "workforce": 5000, "women": 0, "migrant": 4000})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let bytes = return_xlsx(&c, json!({"org_code": "SF", "from": FROM, "to": TO}))
        .await
        .bytes()
        .await
        .unwrap();
    let all = read_sheets(&bytes);
    let checks = sheet(&all, "逻辑检查");
    assert_eq!(
        &checks[0][..6],
        ["序号", "组织代码", "组织名称", "口径", "规则", "说明"]
    );
    let failing: Vec<&Vec<String>> = checks[1..].iter().collect();
    assert!(
        failing.iter().any(|r| r[1] == "SF-02-S1-001"
            && r[3] == "本级记录"
            && r[4] == "女会员不应多于女职工人数"
            && r[5].contains("H05 女会员")),
        "{checks:?}"
    );
    // Nothing else is named: the other unions' records agree.
    assert!(
        failing
            .iter()
            .all(|r| r[1] == "SF-02-S1-001" || r[1] == "SF-02" || r[1] == "SF"),
        "{checks:?}"
    );
    assert!(sheet(&all, "封面")
        .iter()
        .any(|r| r[1].contains("处不通过")));
    // The street's return names it in its column, the union's own in 本级.
    let street = org_id(&c, "SF-02-S1").await;
    let bytes = return_xlsx(
        &c,
        json!({"org": street.to_string(), "from": FROM, "to": TO}),
    )
    .await
    .bytes()
    .await
    .unwrap();
    let all = read_sheets(&bytes);
    assert!(sheet(&all, "逻辑检查")[1..]
        .iter()
        .any(|r| r[1] == "SF-02-S1-001"));
    let bytes = return_xlsx(
        &c,
        json!({"org": union.to_string(), "from": FROM, "to": TO}),
    )
    .await
    .bytes()
    .await
    .unwrap();
    let all = read_sheets(&bytes);
    let checks = sheet(&all, "逻辑检查");
    assert!(
        checks[1..]
            .iter()
            .any(|r| r[1] == "SF-02-S1-001" && r[3] == "本级记录"),
        "{checks:?}"
    );
    // The CLI's exit code says so too (tested in the CLI test on clean data).
}

/// A county admin's return covers the county only: its children's columns;
/// another county is 404 (audited); a period ending before it starts is
/// refused in Chinese and English.
#[tokio::test]
async fn a_county_return_covers_the_county_only() {
    let server = server().await;
    let c = Client::signed_in(&server, "qinchuan_admin").await;
    let r = return_xlsx(&c, json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let all = read_sheets(&r.bytes().await.unwrap());
    let header = &sheet(&all, "会员")[0];
    assert!(header[3].contains("秦川区"), "{header:?}");
    for h in &header[4..header.len() - 1] {
        assert!(h.contains("(SF-01-"), "{h}");
    }
    let city = Client::signed_in(&server, "sf_admin").await;
    let other = org_id(&city, "SF-02").await;
    let denied = audit_count(&server, "scope.denied").await;
    let r = return_xlsx(&c, json!({"org": other.to_string()})).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = return_xlsx(&c, json!({"org_code": "SF-02"})).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let (s, _) = c.text(&format!("/reports/return?org={other}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(audit_count(&server, "scope.denied").await >= denied + 3);
    let r = return_xlsx(&c, json!({"from": "2026-09-30", "to": "2025-10-01"})).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = r.text().await.unwrap();
    assert!(
        text.contains("早于开始日期") && text.contains("before it starts"),
        "{text}"
    );
    let r = return_xlsx(&c, json!({"from": "2025-10-01"})).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// `gonghui import workforce FILE` and `gonghui report return …`.
#[tokio::test]
async fn cli_imports_workforce_and_writes_the_return() {
    let env = testing::demo_env().await.unwrap();
    let dir = env.data_dir();
    let url = env.database_url.clone();
    env.state.db.close().await;
    let bin = env!("CARGO_BIN_EXE_gonghui");
    let run = |args: &[&str]| {
        let mut cmd = std::process::Command::new(bin);
        cmd.arg("--data-dir")
            .arg(&dir)
            .env("GONGHUI_MASTER_KEY", "42".repeat(32))
            .env("GONGHUI_LOG", "error");
        if let Some(u) = &url {
            cmd.arg("--database-url").arg(u);
        }
        cmd.args(args).output().unwrap()
    };
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        "组织编码,截至日期,职工人数,女职工人数,农民工人数\nSF-01-S1-001,2026-09-30,30,40,0\n",
    )
    .unwrap();
    let out = run(&["import", "workforce", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("第2行") && err.contains("女职工人数"), "{err}");
    let good = dir.join("good.csv");
    std::fs::write(
        &good,
        "组织编码,截至日期,职工人数,女职工人数,农民工人数\nSF-01-S1-001,2026-09-30,300,100,50\n",
    )
    .unwrap();
    let out = run(&["import", "workforce", good.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("new=1"));

    let file = dir.join("return.xlsx");
    let out = run(&[
        "report",
        "return",
        "--org",
        "SF-01",
        "--from",
        FROM,
        "--to",
        TO,
        "--out",
        file.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("通过"));
    let all = read_sheets(&std::fs::read(&file).unwrap());
    assert_eq!(all.len(), 10);
    let out = run(&[
        "report",
        "return",
        "--org",
        "SF-01",
        "--from",
        TO,
        "--to",
        FROM,
        "--out",
        file.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("早于开始日期"));
    let out = run(&[
        "report",
        "return",
        "--org",
        "NOPE",
        "--out",
        file.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
}
