/**
 * The dashboard in headless Chromium against `wrangler dev` (the deploy bundle plus its static assets),
 * after real studies: one started through the API, one started and watched live from the UI. Every view
 * must render with data, charts must have drawn points, the playground must answer, the console must
 * stay clean, on a desktop and a phone viewport. Screenshots go to test-artifacts/dashboard/.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer } from '../../scripts/dev-server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.join(root, 'test-artifacts', 'dashboard');
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const MODEL = 'digits';
/** expect.poll gives up after 1 s by default; pages and charts under a loaded CI machine need longer. */
const WAIT = { timeout: 20_000, interval: 100 };

const token = readFileSync(path.join(root, '.dev.vars'), 'utf8')
  .split('\n')
  .find((l) => l.startsWith('ADMIN_TOKEN='))!
  .slice('ADMIN_TOKEN='.length)
  .trim();

let server: { url: string; stop: () => Promise<void>; output: () => string };
let persist: string;
let profile: string;
let browser: BrowserContext;
let page: Page;
let uiStudy: string;
let sessionId: string;
const consoleErrors: string[] = [];

async function api(method: string, p: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}${p}`, {
    method,
    headers: {
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...(method === 'POST' ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json() };
}

async function waitForStudy(id: string, timeoutMs = 90_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await api('GET', `/v1/studies/${id}`);
    if (body.status === 'complete') return body;
    if (Date.now() > deadline) throw new Error(`study ${id} did not complete: ${JSON.stringify(body.progress)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function open(hash: string): Promise<void> {
  await page.goto(`${server.url}/${hash}`);
}

async function shot(name: string): Promise<void> {
  // From the top: a full-page capture of a scrolled page paints the sticky header mid-page.
  await page.evaluate(() => (globalThis as unknown as { scrollTo(x: number, y: number): void }).scrollTo(0, 0));
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/**
 * Pixels of the chart's canvas within a small distance of any of the colours: proof that uPlot painted
 * the series, beyond the chart's own claim (data-drawn) that it ran its draw pass.
 */
/** The parts of the DOM the in-page callbacks use (the test project compiles without the DOM lib). */
interface CanvasLike {
  width: number;
  height: number;
  getContext(
    kind: '2d',
  ): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
  getBoundingClientRect(): { width: number };
}
type PageGlobals = { document: { documentElement: { scrollWidth: number; clientWidth: number } } };

async function colouredPixels(selector: string, colours: string[]): Promise<number> {
  return page
    .locator(`${selector} canvas`)
    .first()
    .evaluate((el, hexes: string[]) => {
      const canvas = el as unknown as CanvasLike;
      const rgb = hexes.map((hx) => [1, 3, 5].map((i) => parseInt(hx.slice(i, i + 2), 16)));
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3]! < 200) continue;
        if (
          rgb.some(
            ([r, g, b]) => Math.abs(data[i]! - r!) + Math.abs(data[i + 1]! - g!) + Math.abs(data[i + 2]! - b!) < 30,
          )
        )
          n++;
      }
      return n;
    }, colours);
}

async function expectChart(name: string, colours: string[]): Promise<void> {
  const chart = page.locator(`.chart[data-chart="${name}"]`);
  await expect.poll(() => chart.getAttribute('data-drawn'), WAIT).toBe('true');
  expect(Number(await chart.getAttribute('data-points')), name).toBeGreaterThan(0);
  expect(await colouredPixels(`.chart[data-chart="${name}"]`, colours), `${name}: series pixels`).toBeGreaterThan(15);
}

