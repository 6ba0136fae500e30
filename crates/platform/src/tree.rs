//! The org tree as the platform sees it: ids, codes, names and materialised
//! paths — what scopes, accounts and the audit log are built from. The
//! `orgs` crate owns the rest of an org (levels, credit codes, certificates,
//! history) and its pages; the `orgs` table itself is created by the
//! platform's first migration because accounts reference it.

use std::collections::{HashMap, HashSet};

use sqlx::Row;

use crate::{db::Db, error::AppResult, ids::OrgId, scope::Scope};

/// An org as a node of the tree.
#[derive(Clone, Debug)]
pub struct OrgNode {
    pub id: OrgId,
    pub parent_id: Option<OrgId>,
    pub code: String,
    pub name: String,
    pub path: String,
}

impl OrgNode {
    /// Depth below the city root (root = 0), for indenting the tree.
    pub fn depth(&self) -> usize {
        self.path.matches('/').count().saturating_sub(2)
    }
}

const SELECT: &str = "SELECT id, parent_id, code, name, path FROM orgs";

fn from_row(r: &sqlx::any::AnyRow) -> AppResult<OrgNode> {
    Ok(OrgNode {
        id: OrgId(r.try_get("id")?),
        parent_id: r.try_get::<Option<i64>, _>("parent_id")?.map(OrgId),
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        path: r.try_get("path")?,
    })
}

/// One org in scope; outside it "not found", and the attempt is audited.
pub async fn node(db: &Db, scope: &Scope, id: OrgId) -> AppResult<OrgNode> {
    let row = sqlx::query(&format!("{SELECT} WHERE id = $1"))
        .bind(id.0)
        .fetch_optional(db.pool())
        .await?;
    let n = row
        .as_ref()
        .map(from_row)
        .transpose()?
        .ok_or(crate::error::AppError::NotFound)?;
    scope.admit(db, &n.path, "org", n.id).await?;
    Ok(n)
}

/// The city federation: the root of the tree, if the instance has one.
pub async fn root(db: &Db) -> AppResult<Option<OrgNode>> {
    let row = sqlx::query(&format!(
        "{SELECT} WHERE parent_id IS NULL ORDER BY id LIMIT 1"
    ))
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// The scope of the operator on the server (the CLI, the demo, background
/// work): the whole tree.
pub async fn system_scope(db: &Db) -> anyhow::Result<Scope> {
    let root = root(db).await?.ok_or_else(|| {
        anyhow::anyhow!("尚未建立市总工会,请先运行 gonghui org init 或 gonghui demo / no city federation yet: run `gonghui org init` or `gonghui demo`")
    })?;
    Ok(Scope::system(
        crate::scope::Actor::system("cli"),
        root.id,
        root.path,
    ))
}

/// Every org of the scope's subtree, in tree order.
pub async fn subtree(db: &Db, scope: &Scope) -> AppResult<Vec<OrgNode>> {
    let rows = sqlx::query(&format!("{SELECT} WHERE path LIKE $1"))
        .bind(scope.like())
        .fetch_all(db.pool())
        .await?;
    let mut list: Vec<OrgNode> = rows.iter().map(from_row).collect::<AppResult<_>>()?;
    tree_order(&mut list, |o| o.id, |o| o.parent_id, |o| &o.code);
    Ok(list)
}

/// Sorts orgs depth-first with siblings by code, so a tree reads naturally
/// (path order would sort ids as text: "/1/10/" before "/1/2/"). Orgs whose
/// parent is not in the list are roots.
pub fn tree_order<T>(
    orgs: &mut Vec<T>,
    id: impl Fn(&T) -> OrgId,
    parent: impl Fn(&T) -> Option<OrgId>,
    code: impl Fn(&T) -> &str,
) {
    let mut kids: HashMap<Option<OrgId>, Vec<usize>> = HashMap::new();
    let ids: HashSet<OrgId> = orgs.iter().map(&id).collect();
    for (i, o) in orgs.iter().enumerate() {
        let p = parent(o).filter(|p| ids.contains(p));
        kids.entry(p).or_default().push(i);
    }
    for v in kids.values_mut() {
        v.sort_by(|a, b| code(&orgs[*a]).cmp(code(&orgs[*b])));
    }
    let mut order = Vec::with_capacity(orgs.len());
    let mut stack: Vec<usize> = kids.get(&None).cloned().unwrap_or_default();
    stack.reverse();
    while let Some(i) = stack.pop() {
        order.push(i);
        if let Some(ch) = kids.get(&Some(id(&orgs[i]))) {
            stack.extend(ch.iter().rev());
        }
    }
    let mut taken: Vec<Option<T>> = std::mem::take(orgs).into_iter().map(Some).collect();
    *orgs = order.into_iter().filter_map(|i| taken[i].take()).collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_order_is_depth_first_with_siblings_by_code() {
        let n = |id, parent: Option<i64>, code: &str| OrgNode {
            id: OrgId(id),
            parent_id: parent.map(OrgId),
            code: code.into(),
            name: String::new(),
            path: String::new(),
        };
        let mut v = vec![
            n(10, Some(1), "SF-02"),
            n(2, Some(1), "SF-01"),
            n(1, None, "SF"),
            n(11, Some(2), "SF-01-S1"),
        ];
        tree_order(&mut v, |o| o.id, |o| o.parent_id, |o| &o.code);
        let codes: Vec<&str> = v.iter().map(|o| o.code.as_str()).collect();
        assert_eq!(codes, ["SF", "SF-01", "SF-01-S1", "SF-02"]);
    }
}
