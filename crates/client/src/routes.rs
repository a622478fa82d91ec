//! The UI's hash routes that an app opens in its window (`ui/src/lib/router.svelte.ts` reads
//! them): a session of a host, the pairing page for a `paddock://pair?…` link, About. Pure,
//! so the app's tray items and deep links are tested here.

/// The dashboard.
pub const DASHBOARD: &str = "#/";
/// The About page.
pub const ABOUT: &str = "#/about";

/// Percent-encodes everything but RFC 3986's unreserved characters (for a path segment or a
/// query value; the UI decodes them with `decodeURIComponent`).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Session `id` of the host whose endpoint is `host` (its URL, which names it in the UI).
pub fn session(host: &str, id: &str) -> String {
    format!("#/s/{}/{}", encode(host), encode(id))
}

/// Where a `paddock://` link the app was opened with leads: a pairing link to the pairing
/// page, which reads it (`#/pair?link=…`); any other to the dashboard.
pub fn for_link(url: &str) -> String {
    if url.starts_with("paddock://pair") {
        format!("#/pair?link={}", encode(url))
    } else {
        DASHBOARD.to_owned()
    }
}

/// The script that takes an app's window to `route` (the webview runs it): the route as one
/// JavaScript string literal, so no character in it can end the string.
pub fn go_to_script(route: &str) -> String {
    let literal = serde_json::to_string(route).unwrap_or_else(|_| format!("\"{DASHBOARD}\""));
    format!("window.location.hash = {literal};")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the UI's `decodeURIComponent` gives back.
    fn decode(s: &str) -> String {
        form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    }

    #[test]
    fn a_session_route_names_its_host_by_url_in_one_path_segment() {
        let r = session("https://127.0.0.1:7420", "ab12cd34");
        assert_eq!(r, "#/s/https%3A%2F%2F127.0.0.1%3A7420/ab12cd34");
        let parts: Vec<&str> = r.trim_start_matches("#/").split('/').collect();
        assert_eq!(parts.len(), 3, "{r}");
        assert_eq!(decode(parts[1]), "https://127.0.0.1:7420");
    }

    #[test]
    fn a_pairing_link_opens_the_pairing_page_whole_and_other_links_the_dashboard() {
        let link = "paddock://pair?url=https%3A%2F%2Fh%3A1&secret=a+b&fp=00";
        let r = for_link(link);
        let encoded = r.strip_prefix("#/pair?link=").expect("the pairing page");
        assert!(
            !encoded.contains('&'),
            "the link stays one query value: {r}"
        );
        assert_eq!(decode(encoded), link);
        assert_eq!(for_link("paddock://open"), "#/");
        assert_eq!(for_link("https://h:1/#pair=x"), "#/");
    }

    #[test]
    fn a_route_cannot_break_out_of_the_script_that_goes_to_it() {
        assert_eq!(
            go_to_script(&session("https://h:1", "ab")),
            r##"window.location.hash = "#/s/https%3A%2F%2Fh%3A1/ab";"##
        );
        let hostile = "#/\"; alert(1); \"\n";
        let script = go_to_script(hostile);
        let literal = script
            .strip_prefix("window.location.hash = ")
            .and_then(|s| s.strip_suffix(';'))
            .expect("one assignment");
        let back: String = serde_json::from_str(literal).expect("one string literal");
        assert_eq!(back, hostile);
    }
}
