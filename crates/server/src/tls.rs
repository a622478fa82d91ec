//! The endpoint's TLS: a self-signed certificate made with rcgen on first start (key 0600 in
//! `<data>/endpoint/`), renewed 30 days before it expires or when the listen address is not
//! among its names (the key is kept, so the SPKI stays), TLS 1.3 only, rustls with `ring`.
//! The client side of pinning is `paddock_client::tls`.

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// How long a new certificate is valid.
const VALIDITY: Duration = Duration::from_secs(397 * 24 * 3600);
/// Renewed when it has less than this left.
const RENEW_BEFORE: Duration = Duration::from_secs(30 * 24 * 3600);

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error(
        "cannot read or write {path}: {source}; check the data directory's owner and permissions"
    )]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot make the TLS certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("the TLS setup was refused: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("cannot use the certificate {path}: {message}; `[server] cert` and `key` must be PEM files you can read (leaf certificate first)")]
    Own { path: PathBuf, message: String },
    #[error("the endpoint's TLS file {path} is damaged ({message}); make a new certificate with `rm -r {}` and start `paddock up` again (paired devices must then pair again: the certificate's pin changes)", tls_dir(path).display())]
    Damaged { path: PathBuf, message: String },
    #[error("cannot read the endpoint's TLS file {path} ({source}); give it back to the user who runs Paddock (`chown $(id -un) {path}; chmod 600 {path}`), or make a new certificate with `rm -r {}` and start `paddock up` again (paired devices must then pair again)", tls_dir(path).display(), path = path.display())]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The directory holding a TLS file (for the command that makes a new certificate).
fn tls_dir(path: &Path) -> &Path {
    path.parent().unwrap_or(path)
}

/// Reads one of the endpoint's TLS files: `None` when it does not exist yet, an error naming
/// the file when it exists but cannot be read (never silently replaced: a new key changes the
/// pin every paired device holds).
fn read_existing(path: &Path) -> Result<Option<Vec<u8>>, TlsError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(TlsError::Unreadable {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Checks that the stored key and certificate load and go together; the error names the
/// file at fault.
fn check_pair(cert: &[u8], cert_path: &Path, key: &[u8], key_path: &Path) -> Result<(), TlsError> {
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.to_vec()));
    provider()
        .key_provider
        .load_private_key(key_der.clone_key())
        .map_err(|e| TlsError::Damaged {
            path: key_path.to_owned(),
            message: e.to_string(),
        })?;
    rustls::sign::CertifiedKey::from_der(
        vec![CertificateDer::from(cert.to_vec())],
        key_der,
        &provider(),
    )
    .map(|_| ())
    .map_err(|e| TlsError::Damaged {
        path: cert_path.to_owned(),
        message: format!("it is not a certificate for the stored key: {e}"),
    })
}

/// The certificate in use.
pub struct Identity {
    pub cert_der: Vec<u8>,
    pub key_der: Vec<u8>,
    /// SHA-256 of `cert_der`, lowercase hex.
    pub fingerprint: String,
    pub not_after: SystemTime,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Meta {
    not_after_unix: u64,
    names: Vec<String>,
}

/// SHA-256 of DER bytes, lowercase hex.
pub fn fingerprint(der: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, der);
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Loads the certificate in `dir`, or makes (or renews) it so that it covers `listen`.
pub fn load_or_make(dir: &Path, listen: IpAddr) -> Result<Identity, TlsError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| TlsError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let (cert_path, key_path, meta_path) = (
        dir.join("cert.der"),
        dir.join("key.der"),
        dir.join("cert.json"),
    );
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    if !listen.is_unspecified() && !names.contains(&listen.to_string()) {
        names.push(listen.to_string());
    }
    if listen.is_unspecified() {
        if let Ok(host) = nix_hostname() {
            names.push(host);
        }
    }
    let existing = read_existing(&key_path)?;
    if let (Some(key), Some(cert), Some(meta)) = (
        existing.as_ref(),
        read_existing(&cert_path)?,
        read_existing(&meta_path)?,
    ) {
        let meta: Meta = serde_json::from_slice(&meta).map_err(|e| TlsError::Damaged {
            path: meta_path.clone(),
            message: e.to_string(),
        })?;
        let not_after = SystemTime::UNIX_EPOCH + Duration::from_secs(meta.not_after_unix);
        let fresh = not_after
            .duration_since(SystemTime::now())
            .is_ok_and(|left| left > RENEW_BEFORE);
        let covers = names.iter().all(|n| meta.names.contains(n));
        if fresh && covers {
            check_pair(&cert, &cert_path, key, &key_path)?;
            return Ok(Identity {
                fingerprint: fingerprint(&cert),
                cert_der: cert,
                key_der: key.clone(),
                not_after,
            });
        }
        tracing::info!("renewing the endpoint's TLS certificate (expiring or a new address)");
    }
    let key = match existing {
        Some(der) => {
            let der = PrivatePkcs8KeyDer::from(der);
            rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&der, &rcgen::PKCS_ECDSA_P256_SHA256)
                .map_err(|e| TlsError::Damaged {
                    path: key_path.clone(),
                    message: e.to_string(),
                })?
        }
        None => rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?,
    };
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    for n in &names {
        params.subject_alt_names.push(match n.parse::<IpAddr>() {
            Ok(ip) => rcgen::SanType::IpAddress(ip),
            Err(_) => rcgen::SanType::DnsName(n.clone().try_into()?),
        });
    }
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Paddock endpoint");
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::hours(1);
    let not_after_odt = now + time::Duration::seconds(VALIDITY.as_secs() as i64);
    params.not_after = not_after_odt;
    let cert = params.self_signed(&key)?;
    let cert_der = cert.der().to_vec();
    let key_der = key.serialize_der();
    write_private(&key_path, &key_der)?;
    write_private(&cert_path, &cert_der)?;
    let not_after_unix = not_after_odt.unix_timestamp().max(0) as u64;
    let meta = serde_json::to_vec(&Meta {
        not_after_unix,
        names,
    })
    .unwrap_or_default();
    write_private(&meta_path, &meta)?;
    tracing::info!(fingerprint = %fingerprint(&cert_der), "made the endpoint's TLS certificate");
    Ok(Identity {
        fingerprint: fingerprint(&cert_der),
        cert_der,
        key_der,
        not_after: SystemTime::UNIX_EPOCH + Duration::from_secs(not_after_unix),
    })
}

