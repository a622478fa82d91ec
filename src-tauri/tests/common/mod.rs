//! What the app's tests share: private Paddock directories, so a test's supervisor and
//! endpoint collide with no other run (its endpoint on a free port).

/// Private Paddock directories for this test process (each test file is its own process).
pub fn private_dirs() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temp dir");
    for d in ["run", "data", "config"] {
        std::fs::create_dir(dir.path().join(d)).expect("a dir");
    }
    std::fs::write(
        dir.path().join("config/config.toml"),
        "[tmux]\nenabled = false\n[server]\nport = 0\n",
    )
    .expect("config");
    std::env::set_var("PADDOCK_RUNTIME_DIR", dir.path().join("run"));
    std::env::set_var("PADDOCK_DATA_DIR", dir.path().join("data"));
    std::env::set_var("PADDOCK_CONFIG_DIR", dir.path().join("config"));
    dir
}
