/**
 * The platform-faithful layer: the documented Cloudflare semantics that local workerd/miniflare does not
 * enforce, applied to the REAL local bindings of the test isolate (see docs/platform.md for each limit
 * and its source). It patches the runtime's own binding prototypes (KvNamespace, DurableObjectStorage)
 * and the clocks, so the product code, its Durable Objects, its queue consumer and the tests all run
 * through it without any test code in the product. Installed for the whole workers project by
 * test/workers/platform/setup.ts (vitest setupFiles).
 *
 * What it adds, per binding:
 * - KV: one write (put or delete) per key per second, refused with the platform's error
 *   ("KV PUT failed: 429 Too Many Requests"); reads served the way a location other than the writer's
 *   serves them: the first read of a key caches what it saw (a miss too) for cacheTtl (60 s by default),
 *   and later reads within that window get the cached value even if the key changed since; optional
 *   injected 429s (chaos runs). Key, value and metadata sizes are already enforced by local KV.
 * - Durable Object storage: 2 MB per key + value (SQLite-backed objects), refused with SQLite's error.
 * - Clocks: Date.now() and performance.now() do not advance during synchronous compute; they move
 *   once the running code yields (as on the platform, where they move across I/O).
 */

export const KV_WRITE_INTERVAL_MS = 1000;
export const KV_DEFAULT_CACHE_TTL_MS = 60_000;
/** "Key and value combined cannot exceed 2 MB" — the decimal reading, the stricter of the two. */
export const DO_MAX_ENTRY_BYTES = 2_000_000;
export const KV_RATE_LIMIT_MESSAGE = 'KV PUT failed: 429 Too Many Requests';
export const DO_TOO_BIG_MESSAGE = 'string or blob too big: SQLITE_TOOBIG';

interface CachedRead {
  bytes: ArrayBuffer | null;
  metadata: unknown;
  at: number;
  ttlMs: number;
}

interface Chaos {
  /** Probability that a KV write is refused with 429 although the key was not written in the last second. */
  putFailureRate: number;
  seed: number;
  injected: number;
}

interface State {
  lastWriteAt: Map<string, number>;
  remoteCache: Map<string, CachedRead>;
  /**
   * Key prefixes the KV rules skip (stale reads and the write interval), for data on its way out of KV
   * (see setup.ts for why each is listed).
   */
  exemptPrefixes: string[];
  chaos: Chaos | null;
  counts: { throttled: number; staleReads: number; tooBig: number };
  /** Every successful KV put under a prefix, as text, per key (for byte-for-byte write-once checks). */
  writeLog: { prefix: string; writes: Map<string, string[]> } | null;
  /** A one-shot storage failure: the next put whose keys match is refused (a crash before the commit). */
  failStoragePut: ((keys: string[]) => boolean) | null;
  enabled: { kvThrottle: boolean; kvStaleReads: boolean; doValueLimit: boolean; frozenClock: boolean };
}

/** The runtime's methods, overloads erased: the layer forwards whatever arguments it was given. */
type Method = (this: unknown, ...args: unknown[]) => Promise<unknown>;
type KvProto = { get: Method; getWithMetadata: Method; put: Method; delete: Method; list: Method };
type StorageProto = { put: Method };
/** The synchronous key-value API of SQLite-backed objects (ctx.storage.kv). */
type SyncKvProto = { put: (this: unknown, ...args: unknown[]) => unknown };

interface Originals {
  kv: KvProto;
  storage: StorageProto;
  syncKv: SyncKvProto | null;
  dateNow: () => number;
  perfNow: () => number;
}

const STATE = Symbol.for('edge-tuner.faithful.state');
const ORIGINALS = Symbol.for('edge-tuner.faithful.originals');
const g = globalThis as unknown as { [STATE]?: State; [ORIGINALS]?: Originals };

function freshState(exemptPrefixes: string[]): State {
  return {
    lastWriteAt: new Map(),
    remoteCache: new Map(),
    exemptPrefixes,
    chaos: null,
    counts: { throttled: 0, staleReads: 0, tooBig: 0 },
    writeLog: null,
    failStoragePut: null,
    enabled: { kvThrottle: true, kvStaleReads: true, doValueLimit: true, frozenClock: true },
  };
}

function state(): State {
  const s = g[STATE];
  if (!s) throw new Error('the platform-faithful layer is not installed (test/workers/platform/setup.ts)');
  return s;
}

