//! HTTP for attachments: thin handlers over `crate::attachments`, which holds
//! every rule (scope, types, limits, audit).

use axum::{
    body::Bytes,
    extract::{multipart::Field, DefaultBodyLimit, Multipart, Path, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{delete, get},
    Json, Router,
};
use utoipa::OpenApi;

use super::{ctx::Staff, AppState};
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
pub fn routes(max_file_bytes: u64) -> Router<AppState> {
    let body_limit =
        usize::try_from(max_file_bytes.saturating_add(MULTIPART_OVERHEAD)).unwrap_or(usize::MAX);
    Router::new()
        .route(
            "/api/v1/attachments/{kind}/{owner_id}",
            get(api_list)
                .merge(axum::routing::post(api_upload).layer(DefaultBodyLimit::max(body_limit))),
        )
        .route("/api/v1/attachments/{id}", delete(api_delete))
        .route("/attachments/{id}", get(download))
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

#[derive(OpenApi)]
#[openapi(
    paths(api_list, api_upload, api_delete, download),
    components(schemas(Attachment, UploadForm))
)]
struct ApiDoc;

pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
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
