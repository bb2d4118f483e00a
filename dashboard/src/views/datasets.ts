/**
 * Datasets: every dataset with its size; for the selected one, what the upload made of it: the label
 * column, each input column's type (inferred or declared), the columns dropped and why, the missing
 * markers, the encoded input width and the class and split counts.
 */
import { api, ApiError, type DatasetMeta, type DatasetSummary } from '../api';
import { fill, h, notice, when } from '../dom';
import type { View } from '../router';

function datasetCard(d: DatasetSummary, selected: boolean): HTMLElement {
  return h(
    'a',
    {
      class: `card${selected ? ' selected' : ''}`,
      href: `#/datasets/${encodeURIComponent(d.name)}`,
      'data-dataset': d.name,
    },
    h('span', { class: 'card-title' }, d.name),
    h('span', {}, `${d.rows.toLocaleString('en-US')} rows`),
    h('span', {}, `${d.features} columns, ${d.classes} classes`),
  );
}

function schemaPanel(m: DatasetMeta): HTMLElement {
  const columns = m.columns ?? m.featureNames.map((name) => ({ name, type: 'numeric', source: 'inferred' }));
  return h(
    'section',
    { class: 'panel', id: 'schema' },
    h('h2', {}, `${m.name}: schema`),
    h(
      'p',
      { class: 'muted small' },
      `version ${m.version}, ${when(m.createdAt)}`,
      m.label ? ` · label column "${m.label}"` : '',
      m.inputWidth !== undefined ? ` · ${m.inputWidth} model inputs once categories are one-hot` : '',
    ),
    h(
      'div',
      { class: 'scroll' },
      h(
        'table',
        { class: 'table', id: 'columns' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['column', 'type', ''].map((t) => h('th', {}, t)),
          ),
        ),
        h(
          'tbody',
          {},
          columns.map((c) =>
            h(
              'tr',
              { 'data-column': c.name, 'data-type': c.type },
              h('td', {}, c.name),
              h('td', {}, c.type),
              h('td', { class: 'muted' }, c.source),
            ),
          ),
        ),
      ),
    ),
    h('h3', {}, 'Dropped columns'),
    m.dropped?.length
      ? h(
          'ul',
          { id: 'dropped' },
          m.dropped.map((d) =>
            h('li', { 'data-column': d.name, 'data-reason': d.reason }, h('strong', {}, d.name), ` — ${d.reason}`),
          ),
        )
      : h('p', { class: 'muted' }, 'None.'),
    m.missingMarkers
      ? h(
          'p',
          { class: 'muted small' },
          'Read as missing: ',
          m.missingMarkers.map((k) => (k === '' ? '(empty)' : k)).join(', '),
        )
      : '',
    h('h3', {}, 'Classes'),
    h(
      'ul',
      { class: 'history' },
      m.classNames.map((c, i) => h('li', {}, `${c}: ${m.classCounts[i]} rows`)),
    ),
    h(
      'p',
      { class: 'muted small' },
      `split: ${m.splitCounts.train} training, ${m.splitCounts.validation} validation, ${m.splitCounts.test} test rows`,
    ),
  );
}

export function datasetsView(selected: string | undefined): View {
  const el = h('section', { class: 'view datasets-view' }, h('p', { class: 'muted' }, 'Loading…'));
  void (async () => {
    try {
      const { datasets } = await api.datasets();
      const name = selected ?? datasets.find((d) => d.name !== 'digits')?.name ?? datasets[0]?.name;
      const meta = name ? await api.dataset(name) : null;
      fill(
        el,
        h('h1', {}, 'Datasets'),
        h(
          'div',
          { class: 'cards' },
          datasets.map((d) => datasetCard(d, d.name === name)),
        ),
        meta ? schemaPanel(meta) : notice('info', 'No datasets yet.'),
      );
    } catch (err) {
      fill(el, h('h1', {}, 'Datasets'), notice('error', err instanceof ApiError ? err.message : String(err)));
    }
  })();
  return { el, dispose() {} };
}
