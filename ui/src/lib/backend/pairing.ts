/**
 * What a pairing QR code or a typed short code says, and nothing else: parsing is pure so it
 * can be tested; the request that proves the secret is in `http.ts`.
 */

export interface PairingOffer {
  /** The host's base URL, e.g. `https://192.168.1.20:7420`. */
  url: string;
  /** SHA-256 fingerprint of the host's certificate (hex, colons optional), when the code has it. */
  fingerprint: string | null;
  /** The one-time secret (from a QR code) or the short code (typed). */
  secret: string;
  /** `qr` secrets are long; `code` is what a person types. */
  kind: "qr" | "code";
}

export class PairingParseError extends Error {}

function normFingerprint(fp: string | null | undefined): string | null {
  if (!fp) return null;
  const hex = fp
    .replace(/^sha256[:/]/i, "")
    .replace(/[^0-9a-f]/gi, "")
    .toLowerCase();
  return hex.length === 64 ? hex : null;
}

function baseUrl(raw: string): string {
  const u = new URL(raw);
  if (u.protocol !== "https:" && u.protocol !== "http:") {
    throw new PairingParseError(`The code points at ${u.protocol} which is not a Paddock host.`);
  }
  return `${u.protocol}//${u.host}`;
}

/**
 * Reads the text of a pairing QR code: the host's `pair_url` (`https://host:7420/#pair=SECRET&fp=FP`),
 * any URL carrying `secret` (or `s`, `code`) and
 * `fingerprint` (or `fp`) in its query or fragment, a `paddock://pair?url=…` link, or JSON.
 */
export function parseQr(text: string): PairingOffer {
  const t = text.trim();
  if (t.startsWith("{")) {
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(t) as Record<string, unknown>;
    } catch {
      throw new PairingParseError(
        "This QR code is not a Paddock pairing code. Scan the code that `paddock pair` shows.",
      );
    }
    const url = typeof o.url === "string" ? o.url : "";
    const secret = String(o.secret ?? o.code ?? "");
    if (!url || !secret)
      throw new PairingParseError(
        "This QR code lacks the host's address or secret. Run `paddock pair` again and scan the new code.",
      );
    return {
      url: baseUrl(url),
      fingerprint: normFingerprint(String(o.fingerprint ?? o.fp ?? "")),
      secret,
      kind: "qr",
    };
  }
  let u: URL;
  try {
    u = new URL(t);
  } catch {
    throw new PairingParseError(
      "This QR code is not a Paddock pairing code. Scan the code that `paddock pair` shows.",
    );
  }
  const params = new URLSearchParams(u.search);
  new URLSearchParams(u.hash.replace(/^#/, "")).forEach((v, k) => params.set(k, v));
  const secret =
    params.get("pair") ?? params.get("secret") ?? params.get("s") ?? params.get("code");
  const fp = params.get("fingerprint") ?? params.get("fp");
  let url: string;
  if (u.protocol === "paddock:") {
    const target = params.get("url");
    if (!target)
      throw new PairingParseError(
        "This QR code lacks the host's address. Run `paddock pair` again and scan the new code.",
      );
    url = baseUrl(target);
  } else {
    url = baseUrl(t);
  }
  if (!secret)
    throw new PairingParseError(
      "This QR code lacks the one-time secret. Run `paddock pair` again and scan the new code.",
    );
  return { url, fingerprint: normFingerprint(fp), secret, kind: "qr" };
}

/**
 * A typed short code for the host at `url` (by default the host that serves this page).
 * Letters and digits; spaces and dashes are ignored, case does not matter. `fingerprint`:
 * the host's certificate as `paddock pair` prints it; required where the client pins it (the
 * app: it cannot check a self-signed host otherwise), optional in a browser.
 */
export function parseShortCode(
  code: string,
  url: string,
  fingerprint = "",
  pinned = false,
): PairingOffer {
  const c = code.replace(/[\s-]/g, "").toUpperCase();
  if (!/^[A-Z0-9]{4,16}$/.test(c)) {
    throw new PairingParseError(
      "A short code is 4 to 16 letters and digits, as `paddock pair` prints it. Check it and type it again.",
    );
  }
  const fp = normFingerprint(fingerprint);
  if (fingerprint.trim() && !fp) {
    throw new PairingParseError(
      "A certificate fingerprint is 64 hexadecimal digits (colons allowed), as `paddock pair` prints it. Check it and type it again.",
    );
  }
  if (pinned && !fp) {
    throw new PairingParseError(
      "Type the host's certificate fingerprint too (`paddock pair` prints it beside the code): the app checks the host by it.",
    );
  }
  return { url: baseUrl(url), fingerprint: fp, secret: c, kind: "code" };
}
