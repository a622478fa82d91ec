//! Tests of the bridge's pieces that need no tmux: parsing the pane's state and the redraw.

use super::*;
use crate::model::ScreenModel;

fn state() -> PaneState {
    PaneState::parse(
        &[
            "%3",
            "4242",
            "20",
            "4",
            "/dev/pts/9",
            "5",
            "1",
            "1",
            "0",
            "0",
            "1",
            "0",
            "1",
            "0",
            "0",
            "0",
            "0",
            "0",
            "3",
            "/home/u",
            "bash",
            "my title",
        ]
        .join("\u{1f}"),
    )
    .expect("parses")
}

#[test]
fn pane_state_parses_from_display() {
    let s = state();
    assert_eq!(s.pane_id, "%3");
    assert_eq!(s.pid, 4242);
    assert_eq!(s.size, Size { cols: 20, rows: 4 });
    assert_eq!(s.cursor, (5, 1));
    assert!(s.cursor_visible && s.cursor_keys && s.wrap && !s.alternate_screen);
    assert_eq!((s.cwd.as_str(), s.command.as_str()), ("/home/u", "bash"));
    assert_eq!(s.title, "my title");
    assert!(PaneState::parse("").is_err());
    assert!(PaneState::parse("%1\u{1f}x").is_err());
}

#[test]
fn the_redraw_reproduces_the_captured_screen_cursor_and_modes() {
    let s = state();
    // As capture-pane -e prints it: attributes carry over from line to line.
    let screen = "$ echo \x1b[31mred\n\x1b[39mred line\n$ \n\n";
    let mut model = ScreenModel::new(s.size);
    model.feed(&redraw(&s, screen));
    assert_eq!(model.screen().contents(), "$ echo red\nred line\n$ ");
    assert_eq!(model.screen().cursor_position(), (1, 5));
    assert!(model.screen().application_cursor());
    assert_eq!(model.title(), "my title");
    assert_eq!(
        model.screen().cell(0, 7).expect("cell").fgcolor(),
        vt100::Color::Idx(1)
    );

    let mut alt = s.clone();
    alt.alternate_screen = true;
    alt.cursor_visible = false;
    let mut model = ScreenModel::new(s.size);
    model.feed(&redraw(&alt, "full screen\n"));
    assert!(model.screen().alternate_screen());
    assert!(model.screen().hide_cursor());
    assert_eq!(model.screen().contents(), "full screen");
}

#[test]
fn pipe_commands_are_quoted_for_the_shell_and_tmux_formats() {
    assert_eq!(shell_quote("/tmp/a b/x.fifo"), "'/tmp/a b/x.fifo'");
    assert_eq!(shell_quote("/tmp/it's#1"), r"'/tmp/it'\''s##1'");
}
