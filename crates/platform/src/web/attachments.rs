//! HTTP for attachments: thin handlers over `crate::attachments`, which holds
//! every rule (scope, types, limits, audit).

use axum::{
    body::Bytes,
    extract::{multipart::Field, DefaultBodyLimit, Multipart, Path, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use utoipa_axum::routes;

use super::{ctx::Staff, AppState, Routes};
use crate::{
    attachments::{self as svc, Attachment, ChunkSource},
    error::{AppError, AppResult},
    module::BoxFuture,
};

/// What a multipart body adds around the file (boundaries, part headers,
/// the label): the body limit is the file limit plus this.
const MULTIPART_OVERHEAD: u64 = 64 * 1024;

/// Longest label accepted, in bytes (50 characters are stored).
const MAX_LABEL_BYTES: u64 = 1024;

/// The routes; `max_file_bytes` sizes the upload's body limit.
pub fn routes(max_file_bytes: u64) -> Routes {
    let body_limit =
        usize::try_from(max_file_bytes.saturating_add(MULTIPART_OVERHEAD)).unwrap_or(usize::MAX);
    Routes::new()
        .api(routes!(api_list))
        .api_with(routes!(api_upload), |m| {
            m.layer(DefaultBodyLimit::max(body_limit))
        })
        .api(routes!(api_delete))
        .api(routes!(download))
}

/// The upload form, for the API document.
#[allow(dead_code)]
#[derive(utoipa::ToSchema)]
struct UploadForm {
    /// The file; its type is recognised from its content.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// What the file is, e.g. 录取通知书 (at most 50 characters).
    label: Option<String>,
}

/// The files attached to one record; 404 when the record is absent or
/// outside the caller's subtree (the attempt is audited).
#[utoipa::path(get, path = "/api/v1/attachments/{kind}/{owner_id}", tag = "attachments",
    params(("kind" = String, Path, description = "record kind, e.g. hardship_file"), ("owner_id" = i64, Path)),
    responses((status = 200, body = [Attachment]), (status = 404)))]
async fn api_list(
    State(st): State<AppState>,
    staff: Staff,
    Path((kind, owner_id)): Path<(String, i64)>,
) -> AppResult<Json<Vec<Attachment>>> {
    Ok(Json(svc::list(&st, staff.scope(), &kind, owner_id).await?))
}

/// A multipart field read in chunks as they arrive.
struct FieldChunks<'a, 'b>(&'a mut Field<'b>);

impl ChunkSource for FieldChunks<'_, '_> {
    fn next_chunk(&mut self) -> BoxFuture<'_, AppResult<Option<Bytes>>> {
        Box::pin(async move { self.0.chunk().await.map_err(multipart_error) })
    }
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::invalid(
            "上传内容过大,超过了附件大小上限",
            "The upload is larger than the attachment size limit",
        )
    } else {
        AppError::invalid(
            format!("上传内容无法读取: {}", e.body_text()),
            format!("The upload could not be read: {}", e.body_text()),
        )
    }
}

/// Attaches a file (multipart field `file`, optional field `label`). The
/// type is sniffed from the content; the size, the number of files and the
/// caller's scope are checked before the body is read when the size is declared.
#[utoipa::path(post, path = "/api/v1/attachments/{kind}/{owner_id}", tag = "attachments",
    params(("kind" = String, Path), ("owner_id" = i64, Path)),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 200, body = Attachment), (status = 404), (status = 422, description = "refused: type, size, empty, too many files")))]
async fn api_upload(
    State(st): State<AppState>,
    staff: Staff,
    Path((kind, owner_id)): Path<(String, i64)>,
    headers: HeaderMap,
    mut form: Multipart,
) -> AppResult<Json<Attachment>> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let target = svc::begin_upload(
        &st,
        staff.scope(),
        &kind,
        owner_id,
        declared.map(|n| n.saturating_sub(MULTIPART_OVERHEAD)),
    )
    .await?;
    let max = st.attachments.limits.max_bytes;
    let mut file: Option<(String, Bytes)> = None;
    let mut label = String::new();
    while let Some(mut field) = form.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("file") if file.is_none() => {
                let name = field.file_name().unwrap_or_default().to_string();
                let bytes = svc::read_limited(&mut FieldChunks(&mut field), max, declared).await?;
                file = Some((name, bytes));
            }
            Some("label") => {
                let bytes = svc::read_limited(&mut FieldChunks(&mut field), MAX_LABEL_BYTES, None)
                    .await
                    .map_err(|_| AppError::invalid("说明过长", "The label is too long"))?;
                label = String::from_utf8_lossy(&bytes).into_owned();
            }
            // Other fields are skipped (read past by `next_field`, within
            // the body limit).
            _ => {}
        }
    }
    let Some((name, bytes)) = file else {
        return Err(AppError::invalid(
            "请选择要上传的文件(表单字段 file)",
            "Choose a file to upload (form field `file`)",
        ));
    };
    Ok(Json(
        svc::finish_upload(&st, staff.scope(), target, &name, &label, bytes).await?,
    ))
}

