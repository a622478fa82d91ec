/**
 * The hosts this device knows and what each one says, live. Views read these objects; only
 * server answers and server events change them (nothing is shown as done before the host
 * confirmed it).
 */
import { HttpApi } from "../backend/http";
import { HostSocket } from "../backend/socket";
import { ApiError, messageOf } from "../backend/errors";
import { IndexedDbKeyStore, TokenVault } from "../backend/vault";
import type {
  ComponentHealth,
  Event,
  Permission,
  Role,
  SessionInsight,
  SessionView,
  TokenGrant,
} from "../backend/types";
import type { Grants } from "../model/roles";

/** The payload of a `conversation_update` event. */
export type ConversationUpdate = Extract<Event, { type: "conversation_update" }>["payload"];

export interface HostRecord {
  id: string;
  name: string;
  url: string;
  /** SHA-256 of the certificate pinned at pairing, when the code carried it. */
  fingerprint: string | null;
  deviceId: string;
  role: Role;
  /** The refresh token, sealed by the vault (never stored in clear). */
  sealedRefresh: string;
  /** The current access token, sealed likewise; renewed from the refresh token. */
  sealedAccess: string;
  pairedAt: string;
  /** Paired by the desktop app with the host it runs itself (`adoptThisHost`). */
  thisComputer?: boolean;
}

export type HostStatus =
  | "locked" // token not yet decrypted
  | "connecting"
  | "online"
  | "offline" // was online; reconnecting
  | "unreachable" // never reached since this page loaded
  | "revoked"
  | "cert_changed";

export const HOST_STATUS_TEXT: Record<HostStatus, string> = {
  locked: "Opening",
  connecting: "Connecting",
  online: "Online",
  offline: "Offline, reconnecting",
  unreachable: "Unreachable",
  revoked: "Revoked",
  cert_changed: "Certificate changed",
};

/** A line of the host's activity log as it arrived on the socket. */
export interface LogLine {
  time: string;
  level: string;
  message: string;
}

const SPARK = 60;
const LOG_TAIL = 1000;
const STORAGE = "paddock.hosts";

/** The host records as last stored (by this tab or another); none when unreadable. */
function storedRecords(): HostRecord[] {
  try {
    return JSON.parse(localStorage.getItem(STORAGE) ?? "[]") as HostRecord[];
  } catch {
    return [];
  }
}

/** A host's record as last stored. */
function storedRecord(id: string): HostRecord | undefined {
  return storedRecords().find((r) => r.id === id);
}

const vault = typeof indexedDB !== "undefined" ? new TokenVault(new IndexedDbKeyStore()) : null;

export class HostConn implements Grants {
  record = $state<HostRecord>() as HostRecord;
  permissions = $state<Permission[] | null>(null);
  status = $state<HostStatus>("locked");
  detail = $state("");
  role = $state<Role>("guest");
  sessions = $state<Record<string, SessionView>>({});
  cpu = $state<Record<string, number[]>>({});
  rss = $state<Record<string, number[]>>({});
  /** What each agent session's transcript says (from the host's indexer). */
  insights = $state<Record<string, SessionInsight>>({});
  logs = $state<LogLine[]>([]);
  alerts = $state<Record<string, ComponentHealth>>({});
  loadedOnce = $state(false);
  /** Open conversation views, told of each `conversation_update` of their session. */
  // Callbacks, not state anything renders.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly conversationListeners = new Set<(e: ConversationUpdate) => void>();

  #token: string | null = null;
  #refreshToken: string | null = null;
  #reauthing: Promise<boolean> | null = null;
  readonly api: HttpApi;
  readonly socket: HostSocket;

  constructor(
    record: HostRecord,
    private readonly persist: () => void,
  ) {
    this.record = record;
    this.role = record.role;
    this.api = new HttpApi(
      record.url,
      () => this.#token,
      () => this.reauth(),
      record.fingerprint,
    );
    this.socket = new HostSocket(
      record.url,
      () => this.#token,
      {
        onState: (s, detail) => {
          if (this.refused()) return;
          if (s === "open") {
            this.status = "online";
            this.detail = "";
            // A restarted host may present another certificate: check it against the pin.
            void this.refresh();
          } else if (s === "connecting" || s === "closed") {
            this.status = this.loadedOnce
              ? "offline"
              : s === "closed"
                ? "unreachable"
                : "connecting";
            this.detail = detail;
          }
        },
        onReady: (role, permissions) => {
          this.role = role;
          this.permissions = permissions;
          if (role !== this.record.role) {
            this.record.role = role;
            this.persist();
          }
        },
        onResync: (sessions) => {
          const next: Record<string, SessionView> = {};
          for (const s of sessions) next[s.id] = s;
          this.sessions = next;
          this.loadedOnce = true;
          void this.loadInsights();
        },
        onEvent: (e) => this.#apply(e),
        onAuthRefused: async (message) => {
          if (await this.reauth()) return true;
          this.#revoked(message);
          return false;
        },
      },
      record.fingerprint,
    );
  }

