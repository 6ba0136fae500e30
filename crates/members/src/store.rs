//! Member storage and service functions. Every query is scoped: the
//! memberships visible to a caller are those of unions under its org path.
//!
//! All roster writes — Excel import, the single-member form, approving an
//! online application or a transfer — go through [`apply`], so the
//! one-person-one-membership rule and the 会籍变化 history are kept the same
//! way everywhere.

use crate::ids::{MembershipId, OrgId};
use std::collections::HashMap;

use serde::Serialize;
use sqlx::{AnyConnection, Row};

use super::model::{self, ChangeKind, MemberRow, Sealed};
use crate::vocab::RetirementRule;
use ident::{self, IdKind, IdNumber};
use {
    ::orgs::{model::OrgLevel, store as orgs},
    platform::{
        audit::{self, Event},
        crypto::Keys,
        dataver,
        db::Db,
        error::{AppError, AppResult},
        i18n::Msg,
        scope::{Perm, Scope},
        sqlx_util::{bind_all, insert_many, placeholders, placeholders_for, V},
        time,
    },
};

/// Active (or retained) memberships held directly in one org; used by the
/// org tree to refuse closing a union that still has members.
pub async fn retirement_rule(db: &Db) -> AppResult<RetirementRule> {
    let rows = sqlx::query("SELECT key, value FROM settings WHERE key LIKE 'retirement.%'")
        .fetch_all(db.pool())
        .await?;
    let mut rule = RetirementRule::default();
    for r in rows {
        let k: String = r.try_get("key")?;
        let v: String = r.try_get("value")?;
        if let Ok(n) = v.parse() {
            match k.as_str() {
                "retirement.male" => rule.male_age = n,
                "retirement.female" => rule.female_age = n,
                _ => {}
            }
        }
    }
    Ok(rule)
}

/// A union a member can belong to, as the caller's scope sees it.
#[derive(Clone, Debug)]
pub struct UnionRef {
    pub id: OrgId,
    pub code: String,
    pub name: String,
    pub path: String,
    pub level: OrgLevel,
    pub closed: bool,
}

/// The orgs of a scope, by code and id, loaded once per import.
pub struct Unions {
    by_code: HashMap<String, UnionRef>,
    by_id: HashMap<i64, UnionRef>,
}

impl Unions {
    pub async fn load(db: &Db, scope: &Scope) -> AppResult<Unions> {
        let list = orgs::list_subtree(db, scope).await?;
        let mut by_code = HashMap::with_capacity(list.len());
        let mut by_id = HashMap::with_capacity(list.len());
        for o in list {
            let u = UnionRef {
                id: o.id,
                closed: o.is_closed(),
                code: o.code,
                name: o.name,
                path: o.path,
                level: o.level,
            };
            by_id.insert(u.id.0, u.clone());
            by_code.insert(u.code.clone(), u);
        }
        Ok(Unions { by_code, by_id })
    }

    pub fn by_code(&self, code: &str) -> Option<&UnionRef> {
        self.by_code.get(&code.trim().to_ascii_uppercase())
    }

    /// The union a row names (or the default), if it can hold members.
    pub fn resolve(&self, code: &str, default: Option<&str>) -> Result<&UnionRef, Msg> {
        let code = if code.is_empty() {
            default.unwrap_or("")
        } else {
            code
        };
        if code.is_empty() {
            return Err(Msg::new(
                "未填写所属工会编码,请填写会员所在基层工会的编码",
                "所属工会编码 is empty; fill in the code of the member's grassroots union",
            ));
        }
        let u = self.by_code(code).ok_or_else(|| {
            Msg::new(
                format!("所属工会编码“{code}”不存在或不在您的管辖范围内,请核对编码"),
                format!(
                    "Union code “{code}” does not exist or is outside your scope; check the code"
                ),
            )
        })?;
        if u.level != OrgLevel::Grassroots {
            return Err(Msg::new(
                format!("“{}”不是基层工会,会员须登记在基层工会", u.name),
                format!(
                    "“{}” is not a grassroots union; members belong to grassroots unions",
                    u.name
                ),
            ));
        }
        if u.closed {
            return Err(Msg::new(
                format!("“{}”已撤销,不能登记会员", u.name),
                format!("“{}” is closed", u.name),
            ));
        }
        Ok(u)
    }
}

/// A validated row with its hashes, ready for [`apply`].
pub struct Prepared {
    pub line: usize,
    pub row: MemberRow,
    pub sealed: Sealed,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    New(MembershipId),
    Updated(MembershipId),
    Unchanged(MembershipId),
    Rejected(Msg),
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub new: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
}

impl Counts {
    pub fn add(&mut self, o: &Outcome) {
        match o {
            Outcome::New(_) => self.new += 1,
            Outcome::Updated(_) => self.updated += 1,
            Outcome::Unchanged(_) => self.unchanged += 1,
            Outcome::Rejected(_) => self.rejected += 1,
        }
    }
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "new={} updated={} unchanged={} rejected={}",
            self.new, self.updated, self.unchanged, self.rejected
        )
    }
}

/// A person already in the database, found by ID hash.
pub(super) struct Existing {
    pub person_id: i64,
    pub row_hash: String,
}

/// A membership already in the database.
pub(super) struct ExistingMembership {
    pub id: i64,
    pub person_id: i64,
    pub org_id: i64,
    pub status: String,
}

/// What the database holds about a batch's people: persons by ID hash and
/// all their memberships (oldest first) by person id.
#[derive(Default)]
pub(super) struct Known {
    pub persons: HashMap<String, Existing>,
    pub memberships: HashMap<i64, Vec<ExistingMembership>>,
}

/// An existing membership whose status a row changes, with its 会籍变化 event.
pub(super) struct StatusChange {
    pub row: usize,
    pub membership: i64,
    pub status: &'static str,
    pub event: &'static str,
}

