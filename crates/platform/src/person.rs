//! Person references: how a module's record (a hardship case, a legal-aid
//! file, a mutual-aid claim) names the person it is about — a roster person
//! (会员) or a worker who is not on the roster — sealed and found exactly as
//! the roster does it.
//!
//! - A module calls [`refer`] with what the form says (name, document kind
//!   and number, phone) and the org recording it, and keeps the returned
//!   [`PersonRefId`] on its record.
//! - The ID number is parsed with `ident` (GB 11643 check character, dates,
//!   provinces …) and found by its keyed hash ([`id_lookup_hash`], the
//!   roster's own key and derivation). A module that keeps persons (the
//!   roster) registers a [`PersonDirectory`] (`Module::person_directories`);
//!   a person a directory knows is referred to as a member, under the
//!   roster's name. The typed name must be the roster's: otherwise the
//!   refusal says only that the number and the name do not match, never
//!   whose the number is, so the form cannot be used to learn who holds an
//!   ID number (each refusal is audited).
//! - One person is one row instance-wide (a unique index on the ID hash): a
//!   worker referred by two unions is the same reference, and a non-member
//!   who joins the roster later keeps it (it becomes a member reference).
//! - Every org that recorded a reference is kept (`person_ref_orgs`); the
//!   reference is visible to their subtrees and "not found" (audited)
//!   elsewhere. The view ([`PersonRef`]) shows the name, the masked numbers
//!   and the kind — never the member's union or membership, which a caller
//!   outside the member's subtree must not learn.
//! - No birth date or age is stored or shown: the masked ID keeps the first
//!   6 and last 4 characters, and the 8 hidden ones are the birth date, so a
//!   birth date beside it gives the whole number back. Full numbers need
//!   [`Perm::Unmask`] and every [`unmask`] is audited.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::{
    audit::{self, Event},
    crypto::Keys,
    db::Db,
    error::{is_unique_violation, AppError, AppResult},
    ids::OrgId,
    module::BoxFuture,
    scope::{Perm, Scope},
    time,
    tree::{self, OrgNode},
    web::AppState,
};
use ident::{IdKind, IdNumber, ParsedId};

crate::id_type!(PersonRefId);

/// The keyed hash an ID number is found by: the roster's (`persons.id_hash`)
/// and person references' (`person_refs.id_hash`). `id` is the canonical
/// number ([`ParsedId::as_str`]).
pub fn id_lookup_hash(keys: &Keys, id: &str) -> String {
    keys.lookup_hash("id", id)
}

/// The keyed hash of a canonical mobile number (`ident::parse_mobile`).
pub fn phone_lookup_hash(keys: &Keys, phone: &str) -> String {
    keys.lookup_hash("phone", phone)
}

// ───────────────────────────── directories ─────────────────────────────

/// A person a directory knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryHit {
    /// The directory's id of the person (`persons.id` for the roster).
    pub person_id: i64,
    /// The name the directory holds.
    pub name: String,
    /// The org path of the person's current membership; None when they have
    /// none. For the module's own decisions: never shown by a reference.
    pub org_path: Option<String>,
}

/// The persons a module keeps (the roster), looked up by keyed ID hash.
/// Registered through `Module::person_directories`.
pub trait PersonDirectory: Send + Sync + 'static {
    /// The person with this keyed ID hash ([`id_lookup_hash`]), if any.
    fn find<'a>(
        &'a self,
        db: &'a Db,
        id_hash: &'a str,
    ) -> BoxFuture<'a, AppResult<Option<DirectoryHit>>>;
}

/// The first registered directory that knows the person.
async fn find_in_directories(
    directories: &[Arc<dyn PersonDirectory>],
    db: &Db,
    id_hash: &str,
) -> AppResult<Option<DirectoryHit>> {
    for d in directories {
        if let Some(hit) = d.find(db, id_hash).await? {
            return Ok(Some(hit));
        }
    }
    Ok(None)
}

// ───────────────────────────── input ─────────────────────────────

/// What a form says about the person, as typed.
#[derive(Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct PersonInput {
    pub name: String,
    /// 居民身份证 / resident_id / 护照 …; empty means a resident ID card.
    pub id_kind: String,
    pub id_number: String,
    /// A mobile number; empty when not given.
    pub phone: String,
}

/// Never prints the numbers (the input may reach a log through `{:?}`).
impl std::fmt::Debug for PersonInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersonInput")
            .field("name", &self.name)
            .field("id_kind", &self.id_kind)
            .field("id_number", &ident::mask_id(&self.id_number))
            .field("phone", &ident::mask_phone(&self.phone))
            .finish()
    }
}

/// A checked input.
struct Valid {
    name: String,
    id: ParsedId,
    phone: Option<String>,
}

fn ident_refusal(e: &ident::IdError) -> AppError {
    let (zh, en) = e.message();
    AppError::invalid(zh, en)
}

impl PersonInput {
    fn parse(&self) -> AppResult<Valid> {
        let name = self.name.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() {
            return Err(AppError::invalid("姓名不能为空", "The name is empty"));
        }
        if name.chars().count() > 50 {
            return Err(AppError::invalid(
                "姓名过长(最多50字)",
                "The name is too long (50 characters at most)",
            ));
        }
        let kind = match self.id_kind.trim() {
            "" => IdKind::ResidentId,
            s => IdKind::from_label(s).ok_or_else(|| {
                AppError::invalid(
                    format!("证件类型“{s}”无法识别,请选择居民身份证、港澳台居民居住证、护照或其他"),
                    format!("Document type “{s}” is not recognised; choose 居民身份证, 港澳台居民居住证, 护照 or 其他"),
                )
            })?,
        };
        let id = IdNumber::parse_on(kind, &self.id_number, time::today())
            .map_err(|e| ident_refusal(&e))?;
        let phone = match self.phone.trim() {
            "" => None,
            p => Some(ident::parse_mobile(p).map_err(|e| ident_refusal(&e))?),
        };
        Ok(Valid { name, id, phone })
    }
}

