// Bundles the dashboard (TypeScript + uPlot from npm, no CDN) into public/, the Workers static-assets
// directory. Run by `npm test` (pretest) and by wrangler's [build] command before `wrangler dev`/deploy.
// Several `wrangler dev` processes may run this at once (parallel e2e tests): every file is written to a
// temporary name and renamed into place, so a reader never sees a half-written file.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(here, '..', 'public');

function writeAtomic(file, contents) {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, contents);
  renameSync(tmp, file);
}

const result = await build({
  entryPoints: { app: path.join(here, 'src', 'main.ts') },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2022', 'chrome110', 'safari16', 'firefox110'],
  outdir: path.join(out, 'assets'),
  write: false,
  legalComments: 'eof',
  logLevel: 'warning',
});
for (const file of result.outputFiles) writeAtomic(file.path, file.contents);
writeAtomic(path.join(out, 'index.html'), readFileSync(path.join(here, 'index.html')));
const sizes = result.outputFiles.map(
  (f) => `${path.relative(out, f.path)} ${(f.contents.length / 1024).toFixed(1)} KiB`,
);
console.log(`dashboard -> ${path.relative(process.cwd(), out) || '.'}/: ${sizes.join(', ')}`);