/// What [`apply`] does with a batch, decided from the rows and [`Known`]
/// alone, so the portable writer and the SQLite bulk writer
/// (`members::bulk`) apply exactly the same rules.
pub(super) struct Plan<'u> {
    /// Decided outcomes; `None` for rows that get a new membership until the writer has its id.
    pub out: Vec<Option<Outcome>>,
    /// The union each accepted row goes to.
    pub target: Vec<Option<&'u UnionRef>>,
    pub new_persons: Vec<usize>,
    /// (row, person id) of existing persons whose stored fields change.
    pub update_persons: Vec<(usize, i64)>,
    pub new_memberships: Vec<usize>,
    pub status_changes: Vec<StatusChange>,
    /// Person id by ID hash: the existing persons; writers add the new ones.
    pub person_ids: HashMap<String, i64>,
    /// Orgs whose figures the batch may change, for the statistics cache
    /// (`platform::dataver::touch`, which every writer calls in its
    /// transaction): the unions of rows that write something, and every org
    /// where an updated person has (or had) a membership.
    pub touched: Vec<i64>,
}

impl Plan<'_> {
    pub fn person_id(&self, p: &Prepared) -> i64 {
        self.person_ids[p.sealed.id_hash.as_str()]
    }

    pub fn org_id(&self, row: usize) -> i64 {
        self.target[row].expect("accepted rows have a union").id.0
    }

    pub fn into_outcomes(self) -> Vec<Outcome> {
        self.out
            .into_iter()
            .map(|o| o.expect("every row decided"))
            .collect()
    }
}

/// Reserves `n` consecutive numbers of a counter; returns the first.
pub async fn reserve(conn: &mut AnyConnection, key: &str, n: i64) -> AppResult<i64> {
    let v: String = sqlx::query_scalar(RESERVE_SQL)
        .bind(n)
        .bind(key)
        .fetch_one(&mut *conn)
        .await?;
    first_reserved(key, &v, n)
}

pub(super) const RESERVE_SQL: &str =
    "UPDATE settings SET value = CAST(CAST(value AS BIGINT) + $1 AS TEXT) WHERE key = $2 RETURNING value";

/// The first of `n` numbers reserved, from the counter's new value.
pub(super) fn first_reserved(key: &str, last: &str, n: i64) -> AppResult<i64> {
    let last: i64 = last
        .parse()
        .map_err(|_| anyhow::anyhow!("counter {key} is not a number"))?;
    Ok(last - n + 1)
}

pub fn member_no(n: i64) -> String {
    format!("M{n:010}")
}

fn elsewhere(unions: &Unions, org_id: i64) -> Msg {
    match unions.by_id.get(&org_id) {
        Some(u) => Msg::new(
            format!("此人已是“{}”的在籍会员(一人只能有一个会籍),如需调入请办理转会", u.name),
            format!("This person is already an active member of “{}” (one membership per person); start a transfer instead", u.name),
        ),
        None => Msg::new(
            "此人已是其他工会的在籍会员(一人只能有一个会籍),如需调入请办理转会",
            "This person is already an active member of another union (one membership per person); start a transfer instead",
        ),
    }
}

/// Applies validated rows inside the caller's transaction. Rows must have
/// distinct ID hashes (the caller rejects duplicates within a file).
pub async fn apply(
    conn: &mut AnyConnection,
    unions: &Unions,
    default_org: Option<&str>,
    rows: &[Prepared],
    job: Option<i64>,
) -> AppResult<Vec<Outcome>> {
    let (outcomes, touched) = apply_batch(conn, unions, default_org, rows, job).await?;
    dataver::touch(conn, touched).await?;
    Ok(outcomes)
}

/// [`apply`] without the data-version bump: returns the orgs to bump, which
/// the caller must pass to `dataver::touch` before it commits. An import
/// bumps once for the whole file — on PostgreSQL every update of a version
/// row in one long transaction adds a row version the next has to walk past.
pub(super) async fn apply_batch(
    conn: &mut AnyConnection,
    unions: &Unions,
    default_org: Option<&str>,
    rows: &[Prepared],
    job: Option<i64>,
) -> AppResult<(Vec<Outcome>, Vec<i64>)> {
    let known = lookup(conn, rows).await?;
    let plan = decide(unions, default_org, rows, known);
    write(conn, rows, plan, job).await
}

/// The persons of `rows` already stored, and their memberships.
async fn lookup(conn: &mut AnyConnection, rows: &[Prepared]) -> AppResult<Known> {
    let mut known = Known::default();
    let hashes: Vec<&str> = rows.iter().map(|p| p.sealed.id_hash.as_str()).collect();
    for chunk in hashes.chunks(500) {
        let sql = format!(
            "SELECT id, id_hash, row_hash FROM persons WHERE id_hash IN ({})",
            placeholders(0, chunk.len())
        );
        let vals: Vec<V> = chunk.iter().map(|h| V::from(*h)).collect();
        for r in bind_all(sqlx::query(&sql), &vals)
            .fetch_all(&mut *conn)
            .await?
        {
            known.persons.insert(
                r.try_get("id_hash")?,
                Existing {
                    person_id: r.try_get("id")?,
                    row_hash: r.try_get("row_hash")?,
                },
            );
        }
    }
    let pids: Vec<i64> = known.persons.values().map(|e| e.person_id).collect();
    for chunk in pids.chunks(500) {
        let sql = format!(
            "SELECT id, person_id, org_id, status FROM memberships WHERE person_id IN ({}) ORDER BY id",
            placeholders_for(conn, chunk.len())
        );
        let vals: Vec<V> = chunk.iter().map(|p| V::I(*p)).collect();
        for r in bind_all(sqlx::query(&sql), &vals)
            .fetch_all(&mut *conn)
            .await?
        {
            let m = ExistingMembership {
                id: r.try_get("id")?,
                person_id: r.try_get("person_id")?,
                org_id: r.try_get("org_id")?,
                status: r.try_get("status")?,
            };
            known.memberships.entry(m.person_id).or_default().push(m);
        }
    }
    Ok(known)
}

