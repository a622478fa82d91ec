//! The page of the desktop app's "Pair a device…" window (`src-tauri/src/pairing.rs` serves
//! it): a one-time pairing offer as a QR code of its `pair_url` (an https link a phone's
//! camera opens; the Paddock app's scanner reads it too), the short code to type, the host's
//! URL and fingerprint, and the `paddock://pair` link for a computer with the app; or why
//! there is no offer. The HTML is `pairing_page.html`, filled here with every value escaped.
use crate::PairingLink;
use paddock_proto::access::PairingOffer;

const TEMPLATE: &str = include_str!("pairing_page.html");

/// Escapes text for HTML content and quoted attribute values.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The template without its `<!--name-->…<!--/name-->` sections named in `dropped`.
fn sections(page: &str, dropped: &[&str]) -> String {
    let mut out = page.to_owned();
    for name in dropped {
        let (open, close) = (format!("<!--{name}-->"), format!("<!--/{name}-->"));
        if let (Some(start), Some(end)) = (out.find(&open), out.find(&close)) {
            out.replace_range(start..end + close.len(), "");
        }
    }
    out
}

/// Fills each `{{name}}` with its value in one pass, so a value that looks like a
/// placeholder stays as it is. `values` are HTML already.
fn fill(page: &str, values: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(page.len());
    let mut rest = page;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        match values.iter().find(|(k, _)| *k == &after[..end]) {
            Some((_, v)) => out.push_str(v),
            None => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// The QR code of `text` as inline SVG, or a line saying why it cannot be drawn.
fn qr_svg(text: &str) -> String {
    match qrcode::QrCode::new(text.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(240, 240)
            .quiet_zone(true)
            .build(),
        Err(e) => format!(
            "<p class=err>Cannot draw the QR code: {}; type the code below instead.</p>",
            escape(&e.to_string())
        ),
    }
}

/// The page for an offer, or for the reason there is none.
pub fn page(offer: Result<&PairingOffer, &str>) -> String {
    match offer {
        Ok(o) => {
            // The offer's `paddock://pair?…` link, made from its QR link; the supervisor's
            // own offers always have one.
            let deep_link = PairingLink::parse(&o.pair_url).ok().map(|l| l.deep_link());
            let dropped: &[&str] = match deep_link {
                Some(_) => &["error"],
                None => &["error", "link"],
            };
            fill(
                &sections(TEMPLATE, dropped),
                &[
                    ("qr", qr_svg(&o.pair_url)),
                    ("code", escape(&o.code)),
                    ("url", escape(&o.url)),
                    ("role", escape(&o.role.to_string())),
                    ("expires", escape(&o.expires_at)),
                    ("fingerprint", escape(&o.fingerprint)),
                    ("deep_link", escape(&deep_link.unwrap_or_default())),
                ],
            )
        }
        Err(why) => fill(&sections(TEMPLATE, &["offer"]), &[("error", escape(why))]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use paddock_proto::access::Role;

    const FP: &str = "ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12";

    fn offer(url: &str) -> PairingOffer {
        PairingOffer {
            url: url.to_owned(),
            fingerprint: FP.to_owned(),
            secret: "s3cret".to_owned(),
            code: "K7QM-2WXP".to_owned(),
            pair_url: format!("{url}/#pair=s3cret&fp={FP}"),
            role: Role::Operator,
            expires_at: "2026-12-07T15:00:00Z".to_owned(),
        }
    }

    #[test]
    fn an_offer_shows_its_qr_code_short_code_host_and_app_link() {
        let html = page(Ok(&offer("https://192.168.1.20:7420")));
        assert!(html.contains("<svg"), "the QR code is drawn");
        assert!(html.contains(r#"id="code">K7QM-2WXP<"#));
        assert!(html.contains("<b>https://192.168.1.20:7420</b>"));
        assert!(html.contains("Role operator; works once, until 2026-12-07T15:00:00Z."));
        assert!(html.contains(FP));
        let link = PairingLink::parse(&offer("https://192.168.1.20:7420").pair_url)
            .expect("a QR link")
            .deep_link();
        assert!(
            html.contains(&format!(r#"href="{}""#, escape(&link))),
            "{html}"
        );
        assert!(link.starts_with("paddock://pair?"));
        assert!(!html.contains("id=\"error\""));
        assert!(!html.contains("{{"), "every placeholder is filled: {html}");
    }

    #[test]
    fn no_offer_shows_why_and_nothing_to_scan() {
        let html = page(Err(
            "The supervisor is not running: start it with `paddock up`.",
        ));
        assert!(html
            .contains(r#"id="error">The supervisor is not running: start it with `paddock up`.<"#));
        assert!(!html.contains("<svg"));
        assert!(!html.contains("id=\"code\""));
        assert!(!html.contains("id=\"link\""));
        assert!(!html.contains("{{"));
    }

    #[test]
    fn values_are_text_never_markup_or_placeholders() {
        let mut o = offer("https://h:1");
        o.code = "<script>alert(1)</script>".to_owned();
        o.expires_at = "{{fingerprint}}\" onload=\"x".to_owned();
        // Not a link the client reads: the page has no app link, and still the rest.
        o.pair_url = "not a link".to_owned();
        let html = page(Ok(&o));
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("until {{fingerprint}}&quot; onload=&quot;x."));
        assert!(!html.contains("id=\"link\""));
        assert!(html.contains("<svg"), "any text makes a QR code");
        let html = page(Err("<b>bold</b> & {{qr}}"));
        assert!(html.contains("&lt;b&gt;bold&lt;/b&gt; &amp; {{qr}}"));
    }
}
