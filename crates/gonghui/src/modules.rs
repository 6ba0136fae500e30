//! The module registry: the one place that lists the business modules of
//! this binary. Adding a module is a new crate and one line below; the
//! platform assembles its migrations, strings, routes, API, navigation,
//! indicators, demo data and start-up work from the `Module` it returns.

use std::sync::{Arc, OnceLock};

use platform::module::{Module, Registry};

/// The modules, in order: migrations run and the demo seeds in this order,
/// and navigation shows it.
pub fn all() -> Vec<Module> {
    vec![
        reports::module(),
        orgs::module(),
        members::module(),
        benefits::module(),
        stations::module(),
        mutual_aid::module(),
        hardship::module(),
        // Last: its demo drafts are written from every other module's records.
        summary::module(),
    ]
}

/// The registry of [`all`], built once per process.
pub fn registry() -> Arc<Registry> {
    static R: OnceLock<Arc<Registry>> = OnceLock::new();
    R.get_or_init(|| Arc::new(Registry::new(all()))).clone()
}