/// Names compared as a clerk would: half-width, spaces ignored, Latin
/// letters in any case.
fn same_name(a: &str, b: &str) -> bool {
    ident::squash(a).to_lowercase() == ident::squash(b).to_lowercase()
}

// ───────────────────────────── views ─────────────────────────────

/// Whether the person is on the roster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PersonKind {
    /// 会员: a roster person (`person_id`).
    Member,
    /// 非会员职工: a worker not on the roster.
    NonMember,
    /// Erased with the last record that needed it ([`erase_if_unused`]):
    /// no name, no numbers.
    Erased,
}

impl PersonKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PersonKind::Member => "member",
            PersonKind::NonMember => "non_member",
            PersonKind::Erased => "erased",
        }
    }

    fn parse(s: &str) -> AppResult<PersonKind> {
        match s {
            "member" => Ok(PersonKind::Member),
            "non_member" => Ok(PersonKind::NonMember),
            "erased" => Ok(PersonKind::Erased),
            other => Err(anyhow::anyhow!("person_refs: unknown kind {other:?}").into()),
        }
    }

    /// 会员 / 非会员.
    pub fn label(self) -> crate::i18n::Msg {
        match self {
            PersonKind::Member => crate::i18n::Msg::new("会员", "Member"),
            PersonKind::NonMember => crate::i18n::Msg::new("非会员职工", "Non-member worker"),
            PersonKind::Erased => crate::i18n::Msg::new("已清除", "Erased"),
        }
    }
}

/// A person reference as anyone who may see it sees it: masked numbers,
/// no birth date, no union or membership.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PersonRef {
    #[schema(value_type = i64)]
    pub id: PersonRefId,
    pub kind: PersonKind,
    /// The roster person, for a member.
    pub person_id: Option<i64>,
    pub name: String,
    /// `ident::IdKind::code` (resident_id, passport …).
    pub id_kind: String,
    pub id_masked: String,
    pub phone_masked: Option<String>,
}

/// The full numbers ([`unmask`]). `Debug` keeps them masked.
#[derive(Clone, Serialize, utoipa::ToSchema)]
pub struct PersonUnmasked {
    pub id_number: String,
    pub phone: Option<String>,
}

impl std::fmt::Debug for PersonUnmasked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersonUnmasked")
            .field("id_number", &ident::mask_id(&self.id_number))
            .field("phone", &self.phone.as_deref().map(ident::mask_phone))
            .finish()
    }
}

const SELECT: &str =
    "SELECT id, kind, person_id, name, id_kind, id_masked, phone_masked FROM person_refs";

fn from_row(r: &sqlx::any::AnyRow) -> AppResult<PersonRef> {
    Ok(PersonRef {
        id: PersonRefId(r.try_get("id")?),
        kind: PersonKind::parse(&r.try_get::<String, _>("kind")?)?,
        person_id: r.try_get("person_id")?,
        name: r.try_get("name")?,
        id_kind: r.try_get("id_kind")?,
        id_masked: r.try_get("id_masked")?,
        phone_masked: r.try_get("phone_masked")?,
    })
}

async fn load(db: &Db, id: PersonRefId) -> AppResult<Option<PersonRef>> {
    let row = sqlx::query(&format!("{SELECT} WHERE id = $1"))
        .bind(id.0)
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(from_row).transpose()
}

// ───────────────────────────── service ─────────────────────────────

/// The refusal when the name is not the one the number is held under. It
/// says nothing of the holder: not their name, not whether they are a
/// member, not their union.
fn mismatch() -> AppError {
    AppError::invalid(
        "证件号码与姓名不一致,请核对后重新填写",
        "The ID number and the name do not match; check both and try again",
    )
}

/// What one attempt at writing a reference came to.
enum Written {
    Done(PersonRefId),
    /// The name differs from the one the stored reference holds.
    Mismatch,
    /// Another transaction inserted the same person first: try again.
    Raced,
}

/// Refers to a person from `org_id`'s records: the roster person with this
/// ID number when a directory knows them (the typed name must be theirs),
/// otherwise the one non-member row for the number, created or found (a
/// phone given replaces the stored one). The org must be in the caller's
/// scope; written with its audit entry in one transaction.
pub async fn refer(
    st: &AppState,
    scope: &Scope,
    org_id: OrgId,
    input: &PersonInput,
) -> AppResult<PersonRef> {
    scope.require_write()?;
    let org = tree::node(&st.db, scope, org_id).await?;
    let valid = input.parse()?;
    let id_hash = id_lookup_hash(&st.keys, valid.id.as_str());
    let hit = find_in_directories(st.registry.person_directories(), &st.db, &id_hash).await?;
    if hit
        .as_ref()
        .is_some_and(|h| !same_name(&h.name, &valid.name))
    {
        return Err(refused(&st.db, scope, &org, &valid).await);
    }
    // A concurrent first reference to the same person makes our insert fail
    // on the unique index; the second attempt finds its row.
    for _ in 0..3 {
        match write(st, scope, &org, &valid, &id_hash, hit.as_ref()).await? {
            Written::Done(id) => {
                return load(&st.db, id).await?.ok_or_else(|| {
                    AppError::Internal(anyhow::anyhow!("person_ref {id} vanished"))
                });
            }
            Written::Mismatch => return Err(refused(&st.db, scope, &org, &valid).await),
            Written::Raced => continue,
        }
    }
    Err(anyhow::anyhow!("person_refs: could not insert or find the reference").into())
}

