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
        crate::rest::signal, crate::rest::restart, crate::rest::remove, crate::rest::status,
        crate::rest::metrics, crate::rest::devices, crate::rest::rename_device,
        crate::rest::revoke_device, crate::rest::create_pairing, crate::rest::audit_log,
    ),
    modifiers(&Bearer),
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

pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
