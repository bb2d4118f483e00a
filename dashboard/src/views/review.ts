/**
 * The review page of one model: the next pending prediction (a digit drawn as its 8x8 image, other
 * tables as a form of their values) with the predicted label and probabilities, labelled with one click
 * or one key (the class's first character; x discards); then the live quality per version, the drift of
 * served inputs and the challenger traffic (admin).
 */
import { api, ApiError, type DriftReport, type LiveQuality, type ReviewItem, type TrafficView } from '../api';
import { fill, h, notice, pct, when } from '../dom';
import type { View } from '../router';
import { requireToken } from '../token';

/** A row of 64 values 0..16 (array, or an object of 64 values in order) is a digits image. */
function digitsPixels(input: unknown): number[] | null {
  const values = Array.isArray(input) ? input : input && typeof input === 'object' ? Object.values(input) : [];
  return values.length === 64 && values.every((v) => typeof v === 'number' && v >= 0 && v <= 16)
    ? (values as number[])
    : null;
}

function image(pixels: number[]): HTMLElement {
  return h(
    'div',
    { class: 'preview review-image', role: 'img', 'aria-label': 'The reviewed input as an 8x8 image' },
    pixels.map((v) => h('span', { class: 'cell', style: `background: hsl(0 0% ${100 - (v / 16) * 100}%)` })),
  );
}

function valuesForm(input: unknown): HTMLElement {
  const entries = Array.isArray(input)
    ? input.map((v, i) => [`#${i}`, v] as const)
    : Object.entries((input ?? {}) as Record<string, unknown>);
  return h(
    'form',
    { class: 'review-values', 'aria-label': 'The reviewed input' },
    entries.map(([k, v]) =>
      h(
        'label',
        { class: 'field' },
        h('span', {}, k),
        h('input', { value: v === null ? '' : String(v), readonly: true, placeholder: 'missing' }),
      ),
    ),
  );
}

function probabilities(item: ReviewItem): HTMLElement {
  const rows = Object.entries(item.predicted.probabilities).sort((a, b) => b[1] - a[1]);
  return h(
    'table',
    { class: 'probs' },
    rows.map(([label, p]) =>
      h(
        'tr',
        { class: label === item.predicted.label ? 'top' : '' },
        h('th', {}, label),
        h('td', {}, h('span', { class: 'bar', style: `width: ${Math.round(p * 100)}%` })),
        h('td', { class: 'num' }, pct(p, 1)),
      ),
    ),
  );
}

export function qualityTable(q: LiveQuality): HTMLElement {
  if (!q.versions.length) return notice('info', 'Nothing served or reviewed yet.');
  const acc = (s: { labelled: number; accuracy: number | null }) => `${pct(s.accuracy, 1)} (${s.labelled})`;
  return h(
    'div',
    {},
    h(
      'table',
      { class: 'quality', id: 'live-quality' },
      h(
        'tr',
        {},
        ['version', 'audit sample', 'flagged', 'pending', 'served', 'confidence'].map((t) => h('th', {}, t)),
      ),
      q.versions.map((v) => {
        const max = Math.max(1, ...v.confidence);
        return h(
          'tr',
          { 'data-version': v.version },
          h('td', {}, `v${v.version}`),
          h('td', { class: 'num' }, acc(v.audit)),
          h('td', { class: 'num' }, acc(v.flagged)),
          h('td', { class: 'num' }, v.pending),
          h('td', { class: 'num' }, v.served),
          h(
            'td',
            {},
            h(
              'span',
              { class: 'hist', 'aria-label': 'confidence histogram, 10 bins over 0..1' },
              v.confidence.map((c) => h('span', { style: `height: ${Math.round((c / max) * 100)}%` })),
            ),
          ),
        );
      }),
    ),
    q.agreement.map((a) =>
      h(
        'p',
        {},
        `${a.mode}: v${a.challenger} agrees with v${a.champion} on ${pct(a.rate, 1)} of ${a.compared} predictions`,
      ),
    ),
    q.skipped || q.dropped
      ? h('p', { class: 'muted' }, `${q.skipped} left out under load, ${q.dropped} refused by a full queue`)
      : null,
  );
}