/// Audits a refused name (someone may be trying names against a number) and
/// returns the refusal.
async fn refused(db: &Db, scope: &Scope, org: &OrgNode, v: &Valid) -> AppError {
    let ev = Event::new("person.refer_refused", "person_ref", "")
        .org(org.id)
        .detail(serde_json::json!({
            "reason": "name_mismatch", "name": v.name, "id": v.id.masked(),
        }));
    if let Err(e) = audit::record(db, &scope.actor, ev).await {
        return e;
    }
    mismatch()
}

async fn write(
    st: &AppState,
    scope: &Scope,
    org: &OrgNode,
    v: &Valid,
    id_hash: &str,
    hit: Option<&DirectoryHit>,
) -> AppResult<Written> {
    let keys = &st.keys;
    let now = time::now_rfc3339();
    let user = scope.actor.user_id.map(|u| u.0);
    let phone_hash = v.phone.as_deref().map(|p| phone_lookup_hash(keys, p));
    let region_root: Option<i64> = sqlx::query_scalar("SELECT region_root FROM orgs WHERE id = $1")
        .bind(org.id.0)
        .fetch_optional(st.db.pool())
        .await?
        .flatten();
    let mut tx = st.db.begin_write().await?;
    let existing = sqlx::query("SELECT id, name, phone_hash FROM person_refs WHERE id_hash = $1")
        .bind(id_hash)
        .fetch_optional(&mut *tx.tx)
        .await?;
    // The roster's name for a member, the typed one for a new non-member.
    let name = hit.map_or(v.name.as_str(), |h| h.name.as_str());
    let (kind, person_id) = match hit {
        Some(h) => (PersonKind::Member, Some(h.person_id)),
        None => (PersonKind::NonMember, None),
    };
    let (id, created, phone_changed) = match existing {
        Some(r) => {
            let id: i64 = r.try_get("id")?;
            let stored_name: String = r.try_get("name")?;
            let stored_phone: Option<String> = r.try_get("phone_hash")?;
            match hit {
                // Known to the roster now (perhaps joined since): a member
                // reference under the roster's name, same id as before.
                Some(h) => {
                    sqlx::query(
                        "UPDATE person_refs SET kind = $1, person_id = $2, name = $3, updated_at = $4 WHERE id = $5",
                    )
                    .bind(PersonKind::Member.as_str())
                    .bind(h.person_id)
                    .bind(&h.name)
                    .bind(&now)
                    .bind(id)
                    .execute(&mut *tx.tx)
                    .await?;
                }
                None if !same_name(&stored_name, &v.name) => return Ok(Written::Mismatch),
                None => {}
            }
            // Referred again: the purge keeps a reference referred lately
            // (the record about to point at it is written after this).
            sqlx::query("UPDATE person_refs SET updated_at = $1 WHERE id = $2")
                .bind(&now)
                .bind(id)
                .execute(&mut *tx.tx)
                .await?;
            let phone_changed = phone_hash.is_some() && phone_hash != stored_phone;
            if let (true, Some(p)) = (phone_changed, v.phone.as_deref()) {
                sqlx::query(
                    "UPDATE person_refs SET phone_hash = $1, phone_enc = $2, phone_masked = $3, updated_at = $4 WHERE id = $5",
                )
                .bind(phone_hash.as_deref())
                .bind(keys.encrypt(p))
                .bind(ident::mask_phone(p))
                .bind(&now)
                .bind(id)
                .execute(&mut *tx.tx)
                .await?;
            }
            (id, false, phone_changed)
        }
        None => {
            let inserted = sqlx::query_scalar::<_, i64>(
                "INSERT INTO person_refs (region_root, org_id, org_path, kind, person_id, name, id_kind, \
                 id_hash, id_enc, id_masked, phone_hash, phone_enc, phone_masked, created_by, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15) RETURNING id",
            )
            .bind(region_root)
            .bind(org.id.0)
            .bind(&org.path)
            .bind(kind.as_str())
            .bind(person_id)
            .bind(name)
            .bind(v.id.kind.code())
            .bind(id_hash)
            .bind(keys.encrypt(v.id.as_str()))
            .bind(v.id.masked())
            .bind(phone_hash.as_deref())
            .bind(v.phone.as_deref().map(|p| keys.encrypt(p)))
            .bind(v.phone.as_deref().map(ident::mask_phone))
            .bind(user)
            .bind(&now)
            .fetch_one(&mut *tx.tx)
            .await;
            match inserted {
                Ok(id) => (id, true, v.phone.is_some()),
                Err(e) if is_unique_violation(&e) => return Ok(Written::Raced),
                Err(e) => return Err(e.into()),
            }
        }
    };
    sqlx::query(
        "INSERT INTO person_ref_orgs (ref_id, org_id, org_path, region_root, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (ref_id, org_id) DO NOTHING",
    )
    .bind(id)
    .bind(org.id.0)
    .bind(&org.path)
    .bind(region_root)
    .bind(user)
    .bind(&now)
    .execute(&mut *tx.tx)
    .await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("person.refer", "person_ref", id)
            .org(org.id)
            .detail(serde_json::json!({
                "kind": kind.as_str(), "name": name, "id": v.id.masked(),
                "created": created, "phone_changed": phone_changed,
            })),
    )
    .await?;
    tx.commit().await?;
    Ok(Written::Done(PersonRefId(id)))
}

