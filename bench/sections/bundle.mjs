/**
 * The deploy bundle as `npm run build` makes it (wrangler deploy --dry-run, minified), built into a
 * temporary directory so it never touches dist/. Reports wrangler's own gzip figure and, as a check,
 * the sum of the output files gzipped here.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('../..', import.meta.url));

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

export default {
  name: 'bundle',
  async run() {
    const outdir = mkdtempSync(join(tmpdir(), 'edge-tuner-bundle-'));
    try {
      const wrangler = join(root, 'node_modules/wrangler/bin/wrangler.js');
      const text = await new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [wrangler, 'deploy', '--dry-run', '--outdir', outdir], {
          cwd: root,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let all = '';
        child.stdout.on('data', (d) => (all += d));
        child.stderr.on('data', (d) => (all += d));
        child.on('error', reject);
        child.on('close', (code) =>
          code === 0 ? resolve(all) : reject(new Error(`wrangler exited with ${code}\n${all.slice(-2000)}`)),
        );
      });
      const m = /Total Upload:\s*([\d.]+)\s*KiB\s*\/\s*gzip:\s*([\d.]+)\s*KiB/.exec(text);
      if (!m) throw new Error(`no "Total Upload" line in wrangler's output:\n${text.slice(-2000)}`);
      const perFile = files(outdir).filter((f) => !f.endsWith('.map') && !f.endsWith('README.md'));
      const own = perFile.reduce((sum, f) => sum + gzipSync(readFileSync(f), { level: 9 }).length, 0);
      return {
        bundle_gzip_bytes: Math.round(Number(m[2]) * 1024),
        bundle_total_bytes: Math.round(Number(m[1]) * 1024),
        'bundle.files_gzip_bytes': own,
        'bundle.files': perFile.map((f) => ({ file: f.slice(outdir.length + 1), bytes: statSync(f).size })),
      };
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  },
};
