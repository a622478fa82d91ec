//! A Web Push service on loopback, for tests: what a browser vendor's push service checks,
//! checked here. Each [`PushService::subscribe`] makes a browser's side of a subscription
//! (a P-256 key pair and an auth secret) and an endpoint; a POST to the endpoint must carry
//! `Content-Encoding: aes128gcm`, a `TTL`, and a VAPID `Authorization` (RFC 8292) whose ES256
//! signature verifies with its `k`, whose `aud` is this service's origin, whose `exp` is in
//! the next 24 hours and whose `sub` is a `mailto:` or `https:` contact; its body must decrypt
//! (RFC 8291) with the subscription's keys. Accepted messages are kept decrypted (201);
//! anything else is refused the way push services refuse it (400/401/403/404), and logged.

use crate::http::{read_request, write_full, Request};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};
use tokio::io::BufReader;
use tokio::net::TcpListener;
use tokio::sync::watch;
use web_push_native::p256;

/// The browser's side of one subscription.
#[derive(Clone)]
pub struct BrowserKeys {
    pub endpoint: String,
    /// base64url, as `PushSubscription.toJSON().keys` gives them.
    pub p256dh: String,
    pub auth: String,
    secret: p256::SecretKey,
    auth_bytes: [u8; 16],
}

/// A message the service accepted, decrypted.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub endpoint: String,
    pub payload: Vec<u8>,
    pub ttl: String,
    pub urgency: Option<String>,
    pub topic: Option<String>,
    /// The VAPID JWT's claims.
    pub claims: serde_json::Value,
    pub at: Instant,
}

impl Delivered {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.payload).unwrap_or(serde_json::Value::Null)
    }
}

#[derive(Default)]
struct State {
    subs: Vec<BrowserKeys>,
    delivered: Vec<Delivered>,
    log: Vec<String>,
}

/// The service. Stops when dropped.
pub struct PushService {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    shutdown: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn lock(s: &Mutex<State>) -> MutexGuard<'_, State> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

impl PushService {
    pub fn start() -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let listener = {
            let _guard = rt.enter();
            TcpListener::from_std(listener)?
        };
        let state = Arc::new(Mutex::new(State::default()));
        let (shutdown, rx) = watch::channel(false);
        let served = state.clone();
        let thread = std::thread::Builder::new()
            .name("push-service".into())
            .spawn(move || rt.block_on(serve(listener, served, addr, rx)))?;
        Ok(Self {
            addr,
            state,
            shutdown,
            thread: Some(thread),
        })
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A new subscription, as a browser would make one.
    pub fn subscribe(&self) -> BrowserKeys {
        let rng = ring::rand::SystemRandom::new();
        let secret = loop {
            let mut b = [0u8; 32];
            ring::rand::SecureRandom::fill(&rng, &mut b).expect("random");
            if let Ok(k) = p256::SecretKey::from_slice(&b) {
                break k;
            }
        };
        let mut auth = [0u8; 16];
        ring::rand::SecureRandom::fill(&rng, &mut auth).expect("random");
        use p256::elliptic_curve::sec1::ToEncodedPoint;
        let public = secret.public_key().to_encoded_point(false);
        let mut state = lock(&self.state);
        let endpoint = format!("{}/push/{}", self.origin(), state.subs.len() + 1);
        let keys = BrowserKeys {
            endpoint,
            p256dh: URL_SAFE_NO_PAD.encode(public.as_bytes()),
            auth: URL_SAFE_NO_PAD.encode(auth),
            secret,
            auth_bytes: auth,
        };
        state.subs.push(keys.clone());
        keys
    }

    pub fn delivered(&self) -> Vec<Delivered> {
        lock(&self.state).delivered.clone()
    }

    /// Every request and refusal, for a failing test's output.
    pub fn log(&self) -> String {
        lock(&self.state).log.join("\n")
    }

    /// Waits until a delivered message satisfies `pred`.
    pub fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&Delivered) -> bool,
    ) -> Delivered {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(d) = lock(&self.state).delivered.iter().find(|d| pred(d)) {
                return d.clone();
            }
            if Instant::now() > deadline {
                panic!(
                    "timed out after {timeout:?} waiting for {what}; the push service saw:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for PushService {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if std::thread::panicking() {
            eprintln!("--- push service log:\n{}", self.log());
        }
    }
}

async fn serve(
    listener: TcpListener,
    state: Arc<Mutex<State>>,
    addr: SocketAddr,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            _ = shutdown.changed() => break,
            a = listener.accept() => a,
        };
        let Ok((stream, _)) = accepted else { continue };
        let state = state.clone();
        tokio::spawn(async move {
            let (r, mut w) = stream.into_split();
            let mut r = BufReader::new(r);
            while let Ok(req) = read_request(&mut r, &mut w).await {
                let keep = req.keep_alive();
                let (status, text) = match check(&state, &req, addr) {
                    Ok(()) => (201, String::new()),
                    Err((status, why)) => {
                        lock(&state).log.push(format!(
                            "{} {} refused {status}: {why}",
                            req.method, req.target
                        ));
                        (status, why)
                    }
                };
                if write_full(
                    &mut w,
                    status,
                    &[("content-type", "text/plain".into())],
                    text.as_bytes(),
                    keep,
                )
                .await
                .is_err()
                    || !keep
                {
                    break;
                }
            }
        });
    }
}

