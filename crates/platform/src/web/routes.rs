//! A module's routes, registered with their API documentation in one place:
//! JSON endpoints go in through `utoipa_axum::routes!`, which takes the path
//! and the method from the handler's `#[utoipa::path]`, so an API route
//! cannot be missing from `/api/v1/openapi.json`; pages, forms and file
//! downloads go in through [`Routes::page`], which refuses an `/api/` path.
//! Every path is recorded, so the whole surface can be listed (tests walk it).

use axum::{routing::MethodRouter, Router};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};

use super::AppState;

/// One registered path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoutePath {
    /// As axum matches it: `/api/v1/orgs/{id}`.
    pub path: String,
    /// In the API document (a JSON endpoint) or a page.
    pub api: bool,
}

/// Routes being registered; see the module docs.
pub struct Routes {
    router: OpenApiRouter<AppState>,
    paths: Vec<RoutePath>,
}

impl Default for Routes {
    fn default() -> Self {
        Routes::new()
    }
}

impl Routes {
    pub fn new() -> Routes {
        Routes {
            router: OpenApiRouter::new(),
            paths: Vec::new(),
        }
    }

    /// JSON endpoints: `routes!(api_list, api_create)` (one path, the
    /// handlers' methods), documented from their `#[utoipa::path]`.
    pub fn api(self, r: UtoipaMethodRouter<AppState>) -> Routes {
        self.api_with(r, |m| m)
    }

    /// [`Routes::api`] with a layer on the method router (an upload's body limit).
    pub fn api_with(
        mut self,
        (schemas, paths, method): UtoipaMethodRouter<AppState>,
        wrap: impl FnOnce(MethodRouter<AppState>) -> MethodRouter<AppState>,
    ) -> Routes {
        for p in paths.paths.keys() {
            self.paths.push(RoutePath {
                path: p.clone(),
                api: true,
            });
        }
        self.router = self.router.routes((schemas, paths, wrap(method)));
        self
    }

    /// A page, form or file route: HTML or a download, not part of the JSON
    /// API. An `/api/` path here is a programming error (it would be
    /// undocumented): it panics when the routes are built, at start.
    pub fn page(mut self, path: &str, method: MethodRouter<AppState>) -> Routes {
        assert!(
            !path.starts_with("/api/"),
            "{path}: API routes are registered with Routes::api(routes!(…)) so they are documented"
        );
        self.paths.push(RoutePath {
            path: path.to_string(),
            api: false,
        });
        self.router = self.router.route(path, method);
        self
    }

    pub fn merge(mut self, other: Routes) -> Routes {
        self.paths.extend(other.paths);
        self.router = self.router.merge(other.router);
        self
    }

    /// The paths registered so far.
    pub fn paths(&self) -> &[RoutePath] {
        &self.paths
    }

    /// The axum router, the API document of its JSON endpoints, the paths.
    pub fn split(self) -> (Router<AppState>, utoipa::openapi::OpenApi, Vec<RoutePath>) {
        let (router, doc) = self.router.split_for_parts();
        (router, doc, self.paths)
    }
}
