//! The TypeScript export of every wire type the UI uses, into `ui/src/lib/wire/index.ts`.
//! `cargo test -p paddock-server --test wire` fails when the committed file differs;
//! `UPDATE_WIRE=1` rewrites it.

use ts_rs::TS;

/// The generated file's text.
pub fn typescript() -> String {
    let mut out = String::from(
        "// Generated from the Rust wire types by `UPDATE_WIRE=1 cargo test -p paddock-server --test wire`.\n// Do not edit by hand.\n\n",
    );
    let mut add = |decl: String| {
        out.push_str("export ");
        out.push_str(&decl);
        out.push_str("\n\n");
    };
    use paddock_proto::access::*;
    use paddock_proto::supervisor::*;
    use paddock_proto::web::*;
    add(paddock_proto::SessionId::decl());
    add(paddock_proto::Size::decl());
    add(paddock_proto::Signal::decl());
    add(paddock_proto::SessionState::decl());
    add(Backend::decl());
    add(SessionView::decl());
    add(AgentStatus::decl());
    add(ProcessView::decl());
    add(HealthStatus::decl());
    add(ComponentHealth::decl());
    add(SupervisorStatus::decl());
    add(PresenceView::decl());
    add(paddock_proto::doctor::CheckStatus::decl());
    add(paddock_proto::doctor::DoctorCheck::decl());
    add(paddock_proto::doctor::DoctorReport::decl());
    add(paddock_proto::agent::AgentState::decl());
    add(paddock_proto::agent::StateSource::decl());
    add(paddock_proto::program_status::ProgramState::decl());
    add(paddock_proto::program_status::BlockedKind::decl());
    add(paddock_proto::program_status::ProgramStatus::decl());
    add(paddock_proto::agent::StateDetail::decl());
    add(paddock_proto::agent::PermissionRequest::decl());
    add(paddock_proto::agent::AnswerChannel::decl());
    add(paddock_proto::agent::Decision::decl());
    add(paddock_proto::agent::PermissionOutcome::decl());
    add(paddock_proto::agent::Control::decl());
    add(paddock_proto::agent::InputOutcome::decl());
    add(paddock_proto::agent::MessageReceipt::decl());
    add(paddock_proto::insight::SessionInsight::decl());
    add(paddock_proto::insight::Action::decl());
    add(paddock_proto::insight::ActionStatus::decl());
    add(paddock_proto::insight::FileOperation::decl());
    add(paddock_proto::insight::FileChange::decl());
    add(paddock_proto::insight::Progress::decl());
    add(paddock_proto::insight::CompletionEstimate::decl());
    add(paddock_proto::insight::TodoItem::decl());
    add(paddock_proto::insight::TodoStatus::decl());
    add(paddock_proto::insight::ThinkingView::decl());
    add(paddock_proto::insight::TranscriptPage::decl());
    add(paddock_proto::insight::TokenUsage::decl());
    add(paddock_proto::insight::ModelUsage::decl());
    add(paddock_proto::insight::Cost::decl());
    add(paddock_proto::conversation::Turn::decl());
    add(paddock_proto::conversation::Item::decl());
    add(paddock_proto::conversation::ToolCall::decl());
    add(paddock_proto::conversation::ToolStatus::decl());
    add(paddock_proto::conversation::FileDiff::decl());
    add(paddock_proto::conversation::Question::decl());
    add(paddock_proto::conversation::QuestionOption::decl());
    add(paddock_proto::conversation::SubAgentRun::decl());
    add(paddock_proto::conversation::ConversationPage::decl());
    add(paddock_proto::agent::HistoryEntry::decl());
    add(paddock_proto::agent::HistoryHit::decl());
    add(paddock_proto::agent::HistoryPage::decl());
    add(paddock_core::events::Event::decl());
    add(DeviceId::decl());
    add(Role::decl());
    add(Permission::decl());
    add(DeviceView::decl());
    add(PairingOffer::decl());
    add(TokenGrant::decl());
    add(AuditEntry::decl());
    add(ClientMessage::decl());
    add(ServerMessage::decl());
    add(ApiErrorCode::decl());
    add(ErrorBody::decl());
    add(ErrorDetail::decl());
    add(crate::rest::HealthReport::decl());
    add(crate::rest::Me::decl());
    add(crate::rest::PairRequest::decl());
    add(crate::rest::RefreshRequest::decl());
    add(crate::rest::CreatePairingRequest::decl());
    add(crate::rest::InputRequest::decl());
    add(crate::rest::SignalRequest::decl());
    add(crate::rest::RenameRequest::decl());
    add(crate::rest::SystemMetrics::decl());
    add(crate::rest::MessageRequest::decl());
    add(crate::rest::DecideRequest::decl());
    add(crate::rest::Done::decl());
    add(crate::rest::StartSessionRequest::decl());
    add(crate::rest::LogRecord::decl());
    add(crate::app::EndpointMetrics::decl());
    // Notifications (issue 12).
    add(paddock_core::notify::NotificationKind::decl());
    add(paddock_core::notify::NotificationAction::decl());
    add(paddock_core::notify::Notification::decl());
    add(paddock_core::notify::NotificationState::decl());
    add(paddock_core::notify::DeliveryView::decl());
    add(paddock_core::notify::DeliveryStatus::decl());
    add(paddock_core::notify::subscriptions::WebPushSubscription::decl());
    add(paddock_core::notify::subscriptions::SubscriptionKeys::decl());
    add(crate::notifications::NotificationLog::decl());
    add(crate::notifications::WebPushInfo::decl());
    add(crate::notifications::ActRequest::decl());
    add(crate::notifications::ActResponse::decl());
    add(paddock_core::notify::config::QuietHours::decl());
    add(paddock_core::notify::settings::NotifySettings::decl());
    add(paddock_core::notify::settings::RuleSettings::decl());
    add(paddock_core::notify::settings::ResourceSettings::decl());
    add(paddock_core::notify::settings::DeviceRoute::decl());
    add(paddock_core::notify::settings::PushRoute::decl());
    add(paddock_core::notify::settings::ChannelStatus::decl());
    add(paddock_core::notify::settings::NotifySettingsView::decl());
    // Worktrees (issue 16).
    add(paddock_proto::git::GitStatus::decl());
    add(paddock_proto::git::ChangedFile::decl());
    // The app's shell over IPC (apptrim): begin
    add(paddock_proto::shell::ShellCapabilities::decl());
    add(paddock_proto::shell::HostModeKind::decl());
    add(paddock_proto::shell::ThisHost::decl());
    add(paddock_proto::shell::StreamMessage::decl());
    add(paddock_proto::shell::RelayReply::decl());
    add(paddock_proto::shell::ShellError::decl());
    // The app's shell over IPC (apptrim): end
    out.push_str(BINARY_FRAMES);
    out
}