/** Nothing wider than the viewport: tables and charts scroll or shrink inside their panels. */
async function expectNoHorizontalOverflow(): Promise<void> {
  const { scroll, client } = await page.evaluate(() => {
    // Runs in the page: only its own globals are in scope there.
    const root = (globalThis as unknown as PageGlobals).document.documentElement;
    return { scroll: root.scrollWidth, client: root.clientWidth };
  });
  expect(scroll).toBeLessThanOrEqual(client + 1);
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `The dashboard test drives Debian's Chromium at ${CHROMIUM}, which is missing. Install it with \`apt-get update && apt-get install -y chromium\` (.ci/run does this in CI).`,
    );
  }
  rmSync(ARTIFACTS, { recursive: true, force: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  // Fresh local state: the developer's .wrangler/state stays untouched.
  persist = mkdtempSync(path.join(tmpdir(), 'edge-tuner-dashboard-state-'));
  server = await startDevServer({ persistTo: persist });

  // A first, deliberately weak champion (2 epochs), so the study started from the UI promotes v2.
  const first = await api('POST', '/v1/studies', {
    dataset: 'digits',
    trials: 3,
    seed: 1,
    parallelism: 3,
    budget: { epochs: 2, maxSeconds: 30 },
  });
  expect(first.status, JSON.stringify(first.body)).toBe(202);
  const done = await waitForStudy(first.body.id);
  expect(done.promotion.promoted, server.output()).toBe(true);

  profile = mkdtempSync(path.join(tmpdir(), 'edge-tuner-chromium-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: DESKTOP,
  });
  page = browser.pages()[0] ?? (await browser.newPage());
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(`${msg.text()} (${msg.location().url})`);
  });
  page.on('pageerror', (err) => consoleErrors.push(`uncaught: ${err.message}`));
}, 150_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  for (const dir of [persist, profile]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('dashboard (desktop 1280x800)', () => {
  it('starts a study from the UI with the admin token and follows it live to its promotion', async () => {
    await open('#/studies');
    await page.locator('#admin-token').fill(token);
    const form = page.locator('#start-study');
    await form.locator('[name=trials]').fill('8');
    await form.locator('[name=epochs]').fill('15');
    await form.locator('[name=parallelism]').fill('2');
    await form.locator('[name=seed]').fill('7');
    await form.locator('button[type=submit]').click();
    await page.waitForURL(/#\/studies\/digits-/);
    uiStudy = decodeURIComponent(page.url().split('#/studies/')[1]!);

    // Follow the page (no reloads): the finished count must move while the study runs.
    const seen = new Set<string>();
    const statuses = new Set<string>();
    const deadline = Date.now() + 130_000;
    for (;;) {
      const finished = await page
        .locator('.progress-text')
        .getAttribute('data-finished')
        .catch(() => null);
      const status = await page
        .locator('#study-status')
        .textContent()
        .catch(() => null);
      if (finished !== null) seen.add(finished);
      if (status) statuses.add(status);
      if (status === 'complete') break;
      expect(Date.now(), `study ${uiStudy} did not complete in the UI`).toBeLessThan(deadline);
      await page.waitForTimeout(200);
    }
    expect(statuses.has('running'), 'the view showed the study running').toBe(true);
    expect(seen.size, `progress values seen live: ${[...seen].join(', ')}`).toBeGreaterThanOrEqual(2);
    await expect.poll(() => page.locator('.progress-text').getAttribute('data-finished'), WAIT).toBe('8');
    await expect.poll(() => page.locator('#promotion').textContent(), WAIT).toContain(`Promoted as ${MODEL} v2`);
    // The guard's evidence: both models on the same test rows, the paired test.
    const evidence = await page.locator('#promotion-evidence').textContent();
    expect(evidence).toMatch(/test rows of digits@embedded/);
    expect(evidence).toMatch(/champion\s*v1: /);
    expect(evidence).toContain('McNemar exact p');
  }, 150_000);

  it('study view: leaderboard, learning curves, learning rate scatter and per-hyperparameter plots have drawn points', async () => {
    await open(`#/studies/${uiStudy}`);
    await expect.poll(() => page.locator('#leaderboard tbody tr').count(), WAIT).toBe(8);
    const view = (await api('GET', `/v1/studies/${uiStudy}`)).body;
    expect(await page.locator('#leaderboard tbody tr').first().getAttribute('data-trial')).toBe(
      String(view.leaderboard[0].trial),
    );
    await expectChart('curves-loss', ['#4e79a7']);
    await expectChart('curves-accuracy', ['#4e79a7']);
    await expectChart('lr-scatter', ['#e15759', '#f28e2b', '#59a14f', '#4e79a7']);
    const marginals = page.locator('.chart[data-chart^="marginal-"]');
    expect(await marginals.count()).toBeGreaterThanOrEqual(5);
    await expectChart('marginal-learningRate', ['#4e79a7']);
    await expectChart('marginal-optimizer', ['#4e79a7']);
    // Sampler and pruner as separate choices (the UI form starts random search without a pruner).
    const method = page.locator('#search-method');
    expect(await method.getAttribute('data-sampler')).toBe(view.spec.sampler);
    expect(await method.getAttribute('data-pruner')).toBe(view.spec.pruner?.type ?? 'none');
    expect(await method.textContent()).toContain(`sampler: ${view.spec.sampler}`);
    // Ensemble selection over the 8 trials: what it picked, as the API recorded it.
    const ensemble = page.locator('#ensemble');
    expect(view.promotion.ensemble, 'the study ran ensemble selection').toBeDefined();
    expect(await ensemble.getAttribute('data-chosen')).toBe(String(view.promotion.ensemble.chosen));
    expect(await ensemble.getAttribute('data-members')).toBe(
      view.promotion.ensemble.members.map((m: { trial: number }) => m.trial).join(','),
    );
    await expectNoHorizontalOverflow();
    await shot('desktop-study');
  });

  it('studies list shows both studies', async () => {
    await open('#/studies');
    await expect.poll(() => page.locator('#studies tbody tr').count(), WAIT).toBe(2);
    await expect(page.locator(`#studies tr[data-study="${uiStudy}"]`).textContent()).resolves.toContain('complete');
    await shot('desktop-studies');
  });

  it('models view: current version, metrics, history; rollback and roll forward with the admin token', async () => {
    await open(`#/models/${MODEL}`);
    const card = page.locator(`.model-card[data-model="${MODEL}"]`);
    await expect.poll(() => card.textContent(), WAIT).toContain('v2');
    await expect.poll(() => page.locator('#versions tbody tr').count(), WAIT).toBe(2);
    expect(await page.locator('#history li').count()).toBe(2);
    // Each version with the evidence it was promoted on.
    expect(await page.locator('#versions tbody tr').first().textContent()).toMatch(/pt vs v1 on \d+ test rows \(p = /);
    expect(await page.locator('#versions tbody tr').last().textContent()).toContain('first version (no champion)');
    await shot('desktop-models');

    await page.locator('button[data-rollback="1"]').click();
    await expect.poll(() => page.locator('.status-line').textContent(), WAIT).toContain(`${MODEL} now serves v1`);
    await expect.poll(async () => (await api('GET', `/v1/models/${MODEL}/versions`)).body.current, WAIT).toBe(1);
    await expect.poll(() => page.locator('#history li').first().textContent(), WAIT).toContain('rollback');
    await shot('desktop-models-rolled-back');

    await page.locator('button[data-rollback="2"]').click();
    await expect.poll(async () => (await api('GET', `/v1/models/${MODEL}/versions`)).body.current, WAIT).toBe(2);
    await expect.poll(() => page.locator('#history li').count(), WAIT).toBe(4);
  });

  it('champion view: confusion matrix of the test split and a playground that predicts a drawn digit', async () => {
    await open(`#/champion/${MODEL}`);
    // The pointer was moved back to v2 a moment ago; serving re-reads it within its 2 s TTL.
    await expect
      .poll(async () => (await page.reload(), page.locator('[data-champion]').getAttribute('data-champion')), {
        timeout: 20_000,
        interval: 1000,
      })
      .toBe(`${MODEL}@2`);
    const meta = (await api('GET', `/v1/models/${MODEL}`)).body;
    // The ensemble's members (or the note that it is one network), and the reliability diagram of its
    // calibration on the test split: one bar per non-empty bin, before and after temperature scaling.
    if (meta.members)
      expect(
        await page.locator('#members tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-trial'))),
      ).toEqual(meta.members.map((m: { trial: number }) => String(m.trial)));
    else await expect(page.locator('#members-none').count()).resolves.toBe(1);
    const figure = page.locator('[data-chart="reliability"]');
    expect(await figure.getAttribute('data-temperature')).toBe(meta.calibration.temperature.toFixed(4));
    expect(await figure.getAttribute('data-ece-before')).toBe(meta.calibration.test.eceBefore.toFixed(4));
    expect(await figure.getAttribute('data-ece-after')).toBe(meta.calibration.test.eceAfter.toFixed(4));
    const filled = (bins: { rows: number }[]) => bins.filter((b) => b.rows > 0).length;
    expect(await figure.locator('rect.before').count()).toBe(filled(meta.calibration.test.before));
    expect(await figure.locator('rect.after').count()).toBe(filled(meta.calibration.test.after));
    const bars = await figure
      .locator('rect.after')
      .evaluateAll((rs) => rs.map((r) => Number(r.getAttribute('height'))));
    expect(Math.max(...bars)).toBeGreaterThan(0);
    const matrix = page.locator('table.matrix');
    const rows = Number(await matrix.getAttribute('data-rows'));
    const cells = await matrix.locator('tbody td:not(.recall)').allTextContents();
    expect(cells).toHaveLength(100);
    expect(cells.map(Number).reduce((a, b) => a + b, 0)).toBe(rows);
    const diagonal = await matrix.locator('tbody td.diag').allTextContents();
    expect(diagonal.map(Number).reduce((a, b) => a + b, 0) / rows).toBe(meta.metrics.testAccuracy);

    // Draw a "1": one vertical stroke down the middle of the pad.
    const pad = page.locator('canvas.pad');
    const box = (await pad.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.52, box.y + box.height * 0.12);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.88, { steps: 12 });
    await page.mouse.up();
    const features = (await page.locator('.preview').getAttribute('data-features'))!.split(',').map(Number);
    expect(features).toHaveLength(64);
    expect(Math.max(...features)).toBeLessThanOrEqual(16);
    // The stroke fills the middle columns of every row, after the pad's size normalisation.
    for (let r = 0; r < 8; r++) expect(features[r * 8 + 3]! + features[r * 8 + 4]!, `row ${r}`).toBeGreaterThan(0);
    const result = page.locator('.result');
    await expect.poll(() => result.getAttribute('data-label'), WAIT).toMatch(/^[0-9]$/);
    expect(['true', 'false']).toContain(await result.getAttribute('data-review'));
    const probs = (await result.locator('.probs .p').allTextContents()).map((t) => parseFloat(t));
    expect(probs).toHaveLength(10);
    expect(Math.abs(probs.reduce((a, b) => a + b, 0) - 100)).toBeLessThan(1.5);
    await shot('desktop-champion');

    // The example row is a handwritten 0 from the dataset; the champion gets it right.
    await page.getByRole('button', { name: 'Example row' }).click();
    await expect.poll(() => result.getAttribute('data-label'), WAIT).toBe('0');
  });

  it('session view: live curve with the adjustment marked; pause from the UI', async () => {
    // Slow pacing (a slice every 400 ms) so the test sees it running, then adjusts it through the API.
    const started = await api('POST', '/v1/sessions', {
      dataset: 'digits',
      model: 'panda-ui',
      config: { depth: 1, width: 32, learningRate: 0.003, epochs: 40 },
      seed: 3,
      slice: { epochs: 2, intervalMs: 400 },
    });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    sessionId = started.body.id;
    await expect
      .poll(async () => (await api('GET', `/v1/sessions/${sessionId}`)).body.epoch, WAIT)
      .toBeGreaterThanOrEqual(2);
    const adjusted = await api('POST', `/v1/sessions/${sessionId}/adjust`, { learningRate: 0.0005 });
    expect(adjusted.status, JSON.stringify(adjusted.body)).toBe(200);
    // A few epochs on each side of the marker.
    await expect
      .poll(async () => (await api('GET', `/v1/sessions/${sessionId}`)).body.epoch, WAIT)
      .toBeGreaterThanOrEqual(6);

    await open(`#/sessions/${sessionId}`);
    await expect.poll(() => page.locator('#session-status').textContent(), WAIT).toBe('running');
    const chart = page.locator('.chart[data-chart="session-curve"]');
    await expect.poll(() => chart.getAttribute('data-marks'), WAIT).toBe('1');
    await expectChart('session-curve', ['#4e79a7', '#f28e2b']);
    // The marker itself is drawn (in its own colour) on the canvas.
    expect(await colouredPixels('.chart[data-chart="session-curve"]', ['#b07aa1'])).toBeGreaterThan(15);
    await expect.poll(() => page.locator('#adjustments li').count(), WAIT).toBe(1);
    expect(await page.locator('#adjustments li').textContent()).toMatch(
      /learningRate .*→ 5\.0e−4|learningRate .*→ 0\.0005/,
    );
    await page.locator('#session-pause').click();
    await expect.poll(() => page.locator('#session-status').textContent(), WAIT).toBe('paused');
    await expectNoHorizontalOverflow();
    await shot('desktop-session');

    // Promoted, the version links back to the session (not to a study of that id, which does not exist).
    const promoted = await api('POST', `/v1/sessions/${sessionId}/promote`, {});
    expect(promoted.body, JSON.stringify(promoted.body)).toMatchObject({ promoted: true });
    await open('#/models/panda-ui');
    const from = page.locator('#versions tbody tr a[href^="#/"]');
    await expect.poll(() => from.count(), WAIT).toBe(1);
    expect(await from.getAttribute('href')).toBe(`#/sessions/${encodeURIComponent(sessionId)}`);
    expect(await from.textContent()).toMatch(new RegExp(`^epoch \\d+ of ${sessionId}$`));
    await from.click();
    await expect.poll(() => page.locator('#session-status').textContent(), WAIT).toBe('paused');

    await open('#/sessions');
    await expect.poll(() => page.locator('#sessions tbody tr').count(), WAIT).toBeGreaterThanOrEqual(1);
    await shot('desktop-sessions');
  });
});

