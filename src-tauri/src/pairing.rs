//! "Pair a device…": a small window showing a one-time pairing offer made by the supervisor
//! (`paddock pair`'s offer, through the local socket): the QR code, which carries the host's
//! `pair_url` (an https link a phone's camera app opens; the Paddock app's scanner reads it
//! too), the short code to type, and the `paddock://pair` link for a desktop with the app.
//! The page is served by the app itself under the `pairing` URI scheme, from the offer held
//! in memory; nothing is written to disk.
use paddock_proto::access::PairingOffer;

pub const WINDOW: &str = "pair";
pub const SCHEME: &str = "pairing";

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The line with the offer's `paddock://pair?…` link (made by the client crate from its QR
/// link); none if that link cannot be read, which the supervisor's own offers never are.
fn link_line(offer: &PairingOffer) -> String {
    match paddock_client::PairingLink::parse(&offer.pair_url) {
        Ok(l) => format!(
            r#"<p class=small>On a computer with the Paddock app: <a id=link href="{}">open the pairing link</a>.</p>"#,
            escape(&l.deep_link())
        ),
        Err(_) => String::new(),
    }
}

/// The page for an offer, or for the reason there is none.
pub fn page(offer: Result<&PairingOffer, &str>) -> String {
    let body = match offer {
        Ok(o) => {
            let qr = match qrcode::QrCode::new(o.pair_url.as_bytes()) {
                Ok(code) => code
                    .render::<qrcode::render::svg::Color>()
                    .min_dimensions(240, 240)
                    .quiet_zone(true)
                    .build(),
                Err(e) => format!(
                    "<p class=err>Cannot draw the QR code: {}</p>",
                    escape(&e.to_string())
                ),
            };
            format!(
                r#"<h1>Pair a device</h1>
<div class=qr id=qr>{qr}</div>
<p>Scan this with the phone's camera (or the Paddock app), or type the code</p>
<p class=code id=code>{code}</p>
<p>on the device's pairing page for <b>{url}</b>.</p>
<p class=small>Role {role}; works once, until {expires}.<br>Certificate SHA-256<br><code>{fp}</code></p>
{link}"#,
                code = escape(&o.code),
                url = escape(&o.url),
                role = o.role,
                expires = escape(&o.expires_at),
                fp = escape(&o.fingerprint),
                link = link_line(o),
            )
        }
        Err(why) => format!(
            "<h1>Pair a device</h1><p class=err id=error>{}</p>",
            escape(why)
        ),
    };
    format!(
        r#"<!doctype html><html><head><meta charset=utf-8><title>Pair a device</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<style>
body{{font:14px system-ui,sans-serif;margin:0;padding:20px;text-align:center;background:#fbfaf6;color:#1b1b1b}}
h1{{font-size:18px;margin:0 0 12px}} .qr svg{{width:240px;height:240px}}
.code{{font:600 26px ui-monospace,monospace;letter-spacing:3px;margin:6px 0}}
.small{{font-size:12px;color:#555}} code{{font-size:10px;word-break:break-all}} .err{{color:#b00020}}
@media (prefers-color-scheme: dark){{body{{background:#1d1f21;color:#eee}} .small{{color:#aaa}} .qr{{background:#fff;display:inline-block;padding:8px}}}}
</style></head><body>{body}</body></html>"#
    )
}
