//! Scope is a type: every store function that reads or writes org- or
//! member-level data takes a `&Scope`, and applies `path LIKE scope_prefix`
//! itself. A handler cannot forget the filter because it never writes one.

use serde::Serialize;

use crate::{
    error::{AppError, AppResult},
    i18n::Msg,
    ids::{OrgId, UserId},
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Manages its org subtree, including accounts.
    Admin,
    /// Does the day-to-day work in its subtree.
    Staff,
    /// 经审: reads everything in its subtree, including the audit log; writes nothing.
    Auditor,
    /// A union member (会员), on the member portal.
    Member,
    /// A merchant's clerk, verifying cards.
    Merchant,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "admin" => Role::Admin,
            "staff" => Role::Staff,
            "auditor" => Role::Auditor,
            "member" => Role::Member,
            "merchant" => Role::Merchant,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Staff => "staff",
            Role::Auditor => "auditor",
            Role::Member => "member",
            Role::Merchant => "merchant",
        }
    }
    pub fn label(self) -> Msg {
        match self {
            Role::Admin => Msg::new("管理员", "Administrator"),
            Role::Staff => Msg::new("工作人员", "Staff"),
            Role::Auditor => Msg::new("经审人员", "Auditor"),
            Role::Member => Msg::new("会员", "Member"),
            Role::Merchant => Msg::new("商户店员", "Merchant clerk"),
        }
    }
}

/// Who is acting, for the audit log.
#[derive(Clone, Debug, Serialize)]
pub struct Actor {
    pub user_id: Option<UserId>,
    pub name: String,
    pub ip: String,
}

impl Actor {
    pub fn system(name: &str) -> Actor {
        Actor {
            user_id: None,
            name: name.to_string(),
            ip: String::new(),
        }
    }
}

/// Extra permissions granted beyond the role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Perm {
    /// See ID and phone numbers in full (每次都记入审计日志).
    Unmask,
}

/// Whether a comma-separated permission list holds `perm`.
pub fn perms_include(perms: &str, perm: &str) -> bool {
    perms.split(',').any(|p| p.trim() == perm)
}

#[derive(Clone, Debug)]
pub struct Scope {
    pub actor: Actor,
    pub org_id: OrgId,
    /// Materialised path of the scope's root org, e.g. "/1/5/".
    org_path: String,
    pub role: Role,
    unmask: bool,
}

impl Scope {
    pub fn new(actor: Actor, org_id: OrgId, org_path: String, role: Role, perms: &str) -> Scope {
        // Granted explicitly only (the account form, `user add --unmask`):
        // being an administrator does not imply it.
        let unmask = perms_include(perms, "unmask");
        Scope {
            actor,
            org_id,
            org_path,
            role,
            unmask,
        }
    }

    /// The whole tree, for the operator's command line on the server itself.
    pub fn system(actor: Actor, root: OrgId, root_path: String) -> Scope {
        Scope {
            actor,
            org_id: root,
            org_path: root_path,
            role: Role::Admin,
            unmask: true,
        }
    }

    /// Narrows this scope to a subtree inside it (CLI `--org`, report of a child).
    pub fn narrow(&self, org_id: OrgId, org_path: &str) -> AppResult<Scope> {
        if !self.contains_path(org_path) {
            return Err(AppError::NotFound);
        }
        Ok(Scope {
            org_id,
            org_path: org_path.to_string(),
            ..self.clone()
        })
    }

    pub fn path(&self) -> &str {
        &self.org_path
    }

    /// `LIKE` pattern matching every org path in the subtree (paths hold only
    /// digits and slashes, so no escaping is needed).
    pub fn like(&self) -> String {
        format!("{}%", self.org_path)
    }

    pub fn contains_path(&self, path: &str) -> bool {
        path.starts_with(&self.org_path)
    }

    pub fn can_write(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Staff)
    }

    pub fn require_write(&self) -> AppResult<()> {
        if self.can_write() {
            Ok(())
        } else {
            Err(AppError::forbidden(
                "您的账号为只读角色,不能修改数据",
                "Your account is read-only and cannot change data",
            ))
        }
    }

    pub fn require_admin(&self) -> AppResult<()> {
        if self.role == Role::Admin {
            Ok(())
        } else {
            Err(AppError::forbidden(
                "仅管理员可执行此操作",
                "Only an administrator can do this",
            ))
        }
    }

    pub fn can_read_audit(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Auditor)
    }

    pub fn has(&self, perm: Perm) -> bool {
        match perm {
            Perm::Unmask => self.unmask,
        }
    }

    pub fn is_staff(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Staff | Role::Auditor)
    }

    /// The gate for one object: admits it when its org `path` is inside
    /// this scope; otherwise answers "not found" — the same as absent — and
    /// writes the attempt to the audit log.
    pub async fn admit(
        &self,
        db: &crate::db::Db,
        path: &str,
        object_type: &str,
        id: impl ToString,
    ) -> AppResult<()> {
        if self.contains_path(path) {
            return Ok(());
        }
        crate::audit::record_denied(db, self, object_type, id).await;
        Err(AppError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(path: &str, role: Role) -> Scope {
        Scope::new(Actor::system("t"), OrgId(5), path.into(), role, "")
    }

    #[test]
    fn subtree_containment_is_by_path_prefix() {
        let s = scope("/1/5/", Role::Staff);
        assert!(s.contains_path("/1/5/"));
        assert!(s.contains_path("/1/5/23/"));
        assert!(
            !s.contains_path("/1/55/"),
            "a sibling with a longer id is not inside"
        );
        assert!(!s.contains_path("/1/"));
        assert!(s.narrow(OrgId(6), "/1/6/").is_err());
        assert_eq!(s.narrow(OrgId(23), "/1/5/23/").unwrap().like(), "/1/5/23/%");
    }

    #[test]
    fn roles_and_permissions() {
        assert!(scope("/1/", Role::Auditor).require_write().is_err());
        assert!(scope("/1/", Role::Staff).require_admin().is_err());
        assert!(
            !scope("/1/", Role::Admin).has(Perm::Unmask),
            "an admin without the grant"
        );
        let granted = Scope::new(
            Actor::system("t"),
            OrgId(1),
            "/1/".into(),
            Role::Admin,
            "x, unmask",
        );
        assert!(granted.has(Perm::Unmask));
        assert!(!scope("/1/", Role::Staff).has(Perm::Unmask));
        let s = Scope::new(
            Actor::system("t"),
            OrgId(1),
            "/1/".into(),
            Role::Staff,
            "unmask",
        );
        assert!(s.has(Perm::Unmask));
    }
}
