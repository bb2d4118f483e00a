// A small closed-loop HTTP load generator for loopback tests: `connections` workers each send one
// request at a time for `seconds`, with keep-alive. Used by the HTTP benchmark and `npm run loadtest`.

/**
 * @param {{ url: string | (() => string), init?: RequestInit | (() => RequestInit), connections: number, seconds: number, onResponse?: (res: { status: number, body: string, ms: number, at: number }) => void }} opts
 */
export async function closedLoop(opts) {
  const latencies = [];
  let errors = 0;
  let requests = 0;
  const started = performance.now();
  const deadline = started + opts.seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      let status = 0;
      let body = '';
      try {
        const res = await fetch(
          typeof opts.url === 'function' ? opts.url() : opts.url,
          typeof opts.init === 'function' ? opts.init() : opts.init,
        );
        status = res.status;
        body = await res.text();
      } catch (err) {
        body = String(err);
      }
      const ms = performance.now() - t0;
      requests++;
      latencies.push(ms);
      if (status !== 200) errors++;
      opts.onResponse?.({ status, body, ms, at: t0 - started });
    }
  };
  await Promise.all(Array.from({ length: opts.connections }, worker));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? null;
  return {
    requests,
    errors,
    seconds: elapsed,
    rps: requests / elapsed,
    p50_ms: q(0.5),
    p99_ms: q(0.99),
    max_ms: latencies.at(-1) ?? null,
  };
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : null;
}
