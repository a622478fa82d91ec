//! MCP resources: each session's screen (`paddock://sessions/{id}/screen`, the terminal as
//! text) and transcript (`paddock://sessions/{id}/transcript`, the newest page of its
//! conversation as JSON), for resources/list, resources/templates/list and resources/read.
//! The caller's profile applies as to the tools: an agent sees its own session only, an
//! orchestrator every running one, a device within its role.

use super::caller::{Caller, Profile};
use super::tools::PaddockMcp;
use paddock_proto::access::Permission;
use paddock_proto::supervisor::SessionView;
use paddock_proto::{Request, Response};
use rmcp::model::{
    ListResourceTemplatesResult, ListResourcesResult, ReadResourceResult, Resource,
    ResourceContents, ResourceTemplate,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer};

const PREFIX: &str = "paddock://sessions/";
/// Turns in a transcript resource (the newest ones).
const TRANSCRIPT_TURNS: usize = 20;

/// The two kinds of resource a session has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Screen,
    Transcript,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Screen => "screen",
            Kind::Transcript => "transcript",
        }
    }
}

fn uri(session: &str, kind: Kind) -> String {
    format!("{PREFIX}{session}/{}", kind.name())
}

/// The session and kind a URI names.
fn parse(uri: &str) -> Option<(&str, Kind)> {
    let (session, kind) = uri.strip_prefix(PREFIX)?.rsplit_once('/')?;
    let kind = match kind {
        "screen" => Kind::Screen,
        "transcript" => Kind::Transcript,
        _ => return None,
    };
    (!session.is_empty() && !session.contains('/')).then_some((session, kind))
}

fn refused(message: String) -> ErrorData {
    ErrorData::invalid_params(message, None)
}

impl PaddockMcp {
    /// This server as the caller of one request: over HTTP, the device the endpoint
    /// authenticated for that very request.
    pub(super) fn for_request(&self, context: &RequestContext<RoleServer>) -> Self {
        let device = context
            .extensions
            .get::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<crate::access::Principal>())
            .cloned();
        let mut this = self.clone();
        if let Some(principal) = device {
            this.caller = Caller::device(principal);
        }
        this
    }

    /// The sessions whose resources this caller may see.
    fn visible(&self) -> Vec<SessionView> {
        self.handle
            .sessions()
            .into_iter()
            .filter(|v| v.is_running())
            .filter(|v| {
                self.caller.profile == Profile::Orchestrator
                    || self.caller.session.as_ref() == Some(&v.id)
            })
            .collect()
    }

    pub(super) fn resource_list(&self) -> Result<ListResourcesResult, ErrorData> {
        self.caller.need(Permission::Read).map_err(refused)?;
        let mut all = Vec::new();
        for v in self.visible() {
            let id = v.id.as_str();
            all.push(
                Resource::new(uri(id, Kind::Screen), format!("{} screen", v.name))
                    .with_description(format!("The terminal of session {} as text", v.name))
                    .with_mime_type("text/plain"),
            );
            all.push(
                Resource::new(uri(id, Kind::Transcript), format!("{} transcript", v.name))
                    .with_description(format!(
                        "The newest turns of session {}'s conversation (JSON)",
                        v.name
                    ))
                    .with_mime_type("application/json"),
            );
        }
        Ok(ListResourcesResult::with_all_items(all))
    }

    pub(super) fn resource_templates(&self) -> ListResourceTemplatesResult {
        ListResourceTemplatesResult::with_all_items(vec![
            ResourceTemplate::new(format!("{PREFIX}{{session}}/screen"), "session screen")
                .with_description("A session's terminal as text; {session} is an id, unique id prefix or name")
                .with_mime_type("text/plain"),
            ResourceTemplate::new(format!("{PREFIX}{{session}}/transcript"), "session transcript")
                .with_description("The newest turns of a session's conversation (JSON); {session} is an id, unique id prefix or name")
                .with_mime_type("application/json"),
        ])
    }

    pub(super) async fn resource_read(&self, uri: &str) -> Result<ReadResourceResult, ErrorData> {
        let (session, kind) = parse(uri).ok_or_else(|| {
            ErrorData::resource_not_found(
                format!("no resource `{uri}`: Paddock's are {PREFIX}SESSION/screen and {PREFIX}SESSION/transcript (resources/list lists them)"),
                None,
            )
        })?;
        self.caller.need(Permission::Read).map_err(refused)?;
        let view = self.target(Some(session)).map_err(refused)?;
        let contents = match kind {
            Kind::Screen => ResourceContents::text(self.screen_text(&view).await?, uri),
            Kind::Transcript => ResourceContents::text(self.transcript_json(&view).await?, uri)
                .with_mime_type("application/json"),
        };
        Ok(ReadResourceResult::new(vec![contents]))
    }

    async fn screen_text(&self, view: &SessionView) -> Result<String, ErrorData> {
        match self
            .handle
            .session_request(&view.id, Request::Screen)
            .await
            .map_err(|e| refused(e.to_string()))?
        {
            Response::Screen { rows, .. } => Ok(rows
                .iter()
                .map(|r| r.trim_end())
                .collect::<Vec<_>>()
                .join("\n")),
            other => Err(ErrorData::internal_error(
                format!("the session's holder answered {other:?} instead of its screen; try again"),
                None,
            )),
        }
    }

    async fn transcript_json(&self, view: &SessionView) -> Result<String, ErrorData> {
        let handle = self.handle.clone();
        let id = view.id.clone();
        let page = tokio::task::spawn_blocking(move || {
            handle
                .transcripts()
                .ok_or_else(|| "transcripts are not followed on this host".to_owned())?
                .conversation_page(&id, None, TRANSCRIPT_TURNS)
                .map_err(|e| e.to_string())
        })
        .await
        .map_err(|_| {
            ErrorData::internal_error(
                "reading the transcript failed inside the supervisor; see its log",
                None,
            )
        })?
        .map_err(refused)?;
        serde_json::to_string(&page).map_err(|e| ErrorData::internal_error(e.to_string(), None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_name_a_session_and_a_kind() {
        assert_eq!(
            parse(&uri("ab12", Kind::Screen)),
            Some(("ab12", Kind::Screen))
        );
        assert_eq!(
            parse("paddock://sessions/my-agent/transcript"),
            Some(("my-agent", Kind::Transcript))
        );
        assert_eq!(parse("paddock://sessions/x/logs"), None);
        assert_eq!(parse("paddock://sessions//screen"), None);
        assert_eq!(parse("file:///etc/passwd"), None);
    }
}