/// The union's rules for a batch: one active membership per person,
/// re-imports unchanged, 会籍变化 only where the status really changes.
pub(super) fn decide<'u>(
    unions: &'u Unions,
    default_org: Option<&str>,
    rows: &[Prepared],
    known: Known,
) -> Plan<'u> {
    let mut plan = Plan {
        out: vec![None; rows.len()],
        target: vec![None; rows.len()],
        new_persons: Vec::new(),
        update_persons: Vec::new(),
        new_memberships: Vec::new(),
        status_changes: Vec::new(),
        person_ids: HashMap::new(),
        touched: Vec::new(),
    };
    for (i, p) in rows.iter().enumerate() {
        match unions.resolve(&p.row.org_code, default_org) {
            Ok(u) => plan.target[i] = Some(u),
            Err(m) => plan.out[i] = Some(Outcome::Rejected(m)),
        }
    }
    let Known {
        persons,
        memberships,
    } = known;
    for (i, p) in rows.iter().enumerate() {
        if plan.out[i].is_some() {
            continue;
        }
        let union = plan.target[i].expect("resolved above");
        let existing = persons.get(&p.sealed.id_hash);
        let ms = existing.and_then(|e| memberships.get(&e.person_id));
        let active = ms.and_then(|v| v.iter().find(|m| m.status != "ended"));
        let changed = existing.is_some_and(|e| e.row_hash != p.sealed.row_hash);
        let decided = match p.row.change {
            ChangeKind::Join | ChangeKind::TransferIn => match active {
                Some(a) if a.org_id != union.id.0 => {
                    Some(Outcome::Rejected(elsewhere(unions, a.org_id)))
                }
                Some(a) => {
                    let reactivate = a.status == "retained";
                    if changed {
                        plan.update_persons
                            .push((i, existing.expect("has membership").person_id));
                    }
                    if reactivate {
                        plan.status_changes.push(StatusChange {
                            row: i,
                            membership: a.id,
                            status: "active",
                            event: p.row.change.event(),
                        });
                    }
                    Some(if changed || reactivate {
                        Outcome::Updated(MembershipId(a.id))
                    } else {
                        Outcome::Unchanged(MembershipId(a.id))
                    })
                }
                None => {
                    match existing {
                        Some(e) if changed => plan.update_persons.push((i, e.person_id)),
                        Some(_) => {}
                        None => plan.new_persons.push(i),
                    }
                    plan.new_memberships.push(i);
                    None
                }
            },
            ChangeKind::Leave | ChangeKind::Retain => {
                let (new_status, event) = if p.row.change == ChangeKind::Leave {
                    ("ended", "leave")
                } else {
                    ("retained", "retain")
                };
                match active {
                    Some(a) if a.org_id == union.id.0 => {
                        if changed {
                            plan.update_persons
                                .push((i, existing.expect("has membership").person_id));
                        }
                        if a.status == new_status {
                            Some(if changed {
                                Outcome::Updated(MembershipId(a.id))
                            } else {
                                Outcome::Unchanged(MembershipId(a.id))
                            })
                        } else {
                            plan.status_changes.push(StatusChange {
                                row: i,
                                membership: a.id,
                                status: new_status,
                                event,
                            });
                            Some(Outcome::Updated(MembershipId(a.id)))
                        }
                    }
                    Some(a) => Some(Outcome::Rejected(elsewhere(unions, a.org_id))),
                    None => {
                        let last_here =
                            ms.and_then(|v| v.iter().rev().find(|m| m.org_id == union.id.0));
                        match last_here {
                            Some(m) if p.row.change == ChangeKind::Leave => {
                                Some(Outcome::Unchanged(MembershipId(m.id)))
                            }
                            _ => Some(Outcome::Rejected(Msg::new(
                                format!(
                                    "此人不是“{}”的在籍会员,无法办理{}",
                                    union.name,
                                    model::event_label(event).zh
                                ),
                                format!("This person is not an active member of “{}”", union.name),
                            ))),
                        }
                    }
                }
            }
        };
        plan.out[i] = decided;
    }
    let mut touched: Vec<i64> = plan
        .new_memberships
        .iter()
        .map(|&i| plan.org_id(i))
        .collect();
    for (i, o) in plan.out.iter().enumerate() {
        if let (Some(Outcome::Updated(_)), Some(u)) = (o, plan.target[i]) {
            touched.push(u.id.0);
        }
    }
    for &(_, pid) in &plan.update_persons {
        touched.extend(
            memberships
                .get(&pid)
                .into_iter()
                .flatten()
                .map(|m| m.org_id),
        );
    }
    touched.sort_unstable();
    touched.dedup();
    plan.touched = touched;
    plan.person_ids = persons.into_iter().map(|(h, e)| (h, e.person_id)).collect();
    plan
}

/// Stored person columns in the order [`person_values`] gives them.
pub(super) const PERSON_COLS: [&str; 22] = [
    "name",
    "name_pinyin",
    "name_initials",
    "id_kind",
    "id_enc",
    "id_masked",
    "gender",
    "birth_date",
    "phone_hash",
    "phone_enc",
    "phone_masked",
    "nation",
    "education",
    "political",
    "hukou_type",
    "hukou_place",
    "migrant",
    "skill_level",
    "workplace",
    "new_employment_group",
    "row_hash",
    "updated_at",
];

