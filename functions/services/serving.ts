/**
 * Serving state of one isolate: loaded models cached by their immutable (name, version), and the
 * current-version pointer re-read from the model's registry at most every POINTER_TTL_MS, so a
 * promotion is served within seconds. A request holds one LoadedModel from start to end, so it is
 * answered wholly by one version.
 */
import type { ProbabilityModel } from '../../models/infer';
import { logError } from '../../shared/log';
import type { BlobStore } from '../../shared/storage/blob-store';
import type { Store } from '../../shared/storage/store';
import { loadServedVersion, type InstanceModel } from '../../shared/study/served-model';
import type { ModelVersion } from '../../shared/study/types';
import { registryStub } from '../durable/stubs';
import type { ServingState } from '../durable/contracts';
import { initBackend } from '../../shared/tf/backend';
import { loadSplit, SPLIT_SEED } from '../../shared/datasets';
import { evaluateOnTest, SplitMismatchError, type Evaluation } from './evaluation';

export const POINTER_TTL_MS = 2000;
/** A version whose weights failed to load is not retried (nor re-fetched) for this long. */
export const FAILURE_TTL_MS = 30_000;
const MAX_LOADED = 8;
/**
 * What the loaded models may hold together (weights, XNNPACK's packed copies, activation buffers; see
 * heapBytesOf): an ensemble holds one network per member, so a count alone does not bound memory inside the
 * 128 MB isolate. The newest model is always kept, even alone over the budget.
 */
export const MAX_LOADED_BYTES = 48 * 1024 * 1024;
/** Evaluations are a few hundred bytes each; the cap only bounds an isolate that sees many versions. */
const MAX_EVALUATIONS = 64;

export interface LoadedModel {
  meta: ModelVersion;
  /** One network, or an ensemble's members averaged; with the version's temperature applied. */
  predictor: ProbabilityModel;
  featureIndex: Map<string, number>;
  /** A table version's request path: its preprocessing into the gathered first layer (see models/table-predictor.ts). */
  table: InstanceModel | null;
  /** Frees both paths' wasm-heap buffers. */
  dispose(): void;
  heapBytes: number;
}

/**
 * A loaded model held by one use (a request, an evaluation): its predictor's wasm-heap buffers stay
 * allocated until release(), even if the cache evicts the model meanwhile. Release exactly once.
 */
export interface ModelLease extends LoadedModel {
  release(): void;
}

/** A cache entry: how many leases hold it, and whether it was evicted (freed when the last lease ends). */
interface Entry {
  model: Promise<LoadedModel>;
  leases: number;
  evicted: boolean;
  /** Known once loaded (0 until then, and for a failed load). */
  bytes: number;
}

export interface ServingDeps {
  models: Env['MODELS'];
  store: Store;
  /** Dataset versions (a version's test split for its evaluation). */
  blobs: BlobStore;
}

/** No loadable weights: neither the asked version nor (for the current pointer) any earlier one. */
export class ModelUnavailableError extends Error {
  override name = 'ModelUnavailableError';
}

