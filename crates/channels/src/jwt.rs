//! Signed JSON Web Tokens (RFC 7519, compact JWS) for the push services: ES256 with a P-256
//! key (APNs' `.p8`) and RS256 with an RSA key (a Google service account), both with ring,
//! and the PEM reading they need.

use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, RsaKeyPair};
use serde_json::Value;

/// A key that signs tokens.
pub enum Signer {
    Es256(EcdsaKeyPair),
    Rs256(RsaKeyPair),
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Signer::Es256(_) => "Signer::Es256(***)",
            Signer::Rs256(_) => "Signer::Rs256(***)",
        })
    }
}

/// The DER inside a PEM's first `-----BEGIN <label>-----` block.
pub fn pem_der(pem: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin)? + begin.len();
    let stop = start + pem[start..].find(&end)?;
    let b64: String = pem[start..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

impl Signer {
    /// An ES256 signer from a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`, as Apple gives).
    pub fn es256_pem(pem: &str) -> Result<Self, String> {
        let der = pem_der(pem, "PRIVATE KEY").ok_or("it holds no PEM `PRIVATE KEY` block")?;
        EcdsaKeyPair::from_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &der,
            &SystemRandom::new(),
        )
        .map(Signer::Es256)
        .map_err(|e| format!("it is not a P-256 (ES256) private key: {e}"))
    }

    /// An RS256 signer from a PKCS#8 PEM (a service account's `private_key`).
    pub fn rs256_pem(pem: &str) -> Result<Self, String> {
        let der = pem_der(pem, "PRIVATE KEY").ok_or("it holds no PEM `PRIVATE KEY` block")?;
        RsaKeyPair::from_pkcs8(&der)
            .map(Signer::Rs256)
            .map_err(|e| format!("it is not an RSA private key: {e}"))
    }

    fn alg(&self) -> &'static str {
        match self {
            Signer::Es256(_) => "ES256",
            Signer::Rs256(_) => "RS256",
        }
    }

    /// `header.claims.signature`; `header` gets `alg` (and `typ`) added.
    pub fn sign(&self, mut header: Value, claims: &Value) -> Result<String, String> {
        if let Some(h) = header.as_object_mut() {
            h.insert("alg".into(), self.alg().into());
            h.insert("typ".into(), "JWT".into());
        }
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let rng = SystemRandom::new();
        let sig = match self {
            Signer::Es256(k) => k
                .sign(&rng, input.as_bytes())
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| "the key could not sign".to_owned())?,
            Signer::Rs256(k) => {
                let mut sig = vec![0u8; k.public().modulus_len()];
                k.sign(
                    &signature::RSA_PKCS1_SHA256,
                    &rng,
                    input.as_bytes(),
                    &mut sig,
                )
                .map_err(|_| "the key could not sign".to_owned())?;
                sig
            }
        };
        Ok(format!("{input}.{}", b64(&sig)))
    }
}

pub fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::KeyPair;

    #[test]
    fn an_es256_token_verifies_with_the_public_key_and_a_changed_one_does_not() {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .expect("key");
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(pkcs8.as_ref())
        );
        let signer = Signer::es256_pem(&pem).expect("signer");
        let Signer::Es256(pair) = &signer else {
            panic!("an ES256 signer")
        };
        let public = pair.public_key().as_ref().to_vec();
        let token = signer
            .sign(
                serde_json::json!({"kid": "K1"}),
                &serde_json::json!({"iss": "T1", "iat": 1}),
            )
            .expect("signed");
        let (input, sig) = token.rsplit_once('.').expect("three parts");
        let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(sig)
            .expect("b64");
        let key = signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, &public);
        key.verify(input.as_bytes(), &sig).expect("verifies");
        assert!(key.verify(format!("{input}x").as_bytes(), &sig).is_err());
        assert!(Signer::es256_pem("not a key").is_err());
        assert!(Signer::rs256_pem(&pem).is_err(), "an EC key is no RSA key");
    }
}
