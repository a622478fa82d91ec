//! The tray's menu as data: every item with its id, label, and whether it is enabled or
//! ticked, in order, for a [`TrayModel`] ([`items`]); and [`TrayAction`], what a click on an item's id
//! does. The app makes native menus of [`items`] and carries out the actions; neither decides
//! anything about what is shown.
use super::model::TrayModel;
use paddock_proto::agent::Decision;

/// What a click on a tray item asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrayAction {
    /// Show this session in the window.
    OpenSession(String),
    /// Allow this permission request, once.
    Approve(String),
    /// Deny this permission request.
    Deny(String),
    /// Show the window.
    OpenPaddock,
    /// Open the pairing window with a new offer.
    Pair,
    /// Turn starting the app at login on or off.
    ToggleAutostart,
    /// Pause or resume the host's notifications.
    TogglePause,
    /// Show what the app is and who runs the supervisor.
    About,
    /// End the app (the agents keep running).
    Quit,
}

const OPEN_SESSION: &str = "open:";
const APPROVE: &str = "allow:";
const DENY: &str = "deny:";
/// A permission's submenu (opens, does nothing itself).
const PERMISSION: &str = "perm:";
/// "No agent needs you": a greyed line, no action.
const NOTHING_WAITS: &str = "nothing-waits";
/// The actions of the fixed items, for [`TrayAction::parse`].
const FIXED: [TrayAction; 6] = [
    TrayAction::OpenPaddock,
    TrayAction::Pair,
    TrayAction::ToggleAutostart,
    TrayAction::TogglePause,
    TrayAction::About,
    TrayAction::Quit,
];

impl TrayAction {
    /// The menu item id that asks for this.
    pub fn id(&self) -> String {
        let fixed = match self {
            TrayAction::OpenSession(s) => return format!("{OPEN_SESSION}{s}"),
            TrayAction::Approve(p) => return format!("{APPROVE}{p}"),
            TrayAction::Deny(p) => return format!("{DENY}{p}"),
            TrayAction::OpenPaddock => "open-paddock",
            TrayAction::Pair => "pair",
            TrayAction::ToggleAutostart => "autostart",
            TrayAction::TogglePause => "pause-notifications",
            TrayAction::About => "about",
            TrayAction::Quit => "quit",
        };
        fixed.to_owned()
    }

    /// The action of a clicked item's id; `None` for an item that does nothing (a submenu,
    /// the greyed "No agent needs you") or an id this menu never made.
    pub fn parse(id: &str) -> Option<Self> {
        type Make = fn(String) -> TrayAction;
        let prefixed: [(&str, Make); 3] = [
            (OPEN_SESSION, TrayAction::OpenSession),
            (APPROVE, TrayAction::Approve),
            (DENY, TrayAction::Deny),
        ];
        for (prefix, action) in prefixed {
            if let Some(rest) = id.strip_prefix(prefix).filter(|r| !r.is_empty()) {
                return Some(action(rest.to_owned()));
            }
        }
        FIXED.into_iter().find(|a| a.id() == id)
    }

    /// The permission request this answers, and the answer.
    pub fn answer(&self) -> Option<(&str, Decision)> {
        match self {
            TrayAction::Approve(p) => Some((p, Decision::Allow)),
            TrayAction::Deny(p) => Some((p, Decision::Deny { message: None })),
            _ => None,
        }
    }
}

/// One item of the tray's menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrayItem {
    /// A line; clicking it sends `id` (see [`TrayAction::parse`]) unless it is greyed.
    Item {
        id: String,
        label: String,
        enabled: bool,
    },
    /// A check box.
    Check {
        id: String,
        label: String,
        checked: bool,
    },
    /// A line that opens more items.
    Submenu {
        id: String,
        label: String,
        items: Vec<TrayItem>,
    },
    Separator,
}

fn item(action: TrayAction, label: &str) -> TrayItem {
    TrayItem::Item {
        id: action.id(),
        label: label.to_owned(),
        enabled: true,
    }
}

fn check(action: TrayAction, label: &str, checked: bool) -> TrayItem {
    TrayItem::Check {
        id: action.id(),
        label: label.to_owned(),
        checked,
    }
}

