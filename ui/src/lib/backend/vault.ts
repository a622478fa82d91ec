/**
 * Device tokens at rest. A token is encrypted with AES-GCM under a key that WebCrypto created
 * as non-extractable and that only IndexedDB holds: the key's bytes can never be read by
 * script, copied out of the profile as text, or leak through a URL, a log or localStorage.
 * Tokens travel only in the `Authorization` header and in the socket's first message.
 */

export interface KeyStore {
  load(): Promise<CryptoKey | null>;
  save(key: CryptoKey): Promise<void>;
}

function b64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function unb64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export class TokenVault {
  #key: Promise<CryptoKey> | null = null;
  constructor(private readonly store: KeyStore) {}

  #getKey(): Promise<CryptoKey> {
    this.#key ??= (async () => {
      const existing = await this.store.load();
      if (existing) return existing;
      const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, [
        "encrypt",
        "decrypt",
      ]);
      await this.store.save(key);
      return key;
    })();
    return this.#key;
  }

  /** `iv.ciphertext`, both base64. */
  async seal(token: string): Promise<string> {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const ct = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv },
      await this.#getKey(),
      new TextEncoder().encode(token),
    );
    return `${b64(iv)}.${b64(new Uint8Array(ct))}`;
  }

  /** The token, or null when it cannot be decrypted (another browser profile, a reset key). */
  async open(sealed: string): Promise<string | null> {
    const [iv, ct] = sealed.split(".");
    if (!iv || !ct) return null;
    try {
      const pt = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: unb64(iv) },
        await this.#getKey(),
        unb64(ct),
      );
      return new TextDecoder().decode(pt);
    } catch {
      return null;
    }
  }
}

/** The browser's key store: one record in IndexedDB (structured clone keeps the key opaque). */
export class IndexedDbKeyStore implements KeyStore {
  #db(): Promise<IDBDatabase> {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open("paddock", 1);
      req.onupgradeneeded = () => req.result.createObjectStore("keys");
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  async load(): Promise<CryptoKey | null> {
    const db = await this.#db();
    return new Promise((resolve, reject) => {
      const r = db.transaction("keys").objectStore("keys").get("token-key");
      r.onsuccess = () => resolve((r.result as CryptoKey | undefined) ?? null);
      r.onerror = () => reject(r.error);
    });
  }
  async save(key: CryptoKey): Promise<void> {
    const db = await this.#db();
    return new Promise((resolve, reject) => {
      const tx = db.transaction("keys", "readwrite");
      tx.objectStore("keys").put(key, "token-key");
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
  }
}