export class ServingCache {
  private readonly pointers = new Map<string, { state: ServingState; at: number }>();
  private readonly loaded = new Map<string, Entry>();
  private readonly evaluations = new Map<string, Promise<Evaluation>>();
  /** Versions whose weights could not be loaded: reason and when (reported by /health while recent). */
  private readonly failures = new Map<string, { reason: string; at: number }>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxBytes = MAX_LOADED_BYTES,
  ) {}

  /**
   * Starts the wasm backend (once per isolate) without waiting for it: a prediction calls this before
   * its key is checked, so on an isolate's first request the start-up and the key's round trip overlap.
   * Nothing about any model is read before the caller is admitted.
   */
  warm(): void {
    initBackend().catch(() => {});
  }

  /** The current version's metadata, from the registry, cached for POINTER_TTL_MS. */
  async current(deps: ServingDeps, name: string): Promise<ModelVersion | null> {
    return (await this.state(deps, name)).current;
  }

  /** The current version and the challenger traffic, read from the registry in one call, cached like the pointer. */
  async state(deps: ServingDeps, name: string): Promise<ServingState> {
    const cached = this.pointers.get(name);
    if (cached && this.now() - cached.at < POINTER_TTL_MS) return cached.state;
    // A fresh isolate starts the wasm backend while the registry answers (build() awaits the same promise).
    initBackend().catch(() => {});
    const state = await registryStub(deps.models, name).serving();
    this.pointers.set(name, { state, at: this.now() });
    return state;
  }

  /** Drops the cached pointer (after a change made through this isolate). */
  forget(name: string): void {
    this.pointers.delete(name);
  }

  async version(deps: ServingDeps, name: string, version: number): Promise<ModelVersion | null> {
    return registryStub(deps.models, name).version(version);
  }

  /** Recent load failures, e.g. "digits@3: weights checksum mismatch". */
  problems(): string[] {
    const now = this.now();
    return [...this.failures].filter(([, f]) => now - f.at < FAILURE_TTL_MS).map(([key, f]) => `${key}: ${f.reason}`);
  }

  /**
   * What to serve for the current pointer `meta`: that version, or when its weights cannot be loaded
   * (corrupt, truncated, missing), the newest earlier version that loads. The failure is recorded so
   * /health reports it; the response's `version` says which version answered.
   */
  async loadServable(deps: ServingDeps, meta: ModelVersion): Promise<ModelLease> {
    try {
      return await this.load(deps, meta);
    } catch (err) {
      const earlier = (await registryStub(deps.models, meta.model).listVersions())
        .filter((v) => v.version < meta.version)
        .sort((a, b) => b.version - a.version);
      for (const v of earlier) {
        try {
          return await this.load(deps, v);
        } catch {
          // recorded by load(); try the next older version
        }
      }
      throw new ModelUnavailableError(
        `model "${meta.model}" v${meta.version} cannot be loaded (${err instanceof Error ? err.message : String(err)}) and no earlier version can either`,
      );
    }
  }

  /**
   * Loads (once per isolate) the predictor of an immutable version and leases it to the caller, who
   * releases it when done. The lease is taken before anything is awaited, so an eviction in between
   * cannot free the model under the caller.
   */
  load(deps: ServingDeps, meta: ModelVersion): Promise<ModelLease> {
    const key = `${meta.model}@${meta.version}`;
    const failed = this.failures.get(key);
    if (failed && this.now() - failed.at < FAILURE_TTL_MS)
      return Promise.reject(new ModelUnavailableError(failed.reason));
    let entry = this.loaded.get(key);
    if (entry) {
      // Re-insert to keep the map in least-recently-used order.
      this.loaded.delete(key);
      this.loaded.set(key, entry);
      return this.lease(entry);
    }
    entry = { model: this.build(deps, meta), leases: 0, evicted: false, bytes: 0 };
    const added = entry;
    entry.model.then(
      (m) => {
        added.bytes = m.heapBytes;
        if (this.loaded.get(key) === added) this.evict();
      },
      () => {},
    );
    entry.model.catch((err: unknown) => {
      if (this.loaded.get(key) === added) this.loaded.delete(key);
      this.failures.set(key, { reason: err instanceof Error ? err.message : String(err), at: this.now() });
      logError('model_load_failed', { model: meta.model, version: meta.version, reason: String(err) });
    });
    this.loaded.set(key, entry);
    const lease = this.lease(entry);
    this.evict();
    return lease;
  }

  /** Drops least-recently-used models while over MAX_LOADED or the byte budget (never the newest). */
  private evict(): void {
    const bytes = () => [...this.loaded.values()].reduce((a, e) => a + e.bytes, 0);
    while (this.loaded.size > MAX_LOADED || (this.loaded.size > 1 && bytes() > this.maxBytes)) {
      const oldest = this.loaded.keys().next().value!;
      const evicted = this.loaded.get(oldest)!;
      this.loaded.delete(oldest);
      evicted.evicted = true;
      if (evicted.leases === 0) free(evicted);
    }
  }

  /** Models held and their estimated memory (for tests). */
  loadedSummary(): { models: number; bytes: number } {
    return { models: this.loaded.size, bytes: [...this.loaded.values()].reduce((a, e) => a + e.bytes, 0) };
  }

  private lease(entry: Entry): Promise<ModelLease> {
    entry.leases += 1;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      entry.leases -= 1;
      if (entry.evicted && entry.leases === 0) free(entry);
    };
    return entry.model.then(
      (m) => ({ ...m, release }),
      (err: unknown) => {
        release();
        throw err;
      },
    );
  }

  /**
   * The confusion matrix of an immutable version on its test split, computed once per isolate: the
   * version never changes, so neither does its evaluation.
   */
  evaluation(deps: ServingDeps, meta: ModelVersion): Promise<Evaluation> {
    const key = `${meta.model}@${meta.version}`;
    let entry = this.evaluations.get(key);
    if (entry) return entry;
    entry = (async () => {
      if (meta.splitSeed !== SPLIT_SEED)
        throw new SplitMismatchError(
          `${key} was tested on split seed ${meta.splitSeed}; this deployment splits with ${SPLIT_SEED}`,
        );
      const lease = this.load(deps, meta);
      try {
        const [loaded, split] = await Promise.all([lease, loadSplit(meta.dataset, deps.blobs, meta.datasetVersion)]);
        return evaluateOnTest(meta, loaded.predictor, split);
      } finally {
        lease.then((l) => l.release()).catch(() => {});
      }
    })();
    // A failure (e.g. weights briefly unreadable) is not cached: the next request tries again.
    entry.catch(() => this.evaluations.delete(key));
    this.evaluations.set(key, entry);
    if (this.evaluations.size > MAX_EVALUATIONS) this.evaluations.delete(this.evaluations.keys().next().value!);
    return entry;
  }

  private async build(deps: ServingDeps, meta: ModelVersion): Promise<LoadedModel> {
    // The cold path: the wasm backend's start-up and the weights' KV reads overlap.
    const served = await loadServedVersion(meta, (key) => deps.store.getBytes(key), initBackend());
    return { meta, ...served, featureIndex: new Map(meta.featureNames.map((n, i) => [n, i])) };
  }
}

/** Frees an evicted model's wasm-heap buffers once nothing holds it. */
function free(entry: Entry): void {
  entry.model.then((m) => m.dispose()).catch(() => {});
}