/// The reference, if the caller's scope holds one of the orgs that recorded
/// it; that org is returned too (for the audit log). Absent: "not found";
/// out of scope: "not found" and audited.
async fn admit(db: &Db, scope: &Scope, id: PersonRefId) -> AppResult<(PersonRef, OrgId)> {
    let r = load(db, id).await?.ok_or(AppError::NotFound)?;
    // The recording orgs' current paths: an org moved since still sees it.
    let orgs: Vec<(i64, String)> = sqlx::query_as(
        "SELECT g.org_id, o.path FROM person_ref_orgs g JOIN orgs o ON o.id = g.org_id \
         WHERE g.ref_id = $1 ORDER BY g.created_at, g.org_id",
    )
    .bind(id.0)
    .fetch_all(db.pool())
    .await?;
    if let Some((org, _)) = orgs.iter().find(|(_, p)| scope.contains_path(p)) {
        return Ok((r, OrgId(*org)));
    }
    let first = orgs.first().map(|(_, p)| p.as_str()).unwrap_or_default();
    scope.admit(db, first, "person_ref", id).await?;
    Err(AppError::NotFound)
}

/// A reference in scope, masked. Not audited: modules show references on
/// their own records, whose views they audit.
pub async fn get(db: &Db, scope: &Scope, id: PersonRefId) -> AppResult<PersonRef> {
    Ok(admit(db, scope, id).await?.0)
}

