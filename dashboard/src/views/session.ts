/**
 * One training session ("panda mode"), live: status, the curve with adjustment markers, and the admin
 * controls (learning rate for the next epochs, pause, resume, promote, delete). Polls while it trains.
 */
import { api, ApiError, type SessionView } from '../api';
import { sessionCurve } from '../charts/session-curve';
import { fill, h, notice, num, pct, when } from '../dom';
import { poll } from '../poll';
import type { View } from '../router';
import { requireToken } from '../token';

function controls(id: string, refresh: () => void): { el: HTMLElement; update(view: SessionView): void } {
  const status = h('div', { 'aria-live': 'polite', id: 'session-action' });
  const lr = h('input', {
    type: 'number',
    name: 'learningRate',
    step: 'any',
    min: '0',
    id: 'session-lr',
    'aria-label': 'learning rate for the next epochs',
  });
  const act = async (what: string, run: (token: string) => Promise<unknown>) => {
    const auth = requireToken();
    if ('missing' in auth) return fill(status, notice('error', auth.missing));
    try {
      const result = await run(auth.token);
      const promo = result as { promoted?: boolean; reason?: string; version?: number | null };
      fill(
        status,
        notice(
          'info',
          promo.reason
            ? `${promo.promoted ? `Promoted as v${promo.version}` : 'Not promoted'}: ${promo.reason}.`
            : `${what}: done.`,
        ),
      );
      refresh();
    } catch (err) {
      fill(status, notice('error', err instanceof ApiError ? err.message : String(err)));
    }
  };
  const adjust = h(
    'form',
    { class: 'inline-form', id: 'session-adjust' },
    h('label', { class: 'field' }, h('span', {}, 'learning rate from the next epoch'), lr),
    h('button', { type: 'submit' }, 'Adjust'),
  );
  adjust.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const value = Number(lr.value);
    if (!(value > 0)) return fill(status, notice('error', 'Enter a learning rate above 0.'));
    void act('Adjusted', (t) => api.adjustSession(id, { learningRate: value }, t));
  });
  const pause = h(
    'button',
    { type: 'button', id: 'session-pause', onclick: () => void act('Paused', (t) => api.pauseSession(id, t)) },
    'Pause',
  );
  const resume = h(
    'button',
    { type: 'button', id: 'session-resume', onclick: () => void act('Resumed', (t) => api.resumeSession(id, t)) },
    'Resume',
  );
  const promote = h(
    'button',
    { type: 'button', id: 'session-promote', onclick: () => void act('Promotion', (t) => api.promoteSession(id, t)) },
    'Promote',
  );
  // Deleting frees the dataset version the session holds; a version it promoted stays served.
  const remove = h(
    'button',
    {
      type: 'button',
      id: 'session-delete',
      onclick: () => {
        if (!confirm(`Delete session ${id}? Its training state goes for good; a version it promoted stays served.`))
          return;
        void act('Deleted', async (t) => {
          await api.deleteSession(id, t);
          location.hash = '#/sessions';
        });
      },
    },
    'Delete',
  );
  return {
    el: h(
      'div',
      { class: 'session-controls', 'data-needs': 'admin' },
      adjust,
      h('div', { class: 'buttons' }, pause, resume, promote, remove),
      status,
    ),
    update(view) {
      if (document.activeElement !== lr) lr.value = String(view.config.learningRate);
      pause.disabled = view.status !== 'running';
      resume.disabled = view.status !== 'paused' && view.status !== 'failed';
      promote.disabled =
        view.status === 'diverged' || view.status === 'failed' || view.curve.length === 0 || view.promotion !== null;
    },
  };
}

export function sessionView(id: string): View {
  const head = h('div', {}, h('h1', {}, 'Session'), h('p', { class: 'muted' }, 'Loading…'));
  const curveBox = h('div', {});
  let chartHandle: { destroy(): void } | null = null;
  let drawnFor = '';
  const poller = { stop() {} };
  const ctl = controls(id, () => void refresh());

  async function refresh(): Promise<boolean> {
    try {
      const view = await api.session(id);
      const last = view.curve.at(-1);
      fill(
        head,
        h(
          'div',
          { class: 'title-row' },
          h('h1', {}, h('span', { class: 'study-id' }, view.id)),
          h(
            'span',
            {
              class: `badge ${view.status === 'running' ? 'live' : view.status === 'complete' ? 'ok' : 'warn'}`,
              id: 'session-status',
            },
            view.status,
          ),
        ),
        h(
          'p',
          { class: 'muted' },
          `model "${view.model}" on "${view.dataset}" · epoch ${view.epoch} of ${view.config.epochs} (${view.sliceEpochs} per alarm) · ${view.config.optimizer}, learning rate ${num(view.config.learningRate)}, batch ${view.config.batchSize} · started ${when(view.createdAt)}`,
        ),
        h('p', {}, `Latest validation accuracy: `, h('strong', { id: 'session-accuracy' }, pct(last?.valAccuracy))),
        view.failure ? notice('error', `Stopped at epoch ${view.failure.epoch}: ${view.failure.reason}.`) : '',
        view.promotion
          ? notice(
              'info',
              `${view.promotion.promoted ? `Promoted as ${view.model} v${view.promotion.version}` : 'Not promoted'}: ${view.promotion.reason}.`,
            )
          : '',
      );
      ctl.update(view);
      const key = `${view.curve.length}/${view.adjustments.length}/${view.config.epochs}`;
      if (key !== drawnFor) {
        drawnFor = key;
        chartHandle?.destroy();
        const c = sessionCurve(view.curve, view.adjustments, view.config.epochs);
        fill(curveBox, c.el);
        chartHandle = c;
      }
      return view.status === 'running';
    } catch (err) {
      fill(head, h('h1', {}, 'Session'), notice('error', err instanceof ApiError ? err.message : String(err)));
      return !(err instanceof ApiError && err.status === 404);
    }
  }

  Object.assign(poller, poll(refresh, 1500));
  const el = h(
    'section',
    { class: 'view session-view' },
    head,
    h('section', { class: 'panel' }, h('h2', {}, 'Controls (admin)'), ctl.el),
    h('section', { class: 'panel' }, h('h2', {}, 'Learning curve'), curveBox),
  );
  return {
    el,
    dispose() {
      poller.stop();
      chartHandle?.destroy();
    },
  };
}
