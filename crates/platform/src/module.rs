//! The `Module` contract: everything a business module brings with it, so
//! that adding one is a new crate and one line in the binary's registry —
//! the platform never changes for it.
//!
//! A module declares, once, in its own crate:
//! - its migrations, an ordered list recorded under its key (`module_migrations`);
//! - its interface strings (registered with `i18n`), its typed ids (`id_type!`);
//! - its routes and their OpenAPI paths, its navigation entry;
//! - its statistical indicators (`indicator`);
//! - its review kinds (`review::ReviewKind`): what its records do on the
//!   shared review chain;
//! - its demo data, seeded when the demo asks every module to seed;
//! - what it starts when the server starts listening;
//! - the record kinds that may carry attachments (`attachments`);
//! - the directories of persons it keeps (`person::PersonDirectory`): the
//!   roster, which person references look up by ID hash.

use std::{collections::HashMap, future::Future, pin::Pin, sync::Arc};

use axum::Router;

use crate::{
    attachments::AttachmentOwner,
    i18n,
    indicator::Indicator,
    person::PersonDirectory,
    review::ReviewKind,
    web::{AppState, RoutePath, Routes},
};

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

/// A command a module adds to the command line under one of the binary's
/// verbs: `gonghui <verb> <name> …` (`gonghui import members FILE`,
/// `gonghui report indicators …`), so a module's batch work needs no edit of
/// the binary's CLI.
#[derive(Clone, Copy)]
pub struct CliCommand {
    /// import | gen | report | … (the binary knows the usual verbs; a new
    /// one appears with a generic description).
    pub verb: &'static str,
    /// The subcommand: its name, help and arguments (clap's builder; a
    /// derived `Args` gives it with `augment_args`).
    pub command: fn() -> clap::Command,
    /// Runs it on the opened platform; the exit code is the command's.
    pub run: for<'a> fn(
        &'a AppState,
        &'a clap::ArgMatches,
    ) -> BoxFuture<'a, anyhow::Result<std::process::ExitCode>>,
}

/// A change of stored data that needs the keys (re-keying hashes,
/// re-encrypting): run once, after the schema migrations, when the platform
/// opens with its master key, inside one transaction with its record (kept
/// as module `<key>+keyed` in `module_migrations`).
#[derive(Clone, Copy)]
pub struct KeyedMigration {
    pub version: i64,
    pub name: &'static str,
    pub run: for<'a> fn(
        &'a mut sqlx::AnyConnection,
        &'a crate::crypto::Keys,
    ) -> BoxFuture<'a, anyhow::Result<()>>,
}

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
    /// Its pages and its JSON API, registered together ([`Routes`]).
    pub routes: fn() -> Routes,
    /// The module's statistical indicators (see `indicator`).
    pub indicators: fn() -> Vec<Indicator>,
    /// Its commands on the command line.
    pub cli: &'static [CliCommand],
    /// Changes of its stored data that need the keys.
    pub keyed_migrations: &'static [KeyedMigration],
    /// Its paragraphs of the annual work summary (`summary`).
    pub summary: fn() -> Vec<crate::summary::Paragraph>,
    /// Its lines and consistency rules of the yearly statistical return
    /// (`survey`).
    pub yearly_return: fn() -> crate::survey::Contribution,
    /// What keeps an org from closing while it has them.
    pub org_holds: &'static [OrgHold],
    /// Adds the module's records to the demo federation; called in registry
    /// order after the org tree and accounts exist.
    pub seed_demo: Option<SeedDemo>,
    /// Called once when the server starts listening; must not block
    /// (background work is spawned).
    pub on_start: fn(&AppState),
    /// The kinds of record the module sends up the review chain (审批流);
    /// keys are unique across modules.
    pub review_kinds: fn() -> Vec<Arc<dyn ReviewKind>>,
    /// The record kinds of this module that files may be attached to, each
    /// resolving a record to its org (which decides who may see the files).
    pub attachment_owners: fn() -> Vec<Arc<dyn AttachmentOwner>>,
    /// The persons this module keeps (the roster), for person references
    /// (`person::refer`): a person a directory knows by ID hash is referred
    /// to as a member.
    pub person_directories: fn() -> Vec<Arc<dyn PersonDirectory>>,
    /// The groups of persons this module keeps (困难职工 …) that other
    /// modules may serve by key (`person::PersonGroup`).
    pub person_groups: &'static [crate::person::PersonGroup],
    /// The page an account of a role that is not staff lands on after
    /// signing in (`/`): a merchant's clerk goes to the module that serves
    /// clerks. Staff land on the dashboard.
    pub homes: &'static [(crate::scope::Role, &'static str)],
}

