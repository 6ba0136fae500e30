//! Attachments: files attached to a module's record (录取通知书, hospital
//! bills, photos, signed forms).
//!
//! - The bytes go to a content-addressed [`BlobStore`] keyed by SHA-256, so
//!   the same file attached twice is kept once; the `attachments` table says
//!   which record each file belongs to.
//! - A module owns its records, so it decides who may see their files: it
//!   registers an [`AttachmentOwner`] per record kind (`Module::attachment_owners`)
//!   that resolves a record to its org. Every access is admitted through the
//!   caller's [`Scope`] against that org: outside it the answer is "not
//!   found", as for an absent record, and the attempt is audited.
//! - The type is sniffed from the content (`infer`), never taken from the
//!   name or the client's Content-Type, and checked against a configured list.
//! - Sizes are checked before the body is read where the size is declared,
//!   and while it streams otherwise ([`read_limited`]): never more than the
//!   limit is held in memory.
//! - Uploads, deletions and downloads are audited.
//! - [`collect_orphans`] removes what no row references any more.

use std::{
    io::{self, Write},
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, SystemTime},
};

use axum::body::Bytes;
use serde::Serialize;
use sqlx::Row;

use crate::{
    audit::{self, Event},
    config::Config,
    crypto::sha256_hex,
    db::Db,
    error::{AppError, AppResult},
    ids::OrgId,
    module::BoxFuture,
    scope::{Actor, Scope},
    time,
    web::AppState,
};

// ───────────────────────────── storage ─────────────────────────────

/// A stored blob as the store lists it.
#[derive(Clone, Debug)]
pub struct BlobInfo {
    pub sha256: String,
    pub size: u64,
    /// When it was last written or re-put: the orphan collector leaves young
    /// blobs alone, because an upload writes its blob before its row commits.
    pub modified: SystemTime,
}

/// Where attachment bytes live, addressed by the SHA-256 (lowercase hex) of
/// their content. [`LocalStore`] keeps them on the server's disk; an
/// S3-compatible object store can implement this trait later (`put` as a
/// PutObject under the hash, `list` as ListObjectsV2 with LastModified) and
/// be handed to [`Attachments::new`] without touching the service.
///
/// Methods are async (boxed) so a network store fits; the local one runs its
/// file work on tokio's blocking pool.
pub trait BlobStore: Send + Sync {
    /// Stores `bytes`, which must hash to `sha256`. Idempotent: storing
    /// content that is already there keeps one copy and refreshes its age.
    /// Never leaves a partial blob under its final name.
    fn put<'a>(&'a self, sha256: &'a str, bytes: Bytes) -> BoxFuture<'a, io::Result<()>>;
    /// The content, or None when absent.
    fn get<'a>(&'a self, sha256: &'a str) -> BoxFuture<'a, io::Result<Option<Vec<u8>>>>;
    /// Removes the blob; absent is fine.
    fn delete<'a>(&'a self, sha256: &'a str) -> BoxFuture<'a, io::Result<()>>;
    /// Every stored blob.
    fn list(&self) -> BoxFuture<'_, io::Result<Vec<BlobInfo>>>;
    /// Removes leftovers of interrupted writes older than `older_than`
    /// (a crash between writing and renaming); returns how many.
    fn sweep_partial(&self, older_than: SystemTime) -> BoxFuture<'_, io::Result<u64>> {
        let _ = older_than;
        Box::pin(async { Ok(0) })
    }
}

/// Blobs as files under `<data_dir>/attachments/<aa>/<bb>/<sha256>`: two
/// levels of fan-out keep directories small (65,536 of them at most).
#[derive(Clone, Debug)]
pub struct LocalStore {
    root: PathBuf,
}

/// The prefix of a blob being written; never a valid hash, so never listed.
const PARTIAL_PREFIX: &str = ".partial-";

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A hash is part of a path: anything but 64 hex digits could climb out.
fn check_hash(sha256: &str) -> io::Result<()> {
    if is_sha256(sha256) {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not a SHA-256 hex digest: {sha256:?}"),
        ))
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(io::Error::other)?
}

impl LocalStore {
    /// The store under `<data_dir>/attachments`.
    pub fn new(data_dir: &Path) -> LocalStore {
        LocalStore {
            root: data_dir.join("attachments"),
        }
    }

    /// Where a blob lives (whether or not it exists).
    pub fn path_of(&self, sha256: &str) -> PathBuf {
        self.root
            .join(&sha256[..2])
            .join(&sha256[2..4])
            .join(sha256)
    }

    fn put_blocking(
        &self,
        sha256: &str,
        bytes: &[u8],
        before_rename: &dyn Fn(&Path) -> io::Result<()>,
    ) -> io::Result<()> {
        check_hash(sha256)?;
        let target = self.path_of(sha256);
        if target.exists() {
            // Already stored: refresh its age, so the orphan collector does
            // not take it for old while an upload of it is committing.
            std::fs::File::options()
                .write(true)
                .open(&target)?
                .set_modified(SystemTime::now())?;
            return Ok(());
        }
        let dir = target.parent().expect("a blob path has a parent");
        std::fs::create_dir_all(dir)?;
        write_atomic(dir, &target, bytes, before_rename)
    }
}

/// Writes `bytes` to a temporary file in `dir` (same filesystem), syncs it,
/// and renames it to `target`; then syncs the directory so the rename
/// survives a power cut. A crash at any point leaves either nothing or the
/// complete file under `target`, and at worst a `.partial-*` file that
/// [`BlobStore::sweep_partial`] removes. `before_rename` is for tests.
fn write_atomic(
    dir: &Path,
    target: &Path,
    bytes: &[u8],
    before_rename: &dyn Fn(&Path) -> io::Result<()>,
) -> io::Result<()> {
    let mut tmp = tempfile::Builder::new()
        .prefix(PARTIAL_PREFIX)
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    before_rename(tmp.path())?;
    // Two writers of the same content may race here; either rename wins
    // with identical bytes.
    tmp.persist(target).map_err(|e| e.error)?;
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

impl BlobStore for LocalStore {
    fn put<'a>(&'a self, sha256: &'a str, bytes: Bytes) -> BoxFuture<'a, io::Result<()>> {
        let me = self.clone();
        let sha = sha256.to_string();
        Box::pin(blocking(move || me.put_blocking(&sha, &bytes, &|_| Ok(()))))
    }

    fn get<'a>(&'a self, sha256: &'a str) -> BoxFuture<'a, io::Result<Option<Vec<u8>>>> {
        let me = self.clone();
        let sha = sha256.to_string();
        Box::pin(blocking(move || {
            check_hash(&sha)?;
            match std::fs::read(me.path_of(&sha)) {
                Ok(b) => Ok(Some(b)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e),
            }
        }))
    }

    fn delete<'a>(&'a self, sha256: &'a str) -> BoxFuture<'a, io::Result<()>> {
        let me = self.clone();
        let sha = sha256.to_string();
        Box::pin(blocking(move || {
            check_hash(&sha)?;
            match std::fs::remove_file(me.path_of(&sha)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            }
        }))
    }

    fn list(&self) -> BoxFuture<'_, io::Result<Vec<BlobInfo>>> {
        let me = self.clone();
        Box::pin(blocking(move || {
            let mut out = Vec::new();
            me.walk(|path, name, meta| {
                if is_sha256(name) && me.path_of(name) == path {
                    out.push(BlobInfo {
                        sha256: name.to_string(),
                        size: meta.len(),
                        modified: meta.modified()?,
                    });
                }
                Ok(())
            })?;
            Ok(out)
        }))
    }

    fn sweep_partial(&self, older_than: SystemTime) -> BoxFuture<'_, io::Result<u64>> {
        let me = self.clone();
        Box::pin(blocking(move || {
            let mut n = 0;
            me.walk(|path, name, meta| {
                if name.starts_with(PARTIAL_PREFIX) && meta.modified()? < older_than {
                    std::fs::remove_file(path)?;
                    n += 1;
                }
                Ok(())
            })?;
            Ok(n)
        }))
    }
}

