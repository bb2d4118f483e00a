/**
 * The dashboard: a static page served by the worker's static assets, reading the same JSON API as
 * any other client. Header (navigation, API key, backend badge) and one view per hash route; what the
 * key may not do is hidden.
 */
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { api, ApiError } from './api';
import { h } from './dom';
import { parseRoute, type Route, type View } from './router';
import { tokenInput } from './token';
import { refreshAbilities } from './abilities';
import { championView } from './views/champion';
import { keysView } from './views/keys';
import { reviewView } from './views/review';
import { datasetsView } from './views/datasets';
import { modelsView } from './views/models';
import { studiesView } from './views/studies';
import { studyView } from './views/study';
import { sessionView } from './views/session';
import { sessionsView } from './views/sessions';

function viewFor(route: Route): View {
  switch (route.page) {
    case 'models':
      return modelsView(route.name);
    case 'studies':
      return studiesView();
    case 'study':
      return studyView(route.id);
    case 'sessions':
      return sessionsView();
    case 'session':
      return sessionView(route.id);
    case 'champion':
      return championView(route.name);
    case 'keys':
      return keysView();
    case 'review':
      return reviewView(route.name);
    case 'datasets':
      return datasetsView(route.name);
  }
}

const nav = h('nav', { 'aria-label': 'Sections' }, [
  h('a', { href: '#/models', 'data-page': 'models' }, 'Models'),
  h('a', { href: '#/studies', 'data-page': 'studies' }, 'Studies'),
  h('a', { href: '#/sessions', 'data-page': 'sessions' }, 'Sessions'),
  h('a', { href: '#/champion', 'data-page': 'champion' }, 'Champion'),
  h('a', { href: '#/review', 'data-page': 'review' }, 'Review'),
  h('a', { href: '#/keys', 'data-page': 'keys', 'data-needs': 'admin' }, 'Keys'),
  h('a', { href: '#/datasets', 'data-page': 'datasets' }, 'Datasets'),
]);
const backend = h('span', { class: 'badge', id: 'backend' }, '…');
const main = h('main', {});
document.body.append(
  h(
    'header',
    {},
    h('a', { class: 'brand', href: '#/models' }, 'edge-tuner'),
    nav,
    h(
      'div',
      { class: 'header-tools' },
      backend,
      tokenInput(() => void refreshAbilities()),
    ),
  ),
  main,
);

let current: View | null = null;
function show(): void {
  const route = parseRoute(location.hash);
  current?.dispose();
  current = viewFor(route);
  main.replaceChildren(current.el);
  const section = route.page === 'study' ? 'studies' : route.page === 'session' ? 'sessions' : route.page;
  for (const a of nav.querySelectorAll('a')) a.classList.toggle('active', a.dataset.page === section);
}
window.addEventListener('hashchange', show);
show();
// What the entered key may do: actions it cannot take are hidden (abilities.ts), now and on every change.
void refreshAbilities();

api
  .health()
  .then((hl) => {
    backend.textContent = `${hl.backend}${hl.simd ? ' SIMD' : ''}`;
    backend.className = `badge ${hl.status === 'ok' ? 'ok' : 'warn'}`;
    backend.title = `TF.js ${hl.tfjsVersion}, ${hl.status}`;
  })
  .catch((err: unknown) => {
    // /health answers 503 when TF.js fell back to the cpu backend or a model cannot load.
    backend.textContent = err instanceof ApiError && err.status === 503 ? 'degraded' : 'worker unreachable';
    backend.className = 'badge warn';
    backend.title = String(err);
  });
