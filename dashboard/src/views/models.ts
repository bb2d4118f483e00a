/**
 * Models: every model with its current version and headline metrics; for the selected one, its
 * versions and promotion/rollback history, with rollback (admin token) to any other version.
 */
import { api, ApiError, type ModelSummary, type VersionList } from '../api';
import { fill, h, notice, pct, when } from '../dom';
import type { View } from '../router';
import { requireToken } from '../token';
import { evidenceShort } from './comparison';
import { sourceLink } from './source-link';

function modelCard(m: ModelSummary, selected: boolean): HTMLElement {
  return h(
    'a',
    {
      class: `card model-card${selected ? ' selected' : ''}`,
      href: `#/models/${encodeURIComponent(m.name)}`,
      'data-model': m.name,
    },
    h('span', { class: 'card-title' }, m.name),
    m.version === null
      ? h('span', { class: 'muted' }, 'nothing promoted yet')
      : [
          h('span', { class: 'version' }, `v${m.version}`),
          h('span', {}, `validation ${pct(m.metrics?.validationAccuracy)}`),
          h('span', {}, `test ${pct(m.metrics?.testAccuracy)}`),
        ],
  );
}

/** `flash` is the outcome of the last rollback: the panel is rebuilt after one, and keeps showing it. */
function versionsPanel(
  list: VersionList,
  flash: HTMLElement | null,
  refresh: (flash: HTMLElement) => void,
): HTMLElement {
  const status = h('div', { class: 'status-line', 'aria-live': 'polite' }, flash);
  const rollback = async (version: number, button: HTMLButtonElement) => {
    const auth = requireToken();
    if ('missing' in auth) return fill(status, notice('error', auth.missing));
    button.disabled = true;
    try {
      const res = await api.rollback(list.model, version, auth.token);
      refresh(
        notice(
          'info',
          `${res.model} now serves v${res.version} (was ${res.previous === null ? 'none' : `v${res.previous}`}).`,
        ),
      );
    } catch (err) {
      button.disabled = false;
      fill(status, notice('error', `Rollback failed: ${err instanceof Error ? err.message : String(err)}`));
    }
  };
  const rows = [...list.versions]
    .sort((a, b) => b.version - a.version)
    .map((v) => {
      const current = v.version === list.current;
      const button = h(
        'button',
        { type: 'button', class: 'secondary small', 'data-rollback': v.version, 'data-needs': 'admin' },
        `serve v${v.version}`,
      );
      button.addEventListener('click', () => void rollback(v.version, button));
      return h(
        'tr',
        { class: current ? 'current' : '' },
        // The action sits next to the version: on a phone the later columns are off-screen until scrolled.
        h('td', {}, `v${v.version}`, current ? h('span', { class: 'badge ok' }, 'current') : ''),
        h('td', {}, current ? '' : button),
        h('td', {}, pct(v.metrics.validationAccuracy)),
        h('td', {}, pct(v.metrics.testAccuracy)),
        h(
          'td',
          { class: 'evidence-cell', title: v.promotedBy?.reason ?? '' },
          v.promotedBy?.explicit ? h('span', { class: 'badge warn' }, 'explicit') : '',
          ` ${evidenceShort(v.promotedBy === null ? undefined : v.promotedBy.comparison)}`,
        ),
        h('td', {}, sourceLink(v.source, v.trial)),
        h('td', {}, when(v.createdAt)),
      );
    });
  const history = [...list.history]
    .reverse()
    .map((e) =>
      h(
        'li',
        {},
        h(
          'span',
          { class: `badge ${e.action === 'promote' ? 'ok' : 'warn'}` },
          e.explicit ? 'promote (explicit)' : e.action,
        ),
        ` ${e.from === null ? 'none' : `v${e.from}`} → v${e.to}`,
        e.studyId ? h('span', { class: 'muted' }, ` (${e.studyId})`) : '',
        h('span', { class: 'muted small' }, ` ${when(e.at)}`),
      ),
    );
  return h(
    'div',
    { class: 'versions' },
    h('h2', {}, `${list.model}: versions`),
    list.versions.length === 0
      ? notice('info', 'No version yet: the first study that completes a trial promotes one.')
      : h(
          'div',
          { class: 'scroll' },
          h(
            'table',
            { class: 'table', id: 'versions' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['version', '', 'validation', 'test', 'promoted on', 'from', 'created'].map((t) => h('th', {}, t)),
              ),
            ),
            h('tbody', {}, rows),
          ),
        ),
    h(
      'p',
      { class: 'muted small', 'data-needs': 'admin' },
      'Rolling back moves the current-version pointer to another immutable version (admin token). Predictions follow within seconds.',
    ),
    status,
    h('h3', {}, 'Promotion history'),
    history.length
      ? h('ol', { class: 'history', id: 'history' }, history)
      : h('p', { class: 'muted' }, 'No promotion yet.'),
  );
}

export function modelsView(selected: string | undefined): View {
  const el = h('section', { class: 'view models-view' }, h('p', { class: 'muted' }, 'Loading…'));
  const load = async (flash: HTMLElement | null = null) => {
    try {
      const { models } = await api.models();
      const name = selected ?? models.find((m) => m.version !== null)?.name ?? models[0]?.name;
      const list = name ? await api.versions(name) : null;
      fill(
        el,
        h('h1', {}, 'Models'),
        h(
          'div',
          { class: 'cards' },
          models.map((m) => modelCard(m, m.name === name)),
        ),
        list
          ? h(
              'section',
              { class: 'panel' },
              versionsPanel(list, flash, (next) => void load(next)),
              list.current !== null
                ? h(
                    'p',
                    {},
                    h(
                      'a',
                      { href: `#/champion/${encodeURIComponent(list.model)}`, class: 'button-link' },
                      `Champion of ${list.model}: confusion matrix and playground →`,
                    ),
                  )
                : '',
            )
          : notice('info', 'No models yet.'),
      );
    } catch (err) {
      fill(el, h('h1', {}, 'Models'), notice('error', err instanceof ApiError ? err.message : String(err)));
    }
  };
  void load();
  return { el, dispose() {} };
}