impl LocalStore {
    /// Visits every file two directory levels below the root.
    fn walk(
        &self,
        mut f: impl FnMut(&Path, &str, &std::fs::Metadata) -> io::Result<()>,
    ) -> io::Result<()> {
        let read = |p: &Path| match std::fs::read_dir(p) {
            Ok(r) => Ok(Some(r)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        };
        let Some(top) = read(&self.root)? else {
            return Ok(());
        };
        for a in top {
            let a = a?;
            if !a.file_type()?.is_dir() {
                continue;
            }
            for b in read(&a.path())?.into_iter().flatten() {
                let b = b?;
                if !b.file_type()?.is_dir() {
                    continue;
                }
                for file in read(&b.path())?.into_iter().flatten() {
                    let file = file?;
                    let meta = file.metadata()?;
                    if meta.is_file() {
                        let name = file.file_name();
                        f(&file.path(), &name.to_string_lossy(), &meta)?;
                    }
                }
            }
        }
        Ok(())
    }
}

// ───────────────────────────── rules ─────────────────────────────

/// A file type that may be attached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileType {
    /// The short name used in the configuration.
    pub name: &'static str,
    /// The MIME type `infer` reports for it (and that downloads carry).
    pub mime: &'static str,
    /// File name extensions of this type; the first is given to a file
    /// whose name says otherwise.
    pub extensions: &'static [&'static str],
    /// How people call it, in the refusal message.
    pub label: &'static str,
}

/// Every type the service knows how to recognise.
pub const KNOWN_TYPES: &[FileType] = &[
    FileType {
        name: "pdf",
        mime: "application/pdf",
        extensions: &["pdf"],
        label: "PDF",
    },
    FileType {
        name: "jpeg",
        mime: "image/jpeg",
        extensions: &["jpg", "jpeg"],
        label: "JPEG",
    },
    FileType {
        name: "png",
        mime: "image/png",
        extensions: &["png"],
        label: "PNG",
    },
    FileType {
        name: "webp",
        mime: "image/webp",
        extensions: &["webp"],
        label: "WebP",
    },
    // iPhone photos.
    FileType {
        name: "heic",
        mime: "image/heif",
        extensions: &["heic", "heif"],
        label: "HEIC",
    },
    FileType {
        name: "docx",
        mime: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        extensions: &["docx"],
        label: "Word (.docx)",
    },
    FileType {
        name: "xlsx",
        mime: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        extensions: &["xlsx"],
        label: "Excel (.xlsx)",
    },
    FileType {
        name: "doc",
        mime: "application/msword",
        extensions: &["doc"],
        label: "Word (.doc)",
    },
    FileType {
        name: "xls",
        mime: "application/vnd.ms-excel",
        extensions: &["xls"],
        label: "Excel (.xls)",
    },
];

/// The types accepted unless configured otherwise: all known ones.
pub(crate) const DEFAULT_TYPES: &[&str] = &[
    "pdf", "jpeg", "png", "webp", "heic", "docx", "xlsx", "doc", "xls",
];

/// What an upload may be.
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_bytes: u64,
    pub max_files: i64,
    pub types: Vec<FileType>,
}

impl Limits {
    /// From the configuration; an unknown type name is refused at start.
    pub fn from_config(cfg: &Config) -> anyhow::Result<Limits> {
        let mut types = Vec::new();
        for name in &cfg.attachment_types {
            let t = KNOWN_TYPES
                .iter()
                .find(|t| t.name.eq_ignore_ascii_case(name.trim()))
                .ok_or_else(|| {
                    let known: Vec<&str> = KNOWN_TYPES.iter().map(|t| t.name).collect();
                    anyhow::anyhow!(
                        "附件类型“{name}”未知,可选: {k} / unknown attachment type {name:?}; known: {k}",
                        k = known.join(", ")
                    )
                })?;
            if !types.contains(t) {
                types.push(*t);
            }
        }
        if cfg.attachment_max_mib == 0 || cfg.attachment_max_files <= 0 || types.is_empty() {
            anyhow::bail!(
                "附件大小、数量上限和类型均须大于零 / attachment size and count limits and the type list must not be zero or empty"
            );
        }
        Ok(Limits {
            max_bytes: cfg.attachment_max_mib.saturating_mul(1024 * 1024),
            max_files: cfg.attachment_max_files,
            types,
        })
    }

    fn too_large(&self) -> AppError {
        too_large(self.max_bytes)
    }

    fn too_many(&self) -> AppError {
        AppError::invalid(
            format!(
                "该记录的附件已达上限({} 个),请先删除不需要的附件",
                self.max_files
            ),
            format!(
                "This record already has the maximum of {} attachments; delete one first",
                self.max_files
            ),
        )
    }

    /// The allowed type of this content, sniffed from its bytes alone.
    pub fn sniff(&self, bytes: &[u8]) -> AppResult<FileType> {
        let found = infer::get(bytes).map(|t| t.mime_type());
        if let Some(t) = self.types.iter().find(|t| Some(t.mime) == found) {
            return Ok(*t);
        }
        let allowed: Vec<&str> = self.types.iter().map(|t| t.label).collect();
        let allowed = allowed.join(", ");
        Err(AppError::invalid(
            format!("文件类型不允许(按文件内容识别,与文件名无关),仅接受: {allowed}"),
            format!(
                "This type of file is not accepted (recognised from its content, whatever its name); accepted: {allowed}"
            ),
        ))
    }
}

fn too_large(max_bytes: u64) -> AppError {
    let mib = max_bytes as f64 / (1024.0 * 1024.0);
    AppError::invalid(
        format!("文件过大,每个附件不能超过 {mib:.0} MB"),
        format!("The file is too large; each attachment may be at most {mib:.0} MB"),
    )
}

/// The attachment service's parts: where bytes go, what is accepted.
pub struct Attachments {
    pub store: Arc<dyn BlobStore>,
    pub limits: Limits,
}

impl Attachments {
    pub fn new(store: Arc<dyn BlobStore>, limits: Limits) -> Attachments {
        Attachments { store, limits }
    }

    /// A [`LocalStore`] in the data directory, limits from the configuration.
    pub fn local(cfg: &Config) -> anyhow::Result<Attachments> {
        Ok(Attachments::new(
            Arc::new(LocalStore::new(&cfg.data_dir)),
            Limits::from_config(cfg)?,
        ))
    }
}

/// The org a record belongs to, which decides who may see its files.
#[derive(Clone, Debug)]
pub struct OwnerOrg {
    pub org_id: OrgId,
    /// The org's materialised path, e.g. "/1/5/23/".
    pub org_path: String,
}

