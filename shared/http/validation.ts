/** Turns a zod error into one readable line naming the offending field, e.g. `instances[3][12]: must be a finite number`. */
import type { ZodError } from 'zod';

function pathString(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(body)';
}

export function describeZodError(error: ZodError, max = 3): string {
  const issues = error.issues.slice(0, max).map((i) => `${pathString(i.path)}: ${i.message}`);
  const more = error.issues.length > max ? ` (+${error.issues.length - max} more)` : '';
  return issues.join('; ') + more;
}