/// Marks an attachment deleted (kept for 7 days, then collected).
#[utoipa::path(delete, path = "/api/v1/attachments/{id}", tag = "attachments",
    params(("id" = i64, Path)), responses((status = 204), (status = 404)))]
async fn api_delete(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<StatusCode> {
    svc::delete(&st, staff.scope(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The file itself, as a download (never rendered inline, never sniffed by
/// the browser, never cached); audited.
#[utoipa::path(get, path = "/attachments/{id}", tag = "attachments",
    params(("id" = i64, Path)),
    responses((status = 200, description = "the file", content_type = "application/octet-stream"), (status = 404)))]
async fn download(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let (a, bytes) = svc::download(&st, staff.scope(), id).await?;
    let mut r = super::download(bytes, &a.mime, &a.file_name);
    let h = r.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r.into_response())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use reqwest::{multipart, StatusCode};

    use crate::{
        attachments::{tests as svc_tests, Attachments, Limits, LocalStore},
        auth::{self, NewUser, Password, Username},
        ids::OrgId,
        scope::{Actor, Role, Scope},
        testing::TestServer,
    };

    /// A signed-in county-2 staff member: (session cookie, CSRF token).
    async fn sign_in(st: &crate::web::AppState) -> (String, String) {
        let root = Scope::system(Actor::system("test"), OrgId(1), "/1/".into());
        auth::create_user(
            &st.db,
            &root,
            NewUser {
                username: Username::parse("county2").unwrap(),
                display_name: "县工会干事".into(),
                role: Role::Staff,
                org_id: OrgId(2),
                perms: String::new(),
                password: Password::parse("secret-pass-1").unwrap(),
            },
        )
        .await
        .unwrap();
        let li = auth::login(&st.db, "county2", "secret-pass-1", "127.0.0.1", 1)
            .await
            .unwrap();
        (format!("gh_session={}", li.token), li.csrf)
    }

    /// Sends a multipart upload of `size` bytes (a PNG header, then zeros)
    /// with `Transfer-Encoding: chunked`, so the server cannot know its size
    /// in advance; returns the status and body of the answer.
    async fn chunked_upload(
        srv: &TestServer,
        cookie: &str,
        csrf: &str,
        size: usize,
    ) -> (u16, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut tcp = tokio::net::TcpStream::connect(srv.addr).await.unwrap();
        let head = format!(
            "POST /api/v1/attachments/test_record/10 HTTP/1.1\r\nHost: {}\r\nCookie: {cookie}\r\n\
             X-CSRF-Token: {csrf}\r\nContent-Type: multipart/form-data; boundary=XyZ\r\n\
             Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
            srv.addr
        );
        tcp.write_all(head.as_bytes()).await.unwrap();
        let chunk = |data: &[u8]| {
            let mut c = format!("{:x}\r\n", data.len()).into_bytes();
            c.extend_from_slice(data);
            c.extend_from_slice(b"\r\n");
            c
        };
        let mut first =
            b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.png\"\r\n\r\n"
                .to_vec();
        first.extend_from_slice(crate::attachments::tests::PNG);
        // The server answers and stops reading once the limit is passed;
        // writes after that may fail, which is the point.
        let mut sent = 0;
        let mut ok = tcp.write_all(&chunk(&first)).await.is_ok();
        let zeros = vec![0u8; 64 * 1024];
        while ok && sent < size {
            ok = tcp.write_all(&chunk(&zeros)).await.is_ok();
            sent += zeros.len();
        }
        if ok {
            let _ = tcp.write_all(&chunk(b"\r\n--XyZ--\r\n")).await;
            let _ = tcp.write_all(b"0\r\n\r\n").await;
        }
        let mut answer = Vec::new();
        let _ = tcp.read_to_end(&mut answer).await;
        let text = String::from_utf8_lossy(&answer).into_owned();
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, text)
    }

    #[tokio::test]
    async fn attach_http_upload_list_download_delete() {
        let mut env = svc_tests::setup().await;
        // A small limit, so the over-size request stays small.
        let mut cfg = crate::config::Config {
            attachment_max_mib: 1,
            ..crate::config::Config::default()
        };
        cfg.data_dir = env.data_dir();
        env.state.attachments = Arc::new(Attachments::new(
            Arc::new(LocalStore::new(&env.data_dir())),
            Limits::from_config(&cfg).unwrap(),
        ));
        let (cookie, csrf) = sign_in(&env.state).await;
        let srv = TestServer::start(env).await.unwrap();
        let http = reqwest::Client::new();
        let form = |bytes: &'static [u8], name: &str| {
            multipart::Form::new()
                .part(
                    "file",
                    multipart::Part::bytes(bytes)
                        .file_name(name.to_string())
                        // The client's type is ignored.
                        .mime_str("application/pdf")
                        .unwrap(),
                )
                .text("label", "录取通知书")
        };
        let post = |path: &str, f: multipart::Form| {
            http.post(srv.url(path))
                .header("cookie", &cookie)
                .header("x-csrf-token", &csrf)
                .multipart(f)
                .send()
        };

        let r = post(
            "/api/v1/attachments/test_record/10",
            form(svc_tests::PNG, "照片.pdf"),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let a: serde_json::Value = r.json().await.unwrap();
        assert_eq!(a["mime"], "image/png");
        assert_eq!(a["file_name"], "照片.png");
        assert_eq!(a["label"], "录取通知书");
        assert_eq!(a["uploaded_by_name"], "县工会干事");
        let id = a["id"].as_i64().unwrap();

        // Disguised HTML: refused with the reason, in JSON.
        let r = post(
            "/api/v1/attachments/test_record/10",
            form(svc_tests::HTML, "a.pdf"),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let e: serde_json::Value = r.json().await.unwrap();
        assert!(
            e["error"]["message_zh"]
                .as_str()
                .unwrap()
                .contains("文件类型不允许"),
            "{e}"
        );

        // Over the limit: refused from the declared length.
        static BIG: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        let big = BIG.get_or_init(|| {
            let mut v = svc_tests::PNG.to_vec();
            v.resize(1024 * 1024 + 200 * 1024, 0);
            v
        });
        let r = post("/api/v1/attachments/test_record/10", form(big, "big.png"))
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let e: serde_json::Value = r.json().await.unwrap();
        assert!(
            e["error"]["message_zh"].as_str().unwrap().contains("过大"),
            "{e}"
        );

        // Over the limit with no declared length (chunked): refused while
        // streaming, after about the limit, not after the whole body.
        let (status, body) = chunked_upload(&srv, &cookie, &csrf, 8 * 1024 * 1024).await;
        assert_eq!(status, 422, "{body}");
        assert!(body.contains("文件过大,每个附件不能超过 1 MB"), "{body}");

        // Without the CSRF token nothing is written.
        let r = http
            .post(srv.url("/api/v1/attachments/test_record/10"))
            .header("cookie", &cookie)
            .multipart(form(svc_tests::PDF, "a.pdf"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);

        let get = |path: &str| http.get(srv.url(path)).header("cookie", &cookie).send();
        let listed: serde_json::Value = get("/api/v1/attachments/test_record/10")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
        // Another county's record: 404, as if absent.
        let r = get("/api/v1/attachments/test_record/30").await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);

        let r = get(&format!("/attachments/{id}")).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let h = r.headers();
        assert_eq!(h["content-type"], "image/png");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["cache-control"], "no-store");
        let cd = h["content-disposition"].to_str().unwrap().to_string();
        assert!(
            cd.starts_with("attachment;") && cd.contains("%E7%85%A7%E7%89%87.png"),
            "{cd}"
        );
        assert_eq!(r.bytes().await.unwrap().as_ref(), svc_tests::PNG);

        let r = http
            .delete(srv.url(&format!("/api/v1/attachments/{id}")))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        let r = get(&format!("/attachments/{id}")).await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);

        let doc: serde_json::Value = get("/api/v1/openapi.json")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            doc["paths"]["/api/v1/attachments/{kind}/{owner_id}"]["post"].is_object(),
            "{doc}"
        );
        assert!(doc["paths"]["/attachments/{id}"]["get"].is_object());
    }
}