fn check(state: &Mutex<State>, req: &Request, addr: SocketAddr) -> Result<(), (u16, String)> {
    let origin = format!("http://{addr}");
    let endpoint = format!("{origin}{}", req.path());
    let sub = lock(state)
        .subs
        .iter()
        .find(|s| s.endpoint == endpoint)
        .cloned()
        .ok_or((404, "no such subscription".to_owned()))?;
    if req.method != "POST" {
        return Err((405, "push with POST".into()));
    }
    if req.header("content-encoding") != Some("aes128gcm") {
        return Err((400, "Content-Encoding must be aes128gcm".into()));
    }
    let ttl = req
        .header("ttl")
        .ok_or((400, "a TTL header is required".to_owned()))?
        .to_owned();
    let claims = vapid(req.header("authorization"), &origin).map_err(|e| (401, e))?;
    let payload = web_push_native::decrypt(
        req.body.clone(),
        &sub.secret,
        &web_push_native::Auth::clone_from_slice(&sub.auth_bytes),
    )
    .map_err(|e| {
        (
            400,
            format!("the body does not decrypt with the subscription's keys: {e}"),
        )
    })?;
    let mut s = lock(state);
    s.log.push(format!(
        "POST {} accepted ({} bytes)",
        req.target,
        payload.len()
    ));
    s.delivered.push(Delivered {
        endpoint,
        payload,
        ttl,
        urgency: req.header("urgency").map(str::to_owned),
        topic: req.header("topic").map(str::to_owned),
        claims,
        at: Instant::now(),
    });
    Ok(())
}

/// Checks `vapid t=<jwt>, k=<key>` as push services do; returns the claims.
pub fn vapid(header: Option<&str>, audience: &str) -> Result<serde_json::Value, String> {
    let header = header.ok_or("no Authorization header (VAPID is required)")?;
    let rest = header
        .strip_prefix("vapid ")
        .ok_or("Authorization is not `vapid t=..., k=...`")?;
    let mut t = None;
    let mut k = None;
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("t=") {
            t = Some(v);
        } else if let Some(v) = part.strip_prefix("k=") {
            k = Some(v);
        }
    }
    let (t, k) = (
        t.ok_or("no t= in the VAPID header")?,
        k.ok_or("no k= in the VAPID header")?,
    );
    let key = URL_SAFE_NO_PAD
        .decode(k)
        .map_err(|_| "k is not base64url")?;
    let (input, sig) = t.rsplit_once('.').ok_or("the JWT has no signature")?;
    let sig = URL_SAFE_NO_PAD
        .decode(sig)
        .map_err(|_| "the JWT signature is not base64url")?;
    ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, &key)
        .verify(input.as_bytes(), &sig)
        .map_err(|_| "the JWT's ES256 signature does not verify with k")?;
    let mut parts = input.split('.');
    let head: serde_json::Value = parts
        .next()
        .and_then(|h| URL_SAFE_NO_PAD.decode(h).ok())
        .and_then(|h| serde_json::from_slice(&h).ok())
        .ok_or("the JWT header is not base64url JSON")?;
    if head["alg"] != "ES256" {
        return Err(format!("the JWT's alg is {}, not ES256", head["alg"]));
    }
    let claims: serde_json::Value = parts
        .next()
        .and_then(|c| URL_SAFE_NO_PAD.decode(c).ok())
        .and_then(|c| serde_json::from_slice(&c).ok())
        .ok_or("the JWT claims are not base64url JSON")?;
    if claims["aud"] != audience {
        return Err(format!(
            "aud is {}, not this push service's origin {audience}",
            claims["aud"]
        ));
    }
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let exp = claims["exp"].as_u64().ok_or("no exp claim")?;
    if exp <= now || exp > now + 86400 {
        return Err(format!(
            "exp {exp} is not within the next 24 hours (now {now})"
        ));
    }
    let sub = claims["sub"].as_str().unwrap_or("");
    if !(sub.starts_with("mailto:") || sub.starts_with("https:")) {
        return Err(format!("sub `{sub}` is not a mailto: or https: contact"));
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(s).expect("base64url")
    }

    /// RFC 8291, Appendix A: the receiver's keys decrypt the example message.
    #[test]
    fn the_rfc_8291_example_decrypts_to_its_plaintext() {
        let ua_private =
            p256::SecretKey::from_slice(&b64("q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"))
                .expect("key");
        let auth = web_push_native::Auth::clone_from_slice(&b64("BTBZMqHH6r4Tts7J_aSIgg"));
        let body = b64("DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN");
        let plain = web_push_native::decrypt(body.clone(), &ua_private, &auth).expect("decrypts");
        assert_eq!(plain, b"When I grow up, I want to be a watermelon");
        let mut tampered = body;
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(
            web_push_native::decrypt(tampered, &ua_private, &auth).is_err(),
            "a changed byte is refused"
        );
    }

    #[test]
    fn vapid_headers_that_push_services_refuse_are_refused() {
        assert!(vapid(None, "http://x").is_err());
        assert!(vapid(Some("Bearer abc"), "http://x").is_err());
        assert!(vapid(Some("vapid t=a.b.c, k=AAAA"), "http://x")
            .expect_err("a bad signature")
            .contains("signature"));
    }
}
