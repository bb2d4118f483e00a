/**
 * A link to where a model version came from: its study and trial, or its training session and the epoch it
 * was promoted at (a session's id sits in `studyId` too, so the link follows `source`).
 */
import type { VersionSource } from '../../../shared/study/version-source';
import { h } from '../dom';

export function sourceLink(source: VersionSource, trial: number): HTMLElement {
  const session = source.kind === 'session';
  const href = `#/${session ? 'sessions' : 'studies'}/${encodeURIComponent(source.id)}`;
  return h('a', { href }, `${session ? 'epoch' : 'trial'} ${trial} of ${source.id}`);
}
