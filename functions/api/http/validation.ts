/** Turns a zod error into one readable line naming the offending field, e.g. `instances[3][12]: must be a finite number`. */
import type { ZodError } from 'zod';

function pathString(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(body)';
}

type Issue = ZodError['issues'][number];

/**
 * A union's own message is just "Invalid input"; the branch that got furthest into the value says
 * what is actually wrong (e.g. the one non-number inside a row), so report that branch's issue.
 */
function deepest(issue: Issue): Issue {
  if (issue.code !== 'invalid_union' || !issue.errors.length) return issue;
  let best: Issue | null = null;
  for (const branch of issue.errors) {
    for (const inner of branch) {
      const resolved = deepest({ ...inner, path: [...issue.path, ...inner.path] } as Issue);
      if (!best || resolved.path.length > best.path.length) best = resolved;
    }
  }
  return best && best.path.length > issue.path.length ? best : issue;
}

export function describeZodError(error: ZodError, max = 3): string {
  const issues = error.issues.slice(0, max).map((raw) => {
    const i = deepest(raw);
    return `${pathString(i.path)}: ${i.message}`;
  });
  const more = error.issues.length > max ? ` (+${error.issues.length - max} more)` : '';
  return issues.join('; ') + more;
}