pub(super) fn person_values(p: &Prepared, now: &str) -> Vec<V> {
    let person = &p.row.person;
    let s = &p.sealed;
    vec![
        V::from(person.name.as_str()),
        V::from(s.pinyin.as_str()),
        V::from(s.initials.as_str()),
        V::from(person.id.kind.code()),
        V::from(s.id_enc.as_str()),
        V::from(s.id_masked.as_str()),
        V::from(person.gender_code()),
        V::from(person.birth.map(|d| d.to_string())),
        V::from(s.phone_hash.clone()),
        V::from(s.phone_enc.clone()),
        V::from(s.phone_masked.clone()),
        V::from(person.nation.as_str()),
        V::from(person.education.as_str()),
        V::from(person.political.as_str()),
        V::from(person.hukou_type.as_str()),
        V::from(person.hukou_place.as_str()),
        V::I(i64::from(person.migrant)),
        V::from(person.skill_level.as_str()),
        V::from(person.workplace.as_str()),
        V::from(person.group.as_str()),
        V::from(p.sealed.row_hash.as_str()),
        V::from(now),
    ]
}

/// A new person: [`PERSON_COLS`] then these.
pub(super) const NEW_PERSON_EXTRA_COLS: [&str; 2] = ["id_hash", "created_at"];

pub(super) fn new_person_values(p: &Prepared, now: &str) -> Vec<V> {
    let mut v = person_values(p, now);
    v.push(V::from(p.sealed.id_hash.as_str()));
    v.push(V::from(now));
    v
}

pub(super) const MEMBERSHIP_COLS: [&str; 7] = [
    "person_id",
    "org_id",
    "member_no",
    "status",
    "joined_on",
    "created_at",
    "updated_at",
];

pub(super) fn membership_values(
    p: &Prepared,
    person_id: i64,
    org_id: i64,
    number: i64,
    now: &str,
) -> Vec<V> {
    vec![
        V::I(person_id),
        V::I(org_id),
        V::from(member_no(number)),
        V::from("active"),
        V::from(p.row.on.to_string()),
        V::from(now),
        V::from(now),
    ]
}

pub(super) const STATUS_SQL: &str =
    "UPDATE memberships SET status = $1, ended_on = $2, updated_at = $3 WHERE id = $4";

/// `ended_on` for a status change: the row's date when the membership ends.
pub(super) fn ended_on(p: &Prepared, status: &str) -> Option<String> {
    (status == "ended").then(|| p.row.on.to_string())
}

pub(super) const EVENT_COLS: [&str; 8] = [
    "membership_id",
    "person_id",
    "org_id",
    "kind",
    "on_date",
    "reason",
    "import_job",
    "created_at",
];

/// The portable writer: multi-row statements through sqlx.
async fn write(
    conn: &mut AnyConnection,
    rows: &[Prepared],
    mut plan: Plan<'_>,
    job: Option<i64>,
) -> AppResult<(Vec<Outcome>, Vec<i64>)> {
    let now = time::now_rfc3339();
    if !plan.new_persons.is_empty() {
        let mut cols: Vec<&str> = PERSON_COLS.to_vec();
        cols.extend(NEW_PERSON_EXTRA_COLS);
        let values: Vec<Vec<V>> = plan
            .new_persons
            .iter()
            .map(|&i| new_person_values(&rows[i], &now))
            .collect();
        for r in insert_many(conn, "persons", &cols, &values, Some("id, id_hash")).await? {
            plan.person_ids
                .insert(r.try_get("id_hash")?, r.try_get("id")?);
        }
    }
    if !plan.update_persons.is_empty() {
        let set: Vec<String> = PERSON_COLS
            .iter()
            .enumerate()
            .map(|(n, c)| format!("{c} = ${}", n + 1))
            .collect();
        let sql = format!(
            "UPDATE persons SET {} WHERE id = ${}",
            set.join(", "),
            PERSON_COLS.len() + 1
        );
        for &(i, pid) in &plan.update_persons {
            let mut v = person_values(&rows[i], &now);
            v.push(V::I(pid));
            bind_all(sqlx::query(&sql), &v).execute(&mut *conn).await?;
        }
    }

    // New memberships with their join/transfer-in events.
    let mut events: Vec<Vec<V>> = Vec::new();
    if !plan.new_memberships.is_empty() {
        let first = reserve(conn, "seq.member_no", plan.new_memberships.len() as i64).await?;
        let values: Vec<Vec<V>> = plan
            .new_memberships
            .iter()
            .enumerate()
            .map(|(k, &i)| {
                let p = &rows[i];
                membership_values(p, plan.person_id(p), plan.org_id(i), first + k as i64, &now)
            })
            .collect();
        let returned = insert_many(
            conn,
            "memberships",
            &MEMBERSHIP_COLS,
            &values,
            Some("id, person_id"),
        )
        .await?;
        let mut by_person: HashMap<i64, i64> = HashMap::with_capacity(returned.len());
        for r in returned {
            by_person.insert(r.try_get("person_id")?, r.try_get("id")?);
        }
        for &i in &plan.new_memberships {
            let p = &rows[i];
            let pid = plan.person_id(p);
            let mid = by_person[&pid];
            plan.out[i] = Some(Outcome::New(MembershipId(mid)));
            events.push(event_values(
                mid,
                pid,
                plan.org_id(i),
                p.row.change.event(),
                p,
                job,
                &now,
            ));
        }
    }
    for c in &plan.status_changes {
        let p = &rows[c.row];
        sqlx::query(STATUS_SQL)
            .bind(c.status)
            .bind(ended_on(p, c.status))
            .bind(&now)
            .bind(c.membership)
            .execute(&mut *conn)
            .await?;
        events.push(event_values(
            c.membership,
            plan.person_id(p),
            plan.org_id(c.row),
            c.event,
            p,
            job,
            &now,
        ));
    }
    insert_many(conn, "membership_events", &EVENT_COLS, &events, None).await?;
    let touched = std::mem::take(&mut plan.touched);
    Ok((plan.into_outcomes(), touched))
}

pub(super) fn event_values(
    mid: i64,
    pid: i64,
    org: i64,
    kind: &str,
    p: &Prepared,
    job: Option<i64>,
    now: &str,
) -> Vec<V> {
    vec![
        V::I(mid),
        V::I(pid),
        V::I(org),
        V::from(kind),
        V::from(p.row.on.to_string()),
        V::from(""),
        V::from(job),
        V::from(now),
    ]
}