/// The full ID and phone numbers of a reference in scope: needs
/// [`Perm::Unmask`], and is always audited.
pub async fn unmask(
    db: &Db,
    keys: &Keys,
    scope: &Scope,
    id: PersonRefId,
) -> AppResult<PersonUnmasked> {
    // Outside the subtree "not found" (audited), as for anyone; inside it,
    // the permission decides.
    let (r, org) = admit(db, scope, id).await?;
    if !scope.has(Perm::Unmask) {
        return Err(AppError::forbidden(
            "您没有查看完整证件号码和手机号码的权限",
            "You are not allowed to see full ID and phone numbers",
        ));
    }
    let row = sqlx::query("SELECT id_enc, phone_enc FROM person_refs WHERE id = $1")
        .bind(id.0)
        .fetch_one(db.pool())
        .await?;
    let id_enc: String = row.try_get("id_enc")?;
    let phone_enc: Option<String> = row.try_get("phone_enc")?;
    let out = PersonUnmasked {
        id_number: keys.decrypt(&id_enc)?,
        phone: phone_enc.map(|p| keys.decrypt(&p)).transpose()?,
    };
    audit::record(
        db,
        &scope.actor,
        Event::new("person.unmask", "person_ref", id)
            .org(org)
            .detail(serde_json::json!({"name": r.name, "kind": r.kind.as_str()})),
    )
    .await?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        module::{Migration, Module, Registry},
        scope::{Actor, Role},
        testing::TestEnv,
    };

    /// Valid resident IDs (GB 11643 check characters right).
    const ID_A: &str = "11010219840406970X";
    const ID_B: &str = "110102198405069701";
    const PHONE: &str = "13800138000";

    /// A roster as a module would keep it.
    struct TestRoster;

    impl PersonDirectory for TestRoster {
        fn find<'a>(
            &'a self,
            db: &'a Db,
            id_hash: &'a str,
        ) -> BoxFuture<'a, AppResult<Option<DirectoryHit>>> {
            Box::pin(async move {
                let row: Option<(i64, String, Option<String>)> =
                    sqlx::query_as("SELECT id, name, org_path FROM test_roster WHERE id_hash = $1")
                        .bind(id_hash)
                        .fetch_optional(db.pool())
                        .await?;
                Ok(row.map(|(person_id, name, org_path)| DirectoryHit {
                    person_id,
                    name,
                    org_path,
                }))
            })
        }
    }

    const TEST_MIGRATIONS: &[Migration] = &[Migration {
        version: 1,
        name: "test_roster",
        sql: "CREATE TABLE test_roster (id ID_PK, name TEXT NOT NULL, id_hash TEXT NOT NULL, org_path TEXT);",
    }];

    fn test_module() -> Module {
        Module {
            migrations: TEST_MIGRATIONS,
            person_directories: || vec![Arc::new(TestRoster) as Arc<dyn PersonDirectory>],
            ..Module::new("person_test")
        }
    }

    /// City /1/, county /1/2/ with its union /1/2/4/, other county /1/3/.
    async fn setup() -> TestEnv {
        let env = crate::testing::env(Arc::new(Registry::new(vec![test_module()])))
            .await
            .unwrap();
        let now = time::now_rfc3339();
        for (id, parent, path, root) in [
            (1i64, None, "/1/", None),
            (2, Some(1i64), "/1/2/", Some(2i64)),
            (3, Some(1), "/1/3/", Some(3)),
            (4, Some(2), "/1/2/4/", Some(2)),
        ] {
            sqlx::query(
                "INSERT INTO orgs (id, code, name, level, parent_id, path, region_root, created_at, updated_at) \
                 VALUES ($1, $2, $3, 'county', $4, $5, $6, $7, $7)",
            )
            .bind(id)
            .bind(format!("T{id}"))
            .bind(format!("工会{id}"))
            .bind(parent)
            .bind(path)
            .bind(root)
            .bind(&now)
            .execute(env.state.db.pool())
            .await
            .unwrap();
        }
        env
    }

    /// Puts a person on the test roster, as a member of the union at `path`.
    async fn enrol(env: &TestEnv, name: &str, id: &str, path: &str) -> i64 {
        sqlx::query_scalar(
            "INSERT INTO test_roster (name, id_hash, org_path) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(name)
        .bind(id_lookup_hash(&env.state.keys, id))
        .bind(path)
        .fetch_one(env.state.db.pool())
        .await
        .unwrap()
    }

    fn scope_with(org: i64, path: &str, role: Role, perms: &str) -> Scope {
        let actor = Actor {
            user_id: None,
            name: format!("t{org}"),
            ip: "127.0.0.1".into(),
        };
        Scope::new(actor, OrgId(org), path.into(), role, perms)
    }
    fn staff(org: i64, path: &str) -> Scope {
        scope_with(org, path, Role::Staff, "")
    }

    fn input(name: &str, id: &str, phone: &str) -> PersonInput {
        PersonInput {
            name: name.into(),
            id_kind: String::new(),
            id_number: id.into(),
            phone: phone.into(),
        }
    }

    async fn count(env: &TestEnv, sql: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT CAST(({sql}) AS BIGINT)"))
            .fetch_one(env.state.db.pool())
            .await
            .unwrap()
    }

    fn assert_invalid<T: std::fmt::Debug>(r: AppResult<T>, needle: &str) -> crate::i18n::Msg {
        match r {
            Err(AppError::Invalid(m)) => {
                assert!(m.zh.contains(needle), "{m:?}");
                m
            }
            other => panic!("expected a refusal containing {needle:?}, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn person_non_member_referred_from_two_unions_is_one_row() {
        let env = setup().await;
        let st = &env.state;
        let a = refer(st, &staff(4, "/1/2/4/"), OrgId(4), &input("王五", ID_A, ""))
            .await
            .unwrap();
        assert_eq!(a.kind, PersonKind::NonMember);
        assert_eq!(a.person_id, None);
        assert_eq!(a.name, "王五");
        assert_eq!(a.id_masked, "**************970X");
        assert_eq!(a.phone_masked, None);
        // The other county, typing the number its own way, with a phone.
        let b = refer(
            st,
            &staff(3, "/1/3/"),
            OrgId(3),
            &input(" 王 五 ", "11010219840406970x", "+86 138-0013-8000"),
        )
        .await
        .unwrap();
        assert_eq!(b.id, a.id, "the same person, the same reference");
        assert_eq!(b.phone_masked.as_deref(), Some("138****8000"));
        assert_eq!(count(&env, "SELECT COUNT(*) FROM person_refs").await, 1);
        assert_eq!(count(&env, "SELECT COUNT(*) FROM person_ref_orgs").await, 2);
        // Referred again by the first union: still one row, one grant each.
        refer(st, &staff(4, "/1/2/4/"), OrgId(4), &input("王五", ID_A, ""))
            .await
            .unwrap();
        assert_eq!(count(&env, "SELECT COUNT(*) FROM person_ref_orgs").await, 2);
        // Both see it (the phone the other gave, masked); so does the county above.
        for s in [staff(4, "/1/2/4/"), staff(3, "/1/3/"), staff(2, "/1/2/")] {
            let r = get(&st.db, &s, a.id).await.unwrap();
            assert_eq!(r.phone_masked.as_deref(), Some("138****8000"));
        }
        assert_eq!(
            count(
                &env,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'person.refer'"
            )
            .await,
            3
        );
        // A different name for the same number is refused, as for a member.
        let m = assert_invalid(
            refer(st, &staff(3, "/1/3/"), OrgId(3), &input("赵六", ID_A, "")).await,
            "证件号码与姓名不一致",
        );
        assert!(!m.zh.contains("王五") && !m.en.contains("王五"), "{m:?}");
        assert_eq!(
            get(&st.db, &staff(3, "/1/3/"), a.id).await.unwrap().name,
            "王五"
        );
        assert!(crate::audit::verify(&st.db)
            .await
            .unwrap()
            .problems
            .is_empty());
    }

    #[tokio::test]
    async fn person_member_is_found_by_id_and_shown_without_their_union() {
        let env = setup().await;
        let st = &env.state;
        let pid = enrol(&env, "张三", ID_A, "/1/2/4/").await;
        // Referred from the other county: a member, the roster's person.
        let r = refer(
            st,
            &staff(3, "/1/3/"),
            OrgId(3),
            &input("张 三", ID_A, PHONE),
        )
        .await
        .unwrap();
        assert_eq!(r.kind, PersonKind::Member);
        assert_eq!(r.person_id, Some(pid));
        assert_eq!(r.name, "张三", "the roster's name");
        let json = serde_json::to_string(&r).unwrap();
        for leak in ["/1/2/", "工会4", "T4", "1984", "0406"] {
            assert!(!json.contains(leak), "{leak} in {json}");
        }
        // A non-member who joins the roster keeps their reference.
        let n = refer(st, &staff(3, "/1/3/"), OrgId(3), &input("李四", ID_B, ""))
            .await
            .unwrap();
        assert_eq!(n.kind, PersonKind::NonMember);
        let pid_b = enrol(&env, "李四", ID_B, "/1/2/4/").await;
        let m = refer(st, &staff(4, "/1/2/4/"), OrgId(4), &input("李四", ID_B, ""))
            .await
            .unwrap();
        assert_eq!(
            (m.id, m.kind, m.person_id),
            (n.id, PersonKind::Member, Some(pid_b))
        );
        assert_eq!(count(&env, "SELECT COUNT(*) FROM person_refs").await, 2);
    }

    #[tokio::test]
    async fn person_wrong_name_for_a_members_id_is_refused_without_naming_the_holder() {
        let env = setup().await;
        let st = &env.state;
        enrol(&env, "张三", ID_A, "/1/2/4/").await;
        let audit_before = count(&env, "SELECT COUNT(*) FROM audit_log").await;
        let m = assert_invalid(
            refer(
                st,
                &staff(3, "/1/3/"),
                OrgId(3),
                &input("李四", ID_A, PHONE),
            )
            .await,
            "证件号码与姓名不一致",
        );
        for leak in ["张", "会员", "工会", "member", "union"] {
            assert!(
                !m.zh.contains(leak) && !m.en.to_lowercase().contains(leak),
                "{leak}: {m:?}"
            );
        }
        assert_eq!(count(&env, "SELECT COUNT(*) FROM person_refs").await, 0);
        assert_eq!(count(&env, "SELECT COUNT(*) FROM person_ref_orgs").await, 0);
        // The attempt is audited (names may be being tried against a number).
        assert_eq!(
            count(&env, "SELECT COUNT(*) FROM audit_log").await,
            audit_before + 1
        );
        let detail: String = sqlx::query_scalar(
            "SELECT detail FROM audit_log WHERE action = 'person.refer_refused'",
        )
        .fetch_one(st.db.pool())
        .await
        .unwrap();
        assert!(
            detail.contains("**************970X") && !detail.contains(ID_A),
            "{detail}"
        );
    }

    #[tokio::test]
    async fn person_invalid_input_is_refused_clearly_and_nothing_is_written() {
        let env = setup().await;
        let st = &env.state;
        let s = staff(4, "/1/2/4/");
        let audit_before = count(&env, "SELECT COUNT(*) FROM audit_log").await;
        // The check character of 11010219840506970X is not X.
        let m = assert_invalid(
            refer(st, &s, OrgId(4), &input("王五", "11010219840506970X", "")).await,
            "校验位",
        );
        assert!(m.en.contains("check character"), "{m:?}");
        assert_invalid(
            refer(st, &s, OrgId(4), &input("王五", "", "")).await,
            "为空",
        );
        assert_invalid(refer(st, &s, OrgId(4), &input(" ", ID_A, "")).await, "姓名");
        assert_invalid(
            refer(st, &s, OrgId(4), &input("王五", ID_A, "12345")).await,
            "手机",
        );
        let mut i = input("王五", ID_A, "");
        i.id_kind = "驾照".into();
        assert_invalid(refer(st, &s, OrgId(4), &i).await, "证件类型");
        assert_eq!(count(&env, "SELECT COUNT(*) FROM person_refs").await, 0);
        assert_eq!(
            count(&env, "SELECT COUNT(*) FROM audit_log").await,
            audit_before
        );
        // A passport is taken as written (upper-cased).
        let mut p = input("John Smith", "e1234567", "");
        p.id_kind = "护照".into();
        let r = refer(st, &s, OrgId(4), &p).await.unwrap();
        assert_eq!(
            (r.id_kind.as_str(), r.id_masked.as_str()),
            ("passport", "******67")
        );
    }

    #[tokio::test]
    async fn person_outside_the_recording_subtree_is_not_found_and_audited() {
        let env = setup().await;
        let st = &env.state;
        let r = refer(
            st,
            &staff(4, "/1/2/4/"),
            OrgId(4),
            &input("王五", ID_A, PHONE),
        )
        .await
        .unwrap();
        let denied = "SELECT COUNT(*) FROM audit_log WHERE action = 'scope.denied' AND object_type = 'person_ref'";
        assert!(matches!(
            get(&st.db, &staff(3, "/1/3/"), r.id).await,
            Err(AppError::NotFound)
        ));
        assert_eq!(count(&env, denied).await, 1);
        let admin3 = scope_with(3, "/1/3/", Role::Admin, "");
        assert!(matches!(
            unmask(&st.db, &st.keys, &admin3, r.id).await,
            Err(AppError::NotFound)
        ));
        assert_eq!(count(&env, denied).await, 2);
        // Absent answers the same, unaudited.
        assert!(matches!(
            get(&st.db, &staff(3, "/1/3/"), PersonRefId(999)).await,
            Err(AppError::NotFound)
        ));
        assert_eq!(count(&env, denied).await, 2);
        // Recording from an org outside the scope: not found, audited as an org.
        assert!(matches!(
            refer(st, &staff(3, "/1/3/"), OrgId(4), &input("王五", ID_A, "")).await,
            Err(AppError::NotFound)
        ));
        assert_eq!(
            count(&env, "SELECT COUNT(*) FROM audit_log WHERE action = 'scope.denied' AND object_type = 'org'").await,
            1
        );
        // Read-only roles see but do not refer.
        let auditor = scope_with(2, "/1/2/", Role::Auditor, "");
        assert_eq!(get(&st.db, &auditor, r.id).await.unwrap().id, r.id);
        assert!(matches!(
            refer(st, &auditor, OrgId(2), &input("李四", ID_B, "")).await,
            Err(AppError::Forbidden(_))
        ));
        assert_eq!(count(&env, "SELECT COUNT(*) FROM person_ref_orgs").await, 1);
    }

    #[tokio::test]
    async fn person_unmask_needs_the_permission_and_is_audited() {
        let env = setup().await;
        let st = &env.state;
        let r = refer(
            st,
            &staff(4, "/1/2/4/"),
            OrgId(4),
            &input("王五", ID_A, PHONE),
        )
        .await
        .unwrap();
        let unmasks = "SELECT COUNT(*) FROM audit_log WHERE action = 'person.unmask'";
        assert!(matches!(
            unmask(&st.db, &st.keys, &staff(4, "/1/2/4/"), r.id).await,
            Err(AppError::Forbidden(_))
        ));
        assert_eq!(AppError::forbidden("", "").status(), 403);
        assert_eq!(count(&env, unmasks).await, 0);
        let granted = scope_with(2, "/1/2/", Role::Staff, "unmask");
        let full = unmask(&st.db, &st.keys, &granted, r.id).await.unwrap();
        assert_eq!(full.id_number, ID_A);
        assert_eq!(full.phone.as_deref(), Some(PHONE));
        assert!(!format!("{full:?}").contains(ID_A), "Debug stays masked");
        assert!(!format!("{:?}", input("王五", ID_A, PHONE)).contains(PHONE));
        assert_eq!(count(&env, unmasks).await, 1);
        let (org, object): (Option<i64>, String) = sqlx::query_as(
            "SELECT org_id, object_id FROM audit_log WHERE action = 'person.unmask'",
        )
        .fetch_one(st.db.pool())
        .await
        .unwrap();
        assert_eq!((org, object), (Some(4), r.id.to_string()));
    }

    #[tokio::test]
    async fn person_nothing_is_stored_in_clear() {
        let env = setup().await;
        let st = &env.state;
        enrol(&env, "张三", ID_B, "/1/2/4/").await;
        refer(
            st,
            &staff(4, "/1/2/4/"),
            OrgId(4),
            &input("王五", ID_A, PHONE),
        )
        .await
        .unwrap();
        refer(
            st,
            &staff(3, "/1/3/"),
            OrgId(3),
            &input("张三", ID_B, "13912345678"),
        )
        .await
        .unwrap();
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT region_root || '|' || org_id || '|' || org_path || '|' || kind || '|' || COALESCE(person_id, 0) \
             || '|' || name || '|' || id_kind || '|' || id_hash || '|' || id_enc || '|' || id_masked || '|' \
             || COALESCE(phone_hash, '') || '|' || COALESCE(phone_enc, '') || '|' || COALESCE(phone_masked, '') \
             || '|' || created_at || '|' || updated_at FROM person_refs",
        )
        .fetch_all(st.db.pool())
        .await
        .unwrap();
        assert_eq!(rows.len(), 2);
        let audit: Vec<String> = sqlx::query_scalar("SELECT detail FROM audit_log")
            .fetch_all(st.db.pool())
            .await
            .unwrap();
        for text in rows.iter().chain(&audit) {
            for secret in [
                ID_A,
                ID_B,
                PHONE,
                "13912345678",
                "19840406",
                "19840506",
                "0138",
            ] {
                assert!(!text.contains(secret), "{secret} in {text}");
            }
        }
        // The roster's hash: a module finds the reference the way it finds the person.
        let h: String = sqlx::query_scalar("SELECT id_hash FROM person_refs WHERE name = '王五'")
            .fetch_one(st.db.pool())
            .await
            .unwrap();
        assert_eq!(h, st.keys.lookup_hash("id", ID_A));
        let cols: i64 = count(
            &env,
            "SELECT COUNT(*) FROM person_refs WHERE phone_enc LIKE 'v1.%' AND id_enc LIKE 'v1.%'",
        )
        .await;
        assert_eq!(cols, 2);
    }

    /// Unions racing to refer the same new worker (truly concurrent on
    /// PostgreSQL): one insert wins, the others find its row.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn person_concurrent_first_references_make_one_row() {
        let env = setup().await;
        let mut set = tokio::task::JoinSet::new();
        for i in 0..8i64 {
            let st = env.state.clone();
            let (org, path) = if i % 2 == 0 {
                (3, "/1/3/")
            } else {
                (4, "/1/2/4/")
            };
            set.spawn(async move {
                refer(&st, &staff(org, path), OrgId(org), &input("王五", ID_A, ""))
                    .await
                    .map(|r| r.id)
            });
        }
        let mut ids = Vec::new();
        while let Some(r) = set.join_next().await {
            ids.push(r.unwrap().unwrap());
        }
        ids.dedup();
        assert_eq!(ids.len(), 1, "{ids:?}");
        assert_eq!(count(&env, "SELECT COUNT(*) FROM person_refs").await, 1);
        assert_eq!(count(&env, "SELECT COUNT(*) FROM person_ref_orgs").await, 2);
        assert_eq!(
            count(
                &env,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'person.refer'"
            )
            .await,
            8
        );
        assert!(crate::audit::verify(&env.state.db)
            .await
            .unwrap()
            .problems
            .is_empty());
    }

    #[test]
    fn person_names_compare_as_a_clerk_would() {
        assert!(same_name("张 三", "张三"));
        assert!(same_name("John  SMITH", "john smith"));
        assert!(same_name("ＡＢ", "ab"), "full-width");
        assert!(!same_name("张三", "张叁"));
    }

    #[test]
    fn person_registry_collects_directories() {
        let r = Registry::new(vec![test_module(), Module::new("person_test_other")]);
        assert_eq!(r.person_directories().len(), 1);
    }
}

