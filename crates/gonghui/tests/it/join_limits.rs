//! The public join pages are rate-limited per client IP and per identity
//! (the ID number tried), and the one-time codes they text per IP and per
//! phone, with a plain 429 that says nothing of anyone.

use reqwest::StatusCode;

use crate::common::Client;
use gonghui::testing;

#[tokio::test]
async fn public_pages_are_rate_limited_per_ip_and_per_identity() {
    let server = testing::TestServer::start(testing::demo_orgs_env().await.unwrap())
        .await
        .unwrap();
    // Per identity: ten tries at one ID number an hour, whatever the phone
    // (here without a code: each is refused, and each counts).
    let mut c = Client::new(&server);
    let (_, page) = c.text("/join/status").await;
    c.csrf = crate::common::csrf_in(&page).unwrap();
    let id = "11010519491231002X";
    let mut codes = Vec::new();
    for n in 0..11 {
        let phone = format!("138000000{n:02}");
        let (s, _) = c
            .post_form("/join/status", &[("id_number", id), ("phone", &phone)])
            .await;
        codes.push(s);
    }
    assert!(
        codes[..10]
            .iter()
            .all(|s| *s == StatusCode::UNPROCESSABLE_ENTITY),
        "{codes:?}"
    );
    assert_eq!(codes[10], StatusCode::TOO_MANY_REQUESTS);
    let (s, page) = c
        .post_form(
            "/join/status",
            &[("id_number", id), ("phone", "13900000000")],
        )
        .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.contains("操作过于频繁"), "{page}");
    // Another ID from the same place is still answered.
    let (s, _) = c
        .post_form(
            "/join/status",
            &[
                ("id_number", "110102198405069701"),
                ("phone", "13900000000"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // Codes: five an hour to one phone, whatever the ID; then 429.
    let mut sends = Vec::new();
    for n in 0..6 {
        let id = ["110102198405069701", "11010519491231002X"][n % 2];
        let (s, _) = c
            .post_form(
                "/join/status/code",
                &[("id_number", id), ("phone", "13700000000")],
            )
            .await;
        sends.push(s);
    }
    assert!(sends[..5].iter().all(|s| *s == StatusCode::OK), "{sends:?}");
    assert_eq!(sends[5], StatusCode::TOO_MANY_REQUESTS);
    // Per IP: thirty requests a minute to the public pages.
    let mut last = StatusCode::OK;
    for _ in 0..40 {
        let (s, _) = c.text("/join?q=工会").await;
        last = s;
        if s == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}
