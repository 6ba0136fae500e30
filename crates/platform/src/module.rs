//! The `Module` contract: everything a business module brings with it, so
//! that adding one is a new crate and one line in the binary's registry —
//! the platform never changes for it.
//!
//! A module declares, once, in its own crate:
//! - its migrations, an ordered list recorded under its key (`module_migrations`);
//! - its interface strings (registered with `i18n`), its typed ids (`id_type!`);
//! - its routes and their OpenAPI paths, its navigation entry;
//! - its statistical indicators (`indicator`);
//! - its demo data, seeded when the demo asks every module to seed;
//! - what it starts when the server starts listening;
//! - the record kinds that may carry attachments (`attachments`).

use std::{collections::HashMap, future::Future, pin::Pin, sync::Arc};

use axum::Router;

use crate::{attachments::AttachmentOwner, i18n, indicator::Indicator, web::AppState};

/// One schema change, in portable SQL (see `db` for the tokens).
#[derive(Clone, Copy, Debug)]
pub struct Migration {
    /// 1, 2, 3 … within the module; never reused or renumbered.
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Open records a module keeps for an org, which must be dealt with before
/// the org may close (members to transfer, files to hand over …).
#[derive(Clone, Copy, Debug)]
pub struct OrgHold {
    /// `SELECT COUNT(*) … WHERE org_id = $1 …`: the org's open records.
    pub count_sql: &'static str,
    /// The refusal, `{n}` standing for the count.
    pub zh: &'static str,
    pub en: &'static str,
}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Seeds a module's demo records.
pub type SeedDemo = for<'a> fn(&'a AppState) -> BoxFuture<'a, anyhow::Result<()>>;

pub struct Module {
    /// Stable key: the migration records, the nav highlight, logs.
    pub key: &'static str,
    /// (i18n key of the label, href) in the navigation bar.
    pub nav: Option<(&'static str, &'static str)>,
    /// Applied in order after the platform's own and those of the modules
    /// registered before this one.
    pub migrations: &'static [Migration],
    /// The module's strings, sorted by key.
    pub i18n: i18n::Catalog,
    pub routes: fn() -> Router<AppState>,
    pub openapi: fn() -> utoipa::openapi::OpenApi,
    /// The module's statistical indicators (see `indicator`).
    pub indicators: fn() -> Vec<Indicator>,
    /// What keeps an org from closing while it has them.
    pub org_holds: &'static [OrgHold],
    /// Adds the module's records to the demo federation; called in registry
    /// order after the org tree and accounts exist.
    pub seed_demo: Option<SeedDemo>,
    /// Called once when the server starts listening; must not block
    /// (background work is spawned).
    pub on_start: fn(&AppState),
    /// The record kinds of this module that files may be attached to, each
    /// resolving a record to its org (which decides who may see the files).
    pub attachment_owners: fn() -> Vec<Arc<dyn AttachmentOwner>>,
}

impl Module {
    /// A module with nothing but its key; fill in what it has.
    pub const fn new(key: &'static str) -> Module {
        Module {
            key,
            nav: None,
            migrations: &[],
            i18n: &[],
            routes: Router::new,
            openapi: empty_openapi,
            indicators: Vec::new,
            org_holds: &[],
            seed_demo: None,
            on_start: |_| {},
            attachment_owners: Vec::new,
        }
    }
}

fn empty_openapi() -> utoipa::openapi::OpenApi {
    utoipa::openapi::OpenApiBuilder::new().build()
}

/// The modules of this binary, in registry order.
pub struct Registry {
    modules: Vec<Module>,
    nav: crate::web::ctx::Nav,
    /// Every module's attachment owner kinds, by kind.
    attachment_owners: HashMap<&'static str, Arc<dyn AttachmentOwner>>,
}

impl Registry {
    /// Registers the modules' strings and checks that keys, migrations,
    /// indicator codes and attachment owner kinds do not collide (a
    /// programming error: panics with the culprit named, at start, never later).
    pub fn new(modules: Vec<Module>) -> Registry {
        let mut keys = std::collections::HashSet::new();
        for m in &modules {
            assert!(
                keys.insert(m.key) && m.key != crate::db::PLATFORM_KEY,
                "module key {} is used twice",
                m.key
            );
            if let Err(e) = i18n::register(m.i18n) {
                panic!("module {}: {e}", m.key);
            }
            for w in m.migrations.windows(2) {
                assert!(
                    w[0].version < w[1].version,
                    "module {}: migrations out of order",
                    m.key
                );
            }
        }
        let nav = modules
            .iter()
            .filter_map(|m| m.nav.map(|(label, href)| (m.key, label, href)))
            .collect::<Vec<_>>();
        let mut attachment_owners = HashMap::new();
        for m in &modules {
            for o in (m.attachment_owners)() {
                let kind = o.kind();
                assert!(
                    attachment_owners.insert(kind, o).is_none(),
                    "attachment owner kind {kind} is registered twice (module {})",
                    m.key
                );
            }
        }
        let r = Registry {
            modules,
            nav: std::sync::Arc::new(nav),
            attachment_owners,
        };
        let all = r.indicators();
        let mut codes = std::collections::HashSet::new();
        for i in &all {
            assert!(
                codes.insert(i.code),
                "indicator code {} is declared twice",
                i.code
            );
        }
        crate::indicator::register(all);
        r
    }

    pub fn modules(&self) -> &[Module] {
        &self.modules
    }

    /// (module key, label key, href) for the layout.
    pub fn nav(&self) -> crate::web::ctx::Nav {
        self.nav.clone()
    }

    /// Every indicator of every module, in section order then declaration order.
    pub fn indicators(&self) -> Vec<Indicator> {
        let mut all: Vec<Indicator> = self.modules.iter().flat_map(|m| (m.indicators)()).collect();
        // Stable: keeps each module's declaration order within a section.
        all.sort_by_key(|i| i.section.order);
        all
    }

    /// The API document of every module's routes.
    pub fn openapi(&self) -> utoipa::openapi::OpenApi {
        let mut doc = utoipa::openapi::OpenApiBuilder::new()
            .info(
                utoipa::openapi::InfoBuilder::new()
                    .title("Gonghui 智慧工会 API")
                    .version(env!("CARGO_PKG_VERSION"))
                    .description(Some(
                        "JSON API. Sign in through /login (session cookie); state-changing calls need the X-CSRF-Token header.",
                    ))
                    .build(),
            )
            .build();
        // The platform's own API (attachments), then every module's.
        doc.merge(crate::web::attachments::openapi());
        for m in &self.modules {
            doc.merge((m.openapi)());
        }
        doc
    }

    /// The owner of attachments of this record kind, if a module registered it.
    pub fn attachment_owner(&self, kind: &str) -> Option<Arc<dyn AttachmentOwner>> {
        self.attachment_owners.get(kind).cloned()
    }

    /// Every module's [`OrgHold`]s.
    pub fn org_holds(&self) -> Vec<OrgHold> {
        self.modules
            .iter()
            .flat_map(|m| m.org_holds.iter().copied())
            .collect()
    }

    /// The migrations to run, in order: (module key, migration).
    pub fn migrations(&self) -> Vec<(&'static str, Migration)> {
        self.modules
            .iter()
            .flat_map(|m| m.migrations.iter().map(move |x| (m.key, *x)))
            .collect()
    }
}
