//! The roster as a person directory (`platform::person::PersonDirectory`):
//! person references made anywhere in the platform find a roster person by
//! the keyed hash of their ID number, exactly as the roster does, and refer
//! to them as a member.

use platform::{
    db::Db,
    error::AppResult,
    module::BoxFuture,
    person::{DirectoryHit, PersonDirectory},
};

/// `persons` by `id_hash`, with the org of their current membership.
pub struct RosterDirectory;

impl PersonDirectory for RosterDirectory {
    fn find<'a>(
        &'a self,
        db: &'a Db,
        id_hash: &'a str,
    ) -> BoxFuture<'a, AppResult<Option<DirectoryHit>>> {
        Box::pin(async move {
            // One current (active or retained) membership at most: the
            // partial unique index memberships_one_active.
            let row: Option<(i64, String, Option<String>)> = sqlx::query_as(
                "SELECT p.id, p.name, (SELECT o.path FROM memberships m JOIN orgs o ON o.id = m.org_id \
                 WHERE m.person_id = p.id AND m.status <> 'ended') AS org_path \
                 FROM persons p WHERE p.id_hash = $1",
            )
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use platform::{
        error::AppError,
        module::Registry,
        person::{self, PersonInput, PersonKind},
        scope::{Actor, Role, Scope},
        testing::TestEnv,
        time,
    };

    const ID: &str = "110102198405069701";

    /// The demo org tree and one member, 张三, in SF-01-S1-001 (county SF-01).
    async fn roster_env() -> (TestEnv, i64) {
        let registry = Arc::new(Registry::new(vec![::orgs::module(), crate::module()]));
        let env = platform::testing::env(registry).await.unwrap();
        ::orgs::demo::seed_orgs_and_accounts(&env.state)
            .await
            .unwrap();
        let root = platform::tree::root(&env.state.db).await.unwrap().unwrap();
        let system = Scope::system(Actor::system("test"), root.id, root.path);
        let raw = crate::model::RawMember {
            name: "张三".into(),
            id_number: ID.into(),
            phone: "13800138000".into(),
            org_code: "SF-01-S1-001".into(),
            change_date: time::today().to_string(),
            ..Default::default()
        };
        crate::store::enrol_one(&env.state.db, &env.state.keys, &system, &raw)
            .await
            .unwrap();
        let pid: i64 = sqlx::query_scalar("SELECT id FROM persons")
            .fetch_one(env.state.db.pool())
            .await
            .unwrap();
        (env, pid)
    }

    async fn county_staff(env: &TestEnv, code: &str) -> Scope {
        let root = platform::tree::root(&env.state.db).await.unwrap().unwrap();
        let system = Scope::system(Actor::system("test"), root.id, root.path);
        let o = ::orgs::store::get_by_code(&env.state.db, &system, code)
            .await
            .unwrap();
        Scope::new(Actor::system("staff"), o.id, o.path, Role::Staff, "")
    }

    fn input(name: &str, id: &str) -> PersonInput {
        PersonInput {
            name: name.into(),
            id_number: id.into(),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn person_directory_finds_a_roster_member_by_id_hash() {
        let (env, pid) = roster_env().await;
        let st = &env.state;
        // The roster's hash and the platform's are one derivation.
        let h = crate::model::id_lookup_hash(&st.keys, ID);
        assert_eq!(h, person::id_lookup_hash(&st.keys, ID));
        let hit = RosterDirectory.find(&st.db, &h).await.unwrap().unwrap();
        assert_eq!((hit.person_id, hit.name.as_str()), (pid, "张三"));
        let county = county_staff(&env, "SF-01").await;
        assert!(county.contains_path(hit.org_path.as_deref().unwrap()));
        assert_eq!(RosterDirectory.find(&st.db, "nope").await.unwrap(), None);
        assert_eq!(st.registry.person_directories().len(), 1);

        // Referred from another county: a member, the roster's person, and
        // nothing of their union in the view.
        let other = county_staff(&env, "SF-02").await;
        let r = person::refer(st, &other, other.org_id, &input("张三", ID))
            .await
            .unwrap();
        assert_eq!(r.kind, PersonKind::Member);
        assert_eq!(r.person_id, Some(pid));
        assert_eq!(r.phone_masked, None, "the roster's phone is not copied");
        let json = serde_json::to_string(&r).unwrap();
        for leak in ["SF-01", "秦川", hit.org_path.as_deref().unwrap(), "1984"] {
            assert!(!json.contains(leak), "{leak} in {json}");
        }
        // A worker not on the roster.
        let n = person::refer(
            st,
            &other,
            other.org_id,
            &input("王五", "11010219840406970X"),
        )
        .await
        .unwrap();
        assert_eq!((n.kind, n.person_id), (PersonKind::NonMember, None));
    }

    #[tokio::test]
    async fn person_wrong_name_for_a_roster_id_is_refused() {
        let (env, _) = roster_env().await;
        let st = &env.state;
        let other = county_staff(&env, "SF-02").await;
        match person::refer(st, &other, other.org_id, &input("李四", ID)).await {
            Err(AppError::Invalid(m)) => {
                assert!(m.zh.contains("证件号码与姓名不一致"), "{m:?}");
                assert!(!m.zh.contains("张") && !m.zh.contains("秦川"), "{m:?}");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        let n: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM person_refs")
            .fetch_one(st.db.pool())
            .await
            .unwrap();
        assert_eq!(n, 0);
    }
}