// ───────────────────────────── person groups ─────────────────────────────

/// A group of persons one module keeps and another may serve: 困难职工 are
/// those with an open hardship file, 劳模 those with a title the model-worker
/// module records. A module that offers something to a group (a merchant's
/// offer, a voucher campaign) names the group by key and never reads the
/// keeping module's tables itself: the keeping module declares the group
/// here (`Module::person_groups`), as a query of the keyed ID hashes
/// (`persons.id_hash`, `person_refs.id_hash`) of the persons in it today.
#[derive(Clone, Copy, Debug)]
pub struct PersonGroup {
    /// Stable key, stored on the serving module's records ("hardship").
    pub key: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    /// `SELECT … AS id_hash, … AS org_path FROM …` with no parameters: the
    /// persons in the group and the path of the org that keeps each there
    /// (the union holding the hardship file). The registry checks the
    /// column names; `tests/it/kit.rs` that it runs on both backends.
    pub id_hashes: &'static str,
}

impl PersonGroup {
    /// `<column> IN (…)` for a WHERE clause: the persons the group's orgs
    /// under `path_like` (a bound parameter such as `$1`, a LIKE pattern)
    /// keep in it — so a union selecting 困难职工 learns only of files its
    /// own subtree keeps, never of another county's.
    pub fn condition_within(&self, column: &str, path_like: &str) -> String {
        format!(
            "{column} IN (SELECT g.id_hash FROM ({}) g WHERE g.org_path LIKE {path_like})",
            self.id_hashes
        )
    }

