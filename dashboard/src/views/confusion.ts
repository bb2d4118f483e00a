/**
 * The confusion matrix as a heat-mapped table: rows are the actual class, columns the predicted one.
 * Cells are shaded by their share of the row, so a weak class stands out however many rows it has.
 */
import type { Evaluation } from '../api';
import { h, pct } from '../dom';

export function confusionTable(ev: Evaluation): HTMLElement {
  const n = ev.classNames.length;
  const rowTotals = ev.confusion.map((row) => row.reduce((a, b) => a + b, 0));
  const head = h(
    'tr',
    {},
    h('th', { class: 'corner', scope: 'col' }, h('span', {}, 'actual ↓ / predicted →')),
    ev.classNames.map((c) => h('th', { scope: 'col' }, c)),
    h('th', { scope: 'col', class: 'recall' }, 'recall'),
  );
  const rows = ev.confusion.map((row, i) =>
    h(
      'tr',
      {},
      h('th', { scope: 'row' }, ev.classNames[i]!),
      row.map((count, j) => {
        const share = rowTotals[i]! ? count / rowTotals[i]! : 0;
        const hue = i === j ? '142, 70%, 34%' : '4, 75%, 50%';
        const style = count
          ? `background: hsla(${hue}, ${(0.12 + 0.88 * share).toFixed(3)}); color: ${share > 0.55 ? '#fff' : 'inherit'}`
          : '';
        return h(
          'td',
          {
            class: i === j ? 'diag' : count ? 'miss' : 'zero',
            style,
            title: `actual ${ev.classNames[i]}, predicted ${ev.classNames[j]}: ${count}`,
          },
          count,
        );
      }),
      h('td', { class: 'recall' }, pct(rowTotals[i]! ? row[i]! / rowTotals[i]! : null, 0)),
    ),
  );
  return h(
    'div',
    { class: 'confusion' },
    h(
      'p',
      {},
      `${ev.model} v${ev.version} on the ${ev.rows}-row test split of "${ev.dataset}": `,
      h('strong', { 'data-test-accuracy': ev.accuracy }, pct(ev.accuracy)),
      ` accuracy (${n} classes).`,
    ),
    h(
      'div',
      { class: 'scroll' },
      h('table', { class: 'matrix', 'data-rows': ev.rows }, h('thead', {}, head), h('tbody', {}, rows)),
    ),
  );
}