  /** The host refused this device (revoked) or is not the host it paired with: no retries. */
  refused(): boolean {
    return this.status === "revoked" || this.status === "cert_changed";
  }

  async start(): Promise<void> {
    this.#token = vault ? await vault.open(this.record.sealedAccess) : null;
    this.#refreshToken = vault ? await vault.open(this.record.sealedRefresh) : null;
    if (!this.#refreshToken) {
      this.status = "revoked";
      this.detail =
        "This browser cannot read the token it stored for this host (its site data was cleared). Remove the host and pair again.";
      return;
    }
    this.status = "connecting";
    await this.refresh();
    if (!this.refused()) this.socket.start();
  }

  stop(): void {
    this.socket.stop();
  }

  retry(): void {
    if (this.refused()) return;
    this.socket.retryNow();
    void this.refresh();
  }

  /** A new access token from the refresh token; false when the host refuses it (revoked). */
  reauth(): Promise<boolean> {
    this.#reauthing ??= (async () => {
      // The host rotates refresh tokens: another tab may have used (and replaced) this one.
      const stored = storedRecord(this.record.id)?.sealedRefresh;
      if (vault && stored && stored !== this.record.sealedRefresh) {
        this.record.sealedRefresh = stored;
        this.#refreshToken = await vault.open(stored);
      }
      if (!this.#refreshToken) return false;
      try {
        const grant = await new HttpApi(
          this.record.url,
          () => null,
          undefined,
          this.record.fingerprint,
        ).refresh(this.#refreshToken);
        this.#token = grant.access_token;
        this.#refreshToken = grant.refresh_token;
        if (vault) {
          this.record.sealedAccess = await vault.seal(grant.access_token);
          this.record.sealedRefresh = await vault.seal(grant.refresh_token);
        }
        this.record.role = grant.role;
        this.role = grant.role;
        this.persist();
        return true;
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) {
          this.#revoked(e.message);
        }
        return false;
      } finally {
        this.#reauthing = null;
      }
    })();
    return this.#reauthing;
  }

  /** The transcript insight of every agent session (news then comes as thinking_update). */
  async loadInsights(): Promise<void> {
    const agents = Object.values(this.sessions).filter((s) => s.agent);
    await Promise.all(
      agents.map(async (s) => {
        try {
          this.insights[s.id] = await this.api.insight(s.id);
        } catch {
          /* no transcript found yet, or the role may not read it */
        }
      }),
    );
  }

  /** Resync everything from the host (first load, after a reconnect). */
  async refresh(): Promise<void> {
    try {
      const [list, status] = await Promise.all([
        this.api.sessions(),
        this.api.status().catch(() => null),
      ]);
      const reported = status?.fingerprint;
      if (
        this.record.fingerprint &&
        reported &&
        reported.replace(/:/g, "").toLowerCase() !== this.record.fingerprint
      ) {
        this.status = "cert_changed";
        this.detail =
          "The host presents a different certificate from the one pinned when this device paired. If you did not reinstall Paddock there, do not trust it; otherwise remove the host and pair again.";
        this.socket.stop();
        return;
      }
      const next: Record<string, SessionView> = {};
      for (const s of list) next[s.id] = s;
      this.sessions = next;
      this.loadedOnce = true;
      void this.loadInsights();
      if (this.status === "connecting" || this.status === "unreachable") {
        this.status = this.socket.state === "open" ? "online" : "connecting";
      }
    } catch (e) {
      if (e instanceof ApiError && e.code === "certificate_changed") {
        this.status = "cert_changed";
        this.detail = `${e.message} If you did not reinstall Paddock there, do not trust it; otherwise remove the host and pair again.`;
        this.socket.stop();
      } else if (e instanceof ApiError && e.status === 401) {
        // The API already tried a fresh access token; the refresh token itself was refused.
        this.#revoked(e.message);
      } else if (!this.loadedOnce) {
        this.status = "unreachable";
        this.detail = messageOf(e);
      }
    }
  }

  #revoked(message: string): void {
    this.status = "revoked";
    this.detail = `${message} Remove the host and pair this device again.`;
    this.socket.stop();
  }

  #apply(e: Event): void {
    switch (e.type) {
      case "session_update": {
        const s = e.payload.session;
        this.sessions[s.id] = s;
        break;
      }
      case "session_removed": {
        delete this.sessions[e.payload.id];
        delete this.cpu[e.payload.id];
        delete this.rss[e.payload.id];
        delete this.insights[e.payload.id];
        break;
      }
      case "process_update": {
        const { id, cpu, rss } = e.payload;
        const s = this.sessions[id];
        if (s) {
          s.cpu = cpu;
          s.rss = rss;
        }
        this.cpu[id] = [...(this.cpu[id] ?? []), cpu].slice(-SPARK);
        this.rss[id] = [...(this.rss[id] ?? []), rss].slice(-SPARK);
        break;
      }
      case "thinking_update":
        this.insights[e.payload.id] = e.payload.insight;
        break;
      case "conversation_update":
        for (const f of this.conversationListeners) f(e.payload);
        break;
      case "permission_update": {
        // The request's own news (decided elsewhere, withdrawn); the session's state follows
        // in its session_update.
        const r = e.payload.request;
        const s = this.sessions[r.session];
        if (s?.permission && s.permission.id === r.id) s.permission = r;
        break;
      }
      case "system_alert":
        this.alerts[e.payload.component.name] = e.payload.component;
        break;
      case "log_entry": {
        // A one-off timestamp string, not reactive state.
        // eslint-disable-next-line svelte/prefer-svelte-reactivity
        const entry = { time: new Date().toISOString(), ...e.payload };
        this.logs = [...this.logs.slice(-(LOG_TAIL - 1)), entry];
        break;
      }
    }
  }
}

