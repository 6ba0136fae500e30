//! Person references (platform::person) with the binary's registry: the
//! roster registers its directory, so a demo member referred from another
//! county is a member reference that shows nothing of their union.

use gonghui::{
    platform::{
        error::AppError,
        person::{self, PersonInput, PersonKind},
        scope::{Actor, Role, Scope},
    },
    testing,
};

#[tokio::test]
async fn person_refs_find_demo_members_through_the_binarys_registry() {
    let env = testing::demo_env().await.unwrap();
    let st = &env.state;
    assert_eq!(st.registry.person_directories().len(), 1, "the roster");
    // A demo member of county SF-01, and staff of county SF-02.
    let (pid, name, id_enc, union_name): (i64, String, String, String) = sqlx::query_as(
        "SELECT p.id, p.name, p.id_enc, o.name FROM persons p \
         JOIN memberships m ON m.person_id = p.id AND m.status = 'active' \
         JOIN orgs o ON o.id = m.org_id \
         WHERE o.code LIKE 'SF-01-%' ORDER BY p.id LIMIT 1",
    )
    .fetch_one(st.db.pool())
    .await
    .unwrap();
    let id_number = st.keys.decrypt(&id_enc).unwrap();
    let (org, path): (i64, String) =
        sqlx::query_as("SELECT id, path FROM orgs WHERE code = 'SF-02'")
            .fetch_one(st.db.pool())
            .await
            .unwrap();
    let staff = Scope::new(
        Actor::system("sf02"),
        gonghui::platform::ids::OrgId(org),
        path,
        Role::Staff,
        "",
    );
    let input = |name: &str| PersonInput {
        name: name.into(),
        id_number: id_number.to_lowercase(),
        ..Default::default()
    };
    let r = person::refer(st, &staff, staff.org_id, &input(&name))
        .await
        .unwrap();
    assert_eq!((r.kind, r.person_id), (PersonKind::Member, Some(pid)));
    let json = serde_json::to_string(&r).unwrap();
    assert!(
        !json.contains(&union_name) && !json.contains("SF-01"),
        "{json}"
    );
    assert!(!json.contains(&id_number), "{json}");
    // The wrong name: refused without the holder's name or union.
    match person::refer(st, &staff, staff.org_id, &input("某某某")).await {
        Err(AppError::Invalid(m)) => {
            assert!(m.zh.contains("证件号码与姓名不一致"), "{m:?}");
            assert!(
                !m.zh.contains(&name) && !m.zh.contains(&union_name),
                "{m:?}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // The member's own county did not record it: not found there.
    let (org1, path1): (i64, String) =
        sqlx::query_as("SELECT id, path FROM orgs WHERE code = 'SF-01'")
            .fetch_one(st.db.pool())
            .await
            .unwrap();
    let county1 = Scope::new(
        Actor::system("sf01"),
        gonghui::platform::ids::OrgId(org1),
        path1,
        Role::Staff,
        "",
    );
    assert!(matches!(
        person::get(&st.db, &county1, r.id).await,
        Err(AppError::NotFound)
    ));
}
