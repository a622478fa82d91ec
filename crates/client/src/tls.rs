//! Pinned TLS: a host's certificate is accepted only if its SHA-256 equals the fingerprint
//! pinned at pairing, AND the TLS 1.3 handshake signature verifies with that certificate's
//! public key (rustls' own `verify_tls13_signature`). Matching the fingerprint alone would let
//! anyone holding the public certificate (it is sent to every client) impersonate the host;
//! the signature proves the server holds the private key.
//!
//! A mismatch is reported as [`PinMismatch`] inside the rustls error, so that the connection
//! code can tell "certificate changed" from every other handshake failure.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, SignatureScheme};
use std::sync::Arc;

/// The SHA-256 of a certificate (DER), lowercase hex without separators: what `paddock pair`
/// prints and what pairing pins.
pub fn fingerprint(der: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, der);
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// A fingerprint as people write it (`AB:12:...`, `sha256/ab12...`, spaces) as 64 lowercase
/// hex digits, or `None` when it is not a SHA-256.
pub fn normalize_fingerprint(s: &str) -> Option<String> {
    let t = s.trim();
    let t = t
        .strip_prefix("sha256:")
        .or_else(|| t.strip_prefix("sha256/"))
        .or_else(|| t.strip_prefix("SHA256:"))
        .unwrap_or(t);
    let hex: String = t
        .chars()
        .filter(|c| !matches!(c, ':' | ' ' | '-'))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit())).then_some(hex)
}

/// The presented certificate is not the pinned one.
#[derive(Debug, thiserror::Error)]
#[error("the certificate's SHA-256 is {presented}, not the pinned {pinned}")]
pub struct PinMismatch {
    pub pinned: String,
    pub presented: String,
}

/// The rustls client configuration that trusts exactly the certificate with this
/// fingerprint (normalized hex), whatever names it carries. TLS 1.3 only, ALPN http/1.1.
pub fn pinned_config(fingerprint_hex: &str) -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(PinnedVerifier {
        pin: fingerprint_hex.to_ascii_lowercase(),
        provider: provider.clone(),
    });
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        // The ring provider supports TLS 1.3: this cannot fail.
        .unwrap_or_else(|_| unreachable_tls13())
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(cfg)
}

#[allow(clippy::panic)]
fn unreachable_tls13() -> rustls::ConfigBuilder<rustls::ClientConfig, rustls::WantsVerifier> {
    panic!("rustls' ring provider always supports TLS 1.3")
}

/// Certificate pinned by SHA-256, handshake signatures verified with the certificate's key.
#[derive(Debug)]
pub struct PinnedVerifier {
    pin: String,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let presented = fingerprint(end_entity.as_ref());
        // Not a secret (the certificate is public): a plain comparison is fine.
        if presented == self.pin {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                OtherError(Arc::new(PinMismatch {
                    pinned: self.pin.clone(),
                    presented,
                })),
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        // The configuration allows TLS 1.3 only; a TLS 1.2 signature is never acceptable.
        Err(rustls::Error::General(
            "the host offered TLS 1.2; Paddock hosts speak TLS 1.3 only".into(),
        ))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The pin mismatch inside an I/O error from a handshake, if that is why it failed.
pub(crate) fn pin_mismatch(e: &std::io::Error) -> Option<&PinMismatch> {
    let tls = e.get_ref()?.downcast_ref::<rustls::Error>()?;
    match tls {
        rustls::Error::InvalidCertificate(CertificateError::Other(o)) => {
            o.0.downcast_ref::<PinMismatch>()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_normalized_from_what_people_paste() {
        let hex = "ab".repeat(32);
        let colons = hex
            .as_bytes()
            .chunks(2)
            .map(|c| std::str::from_utf8(c).unwrap_or_default().to_uppercase())
            .collect::<Vec<_>>()
            .join(":");
        assert_eq!(
            normalize_fingerprint(&colons).as_deref(),
            Some(hex.as_str())
        );
        assert_eq!(
            normalize_fingerprint(&format!("sha256/{hex}")).as_deref(),
            Some(hex.as_str())
        );
        assert_eq!(normalize_fingerprint("abcd"), None);
        assert_eq!(normalize_fingerprint(&"zz".repeat(32)), None);
    }
}