impl Module {
    /// A module with nothing but its key; fill in what it has.
    pub const fn new(key: &'static str) -> Module {
        Module {
            key,
            nav: None,
            migrations: &[],
            i18n: &[],
            routes: Routes::new,
            indicators: Vec::new,
            org_holds: &[],
            cli: &[],
            keyed_migrations: &[],
            summary: Vec::new,
            yearly_return: Default::default,
            seed_demo: None,
            on_start: |_| {},
            review_kinds: Vec::new,
            attachment_owners: Vec::new,
            person_directories: Vec::new,
            person_groups: &[],
            homes: &[],
        }
    }
}

/// The modules of this binary, in registry order.
pub struct Registry {
    modules: Vec<Module>,
    nav: crate::web::ctx::Nav,
    /// The API document of every module's JSON endpoints, built once.
    openapi: utoipa::openapi::OpenApi,
    /// Every path registered: the platform's own and every module's.
    paths: Vec<RoutePath>,
    /// Every module's review kinds by key, built once: the web shell looks
    /// an item's kind up by the key stored on its row.
    review_kinds: HashMap<&'static str, Arc<dyn ReviewKind>>,
    /// Every module's attachment owner kinds, by kind.
    attachment_owners: HashMap<&'static str, Arc<dyn AttachmentOwner>>,
    /// Every module's person directories, in registry order.
    person_directories: Vec<Arc<dyn PersonDirectory>>,
    /// Every module's person groups, by key.
    person_groups: HashMap<&'static str, crate::person::PersonGroup>,
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
        let mut review_kinds: HashMap<&'static str, Arc<dyn ReviewKind>> = HashMap::new();
        for m in &modules {
            for k in (m.review_kinds)() {
                let key = k.key();
                assert!(
                    review_kinds.insert(key, k).is_none(),
                    "module {}: review kind {key} is declared twice",
                    m.key
                );
            }
        }
        let mut nav = modules
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
        // The review inbox is the platform's, shown once some module reviews.
        if !review_kinds.is_empty() {
            nav.push(("reviews", "nav.reviews", "/reviews"));
        }
        // The platform's own JSON routes first (the review chain), then
        // every module's: one API document, one list of paths.
        let mut openapi = utoipa::openapi::OpenApiBuilder::new()
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
        let mut paths = Vec::new();
        for routes in std::iter::once(crate::web::platform_routes(0))
            .chain(modules.iter().map(|m| (m.routes)()))
        {
            let (_, doc, p) = routes.split();
            // Two different types under one schema name would be merged
            // silently into one, and the document would lie about one of
            // them (an API client, and schemathesis, read the wrong enum).
            if let (Some(have), Some(new)) = (&openapi.components, &doc.components) {
                for (name, schema) in &new.schemas {
                    if let Some(old) = have.schemas.get(name) {
                        let (a, b) = (serde_json::to_value(old), serde_json::to_value(schema));
                        assert!(
                            a.is_ok() && a.ok() == b.ok(),
                            "two different API schemas are named {name}: rename one (#[schema(as = …)] or the type)"
                        );
                    }
                }
            }
            openapi.merge(doc);
            paths.extend(p);
        }
        let person_directories = modules
            .iter()
            .flat_map(|m| (m.person_directories)())
            .collect();
        let mut person_groups = HashMap::new();
        for g in modules.iter().flat_map(|m| m.person_groups.iter()) {
            assert!(
                g.id_hashes.trim_start().starts_with("SELECT")
                    && g.id_hashes.contains("AS id_hash")
                    && g.id_hashes.contains("AS org_path"),
                "person group {}: its query must be `SELECT … AS id_hash, … AS org_path FROM …`",
                g.key
            );
            assert!(
                person_groups.insert(g.key, *g).is_none(),
                "person group {} is declared twice",
                g.key
            );
        }
        crate::web::routes::document_errors(&mut openapi);
        let r = Registry {
            person_directories,
            person_groups,
            modules,
            nav: std::sync::Arc::new(nav),
            openapi,
            paths,
            review_kinds,
            attachment_owners,
        };
        let all = r.indicators();
        let mut paragraphs = std::collections::HashSet::new();
        for p in r.summary_paragraphs() {
            assert!(
                paragraphs.insert(p.key),
                "summary paragraph {} is declared twice",
                p.key
            );
            let known = |code: &str| all.iter().any(|i| i.code == code);
            let ratio = |code: &str| {
                all.iter().any(|i| {
                    i.code == code && matches!(i.kind, crate::indicator::Kind::Ratio { .. })
                })
            };
            if let Err(e) = p.check(known, ratio) {
                panic!("{e}");
            }
        }
        let contributions: Vec<_> = r.modules.iter().map(|m| (m.yearly_return)()).collect();
        if let Err(e) =
            crate::survey::check(&contributions, |code| all.iter().any(|i| i.code == code))
        {
            panic!("{e}");
        }
        let mut codes = std::collections::HashSet::new();
        for i in &all {
            assert!(
                codes.insert(i.code),
                "indicator code {} is declared twice",
                i.code
            );
        }
        r
    }

    pub fn modules(&self) -> &[Module] {
        &self.modules
    }

    /// (module key, label key, href) for the layout.
    pub fn nav(&self) -> crate::web::ctx::Nav {
        self.nav.clone()
    }

    /// The review kind registered under `key` (`ReviewKind::key`).
    pub fn review_kind(&self, key: &str) -> Option<Arc<dyn ReviewKind>> {
        self.review_kinds.get(key).cloned()
    }

    /// Every indicator of every module, in section order then declaration order.
    pub fn indicators(&self) -> Vec<Indicator> {
        let mut all: Vec<Indicator> = self.modules.iter().flat_map(|m| (m.indicators)()).collect();
        // Stable: keeps each module's declaration order within a section.
        all.sort_by_key(|i| i.section.order);
        all
    }

    /// The API document of every module's JSON endpoints.
    pub fn openapi(&self) -> utoipa::openapi::OpenApi {
        self.openapi.clone()
    }

    /// Every path registered: the platform's own (pages, health, metrics, the
    /// API document, reviews, attachments) and every module's, pages and API.
    pub fn paths(&self) -> &[RoutePath] {
        &self.paths
    }

    /// Every module's routes as one router.
    pub fn router(&self) -> Router<AppState> {
        self.modules
            .iter()
            .fold(Router::new(), |r, m| r.merge((m.routes)().split().0))
    }

    /// The owner of attachments of this record kind, if a module registered it.
    pub fn attachment_owner(&self, kind: &str) -> Option<Arc<dyn AttachmentOwner>> {
        self.attachment_owners.get(kind).cloned()
    }

    /// Every module's paragraphs of the annual work summary.
    /// Where an account of a role that is not staff lands (a module's
    /// [`Module::homes`]), if a module serves it.
    pub fn home_for(&self, role: crate::scope::Role) -> Option<&'static str> {
        self.modules
            .iter()
            .flat_map(|m| m.homes.iter())
            .find(|(r, _)| *r == role)
            .map(|(_, to)| *to)
    }

    pub fn summary_paragraphs(&self) -> Vec<crate::summary::Paragraph> {
        self.modules.iter().flat_map(|m| (m.summary)()).collect()
    }

    /// Every module's lines and rules of the yearly statistical return.
    pub fn yearly_return(&self) -> crate::survey::Contribution {
        let mut all = crate::survey::Contribution::default();
        for m in &self.modules {
            let c = (m.yearly_return)();
            all.items.extend(c.items);
            all.checks.extend(c.checks);
        }
        all
    }

    /// Every module's keyed migrations, in registry order: (module key, migration).
    pub fn keyed_migrations(&self) -> Vec<(&'static str, KeyedMigration)> {
        self.modules
            .iter()
            .flat_map(|m| m.keyed_migrations.iter().map(move |k| (m.key, *k)))
            .collect()
    }

    /// Every module's command-line commands.
    pub fn cli_commands(&self) -> Vec<CliCommand> {
        self.modules
            .iter()
            .flat_map(|m| m.cli.iter().copied())
            .collect()
    }

    /// Every module's person directories, in registry order: a person
    /// reference asks them in turn (`person::refer`).
    /// The person group declared under `key`, if a module keeps it.
    pub fn person_group(&self, key: &str) -> Option<crate::person::PersonGroup> {
        self.person_groups.get(key).copied()
    }

    /// Every declared person group, sorted by key.
    pub fn person_groups(&self) -> Vec<crate::person::PersonGroup> {
        let mut v: Vec<_> = self.person_groups.values().copied().collect();
        v.sort_by_key(|g| g.key);
        v
    }

    pub fn person_directories(&self) -> &[Arc<dyn PersonDirectory>] {
        &self.person_directories
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