/// A kind of record that files may be attached to, registered by the module
/// that owns the records (`Module::attachment_owners`).
pub trait AttachmentOwner: Send + Sync {
    /// Stable name of the record kind, e.g. "hardship_file"; stored in each row.
    fn kind(&self) -> &'static str;
    /// The record's current org, or None when there is no such record.
    /// Called on every access, so a record that moved to another org is
    /// seen by that org's staff from then on.
    fn resolve<'a>(
        &'a self,
        db: &'a Db,
        owner_id: i64,
    ) -> BoxFuture<'a, AppResult<Option<OwnerOrg>>>;
}

/// One attached file as listed.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Attachment {
    pub id: i64,
    pub owner_kind: String,
    pub owner_id: i64,
    pub org_id: i64,
    pub sha256: String,
    pub size: i64,
    pub mime: String,
    pub file_name: String,
    pub label: String,
    pub uploaded_by: Option<i64>,
    /// The uploader's display name ("" when the uploader was the system).
    pub uploaded_by_name: String,
    pub uploaded_at: String,
}

const SELECT: &str = "SELECT a.id, a.owner_kind, a.owner_id, a.org_id, a.sha256, a.size, a.mime, \
     a.file_name, a.label, a.uploaded_by, COALESCE(u.display_name, '') AS uploaded_by_name, a.uploaded_at \
     FROM attachments a LEFT JOIN users u ON u.id = a.uploaded_by";

fn from_row(r: &sqlx::any::AnyRow) -> Result<Attachment, sqlx::Error> {
    Ok(Attachment {
        id: r.try_get("id")?,
        owner_kind: r.try_get("owner_kind")?,
        owner_id: r.try_get("owner_id")?,
        org_id: r.try_get("org_id")?,
        sha256: r.try_get("sha256")?,
        size: r.try_get("size")?,
        mime: r.try_get("mime")?,
        file_name: r.try_get("file_name")?,
        label: r.try_get("label")?,
        uploaded_by: r.try_get("uploaded_by")?,
        uploaded_by_name: r.try_get("uploaded_by_name")?,
        uploaded_at: r.try_get("uploaded_at")?,
    })
}

/// The record behind `kind`/`owner_id`, admitted through the scope. An
/// unknown kind, an absent record and one outside the scope all answer
/// "not found"; only the last is audited (the others reveal nothing).
async fn owner_in_scope(
    st: &AppState,
    scope: &Scope,
    kind: &str,
    owner_id: i64,
) -> AppResult<OwnerOrg> {
    let owner = st
        .registry
        .attachment_owner(kind)
        .ok_or(AppError::NotFound)?;
    let org = owner
        .resolve(&st.db, owner_id)
        .await?
        .ok_or(AppError::NotFound)?;
    scope
        .admit(
            &st.db,
            &org.org_path,
            "attachment",
            format!("{kind}:{owner_id}"),
        )
        .await?;
    Ok(org)
}

/// The live files of a record, oldest first.
pub async fn list(
    st: &AppState,
    scope: &Scope,
    kind: &str,
    owner_id: i64,
) -> AppResult<Vec<Attachment>> {
    owner_in_scope(st, scope, kind, owner_id).await?;
    let rows = sqlx::query(&format!(
        "{SELECT} WHERE a.owner_kind = $1 AND a.owner_id = $2 AND a.deleted_at IS NULL ORDER BY a.id"
    ))
    .bind(kind)
    .bind(owner_id)
    .fetch_all(st.db.pool())
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

async fn live_count(conn: &mut sqlx::AnyConnection, kind: &str, owner_id: i64) -> AppResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM attachments WHERE owner_kind = $1 AND owner_id = $2 AND deleted_at IS NULL",
    )
    .bind(kind)
    .bind(owner_id)
    .fetch_one(conn)
    .await?)
}

/// An upload that passed the checks that need no body: the caller may write
/// to the record, and it has room for one more file.
#[derive(Debug)]
pub struct UploadTarget {
    kind: String,
    owner_id: i64,
    org: OwnerOrg,
}

/// Checks an upload before its body is read: write permission, the record
/// in scope, the declared size (`declared_bytes`, when the client said it)
/// and the number of files, so a refused upload costs no transfer.
pub async fn begin_upload(
    st: &AppState,
    scope: &Scope,
    kind: &str,
    owner_id: i64,
    declared_bytes: Option<u64>,
) -> AppResult<UploadTarget> {
    scope.require_write()?;
    let org = owner_in_scope(st, scope, kind, owner_id).await?;
    let limits = &st.attachments.limits;
    if declared_bytes.is_some_and(|n| n > limits.max_bytes) {
        return Err(limits.too_large());
    }
    let mut conn = st.db.pool().acquire().await?;
    if live_count(&mut conn, kind, owner_id).await? >= limits.max_files {
        return Err(limits.too_many());
    }
    Ok(UploadTarget {
        kind: kind.to_string(),
        owner_id,
        org,
    })
}

/// A body arriving in pieces: a multipart field, or a test's generator.
pub trait ChunkSource: Send {
    /// The next piece, or None at the end.
    fn next_chunk(&mut self) -> BoxFuture<'_, AppResult<Option<Bytes>>>;
}

/// Reads a body of at most `max` bytes. Refuses as soon as the running
/// total passes `max`, without reading further, and never reserves more
/// than `max` (a client's `size_hint` only pre-sizes the buffer, capped).
pub async fn read_limited(
    src: &mut dyn ChunkSource,
    max: u64,
    size_hint: Option<u64>,
) -> AppResult<Bytes> {
    let limit = max;
    let max = usize::try_from(max).unwrap_or(usize::MAX);
    let hint = size_hint
        .and_then(|h| usize::try_from(h).ok())
        .unwrap_or(64 * 1024);
    let mut buf: Vec<u8> = Vec::with_capacity(hint.min(max));
    while let Some(chunk) = src.next_chunk().await? {
        let need = buf.len().saturating_add(chunk.len());
        if need > max {
            return Err(too_large(limit));
        }
        if need > buf.capacity() {
            // Grow by doubling, but never past the limit (Vec's own growth
            // could reserve twice the limit for a file just under it).
            let cap = need.max(buf.capacity().saturating_mul(2)).min(max);
            buf.reserve_exact(cap - buf.len());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buf))
}

/// A display name safe to store and to send back in a header: the last path
/// component, without control or reserved characters, at most 100
/// characters, ending in an extension of the sniffed type.
fn sanitize_file_name(raw: &str, t: &FileType) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*'))
        .collect();
    let cleaned = cleaned.trim().trim_matches('.').trim();
    let (stem, ext) = match cleaned.rsplit_once('.') {
        Some((s, e)) if t.extensions.iter().any(|x| x.eq_ignore_ascii_case(e)) => {
            (s.to_string(), e.to_ascii_lowercase())
        }
        // An extension that lies about the content (a PNG named .pdf): the
        // name follows the content.
        Some((s, e))
            if !s.trim().is_empty()
                && (1..=5).contains(&e.len())
                && e.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            (s.to_string(), t.extensions[0].to_string())
        }
        // No extension ("张三.2024年体检报告" has none): one is added.
        _ => (cleaned.to_string(), t.extensions[0].to_string()),
    };
    let stem: String = stem.trim().chars().take(100).collect();
    let stem = if stem.is_empty() {
        "附件".to_string()
    } else {
        stem
    };
    format!("{stem}.{ext}")
}

fn clean_label(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .chars()
        .take(50)
        .collect()
}

