//! A client's input and requests (resize, signals, restart, snapshots …), answered for the
//! holder.

use crate::holder::{exited_error, Cmd, Shared};
use paddock_proto::{ClientId, ErrorCode, ErrorPayload, Message, Mode, Request, Response, Size};
use tokio::sync::oneshot;

pub(super) async fn handle_input(
    shared: &Shared,
    client: ClientId,
    mode: Mode,
    size: Option<Size>,
    data: Vec<u8>,
) -> Option<Message> {
    if mode != Mode::ReadWrite {
        return Some(error(ErrorPayload::new(
            ErrorCode::ReadOnly,
            "this connection is read-only; attach without --read-only to type",
        )));
    }
    let Some(input) = shared.input() else {
        return Some(error(exited_error()));
    };
    if let Err(e) = shared.activate_writer(client, size) {
        return Some(error(e));
    }
    match shared.write_now(data) {
        Ok(None) => None,
        Ok(Some(rest)) => input.send(rest).await.err().map(|_| error(exited_error())),
        Err(()) => Some(error(exited_error())),
    }
}

pub(super) fn error(payload: ErrorPayload) -> Message {
    Message::Error { id: None, payload }
}

pub(super) async fn handle_request(
    shared: &Shared,
    client: ClientId,
    mode: Mode,
    client_size: &mut Option<Size>,
    req: Request,
) -> Result<Response, ErrorPayload> {
    let need_write = || {
        if mode == Mode::ReadWrite {
            Ok(())
        } else {
            Err(ErrorPayload::new(
                ErrorCode::ReadOnly,
                "this connection is read-only; connect read-write to resize, signal, restart or remove",
            ))
        }
    };
    match req {
        Request::Hello(_) => Err(ErrorPayload::new(
            ErrorCode::Protocol,
            "hello was already received on this connection",
        )),
        Request::Info => {
            shared.follow_own_size();
            Ok(Response::Info {
                session: Box::new(shared.info()),
            })
        }
        Request::Resize { size } => {
            need_write()?;
            if !shared.is_running() {
                return Err(exited_error());
            }
            *client_size = Some(size);
            shared.activate_writer(client, Some(size))?;
            Ok(Response::Ok)
        }
        Request::Signal { signal } => {
            need_write()?;
            shared.signal(signal)?;
            tracing::info!(%signal, "signal sent to the agent");
            Ok(Response::Ok)
        }
        Request::Restart => {
            need_write()?;
            let (tx, rx) = oneshot::channel();
            ask(shared, Cmd::Restart(tx), rx).await
        }
        // Read-write removals are handled by the connection loop (the answer must be
        // queued before the holder closes).
        Request::Remove { .. } => {
            need_write()?;
            Err(ErrorPayload::new(
                ErrorCode::Internal,
                "removal was not routed",
            ))
        }
        Request::Screen => {
            let text = shared.model.text().await.map_err(|e| {
                ErrorPayload::new(ErrorCode::Internal, format!("{e}; the holder is stopping"))
            })?;
            Ok(Response::Screen {
                rows: text.rows,
                offset: text.offset,
                title: text.title,
            })
        }
        Request::ListSessions
        | Request::Adopt { .. }
        | Request::ClaudeBg { .. }
        | Request::StartBackground { .. }
        | Request::Status
        | Request::Hook(_)
        | Request::Permissions { .. }
        | Request::Notifications { .. }
        | Request::NotifyTest { .. }
        | Request::NotifyPause { .. }
        | Request::Decide { .. }
        | Request::Insight { .. }
        | Request::History { .. }
        | Request::Control { .. }
        | Request::CreatePairing { .. }
        | Request::ListDevices
        | Request::RenameDevice { .. }
        | Request::RevokeDevice { .. } => Err(ErrorPayload::new(
            ErrorCode::UnknownRequest,
            "this is a session holder; ask the supervisor (`paddock up`) for that",
        )),
        Request::Unknown => Err(ErrorPayload::new(
            ErrorCode::UnknownRequest,
            "this holder does not know that request; it may be older than the client",
        )),
    }
}

pub(super) async fn ask(
    shared: &Shared,
    cmd: Cmd,
    rx: oneshot::Receiver<Result<(), ErrorPayload>>,
) -> Result<Response, ErrorPayload> {
    let gone = || ErrorPayload::new(ErrorCode::Internal, "the holder is shutting down");
    shared.cmds.send(cmd).map_err(|_| gone())?;
    rx.await.map_err(|_| gone())??;
    Ok(Response::Ok)
}