export function driftTable(d: DriftReport): HTMLElement {
  if (d.maxPsi === null)
    return notice('info', `v${d.version}: ${d.rows} served rows sketched; PSI needs at least 100.`);
  const top = [...d.features].sort((a, b) => b.psi - a.psi).slice(0, 8);
  return h(
    'div',
    { id: 'drift' },
    h(
      'p',
      {},
      `v${d.version}: largest PSI ${d.maxPsi.toFixed(3)} over ${d.rows} sampled rows since ${when(d.since ?? '')} (threshold ${d.threshold}); `,
      d.drifted.length ? h('strong', {}, `drifted: ${d.drifted.join(', ')}`) : 'no feature over it',
    ),
    h(
      'table',
      { class: 'probs' },
      top.map((f) =>
        h(
          'tr',
          { class: f.psi > d.threshold ? 'top' : '' },
          h('th', {}, f.kind === 'numeric' ? f.feature : `${f.feature} (${f.kind})`),
          h(
            'td',
            {},
            h('span', {
              class: 'bar',
              style: `width: ${Math.min(100, Math.round((f.psi / Math.max(d.threshold * 2, d.maxPsi!)) * 100))}%`,
            }),
          ),
          h('td', { class: 'num' }, f.psi.toFixed(3)),
        ),
      ),
    ),
  );
}

function trafficPanel(name: string, t: TrafficView, onChange: () => void): HTMLElement {
  const status = h('div', { 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'start-form', id: 'traffic-form', 'data-needs': 'admin' },
    h(
      'div',
      { class: 'fields' },
      h(
        'label',
        { class: 'field' },
        h('span', {}, 'challenger version'),
        h('input', { type: 'number', name: 'challenger', min: 1, step: 1, value: t.traffic?.challenger ?? '' }),
      ),
      h(
        'label',
        { class: 'field' },
        h('span', {}, 'mode'),
        h(
          'select',
          { name: 'mode' },
          ['canary', 'shadow'].map((m) => h('option', { value: m, selected: t.traffic?.mode === m }, m)),
        ),
      ),
      h(
        'label',
        { class: 'field' },
        h('span', {}, 'percent (0..50)'),
        h('input', { type: 'number', name: 'percent', min: 0, max: 50, step: 1, value: t.traffic?.percent ?? 10 }),
      ),
    ),
    h('button', { type: 'submit' }, 'Set traffic'),
    h('button', { type: 'button', name: 'end' }, 'End'),
    status,
  );
  const send = async (body: { challenger: number | null; mode?: 'canary' | 'shadow'; percent?: number }) => {
    const auth = requireToken();
    if ('missing' in auth) return fill(status, notice('error', auth.missing));
    try {
      await api.setTraffic(name, body, auth.token);
      onChange();
    } catch (err) {
      fill(status, notice('error', err instanceof Error ? err.message : String(err)));
    }
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const value = (n: string) => (form.elements.namedItem(n) as HTMLInputElement).value;
    void send({
      challenger: Number(value('challenger')),
      mode: value('mode') as 'canary' | 'shadow',
      percent: Number(value('percent')),
    });
  });
  form.querySelector('button[name=end]')!.addEventListener('click', () => void send({ challenger: null }));
  return h(
    'div',
    { id: 'traffic' },
    h(
      'p',
      {},
      t.traffic
        ? `Serving v${t.current}; challenger v${t.traffic.challenger} in ${t.traffic.mode} mode${t.traffic.mode === 'canary' ? ` for ${t.traffic.percent}% of callers` : ''} since ${when(t.traffic.since)}.`
        : `Serving v${t.current ?? '–'}; no challenger.`,
      ` Live guard: ${t.guard.minLabels} reviewed labels, margin ${t.guard.margin}, significance ${t.guard.significance}.`,
    ),
    t.decisions.map((d) =>
      h('p', { class: 'muted' }, `${d.action} v${d.from} → v${d.to}: ${d.moved ? 'done' : 'not taken'} (${d.reason})`),
    ),
    form,
  );
}

