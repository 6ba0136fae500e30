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

/// Declares, on every operation of the API document, the error answers the
/// web shell gives (`{"error": {"code", "message", "message_zh",
/// "message_en"}}`, the `Error` schema), where they can occur:
/// - 401 (not signed in) unless the operation is public (`security(())`);
/// - 403 (read-only role, CSRF, a permission) on signed-in and on
///   state-changing operations;
/// - 404 (absent or outside the caller's subtree: the same answer) on
///   signed-in operations;
/// - 422 (refused by validation) where there are parameters or a body;
/// - 400, 415 (a body that is not what the operation takes) and 409 (the
///   state of the record forbids it) where there is a body.
///
/// A status the handler documents with its own content is kept.
pub fn document_errors(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{
        schema::{ObjectBuilder, Type},
        ContentBuilder, Ref, RefOr, ResponseBuilder,
    };
    let text = |d: &str| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(d))
    };
    let detail = ObjectBuilder::new()
        .property("code", text("not_found | unauthenticated | forbidden | csrf | invalid | conflict | throttled | too_large | internal"))
        .property("message", text("In the caller's language"))
        .property("message_zh", text("中文"))
        .property("message_en", text("English"))
        .required("code")
        .required("message")
        .required("message_zh")
        .required("message_en");
    let error = ObjectBuilder::new()
        .description(Some("An error answer of the JSON API"))
        .property("error", detail)
        .required("error")
        .build();
    doc.components
        .get_or_insert_with(Default::default)
        .schemas
        .insert("Error".to_string(), RefOr::T(error.into()));
    let answer = |d: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(d)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Error")))
                        .build(),
                )
                .build(),
        )
    };
    for item in doc.paths.paths.values_mut() {
        let ops = [
            (&mut item.get, false),
            (&mut item.post, true),
            (&mut item.put, true),
            (&mut item.patch, true),
            (&mut item.delete, true),
        ];
        for (op, changes) in ops {
            let Some(op) = op.as_mut() else { continue };
            let public = op.security.as_ref().is_some_and(|s| {
                s.iter()
                    .any(|r| serde_json::to_value(r).is_ok_and(|v| v == serde_json::json!({})))
            });
            let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
            let has_body = op.request_body.is_some();
            let mut add = |status: &str, d: &str| {
                let keep = matches!(
                    op.responses.responses.get(status),
                    Some(RefOr::T(r)) if !r.content.is_empty()
                );
                if !keep {
                    op.responses.responses.insert(status.to_string(), answer(d));
                }
            };
            if !public {
                add("401", "Not signed in");
                add("404", "Absent, or outside the caller's subtree");
            }
            if !public || changes {
                add(
                    "403",
                    "Forbidden: a read-only role, a missing permission, or the CSRF check",
                );
            }
            if has_params || has_body {
                add("422", "Refused by validation");
            }
            if has_body {
                add("400", "A malformed body");
                add("415", "A body of another content type");
            }
            if changes && !public {
                add("409", "The record's state does not allow it");
            }
        }
    }
}