/// Stores a read body as an attachment of the target record: sniffs and
/// checks it, writes the blob, then the row and its audit entry in one
/// transaction (counting the record's files again there).
pub async fn finish_upload(
    st: &AppState,
    scope: &Scope,
    target: UploadTarget,
    file_name: &str,
    label: &str,
    bytes: Bytes,
) -> AppResult<Attachment> {
    let limits = &st.attachments.limits;
    if bytes.is_empty() {
        return Err(AppError::invalid(
            "文件为空,请重新选择",
            "The file is empty; choose another",
        ));
    }
    if bytes.len() as u64 > limits.max_bytes {
        return Err(limits.too_large());
    }
    let ftype = limits.sniff(&bytes)?;
    let name = sanitize_file_name(file_name, &ftype);
    let label = clean_label(label);
    let sha = {
        let b = bytes.clone();
        tokio::task::spawn_blocking(move || sha256_hex(&b))
            .await
            .map_err(anyhow::Error::from)?
    };
    let region_root: Option<i64> = sqlx::query_scalar("SELECT region_root FROM orgs WHERE id = $1")
        .bind(target.org.org_id.0)
        .fetch_optional(st.db.pool())
        .await?
        .flatten();
    // The blob first: a row never points at bytes that were not written.
    // If the row then fails, the blob is an orphan for the collector.
    let store = &st.attachments.store;
    store
        .put(&sha, bytes.clone())
        .await
        .map_err(anyhow::Error::from)?;
    let mut tx = st.db.begin_write().await?;
    let now = time::now_rfc3339();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO attachments (owner_kind, owner_id, org_id, org_path, region_root, sha256, size, mime, \
         file_name, label, uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
    )
    .bind(&target.kind)
    .bind(target.owner_id)
    .bind(target.org.org_id.0)
    .bind(&target.org.org_path)
    .bind(region_root)
    .bind(&sha)
    .bind(bytes.len() as i64)
    .bind(ftype.mime)
    .bind(&name)
    .bind(&label)
    .bind(scope.actor.user_id.map(|u| u.0))
    .bind(&now)
    .fetch_one(&mut *tx.tx)
    .await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("attachment.upload", "attachment", id)
            .org(target.org.org_id)
            .detail(serde_json::json!({
                "owner_kind": target.kind, "owner_id": target.owner_id, "sha256": sha,
                "size": bytes.len(), "mime": ftype.mime, "file_name": name, "label": label,
            })),
    )
    .await?;
    // Counted after the audit entry: appending took the audit chain's head
    // lock, which serialises this with every other upload (the writer lock
    // does on SQLite), so two uploads racing for the last place cannot both
    // commit. Ours is among the rows counted.
    if live_count(&mut tx, &target.kind, target.owner_id).await? > limits.max_files {
        return Err(limits.too_many());
    }
    tx.commit().await?;
    // Put again after the commit: if the orphan collector removed the blob
    // between our first put and the commit (it saw no row yet), this brings
    // it back. The collector decides under the audit-chain lock that every
    // upload transaction takes, so a row committed after its decision is
    // always followed by this put (see `collect_orphans`). The row is
    // committed by now, so a failure here is logged, not returned: the
    // client retrying would only attach the file twice.
    if let Err(e) = store.put(&sha, bytes).await {
        tracing::error!(error = %e, attachment = id, sha256 = %sha, "could not re-put an attachment blob after commit");
    }
    let row = sqlx::query(&format!("{SELECT} WHERE a.id = $1"))
        .bind(id)
        .fetch_one(st.db.pool())
        .await?;
    Ok(from_row(&row)?)
}

/// A whole upload from bytes in hand (the command line, tests).
pub async fn upload(
    st: &AppState,
    scope: &Scope,
    kind: &str,
    owner_id: i64,
    file_name: &str,
    label: &str,
    bytes: Bytes,
) -> AppResult<Attachment> {
    let target = begin_upload(st, scope, kind, owner_id, Some(bytes.len() as u64)).await?;
    finish_upload(st, scope, target, file_name, label, bytes).await
}

/// A live attachment and its record's current org, admitted through the scope.
async fn get_in_scope(st: &AppState, scope: &Scope, id: i64) -> AppResult<(Attachment, OwnerOrg)> {
    let row = sqlx::query(&format!(
        "{SELECT} WHERE a.id = $1 AND a.deleted_at IS NULL"
    ))
    .bind(id)
    .fetch_optional(st.db.pool())
    .await?
    .ok_or(AppError::NotFound)?;
    let a = from_row(&row)?;
    let owner = st
        .registry
        .attachment_owner(&a.owner_kind)
        .ok_or(AppError::NotFound)?;
    let org = owner
        .resolve(&st.db, a.owner_id)
        .await?
        .ok_or(AppError::NotFound)?;
    scope.admit(&st.db, &org.org_path, "attachment", id).await?;
    Ok((a, org))
}

/// The file's content, checked against its hash; the download is audited.
pub async fn download(st: &AppState, scope: &Scope, id: i64) -> AppResult<(Attachment, Vec<u8>)> {
    let (a, org) = get_in_scope(st, scope, id).await?;
    let bytes = st
        .attachments
        .store
        .get(&a.sha256)
        .await
        .map_err(anyhow::Error::from)?
        .ok_or_else(|| anyhow::anyhow!("attachment {id}: blob {} is missing", a.sha256))?;
    let sha = {
        // Hashing 20 MB takes tens of milliseconds: off the async threads.
        let b = bytes.clone();
        tokio::task::spawn_blocking(move || sha256_hex(&b))
            .await
            .map_err(anyhow::Error::from)?
    };
    if sha != a.sha256 {
        return Err(anyhow::anyhow!(
            "attachment {id}: blob {} is corrupt (content hashes to {sha})",
            a.sha256
        )
        .into());
    }
    audit::record(
        &st.db,
        &scope.actor,
        Event::new("attachment.download", "attachment", id)
            .org(org.org_id)
            .detail(serde_json::json!({
                "owner_kind": a.owner_kind, "owner_id": a.owner_id, "sha256": a.sha256,
            })),
    )
    .await?;
    Ok((a, bytes))
}

