//! HTTP client helpers for integration tests against the real server.
#![allow(dead_code)]

use gonghui::testing::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::Value;

pub const PW: &str = gonghui::demo::DEMO_PASSWORD;

#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub csrf: String,
}

/// Pulls the CSRF token out of a page (hidden input or meta tag).
pub fn csrf_in(html: &str) -> Option<String> {
    for pat in ["name=\"_csrf\" value=\"", "name=\"csrf-token\" content=\""] {
        if let Some(i) = html.find(pat) {
            let rest = &html[i + pat.len()..];
            return rest.find('"').map(|j| rest[..j].to_string());
        }
    }
    None
}

impl Client {
    pub fn new(server: &TestServer) -> Client {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        Client {
            http,
            base: server.url(""),
            csrf: String::new(),
        }
    }

    pub async fn text(&self, path: &str) -> (StatusCode, String) {
        let r = self
            .http
            .get(format!("{}{}", self.base, path))
            .send()
            .await
            .unwrap();
        let s = r.status();
        (s, r.text().await.unwrap())
    }

    /// Signs in through the real login form; returns the final status.
    pub async fn login(&mut self, user: &str, pw: &str) -> (StatusCode, String) {
        let (_, page) = self.text("/login").await;
        let token = csrf_in(&page).expect("login form has a csrf token");
        let r = self
            .http
            .post(format!("{}/login", self.base))
            .form(&[
                ("_csrf", token.as_str()),
                ("username", user),
                ("password", pw),
                ("next", "/orgs"),
            ])
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body = r.text().await.unwrap();
        if let Some(t) = csrf_in(&body) {
            self.csrf = t;
        }
        (status, body)
    }

    pub async fn signed_in(server: &TestServer, user: &str) -> Client {
        Self::signed_in_with(server, user, PW).await
    }

    pub async fn signed_in_with(server: &TestServer, user: &str, pw: &str) -> Client {
        let mut c = Client::new(server);
        let (s, body) = c.login(user, pw).await;
        assert_eq!(s, StatusCode::OK, "login as {user}: {body}");
        c
    }

    pub async fn json(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut rb = self
            .http
            .request(method, format!("{}{}", self.base, path))
            .header("x-csrf-token", &self.csrf);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.unwrap();
        let s = r.status();
        let text = r.text().await.unwrap();
        (
            s,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// The roster export API (a POST): `params` as a query string, e.g.
    /// "org=5&unmasked=1", sent as the JSON body.
    pub async fn export_api(&self, params: &str) -> reqwest::Response {
        let mut body = serde_json::Map::new();
        for pair in params.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = match (k, v.parse::<i64>()) {
                ("org" | "page" | "per_page", Ok(n)) => Value::from(n),
                _ => Value::from(v),
            };
            body.insert(k.to_string(), v);
        }
        self.http
            .post(format!("{}/api/v1/members/export", self.base))
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// The roster page's export buttons (a form POST): `params` as a query string.
    pub async fn export_page(&self, params: &str) -> reqwest::Response {
        let mut form: Vec<(String, String)> = vec![("_csrf".into(), self.csrf.clone())];
        for pair in params.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            form.push((k.to_string(), v.to_string()));
        }
        self.http
            .post(format!("{}/members/export", self.base))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    pub async fn get_json(&self, path: &str) -> (StatusCode, Value) {
        self.json(Method::GET, path, None).await
    }

    /// Posts a form with the session's CSRF token.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
        let mut all: Vec<(&str, &str)> = vec![("_csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        let r = self
            .http
            .post(format!("{}{}", self.base, path))
            .form(&all)
            .send()
            .await
            .unwrap();
        let s = r.status();
        (s, r.text().await.unwrap())
    }

    /// Uploads `bytes` as the multipart field `file` (named `file_name`) to
    /// `path`, with the CSRF token in the query (as the import page does)
    /// and an empty `org_code`.
    pub async fn upload(&self, path: &str, bytes: Vec<u8>, file_name: &str) -> reqwest::Response {
        let form = reqwest::multipart::Form::new()
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_string()),
            )
            .text("org_code", "");
        self.http
            .post(format!("{}{}?_csrf={}", self.base, path, self.csrf))
            .multipart(form)
            .send()
            .await
            .unwrap()
    }
}

/// Looks up an org id by code through the API of a signed-in client.
pub async fn org_id(c: &Client, code: &str) -> i64 {
    let (s, v) = c.get_json("/api/v1/orgs").await;
    assert_eq!(s, StatusCode::OK);
    v.as_array()
        .unwrap()
        .iter()
        .find(|o| o["code"] == code)
        .unwrap_or_else(|| panic!("{code} not visible"))["id"]
        .as_i64()
        .unwrap()
}

/// Asserts that every JSON route answers 404 `not_found` and every page
/// route the Chinese 404 page: the shape of a scope test, which each
/// module repeats for its own routes.
pub async fn assert_not_found_everywhere(c: &Client, json_paths: &[String], page_paths: &[String]) {
    for path in json_paths {
        let (s, v) = c.get_json(path).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}: {v}");
        assert_eq!(v["error"]["code"], "not_found", "{path}");
    }
    for path in page_paths {
        let (s, page) = c.text(path).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
        assert!(page.contains("找不到"), "{path}: {page}");
    }
}

