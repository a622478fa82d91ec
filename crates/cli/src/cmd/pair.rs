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