/// Marks the attachment deleted; the collector removes the row after
/// [`DELETED_GRACE`] and the blob when nothing references it.
pub async fn delete(st: &AppState, scope: &Scope, id: i64) -> AppResult<()> {
    scope.require_write()?;
    let (a, org) = get_in_scope(st, scope, id).await?;
    let mut tx = st.db.begin_write().await?;
    let n =
        sqlx::query("UPDATE attachments SET deleted_at = $1 WHERE id = $2 AND deleted_at IS NULL")
            .bind(time::now_rfc3339())
            .bind(id)
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
    if n == 0 {
        // Deleted by someone else meanwhile.
        return Err(AppError::NotFound);
    }
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("attachment.delete", "attachment", id)
            .org(org.org_id)
            .detail(serde_json::json!({
                "owner_kind": a.owner_kind, "owner_id": a.owner_id, "sha256": a.sha256,
                "file_name": a.file_name,
            })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ───────────────────────────── orphans ─────────────────────────────

/// How long a deleted attachment's row (and so its blob) is kept, so a
/// mistaken deletion can still be undone by the operator.
pub const DELETED_GRACE: Duration = Duration::from_secs(7 * 24 * 3600);

/// Blobs younger than this are never collected: an upload writes its blob
/// before its row commits.
pub const BLOB_MIN_AGE: Duration = Duration::from_secs(3600);

/// What one collection did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Rows of attachments deleted more than [`DELETED_GRACE`] ago, removed.
    pub rows_purged: u64,
    /// Blobs no row referenced, removed.
    pub blobs_deleted: u64,
    /// Unreferenced blobs left because they are younger than [`BLOB_MIN_AGE`].
    pub blobs_too_young: u64,
    /// Leftovers of interrupted writes, removed.
    pub partial_files: u64,
}

/// Removes rows of attachments deleted more than [`DELETED_GRACE`] ago, then
/// every blob older than [`BLOB_MIN_AGE`] that no row references, then
/// leftovers of interrupted writes. Safe beside uploads in this or another
/// process: each blob is judged and deleted inside a write transaction that
/// first appends its audit entry, which takes the audit chain's head lock
/// (and on SQLite the writer lock) that every upload transaction also takes.
/// So an upload's row is either committed before the check (and seen) or
/// after the deletion, and an upload puts its blob again after committing.
pub async fn collect_orphans(db: &Db, store: &dyn BlobStore) -> AppResult<Counts> {
    let mut counts = Counts::default();
    let actor = Actor::system("attachments");
    let now = SystemTime::now();

    let cutoff = time::to_rfc3339(
        time::now() - chrono::Duration::from_std(DELETED_GRACE).map_err(anyhow::Error::from)?,
    );
    let expired: Vec<(i64, String, i64)> = sqlx::query_as(
        "SELECT id, sha256, org_id FROM attachments WHERE deleted_at IS NOT NULL AND deleted_at < $1 ORDER BY id",
    )
    .bind(&cutoff)
    .fetch_all(db.pool())
    .await?;
    for chunk in expired.chunks(500) {
        let mut tx = db.begin_write().await?;
        for (id, sha, org) in chunk {
            sqlx::query("DELETE FROM attachments WHERE id = $1")
                .bind(id)
                .execute(&mut *tx.tx)
                .await?;
            audit::append(
                &mut tx,
                &actor,
                Event::new("attachment.purge", "attachment", id)
                    .org(OrgId(*org))
                    .detail(serde_json::json!({"sha256": sha})),
            )
            .await?;
        }
        tx.commit().await?;
        counts.rows_purged += chunk.len() as u64;
    }

    let blobs = store.list().await.map_err(anyhow::Error::from)?;
    for b in blobs {
        let referenced: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM attachments WHERE sha256 = $1",
        )
        .bind(&b.sha256)
        .fetch_one(db.pool())
        .await?;
        if referenced > 0 {
            continue;
        }
        if now.duration_since(b.modified).unwrap_or_default() < BLOB_MIN_AGE {
            counts.blobs_too_young += 1;
            continue;
        }
        // Decide again under the lock uploads take (see above).
        let mut tx = db.begin_write().await?;
        audit::append(
            &mut tx,
            &actor,
            Event::new("attachment.blob_collect", "blob", &b.sha256)
                .detail(serde_json::json!({"size": b.size})),
        )
        .await?;
        let referenced: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM attachments WHERE sha256 = $1",
        )
        .bind(&b.sha256)
        .fetch_one(&mut *tx.tx)
        .await?;
        if referenced > 0 {
            // Dropping the transaction rolls back its audit entry too.
            drop(tx);
            continue;
        }
        store.delete(&b.sha256).await.map_err(anyhow::Error::from)?;
        tx.commit().await?;
        counts.blobs_deleted += 1;
    }

    counts.partial_files = store
        .sweep_partial(now - BLOB_MIN_AGE)
        .await
        .map_err(anyhow::Error::from)?;
    Ok(counts)
}

