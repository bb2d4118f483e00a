/**
 * Prediction playground for the champion: a drawing pad for the digits features (px_r_c, 0..16); for a
 * table model a form per input column (a select of its categories for a categorical or boolean column,
 * a number for a numeric one; an empty cell is sent as null, a missing value); otherwise a form with one
 * number per feature. Shows the label, confidence, review flag and every
 * class probability, as the predict endpoint returns them.
 */
import { api, type InputColumnView, type InstanceValue, type ModelMeta, type Prediction } from '../api';
import { fill, h, notice, pct } from '../dom';
import { digitPad } from './digit-pad';

/** A handwritten 0 (the first row of the digits data, as in the README's curl example). */
const EXAMPLE_ZERO = [
  0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0, 0, 3, 15, 2, 0, 11, 8, 0, 0, 4, 12, 0, 0, 8, 8, 0, 0, 5, 8, 0, 0,
  9, 8, 0, 0, 4, 11, 0, 1, 12, 7, 0, 0, 2, 14, 5, 10, 12, 0, 0, 0, 0, 6, 13, 10, 0, 0, 0,
];

const isPixelGrid = (names: string[]) =>
  names.length === 64 && names.every((n, i) => n === `px_${Math.floor(i / 8)}_${i % 8}`);

function resultView(meta: ModelMeta, p: Prediction): HTMLElement {
  const bars = meta.classNames.map((c) => {
    const prob = p.probabilities[c] ?? 0;
    return h(
      'li',
      { class: c === p.label ? 'top' : '' },
      h('span', { class: 'cls' }, c),
      h('span', { class: 'bar' }, h('span', { style: `width:${(prob * 100).toFixed(2)}%` })),
      h('span', { class: 'p' }, pct(prob, 1)),
    );
  });
  return h(
    'div',
    { class: 'result', 'data-label': p.label, 'data-review': String(p.review) },
    h(
      'div',
      { class: 'verdict' },
      h('span', { class: 'big' }, p.label),
      h('span', {}, `confidence ${pct(p.confidence, 1)}`),
      h(
        'span',
        { class: `badge ${p.review ? 'warn' : 'ok'}` },
        p.review ? `review: confidence below ${meta.threshold}` : 'no review needed',
      ),
    ),
    h('ul', { class: 'probs' }, bars),
  );
}

/** One field per input column; `read` gives the column's value (null when left empty). */
function columnField(c: InputColumnView): { el: HTMLElement; read: () => InstanceValue } {
  if (c.type === 'numeric') {
    // Starts at the training median: a valid row the user can perturb one column at a time.
    const input = h('input', {
      type: 'number',
      step: 'any',
      name: c.column,
      value: String(Number(c.imputation.toPrecision(4))),
      placeholder: 'missing',
    });
    return {
      el: h('label', { class: 'field' }, h('span', {}, c.column), input),
      read: () => (input.value.trim() === '' ? null : Number(input.value)),
    };
  }
  const choices = c.type === 'categorical' ? c.categories : ['true', 'false'];
  const start = c.type === 'categorical' ? (c.categories[0] ?? '') : c.imputation >= 0.5 ? 'true' : 'false';
  const select = h(
    'select',
    { name: c.column, 'data-column': c.column },
    h('option', { value: '' }, '(missing)'),
    choices.map((k) => h('option', { value: k, selected: k === start }, k)),
  );
  return {
    el: h('label', { class: 'field' }, h('span', {}, c.column), select),
    read: () => (select.value === '' ? null : select.value),
  };
}

export function playground(meta: ModelMeta): HTMLElement {
  const out = h(
    'div',
    { class: 'prediction', 'aria-live': 'polite' },
    h('p', { class: 'muted' }, 'Draw or enter an instance to see the prediction.'),
  );
  let seq = 0;
  async function predict(features: InstanceValue[] | Record<string, InstanceValue> | null) {
    if (!features) {
      fill(out, h('p', { class: 'muted' }, 'Nothing drawn yet.'));
      return;
    }
    const mine = ++seq;
    try {
      const res = await api.predict(meta.name, [features]);
      // A slower, older answer must not replace the newer one.
      if (mine === seq)
        fill(
          out,
          resultView(meta, res.predictions[0]!),
          h('p', { class: 'muted small' }, `answered by ${res.model} v${res.version}`),
        );
    } catch (err) {
      if (mine === seq)
        fill(out, notice('error', `Prediction failed: ${err instanceof Error ? err.message : String(err)}`));
    }
  }

  let input: HTMLElement;
  if (isPixelGrid(meta.featureNames)) {
    const pad = digitPad(() => void predict(pad.features()));
    input = h(
      'div',
      {},
      pad.el,
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', onclick: () => void predict(pad.features()) }, 'Predict'),
        h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            onclick: () => (pad.clear(), fill(out, h('p', { class: 'muted' }, 'Cleared.'))),
          },
          'Clear',
        ),
        h(
          'button',
          { type: 'button', class: 'secondary', onclick: () => (pad.show(EXAMPLE_ZERO), void predict(EXAMPLE_ZERO)) },
          'Example row',
        ),
      ),
      h(
        'p',
        { class: 'muted small' },
        'Draw one digit, large, filling the box; the prediction updates when you lift the pen.',
      ),
    );
  } else if (meta.inputSchema) {
    const fields = meta.inputSchema.map(columnField);
    const form = h(
      'form',
      { class: 'feature-form table-form' },
      h(
        'div',
        { class: 'fields' },
        fields.map((f) => f.el),
      ),
      h('button', { type: 'submit' }, 'Predict'),
      h('p', { class: 'muted small' }, 'Leave a cell empty to send it as missing (null).'),
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const row: Record<string, InstanceValue> = {};
      meta.inputSchema!.forEach((c, i) => (row[c.column] = fields[i]!.read()));
      void predict(row);
    });
    input = form;
  } else {
    // Start from the training means: a valid instance the user can perturb one feature at a time.
    const fields = meta.featureNames.map((name, i) =>
      h(
        'label',
        { class: 'field' },
        h('span', {}, name),
        h('input', {
          type: 'number',
          step: 'any',
          name,
          value: String(Number((meta.standardisation.mean[i] ?? 0).toPrecision(4))),
          required: true,
        }),
      ),
    );
    const form = h(
      'form',
      { class: 'feature-form' },
      h('div', { class: 'fields' }, fields),
      h('button', { type: 'submit' }, 'Predict'),
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const values = fields.map((f) => Number(f.querySelector('input')!.value));
      void predict(values.every(Number.isFinite) ? values : null);
    });
    input = form;
  }
  return h('div', { class: 'playground', 'data-needs': 'predict' }, input, out);
}