const BINARY_FRAMES: &str = r#"/** Binary WebSocket frames (server to client): terminal data, never JSON.
 *  tag u8 | id_len u8 | session id (UTF-8) | offset u64 LE | rest
 *  tag 1 = output: rest is the bytes starting at `offset`.
 *  tag 3 = snapshot: rest is cols u16 LE, rows u16 LE, then ANSI bytes that redraw the screen
 *  as it was at `offset`. Resume by attaching with the end offset you have. */
export type TerminalFrame =
  | { kind: "output"; session: SessionId; offset: number; data: Uint8Array }
  | { kind: "snapshot"; session: SessionId; offset: number; size: Size; data: Uint8Array };

export function decodeTerminalFrame(buf: ArrayBuffer): TerminalFrame | null {
  const b = new Uint8Array(buf);
  if (b.length < 2) return null;
  const tag = b[0], len = b[1];
  if (b.length < 2 + len + 8) return null;
  const session = new TextDecoder().decode(b.subarray(2, 2 + len));
  const dv = new DataView(buf, 2 + len, 8);
  const offset = Number(dv.getBigUint64(0, true));
  const rest = b.subarray(2 + len + 8);
  if (tag === 1) return { kind: "output", session, offset, data: rest };
  if (tag === 3 && rest.length >= 4) {
    const sz = new DataView(rest.buffer, rest.byteOffset, 4);
    return { kind: "snapshot", session, offset, size: { cols: sz.getUint16(0, true), rows: sz.getUint16(2, true) }, data: rest.subarray(4) };
  }
  return null;
}
"#;
