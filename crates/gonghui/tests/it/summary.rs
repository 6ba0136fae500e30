//! The annual work summary: written from the demo records, every figure
//! equal to its drill-down, scoped, edited prose kept across a refresh,
//! final versions frozen, bad input refused, the .docx opened by LibreOffice.

use crate::common::{org_id, Client};
use gonghui::testing;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn server() -> testing::TestServer {
    testing::TestServer::start(testing::demo_env().await.unwrap())
        .await
        .unwrap()
}

fn figures(v: &Value) -> Vec<Value> {
    v["written"]["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["paragraphs"].as_array().unwrap().clone())
        .flat_map(|p| p["spans"].as_array().unwrap().clone())
        .filter(|s| s["t"] == "figure")
        .collect()
}

fn text(v: &Value) -> String {
    v["text"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

async fn generate(c: &Client, org: i64, year: &str) -> (StatusCode, Value) {
    c.json(
        Method::POST,
        "/api/v1/reports/summary",
        Some(json!({"org": org.to_string(), "year": year})),
    )
    .await
}

#[tokio::test]
async fn the_city_summary_reads_like_the_seeds_and_every_figure_is_its_drill_down() {
    let server = server().await;
    let c = Client::signed_in(&server, "sf_admin").await;
    let city = org_id(&c, "SF").await;
    let (s, v) = generate(&c, city, "2026").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let t = text(&v);
    assert!(t.contains("基层组织建设"), "{t}");
    assert!(
        t.contains("全市共有工会组织") && t.contains("其中基层工会"),
        "{t}"
    );
    assert!(t.contains("工会会员总数达"), "{t}");
    // No figure is a bare zero ("0个", "0人"): a zero stands after no digit.
    let chars: Vec<char> = t.chars().collect();
    let zero = chars
        .windows(3)
        .any(|w| !w[0].is_ascii_digit() && w[1] == '0' && !w[2].is_ascii_digit() && w[2] != '.');
    assert!(!zero && !t.contains('{'), "no empty sentences: {t}");
    let figs = figures(&v);
    assert!(figs.len() >= 5, "{figs:?}");
    for f in &figs {
        let code = f["code"].as_str().unwrap();
        let link = f["link"].as_str().unwrap();
        assert!(link.starts_with("/reports/drill?"), "{link}");
        let (s, d) = c
            .get_json(&format!(
                "/api/v1/reports/drill?org={city}&period=2026&code={code}"
            ))
            .await;
        if s == StatusCode::UNPROCESSABLE_ENTITY {
            // A ratio: its numerator and denominator have the drill-downs.
            assert!(f["exact"].as_str().unwrap().contains('/'), "{f}");
            continue;
        }
        assert_eq!(s, StatusCode::OK, "{d}");
        let behind = d["sum"].as_i64().unwrap_or(d["total"].as_i64().unwrap());
        let exact: String = f["exact"]
            .as_str()
            .unwrap()
            .chars()
            .filter(|ch| ch.is_ascii_digit())
            .collect();
        let fig = v["draft"]["figures"][code]["value"].as_i64().unwrap();
        assert_eq!(fig, behind, "{code}: figure = drill-down");
        if !exact.is_empty() && d["sum"].is_null() {
            assert_eq!(exact.parse::<i64>().unwrap(), behind, "{code}: {f}");
        }
    }
}

#[tokio::test]
async fn a_county_summary_names_only_its_county_and_the_city_is_out_of_reach() {
    let server = server().await;
    let c = Client::signed_in(&server, "qinchuan_admin").await;
    let county = org_id(&c, "SF-01").await;
    let (s, v) = generate(&c, county, "2026").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let t = text(&v);
    assert!(t.contains("全区") || t.contains("全县"), "{t}");
    assert!(!t.contains("渭水"), "{t}");
    let admin = Client::signed_in(&server, "sf_admin").await;
    let city = org_id(&admin, "SF").await;
    let other = org_id(&admin, "SF-02").await;
    for org in [city, other] {
        let (s, _) = generate(&c, org, "2026").await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
    // The city's draft is not the county's to read.
    let (_, cv) = generate(&admin, city, "2026").await;
    let id = cv["draft"]["id"].as_i64().unwrap();
    let (s, _) = c.get_json(&format!("/api/v1/reports/summary/{id}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn edited_prose_survives_new_records_and_a_final_version_is_frozen() {
    let server = server().await;
    let c = Client::signed_in(&server, "sf_admin").await;
    let city = org_id(&c, "SF").await;
    let (_, v) = generate(&c, city, "2026").await;
    let id = v["draft"]["id"].as_i64().unwrap();
    let version = v["draft"]["version"].as_i64().unwrap();
    let before = v["draft"]["figures"]["members_total"]["value"]
        .as_i64()
        .unwrap();
    let edit = |zh: &str| {
        vec![
            ("key".to_string(), "members.total".to_string()),
            ("zh".to_string(), zh.to_string()),
            ("en".to_string(), "{members_total} members.".to_string()),
        ]
    };
    let post = |path: String, fields: Vec<(String, String)>| {
        let c = &c;
        async move {
            let f: Vec<(&str, &str)> = fields
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            c.post_form(&path, &f).await
        }
    };
    // Refused: an unknown indicator, a malformed pattern.
    let (s, page) = post(
        format!("/reports/summary/{id}/edit"),
        edit("会员{no_such}人"),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    let (s, _) = post(
        format!("/reports/summary/{id}/edit"),
        edit("会员{members_total"),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // Our own words around the figure, and a number typed by hand.
    let (s, _) = post(
        format!("/reports/summary/{id}/edit"),
        edit("我们的会员队伍不断壮大,总数达{members_total},另有约300人待审核。"),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    // A new member, then a refresh.
    let body = json!({"name": "综述新会员", "id_number": id_for("11010519900101123"), "org_code": "SF-01-S1-001", "change_date": "2026-06-01"});
    let (s, r) = c.json(Method::POST, "/api/v1/members", Some(body)).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let (s, _) = post(format!("/reports/summary/{id}/refresh"), vec![]).await;
    assert_eq!(s, StatusCode::OK);
    let (_, v) = c.get_json(&format!("/api/v1/reports/summary/{id}")).await;
    let t = text(&v);
    assert!(
        t.contains("我们的会员队伍不断壮大"),
        "edited prose kept: {t}"
    );
    assert_eq!(
        v["draft"]["figures"]["members_total"]["value"]
            .as_i64()
            .unwrap(),
        before + 1
    );
    let f = figures(&v)
        .into_iter()
        .find(|f| f["code"] == "members_total")
        .unwrap();
    assert_eq!(f["changed"], true, "{f}");
    assert_eq!(v["written"]["untraceable"], json!(["300"]));
    let (_, page) = c.text(&format!("/reports/summary/{id}")).await;
    assert!(page.contains("class=\"untraceable\"") && page.contains("changed"));
    // Sign-off: the city approves its own summary; the version is final.
    let (s, _) = post(format!("/reports/summary/{id}/submit"), vec![]).await;
    assert_eq!(s, StatusCode::OK);
    let (_, inbox) = c.get_json("/api/v1/reviews/inbox").await;
    let item = inbox
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "summary_draft" && i["record_id"] == id)
        .unwrap_or_else(|| panic!("{inbox}"))["id"]
        .as_i64()
        .unwrap();
    let (s, r) = c
        .json(
            Method::POST,
            &format!("/api/v1/reviews/{item}/approve"),
            Some(json!({"note": "同意"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let (_, v) = c.get_json(&format!("/api/v1/reports/summary/{id}")).await;
    assert_eq!(v["draft"]["status"], "final");
    let frozen = v["draft"]["figures"]["members_total"]["value"]
        .as_i64()
        .unwrap();
    // Editing a final version is refused; later records do not change it.
    let (s, page) = post(
        format!("/reports/summary/{id}/edit"),
        edit("{members_total}"),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{page}");
    assert!(page.contains("新建一个版本"));
    let body = json!({"name": "定稿后会员", "id_number": id_for("11010519920202234"), "org_code": "SF-01-S1-001", "change_date": "2026-06-02"});
    let (s, r) = c.json(Method::POST, "/api/v1/members", Some(body)).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let (_, v) = c.get_json(&format!("/api/v1/reports/summary/{id}")).await;
    assert_eq!(
        v["draft"]["figures"]["members_total"]["value"]
            .as_i64()
            .unwrap(),
        frozen
    );
    let (_, page) = c.text(&format!("/reports/summary/{id}")).await;
    assert!(page.contains("本版本已定稿"));
    // A new version carries the prose and today's figures.
    let (s, page) = post(format!("/reports/summary/{id}/version"), vec![]).await;
    assert_eq!(s, StatusCode::OK);
    let next = format!("第{}版", version + 1);
    assert!(
        page.contains(&next) && page.contains("我们的会员队伍不断壮大"),
        "{page}"
    );
}

#[tokio::test]
async fn bad_years_are_refused_with_reasons() {
    let server = server().await;
    let c = Client::signed_in(&server, "sf_admin").await;
    let city = org_id(&c, "SF").await;
    let (s, v) = generate(&c, city, "1990").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, v) = generate(&c, city, "20x6").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    // A union in a year before it was founded has no records at all.
    let (union, founded): (i64, String) = sqlx::query_as(
        "SELECT id, founded_on FROM orgs WHERE level = 'grassroots' AND founded_on >= '2005-01-01' ORDER BY id LIMIT 1",
    )
    .fetch_one(server.state().db.pool())
    .await
    .unwrap();
    let (s, v) = generate(&c, union, "2001").await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "founded {founded}: {v}"
    );
    assert!(
        v["error"]["message_zh"]
            .as_str()
            .unwrap()
            .contains("没有可写入综述的记录"),
        "{v}"
    );
    let (s, _) = c.get_json("/api/v1/reports/summary/999999").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_docx_opens_in_libreoffice_and_converts_to_pdf() {
    let server = server().await;
    let c = Client::signed_in(&server, "sf_admin").await;
    let city = org_id(&c, "SF").await;
    let (_, v) = generate(&c, city, "2026").await;
    let id = v["draft"]["id"].as_i64().unwrap();
    let r = c
        .http
        .post(c.base.clone() + &format!("/reports/summary/{id}/download?format=docx"))
        .form(&[("_csrf", c.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap();
    assert_eq!(&bytes[..2], b"PK");
    let r = c
        .http
        .post(c.base.clone() + &format!("/reports/summary/{id}/download?format=md"))
        .form(&[("_csrf", c.csrf.as_str())])
        .send()
        .await
        .unwrap();
    let md = r.text().await.unwrap();
    assert!(
        md.starts_with("# ") && md.contains("## ") && md.contains("](/reports/drill?"),
        "{md}"
    );
    if which("soffice").is_none() {
        assert!(std::env::var("CI").is_err(), "CI installs LibreOffice");
        eprintln!("soffice not installed: skipping the PDF conversion");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let docx = dir.path().join("summary.docx");
    std::fs::write(&docx, &bytes).unwrap();
    let out = std::process::Command::new("soffice")
        .args([
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
        ])
        .arg(dir.path())
        .arg(&docx)
        .env("HOME", dir.path())
        .output()
        .unwrap();
    let pdf = dir.path().join("summary.pdf");
    assert!(pdf.exists(), "{}", String::from_utf8_lossy(&out.stderr));
    let pdf_bytes = std::fs::read(&pdf).unwrap();
    assert!(pdf_bytes.starts_with(b"%PDF") && pdf_bytes.len() > 2000);
    // The first page as a picture, for people to look at.
    if which("pdftoppm").is_some() {
        let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../e2e/out");
        std::fs::create_dir_all(&shots).unwrap();
        let st = std::process::Command::new("pdftoppm")
            .args(["-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile"])
            .arg(&pdf)
            .arg(shots.join("summary-page1"))
            .status()
            .unwrap();
        assert!(st.success());
    }
}

/// A GB 11643 ID number: the body and its check character.
fn id_for(body: &str) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .chars()
        .zip(W)
        .map(|(c, w)| c.to_digit(10).unwrap() * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{body}{check}")
}

fn which(cmd: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(cmd))
            .find(|f| f.exists())
    })
}

#[tokio::test]
async fn cli_report_summary_writes_docx_markdown_and_html() {
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
    for ext in ["docx", "md", "html"] {
        let file = dir.join(format!("summary.{ext}"));
        let out = run(&[
            "report",
            "summary",
            "--org",
            "SF-01",
            "--year",
            "2026",
            "--out",
            file.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let bytes = std::fs::read(&file).unwrap();
        match ext {
            "docx" => assert_eq!(&bytes[..2], b"PK"),
            _ => {
                let t = String::from_utf8(bytes).unwrap();
                assert!(t.contains("秦川区") && t.contains("工会会员总数达"), "{t}");
                assert!(!t.contains("渭水"), "{t}");
            }
        }
    }
    let out = run(&[
        "report", "summary", "--org", "SF-01", "--year", "2026", "--out", "x.pdf",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(".docx"));
    let out = run(&[
        "report", "summary", "--org", "NOPE", "--year", "2026", "--out", "x.md",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("NOPE"));
}

#[tokio::test]
async fn a_federation_renames_reorders_and_adds_sections() {
    let server = server().await;
    let c = Client::signed_in(&server, "sf_admin").await;
    let form = |rows: &[(&str, &str, &str, &str)]| {
        let mut f: Vec<(String, String)> = Vec::new();
        for (pos, key, zh, en) in rows {
            for (k, v) in [("pos", pos), ("key", key), ("zh", zh), ("en", en)] {
                f.push((k.to_string(), v.to_string()));
            }
        }
        f
    };
    let send = |fields: Vec<(String, String)>| {
        let c = &c;
        async move {
            let f: Vec<(&str, &str)> = fields
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            c.post_form("/reports/summary/sections", &f).await
        }
    };
    // Refused: a key twice, a key with spaces, a nameless section.
    for bad in [
        form(&[
            ("1", "special", "专项", "S"),
            ("2", "special", "又一个", "T"),
        ]),
        form(&[("1", "a b", "专项", "S")]),
        form(&[("1", "special", " ", "S")]),
    ] {
        let (s, _) = send(bad).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let (s, page) = send(form(&[
        ("2", "ideology", "思想政治引领", "Ideology"),
        (
            "1",
            "organisation",
            "夯实基层基础 建强组织体系",
            "Grassroots first",
        ),
        ("3", "special", "专项工作", "Special work"),
    ]))
    .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(page.contains("夯实基层基础"));
    let city = org_id(&c, "SF").await;
    let (_, v) = generate(&c, city, "2026").await;
    let first = v["written"]["sections"][0]["title"].as_str().unwrap();
    assert_eq!(first, "夯实基层基础 建强组织体系");
    let id = v["draft"]["id"].as_i64().unwrap();
    let (s, page) = c
        .post_form(
            &format!("/reports/summary/{id}/add"),
            &[
                ("section", "special"),
                ("zh", "开展“工会进万家”专项活动。"),
                ("en", "A special campaign."),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(page.contains("专项工作") && page.contains("工会进万家"));
    let (s, _) = c
        .post_form(
            &format!("/reports/summary/{id}/add"),
            &[("section", "nope"), ("zh", "x")],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // Staff may not change the federation's sections.
    let staff = Client::signed_in(&server, "sf_staff").await;
    let f = form(&[("1", "organisation", "改名", "x")]);
    let f: Vec<(&str, &str)> = f.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let (s, _) = staff.post_form("/reports/summary/sections", &f).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}
