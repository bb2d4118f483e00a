// `node scripts/openapi.mjs [out.json]`: the /openapi.json document the worker serves, built from the
// app's route declarations in plain Node (esbuild bundle; no storage or TF.js is touched to describe
// the routes). Used to compare the document before and after a refactor of the route declarations.
import { build } from 'esbuild';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(path.join(tmpdir(), 'openapi-'));
try {
  const outfile = path.join(dir, 'app.mjs');
  await build({
    stdin: {
      contents: "export { createApp } from './functions/api/app';",
      resolveDir: root,
      sourcefile: 'openapi-entry.ts',
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile,
    loader: { '.wasm': 'empty', '.gz': 'empty' },
    // Describing the routes constructs no Durable Object; the runtime module the object classes extend
    // (not importable in Node) is replaced by empty classes.
    plugins: [
      {
        name: 'cloudflare-workers-stub',
        setup(b) {
          b.onResolve({ filter: /^cloudflare:workers$/ }, () => ({ path: 'cloudflare:workers', namespace: 'stub' }));
          b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
            contents: 'export class DurableObject {} export class WorkerEntrypoint {} export const env = {};',
            loader: 'js',
          }));
        },
      },
    ],
    // TF.js reaches Node built-ins through require().
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    logLevel: 'error',
  });
  const { createApp } = await import(pathToFileURL(outfile).href);
  const res = await createApp().request('/openapi.json', {}, {});
  const text = JSON.stringify(await res.json(), null, 2) + '\n';
  if (process.argv[2]) writeFileSync(process.argv[2], text);
  else process.stdout.write(text);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