    /// The count [`PersonGroup::holds`] asks (`$1`: the ID hash), for a
    /// writer on its own SQLite connection to ask the same.
    pub fn holds_sql(&self) -> String {
        format!(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM ({}) g WHERE g.id_hash = $1",
            self.id_hashes
        )
    }

    /// Whether the person with this keyed ID hash is in the group now,
    /// kept by any org (the member at the counter is served wherever the
    /// file is; the answer is only yes or no).
    pub async fn holds(&self, conn: &mut sqlx::AnyConnection, id_hash: &str) -> AppResult<bool> {
        let n: i64 = sqlx::query_scalar(&self.holds_sql())
            .bind(id_hash)
            .fetch_one(conn)
            .await?;
        Ok(n > 0)
    }
}

// ───────────────────────────── erasing ─────────────────────────────

/// Every (table, column) whose foreign key points at `person_refs(id)`,
/// read from the database's own catalogue, so a module added later is
/// counted without being named here.
async fn referring_columns(conn: &mut sqlx::AnyConnection) -> AppResult<Vec<(String, String)>> {
    let sql = if crate::sqlx_util::is_sqlite(&*conn) {
        "SELECT m.name, p.\"from\" FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) p \
         WHERE m.type = 'table' AND p.\"table\" = 'person_refs'"
    } else {
        // pg_constraint, not information_schema: the latter lists only the
        // constraints of tables the connecting role owns.
        "SELECT CAST(t.relname AS TEXT), CAST(a.attname AS TEXT) FROM pg_constraint c \
         JOIN pg_class t ON t.oid = c.conrelid \
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey) \
         WHERE c.contype = 'f' AND c.confrelid = CAST('person_refs' AS regclass)"
    };
    let rows: Vec<(String, String)> = sqlx::query_as(sql).fetch_all(&mut *conn).await?;
    Ok(rows
        .into_iter()
        .filter(|(t, c)| {
            // Names go into SQL below: only plain identifiers.
            let plain = |s: &str| {
                !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            };
            t != "person_ref_orgs" && plain(t) && plain(c)
        })
        .collect())
}