/// How many audit entries carry `action`.
pub async fn audit_count(server: &TestServer, action: &str) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit_log WHERE action = $1")
        .bind(action)
        .fetch_one(server.state().db.pool())
        .await
        .unwrap()
}

/// Grants the `unmask` permission to a demo account (the demo grants it to
/// `sf_admin` only), before it signs in.
pub async fn grant_unmask(server: &TestServer, user: &str) {
    sqlx::query("UPDATE users SET perms = 'unmask' WHERE username = $1")
        .bind(user)
        .execute(server.state().db.pool())
        .await
        .unwrap();
}

/// The demo's SMS sender (the log sender), to read the codes it "texted".
pub fn sms(server: &TestServer) -> &gonghui::platform::sms::LogSender {
    server
        .state()
        .sms
        .as_any()
        .downcast_ref()
        .expect("the test server texts through the log sender")
}

/// Asks for a one-time code on a public join page (`{path}/code`, with the
/// form `fields`, which carry the phone) and reads it from the log sender;
/// None when the page refused to send one (e.g. a malformed number).
pub async fn join_code(
    server: &TestServer,
    c: &Client,
    path: &str,
    fields: &[(&str, &str)],
) -> Option<String> {
    let (s, _) = c.post_form(&format!("{path}/code"), fields).await;
    if s != StatusCode::OK {
        return None;
    }
    let phone = fields.iter().find(|(k, _)| *k == "phone")?.1;
    let phone = gonghui::ident::parse_mobile(phone).ok()?;
    sms(server).last_code(&phone)
}

/// Posts a public join form (apply or status) the way a person does: gets a
/// code texted to the phone first, then submits the form with it.
pub async fn post_with_code(
    server: &TestServer,
    c: &Client,
    path: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    let code = join_code(server, c, path, fields).await.unwrap_or_default();
    let mut all = fields.to_vec();
    all.push(("code", &code));
    c.post_form(path, &all).await
}

/// The text of a .docx as LibreOffice reads it (headless, converted to
/// plain text): the file opens in a real word processor. None where
/// LibreOffice is not installed (CI installs it, and must have it).
pub fn docx_text(bytes: &[u8]) -> Option<String> {
    let installed = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("soffice").exists()));
    if !installed {
        assert!(std::env::var("CI").is_err(), "CI installs LibreOffice");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("doc.docx");
    std::fs::write(&file, bytes).unwrap();
    let out = std::process::Command::new("soffice")
        .args([
            "--headless",
            "--norestore",
            "--convert-to",
            "txt:Text",
            "--outdir",
        ])
        .arg(dir.path())
        .arg(&file)
        .env("HOME", dir.path())
        .output()
        .unwrap();
    let text = std::fs::read_to_string(dir.path().join("doc.txt"));
    assert!(
        text.is_ok(),
        "LibreOffice could not open the .docx: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    text.ok()
}