fn nix_hostname() -> std::io::Result<String> {
    let h = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))?;
    let h = h.trim().to_owned();
    if h.is_empty() {
        return Err(std::io::Error::other("no hostname"));
    }
    Ok(h)
}

/// Writes a file readable by its owner only, atomically ([`paddock_core::keyfile`]).
fn write_private(path: &Path, data: &[u8]) -> Result<(), TlsError> {
    paddock_core::keyfile::write_private(path, data).map_err(|source| TlsError::Io {
        path: path.to_owned(),
        source,
    })
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The server side: TLS 1.3 only, HTTP/1.1.
pub fn server_config(id: &Identity) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(id.cert_der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(id.key_der.clone())),
        )?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// The owner's own certificate and key (`[server] cert`, `key`): the server config and the
/// leaf's fingerprint.
pub fn own_server_config(
    cert: &Path,
    key: &Path,
) -> Result<(Arc<rustls::ServerConfig>, String), TlsError> {
    use rustls::pki_types::pem::PemObject;
    let own = |path: &Path, message: String| TlsError::Own {
        path: path.to_owned(),
        message,
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| own(cert, e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| own(cert, e.to_string()))?;
    let leaf = chain
        .first()
        .ok_or_else(|| own(cert, "no CERTIFICATE block in it".into()))?;
    let fingerprint = fingerprint(leaf.as_ref());
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| own(key, e.to_string()))?;
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|e| own(key, format!("it does not go with the certificate: {e}")))?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((Arc::new(cfg), fingerprint))
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_owners_pem_certificate_is_served_and_a_wrong_key_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let make = || {
            let key = rcgen::KeyPair::generate().expect("key");
            let cert = rcgen::CertificateParams::new(vec!["box.tailnet.ts.net".to_owned()])
                .expect("params")
                .self_signed(&key)
                .expect("cert");
            (cert, key)
        };
        let (cert, key) = make();
        let (_, other_key) = make();
        let (c, k, wrong) = (
            dir.path().join("c.pem"),
            dir.path().join("k.pem"),
            dir.path().join("w.pem"),
        );
        std::fs::write(&c, cert.pem()).expect("write");
        std::fs::write(&k, key.serialize_pem()).expect("write");
        std::fs::write(&wrong, other_key.serialize_pem()).expect("write");
        let (_, fp) = own_server_config(&c, &k).expect("served");
        assert_eq!(fp, fingerprint(cert.der()));
        let err = own_server_config(&c, &wrong)
            .expect_err("mismatched key")
            .to_string();
        assert!(err.contains("does not go with the certificate"), "{err}");
        let err = own_server_config(&k, &k)
            .expect_err("a key is no certificate")
            .to_string();
        assert!(err.contains("no CERTIFICATE"), "{err}");
    }

    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_certificate_is_kept_then_renewed_with_the_same_key_before_it_expires() {
        let dir = tempfile::tempdir().expect("dir");
        let lo: IpAddr = "127.0.0.1".parse().expect("ip");
        let first = load_or_make(dir.path(), lo).expect("make");
        for f in ["cert.der", "key.der", "cert.json"] {
            let mode = std::fs::metadata(dir.path().join(f))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{f}");
        }
        let again = load_or_make(dir.path(), lo).expect("load");
        assert_eq!(
            again.fingerprint, first.fingerprint,
            "a fresh certificate is kept"
        );
        // 10 days left: renewed, same key.
        let meta_path = dir.path().join("cert.json");
        let mut meta: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&meta_path).expect("meta")).expect("json");
        let soon = SystemTime::now() + Duration::from_secs(10 * 24 * 3600);
        meta["not_after_unix"] = soon
            .duration_since(SystemTime::UNIX_EPOCH)
            .expect("time")
            .as_secs()
            .into();
        std::fs::write(&meta_path, meta.to_string()).expect("write");
        let renewed = load_or_make(dir.path(), lo).expect("renew");
        assert_ne!(renewed.fingerprint, first.fingerprint);
        assert_eq!(renewed.key_der, first.key_der, "the key survives a renewal");
        assert!(renewed.not_after > soon + Duration::from_secs(300 * 24 * 3600));
        // A new listen address is added to the names.
        let lan: IpAddr = "192.168.77.5".parse().expect("ip");
        let widened = load_or_make(dir.path(), lan).expect("widen");
        assert_ne!(widened.fingerprint, renewed.fingerprint);
        let meta = std::fs::read_to_string(&meta_path).expect("meta");
        assert!(meta.contains("192.168.77.5"), "{meta}");
        // The server config takes it and speaks TLS 1.3 only.
        assert!(server_config(&widened).is_ok());
    }
}
