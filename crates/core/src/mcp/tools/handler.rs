//! The MCP server handler of `PaddockMcp`: dispatches tool calls through the combined tool
//! router (the caller of an HTTP request being the device its token authenticated), audits
//! every call that changes something or fails, serves the resources (`mcp/resources.rs`) and
//! says who the server is.

use super::PaddockMcp;
use crate::access::AuditInput;
use crate::mcp::caller::Caller;
use rmcp::model::{Implementation, ServerCapabilities, ServerConfig};
use rmcp::{tool_handler, ServerHandler};

/// Tools that only read: audited when they fail, not on every call.
const READ_ONLY: &[&str] = &[
    "list_sessions",
    "get_session",
    "read_screen",
    "read_transcript",
    "wait_for",
    "list_approvals",
    "get_answer",
];

impl PaddockMcp {
    /// Audits a tool call like any other client's action: every call that changes
    /// something, and every refused or failed one (a store write: off the async threads).
    async fn audit(
        &self,
        tool: &str,
        target: Option<String>,
        result: &Result<rmcp::model::CallToolResponse, rmcp::ErrorData>,
    ) {
        let failure = match result {
            Err(e) => Some(e.message.to_string()),
            Ok(rmcp::model::CallToolResponse::Complete(r)) if r.is_error == Some(true) => Some(
                r.content
                    .iter()
                    .filter_map(|c| c.as_text().map(|t| t.text.clone()))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            Ok(_) => None,
        };
        if failure.is_none() && READ_ONLY.contains(&tool) {
            return;
        }
        let entry = AuditInput {
            actor: self.caller.actor.clone(),
            device_id: self.caller.device.as_ref().map(|d| d.device_id.clone()),
            action: format!("mcp.{tool}"),
            target,
            result: match &failure {
                None => "ok",
                Some(f) if f.starts_with("refused") => "denied",
                Some(_) => "failed",
            }
            .to_owned(),
            detail: failure,
        };
        let access = self.handle.access().clone();
        let _ = tokio::task::spawn_blocking(move || access.audit(entry)).await;
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for PaddockMcp {
    /// Over HTTP the caller is the device the endpoint authenticated for this very request
    /// (its token's role), never the one that opened the MCP session.
    async fn call_tool(
        &self,
        request: rmcp::model::CallToolRequestParams,
        context: rmcp::service::RequestContext<rmcp::RoleServer>,
    ) -> Result<rmcp::model::CallToolResponse, rmcp::ErrorData> {
        let device = context
            .extensions
            .get::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<crate::access::Principal>())
            .cloned();
        let this = match device {
            Some(principal) => Self {
                caller: Caller::device(principal),
                ..self.clone()
            },
            None => self.clone(),
        };
        let name = request.name.to_string();
        let target = request.arguments.as_ref().and_then(|a| {
            ["session", "request", "ticket", "command"]
                .iter()
                .find_map(|k| a.get(*k).and_then(|v| v.as_str()).map(str::to_owned))
        });
        let progress = crate::mcp::progress::for_call(&name, &context);
        let tcc = rmcp::handler::server::tool::ToolCallContext::new(&this, request, context);
        let result = crate::mcp::progress::run(progress, this.tool_router.call(tcc)).await;
        this.audit(&name, target, &result).await;
        result
    }

    // Resources (each session's screen and transcript): `resources.rs`.
    async fn list_resources(
        &self,
        _: Option<rmcp::model::PaginatedRequestParams>,
        context: rmcp::service::RequestContext<rmcp::RoleServer>,
    ) -> Result<rmcp::model::ListResourcesResult, rmcp::ErrorData> {
        self.for_request(&context).resource_list()
    }

    async fn list_resource_templates(
        &self,
        _: Option<rmcp::model::PaginatedRequestParams>,
        _: rmcp::service::RequestContext<rmcp::RoleServer>,
    ) -> Result<rmcp::model::ListResourceTemplatesResult, rmcp::ErrorData> {
        Ok(self.resource_templates())
    }

    async fn read_resource(
        &self,
        request: rmcp::model::ReadResourceRequestParams,
        context: rmcp::service::RequestContext<rmcp::RoleServer>,
    ) -> Result<rmcp::model::ReadResourceResponse, rmcp::ErrorData> {
        let this = self.for_request(&context);
        Ok(this.resource_read(&request.uri).await?.into())
    }

    fn get_info(&self) -> ServerConfig {
        let mut info = ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build(),
        );
        info.server_info = Implementation::new("paddock", env!("CARGO_PKG_VERSION"));
        info.instructions = Some(format!(
            "Paddock supervises coding agents. You are calling as {} ({}). Tools act on your own session unless you are an orchestrator; see docs/mcp.md.",
            self.caller.actor,
            self.caller.profile.name()
        ));
        info
    }
}