function originals(): Originals {
  const o = g[ORIGINALS];
  if (!o) throw new Error('the platform-faithful layer is not installed');
  return o;
}

/** The wall clock, never frozen: the layer's own bookkeeping (write intervals, cache ages) uses it. */
function realNow(): number {
  return originals().dateNow();
}

// ---------------------------------------------------------------------------------------------------
// Clock

let frozenAt: number | null = null;

function frozenNow(): number {
  const s = g[STATE];
  const real = originals().dateNow();
  if (!s?.enabled.frozenClock) return real;
  if (frozenAt === null) {
    frozenAt = real;
    // The clock moves once the running code yields. Not a timer: workerd cancels a timer when the request
    // that set it ends, which would leave the clock stuck. A microtask runs when the current synchronous
    // run ends — a little more lenient than the platform, which also holds the clock across awaits that
    // resolve without I/O.
    queueMicrotask(() => {
      frozenAt = null;
    });
  }
  return frozenAt;
}

// ---------------------------------------------------------------------------------------------------
// KV

function kvError(): Error {
  return new Error(KV_RATE_LIMIT_MESSAGE);
}

/** A small deterministic generator for the chaos switch (mulberry32). */
function nextRandom(chaos: Chaos): number {
  chaos.seed = (chaos.seed + 0x6d2b79f5) | 0;
  let t = chaos.seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

function checkWrite(key: string): void {
  const s = state();
  if (s.chaos && s.chaos.putFailureRate > 0 && nextRandom(s.chaos) < s.chaos.putFailureRate) {
    s.chaos.injected += 1;
    throw kvError();
  }
  if (!s.enabled.kvThrottle || s.exemptPrefixes.some((p) => key.startsWith(p))) return;
  const now = realNow();
  const last = s.lastWriteAt.get(key);
  if (last !== undefined && now - last < KV_WRITE_INTERVAL_MS) {
    s.counts.throttled += 1;
    throw kvError();
  }
  s.lastWriteAt.set(key, now);
}

async function textOf(value: unknown): Promise<string> {
  if (typeof value === 'string') return value;
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return new TextDecoder().decode(value);
  return '<stream>';
}

type ReadType = 'text' | 'json' | 'arrayBuffer' | 'stream';

function readOptions(arg: unknown): { type: ReadType; cacheTtlMs: number } {
  if (typeof arg === 'string') return { type: arg as ReadType, cacheTtlMs: KV_DEFAULT_CACHE_TTL_MS };
  const o = (arg ?? {}) as { type?: ReadType; cacheTtl?: number };
  return {
    type: o.type ?? 'text',
    cacheTtlMs: o.cacheTtl !== undefined ? o.cacheTtl * 1000 : KV_DEFAULT_CACHE_TTL_MS,
  };
}

function convert(bytes: ArrayBuffer | null, type: ReadType): unknown {
  if (bytes === null) return null;
  switch (type) {
    case 'arrayBuffer':
      return bytes.slice(0);
    case 'json':
      return JSON.parse(new TextDecoder().decode(bytes));
    case 'stream':
      return new Blob([bytes]).stream();
    default:
      return new TextDecoder().decode(bytes);
  }
}

/** A read as another location serves it: from its cache when it read the key within cacheTtl. */
async function remoteRead(kv: KVNamespace, key: string, ttlMs: number): Promise<CachedRead> {
  const s = state();
  const consistent = !s.enabled.kvStaleReads || s.exemptPrefixes.some((p) => key.startsWith(p));
  const cached = s.remoteCache.get(key);
  const now = realNow();
  if (!consistent && cached && now - cached.at < cached.ttlMs) {
    s.counts.staleReads += 1;
    return cached;
  }
  const got = (await originals().kv.getWithMetadata.call(kv, key, 'arrayBuffer')) as {
    value: ArrayBuffer | null;
    metadata: unknown;
  };
  const fresh: CachedRead = { bytes: got.value, metadata: got.metadata ?? null, at: now, ttlMs };
  if (!consistent) s.remoteCache.set(key, fresh);
  return fresh;
}

function installKv(proto: KvProto): void {
  const o = originals().kv;
  proto.put = async function (this: unknown, ...args: unknown[]) {
    const key = args[0] as string;
    checkWrite(key);
    const log = state().writeLog;
    const text = log && key.startsWith(log.prefix) ? await textOf(args[1]) : null;
    await o.put.call(this, ...args);
    if (log && text !== null) log.writes.set(key, [...(log.writes.get(key) ?? []), text]);
  };
  proto.delete = async function (this: unknown, ...args: unknown[]) {
    checkWrite(args[0] as string);
    return o.delete.call(this, ...args);
  };
  proto.get = async function (this: unknown, ...args: unknown[]) {
    const [key, arg] = args as [string | string[], unknown];
    const kv = this as KVNamespace;
    if (Array.isArray(key)) {
      const { type, cacheTtlMs } = readOptions(arg);
      const out = new Map<string, unknown>();
      for (const k of key) out.set(k, convert((await remoteRead(kv, k, cacheTtlMs)).bytes, type));
      return out;
    }
    const { type, cacheTtlMs } = readOptions(arg);
    return convert((await remoteRead(kv, key, cacheTtlMs)).bytes, type);
  };
  proto.getWithMetadata = async function (this: unknown, ...args: unknown[]) {
    const [key, arg] = args as [string, unknown];
    const { type, cacheTtlMs } = readOptions(arg);
    const r = await remoteRead(this as KVNamespace, key, cacheTtlMs);
    return { value: convert(r.bytes, type), metadata: r.metadata, cacheStatus: null };
  };
}

// ---------------------------------------------------------------------------------------------------
// Durable Object storage

/**
 * Bytes of a value as V8 serialises it, to within a few bytes per item: strings one byte per char when
 * Latin-1, else two; numbers 9; typed arrays and buffers their bytes.
 */
export function serializedSize(v: unknown, seen = new Set<object>()): number {
  if (v === null || v === undefined || typeof v === 'boolean') return 1;
  if (typeof v === 'number') return 9;
  if (typeof v === 'bigint') return 9 + Math.ceil(v.toString(16).length / 2);
  if (typeof v === 'string') {
    // eslint-disable-next-line no-control-regex
    const wide = /[^\u0000-\u00ff]/.test(v);
    return 5 + (wide ? 2 * v.length : v.length);
  }
  if (typeof v !== 'object') return 1;
  if (ArrayBuffer.isView(v)) return 12 + v.byteLength;
  if (v instanceof ArrayBuffer) return 5 + v.byteLength;
  if (seen.has(v)) return 5;
  seen.add(v);
  let n = 5;
  if (v instanceof Map) for (const [k, x] of v) n += serializedSize(k, seen) + serializedSize(x, seen);
  else if (v instanceof Set) for (const x of v) n += serializedSize(x, seen);
  else if (Array.isArray(v)) for (const x of v) n += serializedSize(x, seen);
  else for (const [k, x] of Object.entries(v)) n += serializedSize(k, seen) + serializedSize(x, seen);
  return n;
}

function checkEntry(key: string, value: unknown): void {
  const s = state();
  if (!s.enabled.doValueLimit) return;
  const size = new TextEncoder().encode(key).length + serializedSize(value);
  if (size > DO_MAX_ENTRY_BYTES) {
    s.counts.tooBig += 1;
    throw new Error(`${DO_TOO_BIG_MESSAGE} (key "${key}": ${size} bytes > ${DO_MAX_ENTRY_BYTES})`);
  }
}

/** The injected one-shot failure (failNextStoragePut), if these keys match it: thrown before the write. */
function failIfInjected(keys: string[]): void {
  const s = state();
  if (s.failStoragePut?.(keys)) {
    s.failStoragePut = null;
    throw new Error(`injected storage failure (keys ${keys.join(', ')})`);
  }
}

function installSyncKv(proto: SyncKvProto): void {
  const put = originals().syncKv!.put;
  proto.put = function (this: unknown, ...args: unknown[]) {
    checkEntry(args[0] as string, args[1]);
    // Inside transactionSync the throw rolls the whole transaction back, as a failed commit would.
    failIfInjected([args[0] as string]);
    return put.call(this, ...args);
  };
}

function installStorage(proto: StorageProto): void {
  const o = originals().storage;
  proto.put = async function (this: unknown, ...args: unknown[]) {
    const [keyOrEntries, value] = args;
    if (typeof keyOrEntries === 'string') checkEntry(keyOrEntries, value);
    else for (const [k, v] of Object.entries(keyOrEntries as Record<string, unknown>)) checkEntry(k, v);
    failIfInjected(typeof keyOrEntries === 'string' ? [keyOrEntries] : Object.keys(keyOrEntries as object));
    return o.put.call(this, ...args);
  };
}

// ---------------------------------------------------------------------------------------------------
// Installation and control

/**
 * Installs the layer once per isolate (later calls only reset the bookkeeping: each test file starts
 * with no write history and empty location caches, as its storage starts empty).
 */
export function installFaithfulLayer(
  kv: KVNamespace,
  storagePrototype: object,
  options: { exemptPrefixes?: string[]; syncKvPrototype?: object } = {},
): void {
  g[STATE] = freshState(options.exemptPrefixes ?? []);
  if (g[ORIGINALS]) return;
  const kvProto = Object.getPrototypeOf(kv) as KvProto;
  const storageProto = storagePrototype as StorageProto;
  const dateNow = Date.now.bind(Date);
  const perfNow = performance.now.bind(performance);
  g[ORIGINALS] = {
    kv: {
      get: kvProto.get,
      getWithMetadata: kvProto.getWithMetadata,
      put: kvProto.put,
      delete: kvProto.delete,
      list: kvProto.list,
    },
    storage: { put: storageProto.put },
    syncKv: options.syncKvPrototype ? { put: (options.syncKvPrototype as SyncKvProto).put } : null,
    dateNow,
    perfNow,
  };
  installKv(kvProto);
  installStorage(storageProto);
  if (options.syncKvPrototype) installSyncKv(options.syncKvPrototype as SyncKvProto);
  // performance.now() keeps its origin; only when it moves changes.
  const perfOffset = perfNow() - dateNow();
  Date.now = frozenNow;
  performance.now = () => frozenNow() + perfOffset;
}

/** What the tests (and the chaos run) can see and switch. */
export const faithful = {
  /** KV as the writer's own location sees it: reads skip the remote cache (for assertions on the truth). */
  origin(kv: KVNamespace) {
    const o = originals().kv;
    return {
      getBytes: (key: string) => o.get.call(kv, key, 'arrayBuffer') as Promise<ArrayBuffer | null>,
      getText: (key: string) => o.get.call(kv, key, 'text') as Promise<string | null>,
    };
  },
  /** Refuses this share of KV writes with the platform's 429 (seeded), on top of the per-key limit. */
  injectKvWriteFailures(rate: number, seed = 1): void {
    state().chaos = { putFailureRate: rate, seed, injected: 0 };
  },
  stopKvWriteFailures(): number {
    const s = state();
    const injected = s.chaos?.injected ?? 0;
    s.chaos = null;
    return injected;
  },
  counts() {
    return { ...state().counts };
  },
  /** Starts logging every successful KV put under `prefix` (value as text); returns the live log. */
  recordKvWrites(prefix: string): Map<string, string[]> {
    const writes = new Map<string, string[]>();
    state().writeLog = { prefix, writes };
    return writes;
  },
  stopRecordingKvWrites(): void {
    state().writeLog = null;
  },
  /** Refuses the next Durable Object storage put whose keys match, once (a crash before a commit). */
  failNextStoragePut(match: (keys: string[]) => boolean): void {
    state().failStoragePut = match;
  },
  /**
   * A one-shot call failure of a Durable Object method, as its caller sees the platform's transient errors
   * (a lost connection, an overloaded or reset object): the next call of `method` on an object that `match`es
   * rejects without running. The objects live in this isolate, so their class's prototype is patched until
   * the failure fires or the returned function undoes it.
   */
  failNextObjectCall<T extends object>(
    cls: { prototype: T },
    method: keyof T & string,
    match: (self: T) => boolean,
  ): () => void {
    const proto = cls.prototype as Record<string, unknown>;
    const original = proto[method] as (...args: unknown[]) => unknown;
    const restore = () => {
      proto[method] = original;
    };
    proto[method] = async function (this: T, ...args: unknown[]) {
      if (!match(this)) return original.apply(this, args);
      restore();
      throw new Error('Network connection lost.');
    };
    return restore;
  },
  /** The unfrozen wall clock, for tests that need to wait in real time. */
  realNow,
  /** Forgets every location cache (as if 60 s passed), for tests that must read the latest state. */
  expireKvCaches(): void {
    state().remoteCache.clear();
  },
};
