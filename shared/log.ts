/**
 * Structured logs: one JSON line per event, readable with `wrangler tail`. Callers pass only what is
 * safe to log; tokens and request bodies never go through here.
 */
export function log(event: string, fields: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ event, at: new Date().toISOString(), ...fields }));
}

export function logError(event: string, fields: Record<string, unknown> = {}): void {
  console.error(JSON.stringify({ event, at: new Date().toISOString(), ...fields }));
}