describe('dashboard keys (desktop 1280x800)', () => {
  it('an admin creates a scoped key (the token shown once), lists and revokes keys; another key sees only what it may do', async () => {
    await open('#/keys');
    await page.locator('#admin-token').fill(token);
    await expect.poll(() => page.locator('nav a[data-page="keys"]').isVisible(), WAIT).toBe(true);
    const form = page.locator('#create-key');
    await form.locator('[name=name]').fill('ui-reader');
    await form.locator('input[name=scope][value=predict]').uncheck();
    await form.locator('input[name=scope][value=read]').check();
    await form.locator('[name=models]').fill(MODEL);
    await form.locator('[name=requests]').fill('120');
    await form.locator('button[type=submit]').click();
    const secret = page.locator('#new-key-token');
    await expect.poll(() => secret.textContent(), WAIT).toMatch(/^etk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    const reader = (await secret.textContent())!;
    const id = reader.slice(4, 20);
    const row = page.locator(`#keys tr[data-key="${id}"]`);
    await expect.poll(() => row.textContent(), WAIT).toContain('ui-reader');
    const text = (await row.textContent())!;
    expect(text).toContain('read');
    expect(text).toContain(MODEL);
    expect(text).toContain('120 per 60 s');
    expect(text).toContain('active');
    // The listing never shows a token: only the creation answer did.
    expect(await page.locator('#keys').textContent()).not.toContain(reader);
    await expectNoHorizontalOverflow();
    await shot('desktop-keys');

    // The reader key: reads (and, in open mode, predictions) only. Admin actions and the keys page are hidden.
    await page.locator('#admin-token').fill(reader);
    await expect.poll(() => page.locator('nav a[data-page="keys"]').isVisible(), WAIT).toBe(false);
    await open('#/studies');
    await expect.poll(() => page.locator('#studies tbody tr').count(), WAIT).toBeGreaterThanOrEqual(2);
    expect(await page.locator('#start-study').isVisible()).toBe(false);
    await open(`#/models/${MODEL}`);
    await expect.poll(() => page.locator('#versions tbody tr').count(), WAIT).toBe(2);
    expect(await page.locator('button[data-rollback]').first().isVisible()).toBe(false);
    await shot('desktop-models-read-key');
    await open(`#/champion/${MODEL}`);
    await expect.poll(() => page.locator('.playground').isVisible(), WAIT).toBe(true);

    // Back to the root key: everything is there again; revoke the reader.
    await page.locator('#admin-token').fill(token);
    await open('#/keys');
    await expect.poll(() => page.locator('#create-key').isVisible(), WAIT).toBe(true);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.locator(`button[data-revoke="${id}"]`).click();
    await expect.poll(() => row.locator('.key-status').textContent(), WAIT).toMatch(/^revoked /);
    expect(await row.locator('button[data-revoke]').count()).toBe(0);
    const all = (await (
      await fetch(`${server.url}/v1/keys`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as { keys: { id: string; revokedAt: string | null }[] };
    const listed = all.keys.find((k) => k.id === id)!;
    expect(listed.revokedAt).toEqual(expect.any(String));
    expect((await fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${reader}` } })).status).toBe(
      401,
    );
    await shot('desktop-keys-revoked');
  });
});

describe('dashboard (phone 390x844)', () => {
  beforeAll(async () => {
    await page.setViewportSize(PHONE);
  });

  it('every view renders, fits the width and draws its charts', async () => {
    await open('#/models');
    await expect.poll(() => page.locator('#versions tbody tr').count(), WAIT).toBe(2);
    await expectNoHorizontalOverflow();
    await shot('phone-models');

    await open(`#/studies/${uiStudy}`);
    await expect.poll(() => page.locator('#leaderboard tbody tr').count(), WAIT).toBe(8);
    await expectChart('curves-accuracy', ['#4e79a7']);
    await expectChart('lr-scatter', ['#e15759', '#f28e2b', '#59a14f', '#4e79a7']);
    await expectChart('marginal-learningRate', ['#4e79a7']);
    const width = await page
      .locator('.chart[data-chart="lr-scatter"] canvas')
      .evaluate((c) => (c as unknown as CanvasLike).getBoundingClientRect().width);
    expect(width).toBeLessThanOrEqual(PHONE.width);
    await expectNoHorizontalOverflow();
    await shot('phone-study');

    await open('#/studies');
    await expect.poll(() => page.locator('#studies tbody tr').count(), WAIT).toBe(2);
    await expectNoHorizontalOverflow();
    await shot('phone-studies');

    await open(`#/champion/${MODEL}`);
    await expect.poll(() => page.locator('table.matrix').getAttribute('data-rows'), WAIT).not.toBeNull();
    await page.getByRole('button', { name: 'Example row' }).click();
    await expect.poll(() => page.locator('.result').getAttribute('data-label'), WAIT).toBe('0');
    await expectNoHorizontalOverflow();
    await shot('phone-champion');

    await open(`#/sessions/${sessionId}`);
    await expect
      .poll(() => page.locator('.chart[data-chart="session-curve"]').getAttribute('data-marks'), WAIT)
      .toBe('1');
    await expectChart('session-curve', ['#4e79a7']);
    await expectNoHorizontalOverflow();
    await shot('phone-session');
    // Delete it from the UI: back on the list, which no longer has it; the API answers 404.
    page.once('dialog', (dialog) => void dialog.accept());
    await page.locator('#session-delete').click();
    await expect.poll(() => new URL(page.url()).hash, WAIT).toBe('#/sessions');
    // The list has loaded once it shows a table or says there is none.
    await expect
      .poll(() => page.locator('#sessions').or(page.getByText('No session yet.')).first().isVisible(), WAIT)
      .toBe(true);
    expect(await page.locator(`a[href="#/sessions/${sessionId}"]`).count()).toBe(0);
    expect((await api('GET', `/v1/sessions/${sessionId}`)).status).toBe(404);

    await open('#/keys');
    await expect.poll(() => page.locator('#keys tbody tr').count(), WAIT).toBeGreaterThanOrEqual(1);
    await expect.poll(() => page.locator('#create-key').isVisible(), WAIT).toBe(true);
    await expectNoHorizontalOverflow();
    await shot('phone-keys');
  });
});

describe('a table model (desktop)', () => {
  beforeAll(async () => {
    await page.setViewportSize(DESKTOP);
  });

  it('dataset page shows the inferred schema and the dropped columns; the playground has a select per categorical column', async () => {
    // The raw penguins table as it is, with one column dropped on request.
    const csv = readFileSync(path.join(root, 'test', 'fixtures', 'penguins.csv'), 'utf8');
    const up = await fetch(`${server.url}/v1/datasets/penguins?label=species&types=year:drop`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
      body: csv,
    });
    expect(up.status, await up.clone().text()).toBe(201);
    const started = await api('POST', '/v1/studies', {
      dataset: 'penguins',
      trials: 1,
      seed: 3,
      budget: { epochs: 40, maxSeconds: 60 },
      space: { depth: 1, width: 32, optimizer: 'adam', learningRate: 0.01, batchSize: 16, batchNorm: false },
    });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    expect((await waitForStudy(started.body.id)).promotion.promoted).toBe(true);

    await open('#/datasets/penguins');
    await expect.poll(() => page.locator('#columns tbody tr').count(), WAIT).toBe(6);
    expect(await page.locator('#columns tr[data-column="island"]').getAttribute('data-type')).toBe('categorical');
    expect(await page.locator('#columns tr[data-column="bill_length_mm"]').getAttribute('data-type')).toBe('numeric');
    expect(await page.locator('#dropped li[data-column="year"]').getAttribute('data-reason')).toBe('requested');
    await shot('desktop-dataset');

    await open('#/champion/penguins');
    const island = page.locator('select[data-column="island"]');
    await expect.poll(() => island.count(), WAIT).toBe(1);
    expect((await island.locator('option').allTextContents()).sort()).toEqual(
      ['(missing)', 'Biscoe', 'Dream', 'Torgersen'].sort(),
    );
    const meta = (await api('GET', '/v1/models/penguins')).body;
    expect(await page.locator('#balanced').getAttribute('data-balanced-accuracy')).toBe(
      String(meta.metrics.testBalancedAccuracy),
    );
    // A Gentoo row of the table, entered through the form.
    await island.selectOption('Biscoe');
    await page.locator('select[data-column="sex"]').selectOption('female');
    for (const [name, value] of [
      ['bill_length_mm', '46.1'],
      ['bill_depth_mm', '13.2'],
      ['flipper_length_mm', '211'],
      ['body_mass_g', '4500'],
    ] as const)
      await page.locator(`input[name="${name}"]`).fill(value);
    await page.getByRole('button', { name: 'Predict' }).click();
    const result = page.locator('.result');
    await expect.poll(() => result.getAttribute('data-label'), WAIT).toBe('Gentoo');
    // Empty cells are sent as missing (null) and still answered.
    await page.locator('input[name="body_mass_g"]').fill('');
    await island.selectOption('');
    await page.getByRole('button', { name: 'Predict' }).click();
    await expect.poll(() => page.locator('.result .probs .p').count(), WAIT).toBe(3);
    expect(await page.locator('.notice.error').count()).toBe(0);
    await shot('desktop-table-champion');
  });
});

describe('console', () => {
  it('no errors were logged by any page', () => {
    expect(consoleErrors).toEqual([]);
  });
});