/// Runs [`collect_orphans`] every `attachment_gc_hours` in the server (the
/// first run one period after start, so a restart loop does not hammer the
/// disk); 0 turns it off.
pub fn spawn_collector(st: &AppState) {
    let hours = st.cfg.attachment_gc_hours;
    if hours == 0 {
        return;
    }
    let period = Duration::from_secs(hours.saturating_mul(3600));
    let db = st.db.clone();
    let attachments = st.attachments.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match collect_orphans(&db, attachments.store.as_ref()).await {
                Ok(c) => tracing::info!(?c, "attachment orphans collected"),
                Err(e) => tracing::error!(error = %e, "attachment orphan collection failed"),
            }
        }
    });
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::{
        module::{Migration, Module, Registry},
        scope::Role,
        testing::TestEnv,
    };

    /// A 1×1 PNG.
    pub(crate) const PNG: &[u8] = &[
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F,
        0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00,
        0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49,
        0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ];
    pub(crate) const PDF: &[u8] =
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
    pub(crate) const HTML: &[u8] =
        b"<!DOCTYPE html>\n<html><body><script>alert(document.cookie)</script></body></html>\n";
    const EXE: &[u8] = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00This program cannot be run in DOS mode";

    /// A PNG with its own content (trailing bytes after IEND), so each
    /// hashes differently and still sniffs as PNG.
    fn png(n: usize) -> Bytes {
        let mut v = PNG.to_vec();
        v.extend_from_slice(format!("#{n}").as_bytes());
        Bytes::from(v)
    }

    struct TestOwner;

    impl AttachmentOwner for TestOwner {
        fn kind(&self) -> &'static str {
            "test_record"
        }
        fn resolve<'a>(
            &'a self,
            db: &'a Db,
            owner_id: i64,
        ) -> BoxFuture<'a, AppResult<Option<OwnerOrg>>> {
            Box::pin(async move {
                let row: Option<(i64, String)> = sqlx::query_as(
                    "SELECT t.org_id, o.path FROM test_records t JOIN orgs o ON o.id = t.org_id WHERE t.id = $1",
                )
                .bind(owner_id)
                .fetch_optional(db.pool())
                .await?;
                Ok(row.map(|(org_id, org_path)| OwnerOrg {
                    org_id: OrgId(org_id),
                    org_path,
                }))
            })
        }
    }

    const TEST_MIGRATIONS: &[Migration] = &[Migration {
        version: 1,
        name: "test_records",
        sql: "CREATE TABLE test_records (id ID_PK, org_id BIGINT NOT NULL REFERENCES orgs(id));",
    }];

    fn test_module() -> Module {
        Module {
            migrations: TEST_MIGRATIONS,
            attachment_owners: || vec![Arc::new(TestOwner) as Arc<dyn AttachmentOwner>],
            ..Module::new("attach_test")
        }
    }

    /// City /1/, county /1/2/ holding records 10 and 11, other county
    /// /1/3/ holding record 30.
    pub(crate) async fn setup() -> TestEnv {
        let env = crate::testing::env(Arc::new(Registry::new(vec![test_module()])))
            .await
            .unwrap();
        let now = time::now_rfc3339();
        for (id, parent, path, root) in [
            (1, None, "/1/", None),
            (2, Some(1), "/1/2/", Some(2)),
            (3, Some(1), "/1/3/", Some(3)),
        ] {
            sqlx::query(
                "INSERT INTO orgs (id, code, name, level, parent_id, path, region_root, created_at, updated_at) \
                 VALUES ($1, $2, $3, 'county', $4, $5, $6, $7, $7)",
            )
            .bind(id as i64)
            .bind(format!("T{id}"))
            .bind(format!("工会{id}"))
            .bind(parent.map(|p: i64| p))
            .bind(path)
            .bind(root.map(|r: i64| r))
            .bind(&now)
            .execute(env.state.db.pool())
            .await
            .unwrap();
        }
        for (id, org) in [(10i64, 2i64), (11, 2), (30, 3)] {
            sqlx::query("INSERT INTO test_records (id, org_id) VALUES ($1, $2)")
                .bind(id)
                .bind(org)
                .execute(env.state.db.pool())
                .await
                .unwrap();
        }
        env
    }

    fn scope(org: i64, path: &str, role: Role) -> Scope {
        let actor = Actor {
            user_id: None,
            name: format!("t{org}"),
            ip: "127.0.0.1".into(),
        };
        Scope::new(actor, OrgId(org), path.into(), role, "")
    }
    fn county2() -> Scope {
        scope(2, "/1/2/", Role::Staff)
    }
    fn county3() -> Scope {
        scope(3, "/1/3/", Role::Staff)
    }

    async fn count(env: &TestEnv, sql: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT CAST(({sql}) AS BIGINT)"))
            .fetch_one(env.state.db.pool())
            .await
            .unwrap()
    }

    fn local(env: &TestEnv) -> LocalStore {
        LocalStore::new(&env.data_dir())
    }

    fn assert_invalid<T: std::fmt::Debug>(r: AppResult<T>, needle: &str) {
        match r {
            Err(AppError::Invalid(m)) => assert!(m.zh.contains(needle), "{m:?}"),
            other => panic!("expected a refusal containing {needle:?}, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn attach_upload_sniffs_dedups_and_lists() {
        let env = setup().await;
        let st = &env.state;
        let s = county2();
        // A PNG named .pdf with the client claiming anything: the content decides.
        let a = upload(
            st,
            &s,
            "test_record",
            10,
            "C:\\证件\\照片.pdf",
            " 照片 ",
            Bytes::from_static(PNG),
        )
        .await
        .unwrap();
        assert_eq!(a.mime, "image/png");
        assert_eq!(
            a.file_name, "照片.png",
            "the name follows the content, path dropped"
        );
        assert_eq!(a.label, "照片");
        assert_eq!(a.sha256, sha256_hex(PNG));
        assert_eq!(a.size, PNG.len() as i64);
        let p = upload(
            st,
            &s,
            "test_record",
            10,
            "录取通知书.PDF",
            "录取通知书",
            Bytes::from_static(PDF),
        )
        .await
        .unwrap();
        assert_eq!(
            (p.mime.as_str(), p.file_name.as_str()),
            ("application/pdf", "录取通知书.pdf")
        );
        // The same content on another record: a second row, one blob.
        let b = upload(
            st,
            &s,
            "test_record",
            11,
            "x.png",
            "",
            Bytes::from_static(PNG),
        )
        .await
        .unwrap();
        assert_eq!(b.sha256, a.sha256);
        let blobs = local(&env).list().await.unwrap();
        assert_eq!(blobs.len(), 2, "{blobs:?}");
        let path = local(&env).path_of(&a.sha256);
        assert!(path.ends_with(format!(
            "attachments/{}/{}/{}",
            &a.sha256[..2],
            &a.sha256[2..4],
            a.sha256
        )));
        assert_eq!(std::fs::read(&path).unwrap(), PNG);
        let listed = list(st, &s, "test_record", 10).await.unwrap();
        assert_eq!(
            listed.iter().map(|x| x.id).collect::<Vec<_>>(),
            vec![a.id, p.id]
        );
        // The city above sees them too; the org and region were copied.
        assert_eq!(
            list(st, &scope(1, "/1/", Role::Admin), "test_record", 10)
                .await
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            count(
                &env,
                &format!("SELECT region_root FROM attachments WHERE id = {}", a.id)
            )
            .await,
            2
        );
        assert_eq!(
            count(
                &env,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'attachment.upload'"
            )
            .await,
            3
        );
    }

    #[tokio::test]
    async fn attach_refuses_disguised_unknown_and_empty_files() {
        let env = setup().await;
        let st = &env.state;
        let s = county2();
        assert_invalid(
            upload(
                st,
                &s,
                "test_record",
                10,
                "通知.pdf",
                "",
                Bytes::from_static(HTML),
            )
            .await,
            "文件类型不允许",
        );
        assert_invalid(
            upload(
                st,
                &s,
                "test_record",
                10,
                "发票.pdf",
                "",
                Bytes::from_static(EXE),
            )
            .await,
            "文件类型不允许",
        );
        assert_invalid(
            upload(
                st,
                &s,
                "test_record",
                10,
                "a.txt",
                "",
                Bytes::from_static(b"just text"),
            )
            .await,
            "文件类型不允许",
        );
        assert_invalid(
            upload(st, &s, "test_record", 10, "a.pdf", "", Bytes::new()).await,
            "文件为空",
        );
        // A configured list narrower than the default refuses the rest.
        let cfg = Config {
            attachment_types: vec!["pdf".into()],
            ..Config::default()
        };
        let only_pdf = Limits::from_config(&cfg).unwrap();
        assert!(only_pdf.sniff(PDF).is_ok());
        assert!(only_pdf.sniff(PNG).is_err());
        let cfg = Config {
            attachment_types: vec!["exe".into()],
            ..Config::default()
        };
        assert!(
            Limits::from_config(&cfg).is_err(),
            "an unknown type name is refused at start"
        );
        assert_eq!(count(&env, "SELECT COUNT(*) FROM attachments").await, 0);
        assert!(
            local(&env).list().await.unwrap().is_empty(),
            "nothing was stored"
        );
    }

    #[tokio::test]
    async fn attach_office_files_are_recognised() {
        let env = setup().await;
        let mut wb = rust_xlsxwriter::Workbook::new();
        wb.add_worksheet().write_string(0, 0, "困难职工").unwrap();
        let xlsx = wb.save_to_buffer().unwrap();
        let a = upload(
            &env.state,
            &county2(),
            "test_record",
            10,
            "名单",
            "",
            Bytes::from(xlsx),
        )
        .await
        .unwrap();
        assert_eq!(
            a.mime,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
        assert_eq!(a.file_name, "名单.xlsx");
    }

    /// An endless body: counts how many chunks were pulled.
    struct Endless {
        chunk: Bytes,
        pulled: Arc<AtomicUsize>,
    }

    impl ChunkSource for Endless {
        fn next_chunk(&mut self) -> BoxFuture<'_, AppResult<Option<Bytes>>> {
            self.pulled.fetch_add(1, Ordering::SeqCst);
            let c = self.chunk.clone();
            Box::pin(async move { Ok(Some(c)) })
        }
    }

    /// A body of `n` chunks.
    struct Finite(Vec<Bytes>);

    impl ChunkSource for Finite {
        fn next_chunk(&mut self) -> BoxFuture<'_, AppResult<Option<Bytes>>> {
            let next = if self.0.is_empty() {
                None
            } else {
                Some(self.0.remove(0))
            };
            Box::pin(async move { Ok(next) })
        }
    }

    #[tokio::test]
    async fn attach_size_limit_is_enforced_before_and_while_reading() {
        const MIB: u64 = 1024 * 1024;
        let pulled = Arc::new(AtomicUsize::new(0));
        let mut endless = Endless {
            chunk: Bytes::from(vec![0u8; 64 * 1024]),
            pulled: pulled.clone(),
        };
        // A client that lies about its size (hint 10 bytes) and never ends.
        assert_invalid(read_limited(&mut endless, MIB, Some(10)).await, "文件过大");
        assert_eq!(
            pulled.load(Ordering::SeqCst),
            17,
            "stops at the first chunk past 1 MiB"
        );
        // A hint far above the limit reserves no more than the limit.
        let body = Finite(vec![
            Bytes::from(vec![1u8; 600 * 1024]),
            Bytes::from(vec![2u8; 400 * 1024]),
        ]);
        let mut body = body;
        let got = read_limited(&mut body, MIB, Some(u64::MAX)).await.unwrap();
        assert_eq!(got.len(), 1000 * 1024);
        // Exactly the limit is accepted, one byte more is not.
        let mut exact = Finite(vec![Bytes::from(vec![1u8; MIB as usize])]);
        assert_eq!(
            read_limited(&mut exact, MIB, None).await.unwrap().len(),
            MIB as usize
        );
        let mut over = Finite(vec![
            Bytes::from(vec![1u8; MIB as usize]),
            Bytes::from_static(b"x"),
        ]);
        assert!(read_limited(&mut over, MIB, None).await.is_err());

        // A declared size over the limit is refused before any body is read.
        let env = setup().await;
        let max = env.state.attachments.limits.max_bytes;
        assert_eq!(max, 20 * MIB, "default 20 MiB");
        assert_invalid(
            begin_upload(&env.state, &county2(), "test_record", 10, Some(max + 1)).await,
            "文件过大",
        );
        assert!(
            begin_upload(&env.state, &county2(), "test_record", 10, Some(max))
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn attach_the_21st_file_is_refused() {
        let env = setup().await;
        let s = county2();
        for i in 0..20 {
            upload(&env.state, &s, "test_record", 10, "p.png", "", png(i))
                .await
                .unwrap();
        }
        assert_invalid(
            upload(&env.state, &s, "test_record", 10, "p.png", "", png(20)).await,
            "已达上限",
        );
        assert_invalid(
            begin_upload(&env.state, &s, "test_record", 10, None).await,
            "已达上限",
        );
        // Another record is not affected; a deletion makes room.
        upload(&env.state, &s, "test_record", 11, "p.png", "", png(20))
            .await
            .unwrap();
        let first = list(&env.state, &s, "test_record", 10).await.unwrap()[0].id;
        delete(&env.state, &s, first).await.unwrap();
        upload(&env.state, &s, "test_record", 10, "p.png", "", png(21))
            .await
            .unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn attach_concurrent_uploads_cannot_pass_the_file_limit() {
        let mut env = setup().await;
        let mut cfg = Config {
            attachment_max_files: 3,
            ..Config::default()
        };
        cfg.data_dir = env.data_dir();
        env.state.attachments = Arc::new(Attachments::local(&cfg).unwrap());
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let st = env.state.clone();
                tokio::spawn(async move {
                    upload(&st, &county2(), "test_record", 10, "p.png", "", png(i)).await
                })
            })
            .collect();
        let mut ok = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => ok += 1,
                Err(e) => assert!(matches!(e, AppError::Invalid(_)), "{e:?}"),
            }
        }
        assert_eq!(ok, 3);
        assert_eq!(
            count(&env, "SELECT COUNT(*) FROM attachments WHERE owner_id = 10").await,
            3
        );
    }

    #[tokio::test]
    async fn attach_other_county_gets_not_found_and_is_audited() {
        let env = setup().await;
        let st = &env.state;
        let a = upload(
            st,
            &county2(),
            "test_record",
            10,
            "a.png",
            "",
            Bytes::from_static(PNG),
        )
        .await
        .unwrap();
        let other = county3();
        let denied = "SELECT COUNT(*) FROM audit_log WHERE action = 'scope.denied' AND object_type = 'attachment'";
        assert!(matches!(
            list(st, &other, "test_record", 10).await,
            Err(AppError::NotFound)
        ));
        assert!(matches!(
            upload(st, &other, "test_record", 10, "b.png", "", png(1)).await,
            Err(AppError::NotFound)
        ));
        assert!(matches!(
            download(st, &other, a.id).await,
            Err(AppError::NotFound)
        ));
        assert!(matches!(
            delete(st, &other, a.id).await,
            Err(AppError::NotFound)
        ));
        assert_eq!(count(&env, denied).await, 4, "each attempt is audited");
        // Absent things answer the same, without an audit entry.
        assert!(matches!(
            list(st, &other, "test_record", 999).await,
            Err(AppError::NotFound)
        ));
        assert!(matches!(
            list(st, &other, "no_such_kind", 10).await,
            Err(AppError::NotFound)
        ));
        assert!(matches!(
            download(st, &other, 999).await,
            Err(AppError::NotFound)
        ));
        assert_eq!(count(&env, denied).await, 4);
        // The other county's own record works for it.
        upload(
            st,
            &other,
            "test_record",
            30,
            "c.pdf",
            "",
            Bytes::from_static(PDF),
        )
        .await
        .unwrap();
        // Read-only roles may list and download but not change.
        let auditor = scope(2, "/1/2/", Role::Auditor);
        assert_eq!(
            list(st, &auditor, "test_record", 10).await.unwrap().len(),
            1
        );
        assert!(matches!(
            upload(st, &auditor, "test_record", 10, "d.png", "", png(2)).await,
            Err(AppError::Forbidden(_))
        ));
        assert!(matches!(
            delete(st, &auditor, a.id).await,
            Err(AppError::Forbidden(_))
        ));
        assert_eq!(
            list(st, &county2(), "test_record", 10).await.unwrap().len(),
            1
        );
    }

    #[tokio::test]
    async fn attach_downloads_are_checked_and_audited() {
        let env = setup().await;
        let st = &env.state;
        let a = upload(
            st,
            &county2(),
            "test_record",
            10,
            "a.pdf",
            "",
            Bytes::from_static(PDF),
        )
        .await
        .unwrap();
        let (meta, bytes) = download(st, &scope(1, "/1/", Role::Auditor), a.id)
            .await
            .unwrap();
        assert_eq!(bytes, PDF);
        assert_eq!(meta.file_name, "a.pdf");
        let detail: String = sqlx::query_scalar(
            "SELECT detail FROM audit_log WHERE action = 'attachment.download' AND object_id = $1",
        )
        .bind(a.id.to_string())
        .fetch_one(st.db.pool())
        .await
        .unwrap();
        assert!(
            detail.contains(&a.sha256) && detail.contains("test_record"),
            "{detail}"
        );
        // A blob changed on disk is not served.
        std::fs::write(local(&env).path_of(&a.sha256), b"%PDF-1.4 tampered").unwrap();
        assert!(matches!(
            download(st, &county2(), a.id).await,
            Err(AppError::Internal(_))
        ));
        assert_eq!(
            count(
                &env,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'attachment.download'"
            )
            .await,
            1,
            "a failed download is not recorded as one"
        );
        assert!(crate::audit::verify(&st.db)
            .await
            .unwrap()
            .problems
            .is_empty());
    }

    fn age(path: &Path, by: Duration) {
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(SystemTime::now() - by)
            .unwrap();
    }

    #[tokio::test]
    async fn attach_delete_and_orphan_collection() {
        let env = setup().await;
        let st = &env.state;
        let db = &st.db;
        let store = local(&env);
        let s = county2();
        let a10 = upload(
            st,
            &s,
            "test_record",
            10,
            "a.png",
            "",
            Bytes::from_static(PNG),
        )
        .await
        .unwrap();
        let a11 = upload(
            st,
            &s,
            "test_record",
            11,
            "a.png",
            "",
            Bytes::from_static(PNG),
        )
        .await
        .unwrap();
        let pdf = upload(
            st,
            &s,
            "test_record",
            10,
            "b.pdf",
            "",
            Bytes::from_static(PDF),
        )
        .await
        .unwrap();
        let png_path = store.path_of(&a10.sha256);
        let pdf_path = store.path_of(&pdf.sha256);
        age(&png_path, Duration::from_secs(2 * 3600));
        age(&pdf_path, Duration::from_secs(2 * 3600));

        delete(st, &s, a10.id).await.unwrap();
        assert_eq!(list(st, &s, "test_record", 10).await.unwrap().len(), 1);
        assert!(matches!(
            download(st, &s, a10.id).await,
            Err(AppError::NotFound)
        ));
        assert!(
            matches!(delete(st, &s, a10.id).await, Err(AppError::NotFound)),
            "deleted once"
        );
        // Within the grace period the row (and so the blob) stays.
        assert_eq!(
            collect_orphans(db, &store).await.unwrap(),
            Counts::default()
        );
        let set_deleted_long_ago = |id: i64| async move {
            let long_ago = time::to_rfc3339(time::now() - chrono::Duration::days(8));
            sqlx::query("UPDATE attachments SET deleted_at = $1 WHERE id = $2")
                .bind(long_ago)
                .bind(id)
                .execute(db.pool())
                .await
                .unwrap();
        };
        set_deleted_long_ago(a10.id).await;
        // The row goes; the blob stays: record 11 still references it.
        let c = collect_orphans(db, &store).await.unwrap();
        assert_eq!((c.rows_purged, c.blobs_deleted), (1, 0));
        assert!(png_path.exists());
        assert_eq!(download(st, &s, a11.id).await.unwrap().1, PNG);

        delete(st, &s, a11.id).await.unwrap();
        set_deleted_long_ago(a11.id).await;
        // Unreferenced now, but young, as if an upload of the same content
        // had just put it and were about to commit its row.
        age(&png_path, Duration::ZERO);
        let c = collect_orphans(db, &store).await.unwrap();
        assert_eq!(
            (c.rows_purged, c.blobs_deleted, c.blobs_too_young),
            (1, 0, 1)
        );
        assert!(png_path.exists(), "a young blob is left alone");
        age(&png_path, Duration::from_secs(2 * 3600));
        let c = collect_orphans(db, &store).await.unwrap();
        assert_eq!((c.rows_purged, c.blobs_deleted), (0, 1));
        assert!(!png_path.exists(), "collected when unreferenced and old");
        assert!(pdf_path.exists(), "a referenced blob stays");
        assert_eq!(
            count(
                &env,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'attachment.blob_collect'"
            )
            .await,
            1
        );
        assert_eq!(
            count(
                &env,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'attachment.delete'"
            )
            .await,
            2
        );
        // A blob put by an upload whose row never committed is an orphan too.
        let sha = sha256_hex(b"%PDF-1.4 lost");
        store
            .put(&sha, Bytes::from_static(b"%PDF-1.4 lost"))
            .await
            .unwrap();
        age(&store.path_of(&sha), Duration::from_secs(2 * 3600));
        assert_eq!(collect_orphans(db, &store).await.unwrap().blobs_deleted, 1);
        // Re-uploading content the collector removed stores it again.
        let again = upload(
            st,
            &s,
            "test_record",
            11,
            "a.png",
            "",
            Bytes::from_static(PNG),
        )
        .await
        .unwrap();
        assert_eq!(download(st, &s, again.id).await.unwrap().1, PNG);
        assert!(crate::audit::verify(db).await.unwrap().problems.is_empty());
    }

    #[tokio::test]
    async fn attach_writes_are_crash_safe() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        let sha = sha256_hex(PDF);
        let target = store.path_of(&sha);
        // Just before the rename the complete bytes are in a temporary file
        // beside the target, and nothing is under the final name.
        let seen = std::sync::Mutex::new(None);
        store
            .put_blocking(&sha, PDF, &|tmp| {
                assert!(
                    !target.exists(),
                    "nothing under the final name before the rename"
                );
                assert_eq!(tmp.parent(), target.parent());
                assert!(tmp
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(PARTIAL_PREFIX));
                *seen.lock().unwrap() = Some(std::fs::read(tmp).unwrap());
                Ok(())
            })
            .unwrap();
        assert_eq!(seen.lock().unwrap().as_deref(), Some(PDF));
        assert_eq!(std::fs::read(&target).unwrap(), PDF);

        // A write that fails (or a process that dies) before the rename
        // leaves nothing under the final name.
        let sha2 = sha256_hex(PNG);
        let r = store.put_blocking(&sha2, PNG, &|_| Err(io::Error::other("power cut")));
        assert!(r.is_err());
        assert!(!store.path_of(&sha2).exists());
        assert_eq!(store.list().await.unwrap().len(), 1);
        // What a killed process leaves behind is never listed as a blob and
        // is swept once old.
        let leftover = target
            .parent()
            .unwrap()
            .join(format!("{PARTIAL_PREFIX}abc"));
        std::fs::write(&leftover, b"half").unwrap();
        assert_eq!(store.list().await.unwrap().len(), 1);
        assert_eq!(
            store
                .sweep_partial(SystemTime::now() - BLOB_MIN_AGE)
                .await
                .unwrap(),
            0,
            "young: maybe still being written"
        );
        age(&leftover, Duration::from_secs(2 * 3600));
        assert_eq!(
            store
                .sweep_partial(SystemTime::now() - BLOB_MIN_AGE)
                .await
                .unwrap(),
            1
        );
        assert!(!leftover.exists());
        // Hashes are checked before they become paths.
        assert!(store.get("../../etc/passwd").await.is_err());
        assert!(store.put("AB", Bytes::from_static(b"x")).await.is_err());
        // Putting the same content twice keeps one file.
        store.put(&sha, Bytes::from_static(PDF)).await.unwrap();
        assert_eq!(store.list().await.unwrap().len(), 1);
        store.delete(&sha).await.unwrap();
        store.delete(&sha).await.unwrap();
        assert!(store.get(&sha).await.unwrap().is_none());
    }

    #[test]
    fn attach_file_names_are_sanitised() {
        let pdf = KNOWN_TYPES[0];
        let jpeg = KNOWN_TYPES[1];
        assert_eq!(sanitize_file_name("../../etc/passwd", &pdf), "passwd.pdf");
        assert_eq!(sanitize_file_name("a\u{0}b\r\n<c>.PDF", &pdf), "abc.pdf");
        assert_eq!(sanitize_file_name("", &jpeg), "附件.jpg");
        assert_eq!(sanitize_file_name("..", &jpeg), "附件.jpg");
        assert_eq!(sanitize_file_name("IMG_1.JPEG", &jpeg), "IMG_1.jpeg");
        assert_eq!(sanitize_file_name("病历 2024.html", &pdf), "病历 2024.pdf");
        assert_eq!(
            sanitize_file_name("张三.2024年体检报告", &pdf),
            "张三.2024年体检报告.pdf"
        );
        let long = "长".repeat(300) + ".pdf";
        assert_eq!(sanitize_file_name(&long, &pdf).chars().count(), 104);
        assert_eq!(clean_label("  录取\u{7}通知书 "), "录取通知书");
    }

    #[tokio::test]
    async fn attach_registry_finds_owner_kinds() {
        let r = Registry::new(vec![test_module()]);
        assert_eq!(
            r.attachment_owner("test_record").unwrap().kind(),
            "test_record"
        );
        assert!(r.attachment_owner("nope").is_none());
        let doc = serde_json::to_string(&r.openapi()).unwrap();
        assert!(
            doc.contains("/api/v1/attachments/{kind}/{owner_id}"),
            "{doc}"
        );
    }
}