/// Erases a person reference in place — name, ID and phone numbers, their
/// hashes and the link to the roster; the orgs that recorded it — when no
/// record still needs it: no row of any table refers to it except the
/// caller's rows that `done` selects in `table` (records purged of their
/// personal data, which keep pointing at the erased row so their foreign
/// key holds). Returns whether it was erased. Inside the caller's
/// transaction; the caller audits.
pub async fn erase_if_unused(
    conn: &mut sqlx::AnyConnection,
    id: PersonRefId,
    table: &str,
    done: &str,
) -> AppResult<bool> {
    let columns = referring_columns(conn).await?;
    // The caller's own table must be among them, or the catalogue was not
    // read as expected: erase nothing rather than everything.
    if !columns.iter().any(|(t, _)| t == table) {
        return Err(anyhow::anyhow!(
            "person_refs: the foreign keys of {table} were not found in the catalogue"
        )
        .into());
    }
    for (t, c) in columns {
        let sql = if t == table {
            format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {t} WHERE {c} = $1 AND NOT ({done})")
        } else {
            format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {t} WHERE {c} = $1")
        };
        let n: i64 = sqlx::query_scalar(&sql)
            .bind(id.0)
            .fetch_one(&mut *conn)
            .await?;
        if n > 0 {
            return Ok(false);
        }
    }
    // The ID hash keeps its unique index: a per-row placeholder, which no
    // keyed hash (hex) can equal. The same person referred again later is
    // a new reference. A reference referred in the last day is kept: the
    // record a `refer` is for is written in a later transaction.
    let recent = time::to_rfc3339(time::now() - chrono::Duration::days(1));
    let erased = sqlx::query(
        "UPDATE person_refs SET kind = 'erased', person_id = NULL, name = '', \
         id_hash = 'erased:' || CAST(id AS TEXT), id_enc = '', id_masked = '', phone_hash = NULL, \
         phone_enc = NULL, phone_masked = NULL, updated_at = $1 WHERE id = $2 AND updated_at < $3",
    )
    .bind(time::now_rfc3339())
    .bind(id.0)
    .bind(recent)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if erased {
        sqlx::query("DELETE FROM person_ref_orgs WHERE ref_id = $1")
            .bind(id.0)
            .execute(&mut *conn)
            .await?;
    }
    Ok(erased)
}
