import { describe, expect, it } from "vitest";
import { parseQr, parseShortCode, PairingParseError } from "../src/lib/backend/pairing";
import { TokenVault, type KeyStore } from "../src/lib/backend/vault";

const FP = "ab".repeat(32);

describe("pairing codes", () => {
  it("reads the host's pair_url", () => {
    const o = parseQr(`https://127.0.0.1:7420/#pair=AbC_-12&fp=${FP}`);
    expect(o).toEqual({
      url: "https://127.0.0.1:7420",
      fingerprint: FP,
      secret: "AbC_-12",
      kind: "qr",
    });
  });

  it("reads a URL QR code with the secret and fingerprint in the fragment", () => {
    const o = parseQr(`https://192.168.1.20:7420/pair#secret=s3cr3t&fp=${FP}`);
    expect(o).toEqual({
      url: "https://192.168.1.20:7420",
      fingerprint: FP,
      secret: "s3cr3t",
      kind: "qr",
    });
  });

  it("reads a paddock:// link and colon-separated fingerprints", () => {
    const colon = FP.match(/../g)!.join(":").toUpperCase();
    const o = parseQr(
      `paddock://pair?url=https%3A%2F%2Fbox.tail.ts.net%3A7420&secret=x&fingerprint=${colon}`,
    );
    expect(o.url).toBe("https://box.tail.ts.net:7420");
    expect(o.fingerprint).toBe(FP);
  });

  it("reads JSON codes", () => {
    const o = parseQr(JSON.stringify({ url: "https://h:7420", fingerprint: FP, secret: "k" }));
    expect(o.secret).toBe("k");
  });

  it("refuses codes that are not Paddock's, with a message that says what to do", () => {
    expect(() => parseQr("hello world")).toThrow(PairingParseError);
    expect(() => parseQr("https://h:7420/pair")).toThrow(/paddock pair/);
    expect(() => parseQr("ftp://h/?secret=1")).toThrow(/not a Paddock host/);
  });

  it("normalises typed short codes and refuses malformed ones", () => {
    expect(parseShortCode(" ab12-cd34 ", "https://127.0.0.1:7420/x").secret).toBe("AB12CD34");
    expect(parseShortCode("ab12", "https://127.0.0.1:7420/x").url).toBe("https://127.0.0.1:7420");
    expect(() => parseShortCode("a!", "https://h")).toThrow(/4 to 16/);
  });

  it("takes a typed fingerprint with the code, and requires it where the client pins", () => {
    const colon = FP.match(/../g)!.join(":").toUpperCase();
    expect(parseShortCode("ab12-cd34", "https://h:1", colon, true)).toEqual({
      url: "https://h:1",
      fingerprint: FP,
      secret: "AB12CD34",
      kind: "code",
    });
    expect(() => parseShortCode("ab12-cd34", "https://h:1", "", true)).toThrow(/fingerprint/);
    expect(() => parseShortCode("ab12-cd34", "https://h:1", "beef")).toThrow(/64 hexadecimal/);
    expect(parseShortCode("ab12-cd34", "https://h:1").fingerprint).toBeNull();
  });
});

class MemoryKeys implements KeyStore {
  key: CryptoKey | null = null;
  async load() {
    return this.key;
  }
  async save(k: CryptoKey) {
    this.key = k;
  }
}

describe("token vault", () => {
  it("seals tokens so the stored text does not contain them, and opens them again", async () => {
    const keys = new MemoryKeys();
    const v = new TokenVault(keys);
    const sealed = await v.seal("eyJ.secret.token");
    expect(sealed).not.toContain("secret");
    expect(await new TokenVault(keys).open(sealed)).toBe("eyJ.secret.token");
    expect(keys.key?.extractable).toBe(false);
  });

  it("cannot open a token sealed under another key", async () => {
    const sealed = await new TokenVault(new MemoryKeys()).seal("t");
    expect(await new TokenVault(new MemoryKeys()).open(sealed)).toBeNull();
  });
});