export function reviewView(name?: string): View {
  const el = h('section', { class: 'review-page' });
  let disposed = false;
  let onKey: ((ev: KeyboardEvent) => void) | null = null;
  if (!name) {
    el.append(h('h1', {}, 'Review'), h('p', {}, 'Pick a model:'));
    const list = h('ul', {});
    el.append(list);
    api
      .models()
      .then(({ models }) =>
        fill(
          list,
          models
            .filter((m) => m.version !== null)
            .map((m) => h('li', {}, h('a', { href: `#/review/${encodeURIComponent(m.name)}` }, m.name))),
        ),
      )
      .catch((err: unknown) => fill(list, notice('error', err instanceof Error ? err.message : String(err))));
    return { el, dispose: () => undefined };
  }
  const queue = h('div', { id: 'review-queue' });
  const quality = h('div', {});
  const drift = h('div', {});
  const traffic = h('div', {});
  el.append(
    h('h1', {}, `Review: ${name}`),
    h('h2', {}, 'Pending predictions'),
    queue,
    h('h2', {}, 'Live quality'),
    quality,
    h('h2', {}, 'Drift of served inputs'),
    drift,
    h('h2', {}, 'Challenger traffic'),
    traffic,
  );

  const showError = (target: HTMLElement, err: unknown) =>
    fill(target, notice('error', err instanceof ApiError || err instanceof Error ? err.message : String(err)));

  const refreshPanels = async () => {
    const [q, d, t] = await Promise.allSettled([api.quality(name), api.drift(name), api.traffic(name)]);
    if (disposed) return;
    if (q.status === 'fulfilled') fill(quality, qualityTable(q.value));
    else showError(quality, q.reason);
    if (d.status === 'fulfilled') fill(drift, driftTable(d.value));
    else showError(drift, d.reason);
    if (t.status === 'fulfilled')
      fill(
        traffic,
        trafficPanel(name, t.value, () => void refreshPanels()),
      );
    else showError(traffic, t.reason);
  };

  const showNext = async () => {
    let page;
    try {
      page = await api.reviews(name);
    } catch (err) {
      return showError(queue, err);
    }
    if (disposed) return;
    const item = page.reviews[0];
    if (!item) {
      onKey = null;
      return fill(queue, notice('info', 'Nothing to review.'));
    }
    const classes = Object.keys(item.predicted.probabilities).sort();
    const act = async (label: string | null) => {
      onKey = null;
      try {
        if (label === null) await api.discard(item.id);
        else await api.label(item.id, label);
      } catch (err) {
        return showError(queue, err);
      }
      await showNext();
      void refreshPanels();
    };
    const pixels = digitsPixels(item.input);
    fill(
      queue,
      h(
        'article',
        { class: 'review-item', 'data-review-id': item.id, 'data-kind': item.kind },
        h(
          'p',
          {},
          `${page.reviews.length}${page.next ? '+' : ''} pending · ${item.kind === 'audit' ? 'audit sample' : 'flagged'} · v${item.version} · ${when(item.createdAt)}${item.seen > 1 ? ` · seen ${item.seen}×` : ''}`,
        ),
        h(
          'div',
          { class: 'review-body' },
          pixels ? image(pixels) : valuesForm(item.input),
          h(
            'div',
            {},
            h(
              'p',
              {},
              'Predicted ',
              h('strong', { class: 'predicted' }, item.predicted.label),
              ` (${pct(item.predicted.confidence, 1)})`,
            ),
            probabilities(item),
          ),
        ),
        h(
          'div',
          { class: 'label-buttons', 'data-needs': 'review' },
          classes.map((c) => h('button', { type: 'button', 'data-label': c, onclick: () => void act(c) }, c)),
          h(
            'button',
            { type: 'button', class: 'secondary', 'data-discard': true, onclick: () => void act(null) },
            'Discard (x)',
          ),
        ),
        h('p', { class: 'muted' }, 'Keys: a class’s first character labels, x discards.'),
      ),
    );
    onKey = (ev) => {
      if (ev.target instanceof HTMLInputElement || ev.target instanceof HTMLSelectElement) return;
      if (ev.key === 'x') return void act(null);
      const match = classes.filter((c) => c.toLowerCase().startsWith(ev.key.toLowerCase()));
      if (match.length === 1) void act(match[0]!);
    };
  };
  const keyListener = (ev: KeyboardEvent) => onKey?.(ev);
  document.addEventListener('keydown', keyListener);
  void showNext();
  void refreshPanels();
  const timer = setInterval(() => void refreshPanels(), 5000);
  return {
    el,
    dispose: () => {
      disposed = true;
      clearInterval(timer);
      document.removeEventListener('keydown', keyListener);
    },
  };
}
