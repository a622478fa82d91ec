//! The app's IPC commands through Tauri's mock runtime (no display, no webview): a real
//! supervisor and endpoint started in-process as the app starts them (host mode), in private
//! runtime, data and config directories, with the endpoint on a free port.
mod common;

use common::private_dirs;
use paddock_core::local_client::LocalClient;
use paddock_server::host::{AppHost, HostMode};
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{Manager, WebviewWindowBuilder};

fn invoke(
    webview: &tauri::WebviewWindow<tauri::test::MockRuntime>,
    cmd: &str,
) -> Result<Value, Value> {
    call(webview, cmd, json!({}))
}

fn call(
    webview: &tauri::WebviewWindow<tauri::test::MockRuntime>,
    cmd: &str,
    args: Value,
) -> Result<Value, Value> {
    get_ipc_response(
        webview,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().expect("a URL"),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|b| b.deserialize::<Value>().expect("JSON"))
}

#[test]
fn host_mode_runs_one_supervisor_and_a_second_app_joins_it_instead_of_starting_another() {
    let _dirs = private_dirs();
    let (first, dir) =
        tauri::async_runtime::block_on(HostMode::start_or_join(None)).expect("host mode starts");
    let HostMode::Embedded(host) = &first else {
        panic!("the first app should run the supervisor itself");
    };
    let url = host
        .server
        .as_ref()
        .expect("the endpoint serves")
        .url
        .clone();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    // A second copy finds the lock taken and becomes the first one's client: never two.
    let (second, _) = tauri::async_runtime::block_on(HostMode::start_or_join(None)).expect("joins");
    let HostMode::Joined { pid } = &second else {
        panic!("a second app must not start a second supervisor");
    };
    assert_eq!(pid, &std::process::id().to_string());
    assert!(
        second.describe().contains("already running"),
        "{}",
        second.describe()
    );

    // The joined one first: stopping the embedded host (below) ends the supervisor both use.
    for (mode, expect) in [(second, "joined"), (first, "embedded")] {
        let app = mock_builder()
            .invoke_handler(tauri::generate_handler![
                paddock_app::transport::capabilities,
                paddock_app::transport::request,
                paddock_app::commands::this_host
            ])
            .manage(AppHost::new(LocalClient::new(dir.path(), "app"), mode))
            .manage(paddock_client::relay::Relay::new())
            .build(tauri::generate_context!())
            .expect("the mock app builds");
        let webview = WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .expect("a mock window");

        let me = invoke(&webview, "this_host").expect("this_host answers");
        assert_eq!(me["mode"], expect);
        assert_eq!(me["url"], url.as_str(), "both name the one endpoint");
        assert_eq!(me["pid"], std::process::id());
        let fp = me["fingerprint"].as_str().expect("a pinned fingerprint");
        assert_eq!(fp.len(), 64, "{fp}");

        let caps = invoke(&webview, "capabilities").expect("capabilities answers");
        assert_eq!(caps["pinned_transport"], true);
        // WebKitGTK: the terminal draws with the DOM renderer (a blank WebGL pane otherwise).
        assert_eq!(caps["webgl_terminal"], !cfg!(target_os = "linux"));

        // The UI's REST calls go through the pinned client: the right pin gets the host's
        // answer, any other is refused before anything is sent.
        let health = call(
            &webview,
            "request",
            json!({"url": url, "fingerprint": fp, "method": "GET", "path": "/health"}),
        )
        .expect("a pinned request");
        assert_eq!(health["status"], 200, "{health}");
        assert!(
            health["text"].as_str().unwrap_or("").contains("version"),
            "{health}"
        );
        let refused = call(
            &webview,
            "request",
            json!({"url": url, "fingerprint": "00".repeat(32), "method": "GET", "path": "/health"}),
        )
        .expect_err("another pin is refused");
        assert_eq!(refused["code"], "certificate_changed", "{refused}");
        // Without a token the host answers 401: an answer for the UI, not a failure.
        let me = call(
            &webview,
            "request",
            json!({"url": url, "fingerprint": fp, "method": "GET", "path": "/me"}),
        )
        .expect("an answer");
        assert_eq!(me["status"], 401, "{me}");

        tauri::async_runtime::block_on(app.state::<AppHost>().quit());
    }

    // With the supervisor stopped, the app's question gets a sentence that says what to do.
    let app = mock_builder()
        .invoke_handler(tauri::generate_handler![paddock_app::commands::this_host])
        .manage(AppHost::new(
            LocalClient::new(dir.path(), "app"),
            HostMode::Joined { pid: "0".into() },
        ))
        .build(tauri::generate_context!())
        .expect("the mock app builds");
    let webview = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("a mock window");
    let err = invoke(&webview, "this_host").expect_err("no supervisor answers");
    assert_eq!(err["code"], "unreachable");
    assert!(
        err["message"].as_str().unwrap_or("").contains("paddock up"),
        "{err}"
    );
}