class Hosts {
  list = $state<HostConn[]>([]);

  load(): void {
    this.list = storedRecords()
      .filter((r) => r.sealedRefresh)
      .map((r) => new HostConn(r, () => this.#save()));
    for (const h of this.list) void h.start();
  }

  #save(): void {
    localStorage.setItem(STORAGE, JSON.stringify(this.list.map((h) => $state.snapshot(h.record))));
  }

  /**
   * A host by its id, or by its address (the desktop app's tray names its own host by the
   * endpoint URL, since the id is this device's own choice).
   */
  get(id: string): HostConn | undefined {
    return this.list.find((h) => h.record.id === id) ?? this.list.find((h) => h.record.url === id);
  }

  /** Keeps a new pairing: the grant's tokens are sealed before anything is stored. */
  async add(
    r: Omit<HostRecord, "sealedRefresh" | "sealedAccess" | "id" | "role" | "deviceId">,
    grant: TokenGrant,
  ): Promise<HostConn> {
    if (!vault) {
      throw new Error(
        "This browser cannot store a token safely (no IndexedDB). Use a current browser outside a private window.",
      );
    }
    const sealedRefresh = await vault.seal(grant.refresh_token);
    const sealedAccess = await vault.seal(grant.access_token);
    // Pairing the same host again replaces its old record.
    const old = this.list.find((h) => h.record.url === r.url);
    if (old) this.remove(old.record.id);
    const conn = new HostConn(
      {
        ...r,
        id: crypto.randomUUID(),
        role: grant.role,
        deviceId: grant.device_id,
        sealedRefresh,
        sealedAccess,
      },
      () => this.#save(),
    );
    this.list = [...this.list, conn];
    this.#save();
    await conn.start();
    return conn;
  }

  /**
   * The same host (its certificate) answering at another address: the record follows it and
   * keeps its tokens (the device stays the one paired), and its connection starts over there.
   */
  relocate(id: string, url: string): void {
    const h = this.get(id);
    if (!h) return;
    h.stop();
    const conn = new HostConn({ ...$state.snapshot(h.record), url }, () => this.#save());
    this.list = this.list.map((x) => (x === h ? conn : x));
    this.#save();
    void conn.start();
  }

  rename(id: string, name: string): void {
    const h = this.get(id);
    if (!h) return;
    h.record.name = name;
    this.#save();
  }

  remove(id: string): void {
    const h = this.get(id);
    h?.stop();
    this.list = this.list.filter((x) => x.record.id !== id);
    this.#save();
  }
}

export const hosts = new Hosts();