/// The menu for `model`: the sessions that need their owner first (a pending permission as
/// a submenu with Approve, Deny and Open session; any other as a line that opens it), or a
/// greyed "No agent needs you"; then Open Paddock, Pair a device…, Start at login (ticked
/// when `autostart`), Pause notifications (ticked when the host holds them), About, Quit.
pub fn items(model: &TrayModel, autostart: bool) -> Vec<TrayItem> {
    let mut items = Vec::with_capacity(model.entries.len() + 9);
    if model.entries.is_empty() {
        items.push(TrayItem::Item {
            id: NOTHING_WAITS.to_owned(),
            label: "No agent needs you".to_owned(),
            enabled: false,
        });
    }
    for e in &model.entries {
        let open = TrayAction::OpenSession(e.session.clone());
        items.push(match &e.permission {
            Some(p) => TrayItem::Submenu {
                id: format!("{PERMISSION}{p}"),
                label: e.label.clone(),
                items: vec![
                    item(TrayAction::Approve(p.clone()), "Approve"),
                    item(TrayAction::Deny(p.clone()), "Deny"),
                    item(open, "Open session"),
                ],
            },
            None => item(open, &e.label),
        });
    }
    items.extend([
        TrayItem::Separator,
        item(TrayAction::OpenPaddock, "Open Paddock"),
        item(TrayAction::Pair, "Pair a device…"),
        TrayItem::Separator,
        check(TrayAction::ToggleAutostart, "Start at login", autostart),
        check(TrayAction::TogglePause, "Pause notifications", model.paused),
        TrayItem::Separator,
        item(TrayAction::About, "About Paddock"),
        item(TrayAction::Quit, "Quit Paddock"),
    ]);
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::HookSignal;
    use crate::tray::model::tests::Host;

    /// The menu as a person reads it: one line per item, submenus indented, `-` for a
    /// separator, `[x]`/`[ ]` for check boxes, `(greyed)` for a disabled line.
    fn read(items: &[TrayItem], indent: &str, out: &mut Vec<String>) {
        for i in items {
            match i {
                TrayItem::Item { label, enabled, .. } => out.push(format!(
                    "{indent}{label}{}",
                    if *enabled { "" } else { " (greyed)" }
                )),
                TrayItem::Check { label, checked, .. } => out.push(format!(
                    "{indent}[{}] {label}",
                    if *checked { "x" } else { " " }
                )),
                TrayItem::Submenu { label, items, .. } => {
                    out.push(format!("{indent}{label} >"));
                    read(items, &format!("{indent}  "), out);
                }
                TrayItem::Separator => out.push(format!("{indent}-")),
            }
        }
    }

    fn lines(items: &[TrayItem]) -> Vec<String> {
        let mut out = Vec::new();
        read(items, "", &mut out);
        out
    }

    /// Every clickable id in the menu, with what it asks for.
    fn actions(items: &[TrayItem], out: &mut Vec<(String, Option<TrayAction>)>) {
        for i in items {
            match i {
                TrayItem::Item { id, .. } | TrayItem::Check { id, .. } => {
                    out.push((id.clone(), TrayAction::parse(id)))
                }
                TrayItem::Submenu { id, items, .. } => {
                    out.push((id.clone(), TrayAction::parse(id)));
                    actions(items, out);
                }
                TrayItem::Separator => {}
            }
        }
    }

    #[test]
    fn with_nothing_waiting_the_menu_says_so_greyed_above_the_fixed_items() {
        let host = Host::new();
        host.session("aaaa1111", "busy", &[HookSignal::PromptSubmitted]);
        assert_eq!(
            lines(&items(&host.tray(false), false)),
            [
                "No agent needs you (greyed)",
                "-",
                "Open Paddock",
                "Pair a device…",
                "-",
                "[ ] Start at login",
                "[ ] Pause notifications",
                "-",
                "About Paddock",
                "Quit Paddock",
            ]
        );
        // The check boxes show the app's login item and the host's pause.
        let ticked = lines(&items(&host.tray(true), true));
        assert!(
            ticked.contains(&"[x] Start at login".to_owned()),
            "{ticked:?}"
        );
        assert!(
            ticked.contains(&"[x] Pause notifications".to_owned()),
            "{ticked:?}"
        );
    }

    #[test]
    fn a_pending_permission_has_approve_deny_and_open_and_each_click_says_what_it_does() {
        let mut host = Host::new();
        let asks = host.session("bbbb2222", "fix-tests", &[HookSignal::PromptSubmitted]);
        let request = host.asks(&asks, "Bash");
        let input = host.session("cccc3333", "docs", &[HookSignal::TurnEnded]);
        let menu = items(&host.tray(false), false);
        assert_eq!(
            lines(&menu)[..5],
            [
                "fix-tests: asks to run Bash >",
                "  Approve",
                "  Deny",
                "  Open session",
                "docs: waits for your answer",
            ]
        );
        let mut all = Vec::new();
        actions(&menu, &mut all);
        let p = request.id.clone();
        let expected = [
            None, // the submenu itself
            Some(TrayAction::Approve(p.clone())),
            Some(TrayAction::Deny(p.clone())),
            Some(TrayAction::OpenSession(asks.to_string())),
            Some(TrayAction::OpenSession(input.to_string())),
            Some(TrayAction::OpenPaddock),
            Some(TrayAction::Pair),
            Some(TrayAction::ToggleAutostart),
            Some(TrayAction::TogglePause),
            Some(TrayAction::About),
            Some(TrayAction::Quit),
        ];
        let got: Vec<Option<TrayAction>> = all.iter().map(|(_, a)| a.clone()).collect();
        assert_eq!(got, expected, "{all:?}");
        // Every id is distinct, and each action's id is the one its item carries.
        for (id, action) in &all {
            assert_eq!(
                all.iter().filter(|(other, _)| other == id).count(),
                1,
                "{id}"
            );
            if let Some(a) = action {
                assert_eq!(&a.id(), id);
            }
        }
        assert_eq!(
            TrayAction::Approve(p.clone()).answer(),
            Some((p.as_str(), Decision::Allow))
        );
        assert_eq!(
            TrayAction::Deny(p.clone()).answer(),
            Some((p.as_str(), Decision::Deny { message: None }))
        );
        assert_eq!(TrayAction::Pair.answer(), None);
    }

    #[test]
    fn ids_the_menu_never_made_do_nothing() {
        for id in [
            "",
            "open:",
            "allow:",
            "deny:",
            "nothing-waits",
            "perm:p1",
            "QUIT",
            "quit ",
        ] {
            assert_eq!(TrayAction::parse(id), None, "{id:?}");
        }
    }
}
