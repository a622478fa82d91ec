//! The OpenAPI 3.1 document, generated from the handlers' annotations and the wire types.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Paddock", description = "Supervise AI coding agents: sessions, terminals, devices. WebSocket at /api/v1/ws (see the wire types ClientMessage and ServerMessage)."),
    paths(
        crate::rest::health, crate::rest::pair, crate::rest::refresh, crate::rest::me,
        crate::rest::sessions, crate::rest::session, crate::rest::input, crate::rest::resize,
        crate::rest::signal, crate::rest::restart, crate::rest::remove, crate::rest::status, crate::rest::doctor,
        crate::rest::metrics, crate::rest::devices, crate::rest::rename_device,
        crate::rest::revoke_device, crate::rest::create_pairing, crate::rest::audit_log,
        crate::rest::message, crate::rest::control, crate::rest::permissions, crate::rest::decide,
        crate::rest::insight, crate::rest::thinking, crate::rest::start_session, crate::rest::logs,
        crate::rest::processes, crate::rest::transcript, crate::rest::history,
        crate::conversation::page, crate::conversation::turn,
        crate::notifications::log, crate::notifications::web_push_info,
        crate::notifications::subscribe, crate::notifications::act, crate::notifications::test,
        crate::notifications::settings, crate::notifications::change_settings,
    ),
    modifiers(&Bearer, &CommonErrors),
    components(schemas(paddock_proto::web::ErrorBody)),
)]
pub struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Every operation can also answer with these (the layers every request passes: the body
/// and query extractors, authentication, roles, the Origin check, the body limit, the rate
/// limit), so each one documents them.
struct CommonErrors;

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let error = |what: &str| {
            ResponseBuilder::new()
                .description(what)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
        };
        let common = [
            ("400", "Malformed request: bad JSON, a bad query or id"),
            ("401", "No token, a bad or expired one, or a revoked device"),
            (
                "403",
                "The role may not do this, or a page of another origin",
            ),
            ("404", "No such thing"),
            ("413", "The body is too large"),
            (
                "429",
                "Too many requests from this address; see Retry-After",
            ),
        ];
        for item in openapi.paths.paths.values_mut() {
            let ops = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for op in ops.into_iter().flatten() {
                for (code, what) in common {
                    op.responses
                        .responses
                        .entry(code.to_owned())
                        .or_insert_with(|| error(what).into());
                }
            }
        }
    }
}

pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
