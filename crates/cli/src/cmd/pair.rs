//! `paddock pair`: a one-time pairing offer for a new device, as a QR code and a short code.

use crate::supervisor_client::owner_request;
use anyhow::Context;
use paddock_proto::access::Role;
use paddock_proto::{Request, Response};

/// Pair a phone, tablet or browser: shows a QR code (and a short code to type) that carries
/// the endpoint's URL, its certificate fingerprint and a one-time secret.
#[derive(clap::Args)]
pub struct Args {
    /// The new device's role: admin, operator, viewer or guest.
    #[arg(long, default_value = "operator")]
    pub role: Role,
    /// How long the offer lasts, e.g. 5m (default: server.pairing_ttl).
    #[arg(long, value_parser = humantime::parse_duration)]
    pub ttl: Option<std::time::Duration>,
    /// Also write the QR code as an SVG file.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<std::path::PathBuf>,
    /// Also write the QR code as a PNG file.
    #[arg(long, value_name = "FILE")]
    pub png: Option<std::path::PathBuf>,
    /// Print the offer as JSON instead (for the host app and scripts).
    #[arg(long)]
    pub json: bool,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        let resp = owner_request(Request::CreatePairing {
            role: self.role,
            ttl_secs: self.ttl.map(|d| d.as_secs().max(1)),
        })
        .await?;
        let Response::Pairing { offer } = resp else {
            anyhow::bail!("the supervisor answered {resp:?} to a pairing request");
        };
        let code = qrcode::QrCode::new(offer.pair_url.as_bytes())
            .context("cannot make a QR code of the pairing URL")?;
        if let Some(path) = &self.svg {
            let svg = code
                .render::<qrcode::render::svg::Color>()
                .min_dimensions(256, 256)
                .build();
            std::fs::write(path, svg)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        if let Some(path) = &self.png {
            std::fs::write(path, png(&code, 8)?)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        if self.json {
            println!("{}", serde_json::to_string_pretty(&*offer)?);
            return Ok(());
        }
        let art = code
            .render::<qrcode::render::unicode::Dense1x2>()
            .quiet_zone(true)
            .build();
        println!("{art}");
        println!(
            "Scan this with the phone's camera, or open {} on the device",
            offer.url
        );
        println!("and type the code   {}", offer.code);
        println!(
            "Role {}; valid once, until {}.",
            offer.role, offer.expires_at
        );
        println!("Certificate SHA-256 {}", offer.fingerprint);
        println!("The browser will warn about the self-signed certificate: check that the");
        println!("fingerprint it shows is the one above before you accept it.");
        Ok(())
    }
}

/// The QR code as a greyscale PNG, `scale` pixels a module, with a 4-module quiet zone.
fn png(code: &qrcode::QrCode, scale: usize) -> anyhow::Result<Vec<u8>> {
    use std::io::Write;
    let quiet = 4;
    let modules = code.width();
    let side = (modules + 2 * quiet) * scale;
    let colors = code.to_colors();
    let mut raw = Vec::with_capacity(side * (side + 1));
    for y in 0..side {
        raw.push(0u8); // filter: none
        for x in 0..side {
            let (mx, my) = (x / scale, y / scale);
            let dark = mx >= quiet
                && my >= quiet
                && mx < quiet + modules
                && my < quiet + modules
                && colors[(my - quiet) * modules + (mx - quiet)] == qrcode::Color::Dark;
            raw.push(if dark { 0 } else { 255 });
        }
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&raw)?;
    let idat = z.finish()?;
    let side = u32::try_from(side).context("QR code too large")?;
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&side.to_be_bytes());
    ihdr.extend_from_slice(&side.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit greyscale, deflate, no filter, no interlace
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [
        (&b"IHDR"[..], &ihdr[..]),
        (b"IDAT", &idat[..]),
        (b"IEND", &[]),
    ] {
        out.extend_from_slice(&u32::try_from(data.len())?.to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }
    Ok(out)
}
