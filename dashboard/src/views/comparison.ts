/**
 * The evidence behind a promotion decision, as the study page and the models page show it: both models
 * scored on the same test rows, the rows only one of them gets right, and McNemar's exact p.
 */
import type { ChampionEvidence, GuardSettings } from '../api';
import { h, pct } from '../dom';

const pText = (p: number) => (p < 1e-4 ? p.toExponential(1) : String(Number(p.toPrecision(3))));

/** "+1.20 pt on 250 test rows (p = 0.031)": the challenger's gain over the champion it was compared with. */
export function evidenceShort(c: ChampionEvidence | null | undefined): string {
  if (c === undefined) return '–';
  if (c === null) return 'first version (no champion)';
  if (!c.comparable) return `v${c.championVersion} not comparable`;
  const gain = (c.challengerAccuracy - c.championAccuracy) * 100;
  return `${gain >= 0 ? '+' : '−'}${Math.abs(gain).toFixed(2)} pt vs v${c.championVersion} on ${c.rows} test rows (p = ${pText(c.pValue)})`;
}

/** The full evidence as a definition list; nothing when the outcome predates the paired guard. */
export function evidenceBlock(
  c: ChampionEvidence | null | undefined,
  guard: GuardSettings | null | undefined,
): HTMLElement | string {
  if (c === undefined || c === null) return '';
  const rows: [string, string][] = c.comparable
    ? [
        ['rows', `${c.rows} test rows of ${c.dataset}@${c.datasetVersion} (neither model was selected on them)`],
        ['champion', `v${c.championVersion}: ${pct(c.championAccuracy)}`],
        ['challenger', pct(c.challengerAccuracy)],
        [
          'disagreements',
          `${c.discordant.challengerOnly} rows only the challenger gets right, ${c.discordant.championOnly} only the champion`,
        ],
        ['McNemar exact p', pText(c.pValue)],
      ]
    : [
        ['champion', `v${c.championVersion}`],
        ['not comparable', c.reason],
      ];
  if (guard) rows.push(['guard', `better by more than ${guard.margin}, p ≤ ${guard.significance}`]);
  return h(
    'dl',
    { class: 'evidence', id: 'promotion-evidence' },
    rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
  );
}
