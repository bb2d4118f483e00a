/**
 * Runs before every workers test file (vitest setupFiles): puts the platform-faithful layer between
 * the code and the real local bindings. See faithful.ts and docs/platform.md.
 */
import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { installFaithfulLayer } from './faithful';

// The storage prototype is reachable only through a live object; this one never stores anything.
let storagePrototype: object | undefined;
let syncKvPrototype: object | undefined;
await runInDurableObject(env.MODELS.get(env.MODELS.idFromName('__faithful-layer__')), (_obj, state) => {
  storagePrototype = Object.getPrototypeOf(state.storage) as object;
  syncKvPrototype = Object.getPrototypeOf(state.storage.kv) as object;
});

installFaithfulLayer(env.KV, storagePrototype!, { syncKvPrototype });