/// Validates one raw row into a [`Prepared`].
pub fn prepare(
    keys: &Keys,
    line: usize,
    raw: &model::RawMember,
    rule: &RetirementRule,
) -> Result<Prepared, Msg> {
    let row = raw.parse(time::today(), rule)?;
    let sealed = row.person.seal(keys);
    Ok(Prepared { line, row, sealed })
}

/// Adds or changes one member from a form (same rules as a one-row import).
pub async fn enrol_one(
    db: &Db,
    keys: &Keys,
    scope: &Scope,
    raw: &model::RawMember,
) -> AppResult<Enrolment> {
    scope.require_write()?;
    let unions = Unions::load(db, scope).await?;
    let rule = retirement_rule(db).await?;
    let p = prepare(keys, 1, raw, &rule).map_err(AppError::Invalid)?;
    if p.row.change == ChangeKind::Join || p.row.change == ChangeKind::TransferIn {
        // Someone with an active membership outside the caller's subtree
        // cannot be enrolled, and saying so would tell any staff account
        // that the ID number is a member somewhere. The form files a
        // transfer request instead — the answer a stranger's ID gets on the
        // transfer form too — and the sending union decides.
        let active_path: Option<String> = sqlx::query_scalar(
            "SELECT o.path FROM persons p JOIN memberships m ON m.person_id = p.id \
             JOIN orgs o ON o.id = m.org_id WHERE p.id_hash = $1 AND m.status <> 'ended'",
        )
        .bind(&p.sealed.id_hash)
        .fetch_optional(db.pool())
        .await?;
        if active_path.is_some_and(|path| !scope.contains_path(&path)) {
            let id = crate::transfer::start(
                db,
                keys,
                scope,
                crate::transfer::Request {
                    id_kind: &raw.id_kind,
                    id_number: &raw.id_number,
                    name: &raw.name,
                    to_code: &raw.org_code,
                    reason: "入会登记时提交 / filed from the enrolment form",
                },
            )
            .await?;
            return Ok(Enrolment::TransferRequested(id));
        }
    }
    let mut tx = db.begin_write().await?;
    let outcome = apply(&mut tx, &unions, None, std::slice::from_ref(&p), None)
        .await?
        .remove(0);
    match &outcome {
        Outcome::Rejected(m) => return Err(AppError::Conflict(m.clone())),
        Outcome::New(id) | Outcome::Updated(id) => {
            let org = unions
                .resolve(&p.row.org_code, None)
                .map_err(AppError::Invalid)?;
            audit::append(
                &mut tx,
                &scope.actor,
                Event::new("member.write", "membership", id).org(org.id).detail(serde_json::json!({
                    "change": p.row.change.event(), "on": p.row.on, "name": p.row.person.name,
                    "id": p.row.person.id.masked(), "outcome": if matches!(outcome, Outcome::New(_)) {"new"} else {"updated"}
                })),
            )
            .await?;
        }
        Outcome::Unchanged(_) => {}
    }
    tx.commit().await?;
    Ok(Enrolment::Done(outcome))
}

/// What enrolling one person did.
#[derive(Clone, Debug, PartialEq)]
pub enum Enrolment {
    Done(Outcome),
    /// The ID has an active membership the caller may not see: a transfer
    /// request waits for the sending union, as if filed on the transfer form.
    TransferRequested(crate::ids::TransferId),
}

