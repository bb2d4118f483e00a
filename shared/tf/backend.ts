/**
 * TF.js backend bootstrap for workerd.
 *
 * workerd refuses to compile WebAssembly from bytes at run time, which is what the stock
 * tfjs-backend-wasm `init()` does. The wasm binaries are therefore imported as modules (wrangler and
 * vitest-pool-workers turn `*.wasm` imports into precompiled `WebAssembly.Module`s) and the 'wasm'
 * backend is registered again with a factory that instantiates the precompiled module.
 *
 * The cpu backend is registered too, but only as an explicit fallback: when it is used the returned
 * info says so (`fallback: true` with the reason), it is logged as an error, /health reports it, and
 * the test suite fails on it.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// Importing the package registers every wasm kernel; its default 'wasm' factory is replaced below.
import { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import wasmFactory from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm.js';
import simdWasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm';
// tfjs-core alone does not attach chained methods (x.sum(), x.slice()) that tfjs-layers relies on.
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';

/**
 * Only the SIMD binary is bundled: every Workers runtime (V8) validates wasm SIMD, and the plain binary
 * would add 117 KB gzip to a bundle that must stay under 600 KiB. Without SIMD the cpu fallback is
 * taken, loudly (see BackendInfo.fallbackReason).
 */
export type BinaryKind = 'simd';

export interface BackendInfo {
  /** The backend TF.js actually runs on: 'wasm' unless the fallback was taken. */
  backend: string;
  /** True when the SIMD wasm binary is the one instantiated. */
  simd: boolean;
  /** Which wasm binary was instantiated; null on the cpu fallback. */
  binary: BinaryKind | null;
  threads: number;
  fallback: boolean;
  fallbackReason: string | null;
  tfjsVersion: string;
  initMs: number;
}

interface EmscriptenModule {
  cwrap(name: string, ret: string | null, args: string[]): (...a: number[]) => unknown;
  tfjs?: Record<string, (...a: number[]) => unknown>;
}

type Factory = (config: Record<string, unknown>) => Promise<EmscriptenModule>;

function wasmBackendFactory(module: WebAssembly.Module): () => Promise<BackendWasm> {
  return async () => {
    const instance = await (wasmFactory as unknown as Factory)({
      // Called by the emscripten glue instead of fetching and compiling bytes.
      instantiateWasm(imports: WebAssembly.Imports, done: (i: WebAssembly.Instance, m: WebAssembly.Module) => void) {
        WebAssembly.instantiate(module, imports).then((inst) => done(inst, module));
        return {};
      },
    });
    // The same C entry points the package wires up in its own init(); BackendWasm calls them by these names.
    instance.tfjs = {
      init: instance.cwrap('init', null, []),
      initWithThreadsCount: instance.cwrap('init_with_threads_count', null, ['number']),
      getThreadsCount: instance.cwrap('get_threads_count', 'number', []),
      registerTensor: instance.cwrap('register_tensor', null, ['number', 'number', 'number']),
      disposeData: instance.cwrap('dispose_data', '', ['number']),
      dispose: instance.cwrap('dispose', '', []),
    };
    return new BackendWasm(instance as never);
  };
}

async function simdSupported(): Promise<boolean> {
  return (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
}

async function initialise(): Promise<BackendInfo> {
  const started = performance.now();
  const binary: BinaryKind = 'simd';
  // No Web Workers in workerd: one thread, and no attempt at the threaded binary.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  tf.removeBackend('wasm');

  let fallbackReason: string | null = null;
  if (!(await simdSupported())) {
    fallbackReason = 'this runtime has no wasm SIMD (only the SIMD binary is bundled)';
  } else {
    tf.registerBackend('wasm', wasmBackendFactory(simdWasm), 2);
    try {
      if (!(await tf.setBackend('wasm'))) fallbackReason = 'tf.setBackend("wasm") returned false';
    } catch (err) {
      fallbackReason = `wasm backend failed to initialise: ${String(err)}`;
    }
  }
  if (fallbackReason !== null) {
    await tf.setBackend('cpu');
    console.error(JSON.stringify({ event: 'backend_fallback', backend: tf.getBackend(), reason: fallbackReason }));
  }
  const onWasm = tf.getBackend() === 'wasm';
  return {
    backend: tf.getBackend(),
    simd: onWasm && binary === 'simd',
    binary: onWasm ? binary : null,
    threads: 1,
    fallback: !onWasm,
    fallbackReason,
    tfjsVersion: tf.version_core,
    initMs: performance.now() - started,
  };
}

// TF.js keeps its engine and backend registry process-wide, so the initialisation is memoised the
// same way: every request in an isolate shares the one backend.
let ready: Promise<BackendInfo> | undefined;

/** Initialises TF.js once per isolate and reports what it runs on. */
export function initBackend(): Promise<BackendInfo> {
  ready ??= initialise().catch((err) => {
    ready = undefined;
    throw err;
  });
  return ready;
}
