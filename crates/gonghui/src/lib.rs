//! Gonghui (智慧工会): the platform on which a municipal trade-union
//! federation and every union under it does and records its work.
//!
//! Layout: `platform` holds what every module stands on (storage, config,
//! auth, scope, audit, i18n, crypto, the web shell); each business module
//! (`orgs`, `members`, `reports`, …) is one folder with its rules, storage,
//! service functions and HTTP; `modules` registers them. See ARCHITECTURE.md.

pub mod cli;
pub mod demo;
pub mod members;
pub mod modules;
pub mod orgs;
pub mod platform;
pub mod reports;