// ---------------------------------------------------------------- queries

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct MemberListRow {
    #[schema(value_type = i64)]
    pub membership_id: MembershipId,
    pub member_no: String,
    pub name: String,
    pub gender: String,
    /// Age in whole years today. The birth date is not shown beside the
    /// masked ID number: with it, fewer digits would be unknown.
    pub age: Option<u32>,
    pub id_masked: String,
    pub phone_masked: Option<String>,
    pub org_code: String,
    pub org_name: String,
    pub status: String,
    pub joined_on: String,
    pub ended_on: Option<String>,
    pub new_employment_group: String,
    pub migrant: bool,
    pub education: String,
    pub workplace: String,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sort {
    #[default]
    MemberNo,
    Name,
    JoinedDesc,
}

impl Sort {
    pub fn parse(s: &str) -> Sort {
        match s {
            "name" => Sort::Name,
            "joined" => Sort::JoinedDesc,
            _ => Sort::MemberNo,
        }
    }
    fn sql(self) -> &'static str {
        match self {
            Sort::MemberNo => "m.member_no",
            Sort::Name => "p.name_pinyin, p.name",
            Sort::JoinedDesc => "m.joined_on DESC, m.member_no",
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct SearchQuery {
    pub q: String,
    /// Narrow to this org's subtree (must be inside the scope).
    pub org: Option<OrgId>,
    /// "active" (default: active + retained), "retained", "ended", "all".
    pub status: String,
    pub group: String,
    pub migrant: Option<bool>,
    pub sort: Sort,
    pub page: i64,
    pub per_page: i64,
}

const LIST_SELECT: &str = "SELECT m.id, m.member_no, p.name, p.gender, p.birth_date, p.id_masked, p.phone_masked, \
    o.code AS org_code, o.name AS org_name, m.status, m.joined_on, m.ended_on, p.new_employment_group, p.migrant, \
    p.education, p.workplace \
    FROM memberships m JOIN persons p ON p.id = m.person_id JOIN orgs o ON o.id = m.org_id";

fn list_row(r: &sqlx::any::AnyRow) -> Result<MemberListRow, sqlx::Error> {
    Ok(MemberListRow {
        membership_id: MembershipId(r.try_get("id")?),
        member_no: r.try_get("member_no")?,
        name: r.try_get("name")?,
        gender: r.try_get("gender")?,
        age: r
            .try_get::<Option<String>, _>("birth_date")?
            .as_deref()
            .and_then(time::parse_date)
            .map(|b| ident::age_on(b, time::today())),
        id_masked: r.try_get("id_masked")?,
        phone_masked: r.try_get("phone_masked")?,
        org_code: r.try_get("org_code")?,
        org_name: r.try_get("org_name")?,
        status: r.try_get("status")?,
        joined_on: r.try_get("joined_on")?,
        ended_on: r.try_get("ended_on")?,
        new_employment_group: r.try_get("new_employment_group")?,
        migrant: r.try_get::<i64, _>("migrant")? == 1,
        education: r.try_get("education")?,
        workplace: r.try_get("workplace")?,
    })
}

/// Builds the WHERE clause of a roster search; returns (sql, values).
async fn search_where(
    db: &Db,
    keys: &Keys,
    scope: &Scope,
    q: &SearchQuery,
) -> AppResult<(String, Vec<V>)> {
    let mut vals: Vec<V> = Vec::new();
    let mut conds: Vec<String> = Vec::new();
    let path = match q.org {
        Some(id) => orgs::get(db, scope, id).await?.path,
        None => scope.path().to_string(),
    };
    vals.push(V::from(format!("{path}%")));
    conds.push(format!("o.path LIKE ${}", vals.len()));
    match q.status.as_str() {
        "all" => {}
        "ended" | "retained" => {
            vals.push(V::from(q.status.as_str()));
            conds.push(format!("m.status = ${}", vals.len()));
        }
        "active" => conds.push("m.status = 'active'".into()),
        _ => conds.push("m.status <> 'ended'".into()),
    }
    if !q.group.is_empty() {
        vals.push(V::from(q.group.as_str()));
        conds.push(format!("p.new_employment_group = ${}", vals.len()));
    }
    if let Some(mig) = q.migrant {
        conds.push(format!("p.migrant = {}", i64::from(mig)));
    }
    let text = q.q.trim();
    if !text.is_empty() {
        let compact: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        let digits = compact.trim_start_matches("+86");
        if (digits.len() == 15 || digits.len() == 18)
            && digits
                .chars()
                .all(|c| c.is_ascii_digit() || c == 'X' || c == 'x')
        {
            let norm = IdNumber::parse(IdKind::ResidentId, digits)
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|_| digits.to_ascii_uppercase());
            vals.push(V::from(model::id_lookup_hash(keys, &norm)));
            conds.push(format!("p.id_hash = ${}", vals.len()));
        } else if let Ok(phone) = ident::parse_mobile(digits) {
            vals.push(V::from(model::phone_lookup_hash(keys, &phone)));
            conds.push(format!("p.phone_hash = ${}", vals.len()));
        } else if compact.len() > 1
            && compact.starts_with(['M', 'm'])
            && compact[1..].chars().all(|c| c.is_ascii_digit())
        {
            vals.push(V::from(compact.to_ascii_uppercase()));
            conds.push(format!("m.member_no = ${}", vals.len()));
        } else if compact.chars().all(|c| c.is_ascii_alphabetic()) {
            let pat = db.prefix_pattern(&compact.to_ascii_lowercase());
            vals.push(V::from(pat));
            let n = vals.len();
            conds.push(format!(
                "(p.name_pinyin {op} ${n} OR p.name_initials {op} ${n})",
                op = db.prefix_op()
            ));
        } else if IdNumber::parse(IdKind::Passport, &compact).is_ok()
            && compact.chars().any(|c| c.is_ascii_digit())
        {
            vals.push(V::from(model::id_lookup_hash(
                keys,
                &compact.to_ascii_uppercase(),
            )));
            conds.push(format!("p.id_hash = ${}", vals.len()));
        } else {
            vals.push(V::from(db.prefix_pattern(text)));
            conds.push(format!("p.name {} ${}", db.prefix_op(), vals.len()));
        }
    }
    Ok((conds.join(" AND "), vals))
}

/// The keyed hash of a search term holding an ID or phone number (its
/// digits and X), as the audit log keeps it; None for a name.
fn search_term_hash(keys: &Keys, q: &str) -> Option<String> {
    let digits: String = q
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == 'X' || *c == 'x')
        .collect::<String>()
        .to_ascii_uppercase();
    (digits.chars().filter(|c| c.is_ascii_digit()).count() >= 7)
        .then(|| keys.lookup_hash("search", &digits))
}

/// Roster search within scope, paginated; returns (rows, total). Audited
/// as a read of personal data.
pub async fn search(
    db: &Db,
    keys: &Keys,
    scope: &Scope,
    q: &SearchQuery,
) -> AppResult<(Vec<MemberListRow>, i64)> {
    let (wh, vals) = search_where(db, keys, scope, q).await?;
    let per = q.per_page.clamp(1, 500);
    let page = q.page.max(1);
    let sql = format!(
        "{LIST_SELECT} WHERE {wh} ORDER BY {} LIMIT {per} OFFSET {}",
        q.sort.sql(),
        (page - 1).saturating_mul(per)
    );
    let rows = bind_all(sqlx::query(&sql), &vals)
        .fetch_all(db.pool())
        .await?;
    let list: Vec<MemberListRow> = rows.iter().map(list_row).collect::<Result<_, _>>()?;
    let count_sql = format!(
        "SELECT COUNT(*) FROM memberships m JOIN persons p ON p.id = m.person_id JOIN orgs o ON o.id = m.org_id WHERE {wh}"
    );
    let total: i64 = bind_all(sqlx::query(&count_sql), &vals)
        .fetch_one(db.pool())
        .await?
        .try_get(0)?;
    audit::record(
        db,
        &scope.actor,
        Event::new("member.search", "membership", "*")
            .org(scope.org_id)
            .detail(serde_json::json!({
                "q": if q.q.trim().is_empty() { "" } else { "[query]" },
                // An exact ID or phone search is recorded by the keyed hash of the
                // number (who looked up whom can be checked, the number is not kept).
                "term": search_term_hash(keys, &q.q), "org": q.org, "status": q.status,
                "group": q.group, "page": page, "returned": list.len(), "total": total
            })),
    )
    .await?;
    Ok((list, total))
}

/// All rows of a search, for export (no pagination).
async fn search_all(
    db: &Db,
    keys: &Keys,
    scope: &Scope,
    q: &SearchQuery,
) -> AppResult<Vec<(MemberListRow, i64)>> {
    let (wh, vals) = search_where(db, keys, scope, q).await?;
    let sql = format!("SELECT m.person_id AS pid, x.* FROM ({LIST_SELECT} WHERE {wh}) x JOIN memberships m ON m.id = x.id ORDER BY x.member_no");
    let rows = bind_all(sqlx::query(&sql), &vals)
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|r| Ok((list_row(r)?, r.try_get("pid")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct GroupCount {
    pub group: String,
    pub count: i64,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RosterCounts {
    pub members: i64,
    pub migrant: i64,
    pub women: i64,
    pub groups: Vec<GroupCount>,
}

/// Counts of the subtree's active members, by new-employment group.
pub async fn counts(db: &Db, scope: &Scope, org: Option<OrgId>) -> AppResult<RosterCounts> {
    let path = match org {
        Some(id) => orgs::get(db, scope, id).await?.path,
        None => scope.path().to_string(),
    };
    let r = sqlx::query(
        "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(p.migrant), 0) AS BIGINT) AS mig, \
         CAST(COALESCE(SUM(CASE WHEN p.gender = 'female' THEN 1 ELSE 0 END), 0) AS BIGINT) AS women \
         FROM memberships m JOIN persons p ON p.id = m.person_id JOIN orgs o ON o.id = m.org_id \
         WHERE o.path LIKE $1 AND m.status <> 'ended'",
    )
    .bind(format!("{path}%"))
    .fetch_one(db.pool())
    .await?;
    let groups = sqlx::query(
        "SELECT p.new_employment_group AS g, COUNT(*) AS n \
         FROM memberships m JOIN persons p ON p.id = m.person_id JOIN orgs o ON o.id = m.org_id \
         WHERE o.path LIKE $1 AND m.status <> 'ended' AND p.new_employment_group <> '' \
         GROUP BY p.new_employment_group ORDER BY COUNT(*) DESC",
    )
    .bind(format!("{path}%"))
    .fetch_all(db.pool())
    .await?;
    Ok(RosterCounts {
        members: r.try_get("n")?,
        migrant: r.try_get("mig")?,
        women: r.try_get("women")?,
        groups: groups
            .iter()
            .map(|g| {
                Ok(GroupCount {
                    group: g.try_get("g")?,
                    count: g.try_get("n")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?,
    })
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct EventRow {
    pub kind: String,
    pub on_date: String,
    pub org_name: String,
    pub reason: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct MemberDetail {
    #[serde(flatten)]
    pub row: MemberListRow,
    pub person_id: i64,
    pub id_kind: String,
    pub nation: String,
    pub political: String,
    pub hukou_type: String,
    pub hukou_place: String,
    pub skill_level: String,
    pub org_id: i64,
    pub events: Vec<EventRow>,
}

/// One membership in scope, masked; the read is audited.
pub async fn get(db: &Db, scope: &Scope, id: MembershipId) -> AppResult<MemberDetail> {
    let sql = format!(
        "SELECT x.*, p.id AS pid, p.id_kind, p.nation, p.political, p.hukou_type, p.hukou_place, p.skill_level, o.path AS org_path, m.org_id AS oid \
         FROM ({LIST_SELECT} WHERE m.id = $1) x JOIN memberships m ON m.id = x.id JOIN persons p ON p.id = m.person_id JOIN orgs o ON o.id = m.org_id"
    );
    let r = sqlx::query(&sql)
        .bind(id.0)
        .fetch_optional(db.pool())
        .await?
        .ok_or(AppError::NotFound)?;
    let path: String = r.try_get("org_path")?;
    scope.admit(db, &path, "membership", id).await?;
    let pid: i64 = r.try_get("pid")?;
    let ev = sqlx::query(
        "SELECT e.kind, e.on_date, e.reason, o.name AS org_name, o.path FROM membership_events e JOIN orgs o ON o.id = e.org_id \
         WHERE e.person_id = $1 ORDER BY e.on_date, e.id",
    )
    .bind(pid)
    .fetch_all(db.pool())
    .await?;
    let events = ev
        .iter()
        .map(|e| {
            let p: String = e.try_get("path")?;
            Ok(EventRow {
                kind: e.try_get("kind")?,
                on_date: e.try_get("on_date")?,
                reason: e.try_get("reason")?,
                org_name: if scope.contains_path(&p) {
                    e.try_get("org_name")?
                } else {
                    "其他工会 / another union".into()
                },
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    let detail = MemberDetail {
        row: list_row(&r)?,
        person_id: pid,
        id_kind: r.try_get("id_kind")?,
        nation: r.try_get("nation")?,
        political: r.try_get("political")?,
        hukou_type: r.try_get("hukou_type")?,
        hukou_place: r.try_get("hukou_place")?,
        skill_level: r.try_get("skill_level")?,
        org_id: r.try_get("oid")?,
        events,
    };
    audit::record(
        db,
        &scope.actor,
        Event::new("member.view", "membership", id).org(OrgId(detail.org_id)),
    )
    .await?;
    Ok(detail)
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Unmasked {
    pub id_number: String,
    pub phone: Option<String>,
}

/// The full ID and phone numbers — a permission, and always audited.
pub async fn unmask(db: &Db, keys: &Keys, scope: &Scope, id: MembershipId) -> AppResult<Unmasked> {
    // The scope first: a record outside it is "not found" (and audited)
    // whether or not the caller holds the permission.
    let d = get(db, scope, id).await?;
    if !scope.has(Perm::Unmask) {
        return Err(AppError::forbidden(
            "您没有查看完整证件号码和手机号码的权限",
            "You are not allowed to see full ID and phone numbers",
        ));
    }
    let r = sqlx::query("SELECT id_enc, phone_enc FROM persons WHERE id = $1")
        .bind(d.person_id)
        .fetch_one(db.pool())
        .await?;
    let id_enc: String = r.try_get("id_enc")?;
    let phone_enc: Option<String> = r.try_get("phone_enc")?;
    let out = Unmasked {
        id_number: keys.decrypt(&id_enc)?,
        phone: phone_enc.map(|p| keys.decrypt(&p)).transpose()?,
    };
    audit::record(
        db,
        &scope.actor,
        Event::new("member.unmask", "membership", id)
            .org(OrgId(d.org_id))
            .detail(serde_json::json!({"name": d.row.name})),
    )
    .await?;
    Ok(out)
}

/// Ends or retains a membership from the member page (退会 / 保留会籍).
pub async fn change_status(
    db: &Db,
    scope: &Scope,
    id: MembershipId,
    change: ChangeKind,
    on: chrono::NaiveDate,
    reason: &str,
) -> AppResult<()> {
    scope.require_write()?;
    let d = get(db, scope, id).await?;
    let (status, kind) = match change {
        ChangeKind::Leave => ("ended", "leave"),
        ChangeKind::Retain => ("retained", "retain"),
        _ => ("active", "join"),
    };
    if d.row.status == "ended" {
        return Err(AppError::invalid(
            "该会籍已结束",
            "This membership has already ended",
        ));
    }
    if d.row.status == status {
        return Ok(());
    }
    if on > time::today() || on.to_string() < d.row.joined_on {
        return Err(AppError::invalid(
            "日期须在入会日期之后且不晚于今天",
            "The date must be after joining and not in the future",
        ));
    }
    let now = time::now_rfc3339();
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE memberships SET status = $1, ended_on = $2, updated_at = $3 WHERE id = $4")
        .bind(status)
        .bind((status == "ended").then(|| on.to_string()))
        .bind(&now)
        .bind(id.0)
        .execute(&mut *tx.tx)
        .await?;
    sqlx::query(
        "INSERT INTO membership_events (membership_id, person_id, org_id, kind, on_date, reason, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id.0)
    .bind(d.person_id)
    .bind(d.org_id)
    .bind(kind)
    .bind(on.to_string())
    .bind(reason.trim())
    .bind(&now)
    .execute(&mut *tx.tx)
    .await?;
    dataver::touch(&mut tx, [d.org_id]).await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("member.status", "membership", id)
            .org(OrgId(d.org_id))
            .detail(serde_json::json!({
                "before": d.row.status, "after": status, "on": on, "reason": reason
            })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The roster of a scope as a table, masked unless `unmasked` (a permission).
/// Every export is audited with its size and whether it was unmasked.
pub async fn export(
    db: &Db,
    keys: &Keys,
    scope: &Scope,
    q: &SearchQuery,
    unmasked: bool,
) -> AppResult<(Vec<String>, Vec<Vec<String>>)> {
    if unmasked && !scope.has(Perm::Unmask) {
        return Err(AppError::forbidden(
            "您没有导出完整证件号码的权限,请导出脱敏名册",
            "You are not allowed to export full ID numbers; export the masked roster",
        ));
    }
    let rows = search_all(db, keys, scope, q).await?;
    let mut full: HashMap<i64, (String, Option<String>)> = HashMap::new();
    if unmasked {
        let ids: Vec<i64> = rows.iter().map(|(_, pid)| *pid).collect();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT id, id_enc, phone_enc FROM persons WHERE id IN ({})",
                placeholders(0, chunk.len())
            );
            let vals: Vec<V> = chunk.iter().map(|i| V::I(*i)).collect();
            for r in bind_all(sqlx::query(&sql), &vals)
                .fetch_all(db.pool())
                .await?
            {
                let idn = keys.decrypt(&r.try_get::<String, _>("id_enc")?)?;
                let ph = r
                    .try_get::<Option<String>, _>("phone_enc")?
                    .map(|p| keys.decrypt(&p))
                    .transpose()?;
                full.insert(r.try_get("id")?, (idn, ph));
            }
        }
    }
    let headers: Vec<String> = [
        "会员编号",
        "姓名",
        "性别",
        "年龄",
        "证件号码",
        "移动电话",
        "所属工会编码",
        "所属工会",
        "会籍状态",
        "入会日期",
        "学历",
        "工作单位",
        "是否农民工",
        "新就业形态群体",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|(r, pid)| {
            let (idn, ph) = match full.get(pid) {
                Some((i, p)) => (i.clone(), p.clone().unwrap_or_default()),
                None => (
                    r.id_masked.clone(),
                    r.phone_masked.clone().unwrap_or_default(),
                ),
            };
            vec![
                r.member_no.clone(),
                r.name.clone(),
                if r.gender == "female" {
                    "女".into()
                } else {
                    "男".into()
                },
                r.age.map(|a| a.to_string()).unwrap_or_default(),
                idn,
                ph,
                r.org_code.clone(),
                r.org_name.clone(),
                model::status_label(&r.status).zh,
                r.joined_on.clone(),
                r.education.clone(),
                r.workplace.clone(),
                if r.migrant {
                    "是".into()
                } else {
                    "否".into()
                },
                r.new_employment_group.clone(),
            ]
        })
        .collect();
    audit::record(
        db,
        &scope.actor,
        Event::new("member.export", "membership", "*")
            .org(scope.org_id)
            .detail(serde_json::json!({
                "rows": table.len(), "unmasked": unmasked, "org": q.org, "status": q.status
            })),
    )
    .await?;
    Ok((headers, table))
}
