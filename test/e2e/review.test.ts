/**
 * The review page in headless Chromium against `wrangler dev`: flagged predictions of a served digits
 * model are shown as 8x8 images with the predicted label and probabilities, labelled with one click and
 * with one key, and the live quality follows; at a desktop and a phone width, with a clean console.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer } from '../../scripts/dev-server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.join(root, 'test-artifacts', 'review');
const WAIT = { timeout: 20_000, interval: 100 };
const MODEL = 'digits';

const token = readFileSync(path.join(root, '.dev.vars'), 'utf8')
  .split('\n')
  .find((l) => l.startsWith('ADMIN_TOKEN='))!
  .slice('ADMIN_TOKEN='.length)
  .trim();

/** Digits rows with their true labels, from the embedded set. */
const rows = gunzipSync(readFileSync(path.join(root, 'models/data/digits.csv.gz')))
  .toString('utf8')
  .trim()
  .split('\n')
  .map((l) => l.split(',').map(Number));

let server: { url: string; stop: () => Promise<void>; output: () => string };
let persist: string;
let profile: string;
let browser: BrowserContext;
let page: Page;
const consoleErrors: string[] = [];

async function api(method: string, p: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}${p}`, {
    method,
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), authorization: `Bearer ${token}` },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json() };
}

async function pendingCount(): Promise<number> {
  return (await api('GET', `/v1/models/${MODEL}/reviews?limit=100`)).body.reviews.length;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Debian's Chromium is missing at ${CHROMIUM} (apt-get install chromium)`);
  rmSync(ARTIFACTS, { recursive: true, force: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  persist = mkdtempSync(path.join(tmpdir(), 'edge-tuner-review-state-'));
  server = await startDevServer({ persistTo: persist });
  const study = await api('POST', '/v1/studies', {
    dataset: 'digits',
    trials: 1,
    seed: 2,
    parallelism: 1,
    budget: { epochs: 2, maxSeconds: 30 },
  });
  expect(study.status, JSON.stringify(study.body)).toBe(202);
  for (;;) {
    const view = (await api('GET', `/v1/studies/${study.body.id}`)).body;
    if (view.status === 'complete') {
      expect(view.promotion.promoted, server.output()).toBe(true);
      break;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  // Six predictions flagged for review (threshold 1), queued after their responses.
  const flagged = await api('POST', `/v1/models/${MODEL}/predict`, {
    instances: rows.slice(10, 16).map((r) => r.slice(0, 64)),
    threshold: 1,
  });
  expect(flagged.status).toBe(200);
  for (let i = 0; (await pendingCount()) < 6; i++) {
    if (i > 200) throw new Error('the flagged predictions did not reach the queue');
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(await pendingCount()).toBe(6);

  profile = mkdtempSync(path.join(tmpdir(), 'edge-tuner-chromium-review-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    viewport: { width: 1280, height: 800 },
  });
  page = browser.pages()[0] ?? (await browser.newPage());
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(`${msg.text()} (${msg.location().url})`);
  });
  page.on('pageerror', (err) => consoleErrors.push(`uncaught: ${err.message}`));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  for (const dir of [persist, profile]) if (dir) rmSync(dir, { recursive: true, force: true });
});

async function noHorizontalOverflow(): Promise<void> {
  const { scroll, client } = await page.evaluate(() => {
    const el = (
      globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }
    ).document.documentElement;
    return { scroll: el.scrollWidth, client: el.clientWidth };
  });
  expect(scroll).toBeLessThanOrEqual(client + 1);
}

/** Labels the shown item: with a click on its class button, or with the class's key. */
async function labelShown(how: 'click' | 'key'): Promise<void> {
  const item = page.locator('.review-item');
  const id = await item.getAttribute('data-review-id');
  const input = (await api('GET', `/v1/models/${MODEL}/reviews?limit=100`)).body.reviews.find((r: any) => r.id === id)
    .input as number[];
  const truth = String(rows.find((r) => r.slice(0, 64).join() === input.join())![64]);
  if (how === 'click') await item.locator(`button[data-label="${truth}"]`).click();
  else {
    // The key goes to the page, not to the key field filled before.
    await item.locator('p').first().click();
    await page.keyboard.press(truth);
  }
  await expect
    .poll(
      () =>
        page
          .locator('.review-item')
          .getAttribute('data-review-id')
          .catch(() => null),
      WAIT,
    )
    .not.toBe(id);
}

describe.each([
  ['desktop', { width: 1280, height: 800 }],
  ['phone', { width: 390, height: 844 }],
] as const)('review page (%s)', (name, viewport) => {
  it('shows the next flagged digit as an 8x8 image with its prediction; one click and one key label it', async () => {
    await page.setViewportSize(viewport);
    await page.goto(`${server.url}/#/review`);
    await page.locator('#admin-token').fill(token);
    await page.locator(`a[href="#/review/${MODEL}"]`).click();
    const item = page.locator('.review-item');
    await expect.poll(() => item.count(), WAIT).toBe(1);
    expect(await item.locator('.review-image .cell').count()).toBe(64);
    expect(await item.locator('.probs tr').count()).toBe(10);
    expect(await item.locator('.predicted').textContent()).toMatch(/^\d$/);
    expect(await item.locator('.label-buttons button[data-label]').count()).toBe(10);
    const before = await pendingCount();
    await labelShown('click');
    await labelShown('key');
    expect(await pendingCount()).toBe(before - 2);
    // Live quality: v1 has the reviewed labels (flagged, the audit sample apart).
    const labelled = 6 - (await pendingCount());
    await expect
      .poll(() => page.locator('#live-quality tr[data-version="1"] td').nth(2).textContent(), WAIT)
      .toContain(`(${labelled})`);
    await expect.poll(() => page.locator('#traffic').count(), WAIT).toBe(1);
    expect(await page.locator('#traffic-form').isVisible()).toBe(true);
    await noHorizontalOverflow();
    await page.screenshot({ path: path.join(ARTIFACTS, `review-${name}.png`), fullPage: true });
    expect(consoleErrors).toEqual([]);
  });

  it("the champion page shows the model's live quality (from its metadata) and the drift of served inputs", async () => {
    await page.setViewportSize(viewport);
    await page.goto(`${server.url}/#/champion/${MODEL}`);
    const live = page.locator('#live');
    await expect.poll(() => live.count(), WAIT).toBe(1);
    const labelled = 6 - (await pendingCount());
    // The metadata's snapshot is at most 10 s old: a reload shows the labels given above.
    await expect
      .poll(
        async () => (
          await page.reload(),
          live
            .locator('#live-quality tr[data-version="1"] td')
            .nth(2)
            .textContent({ timeout: 2000 })
            .catch(() => null)
        ),
        { timeout: 30_000, interval: 1000 },
      )
      .toContain(`(${labelled})`);
    // Six served rows: too few for PSI, and the panel says so.
    await expect.poll(() => live.textContent(), WAIT).toMatch(/served rows sketched; PSI needs at least 100/);
    expect(await live.locator(`a[href="#/review/${MODEL}"]`).count()).toBe(1);
    await noHorizontalOverflow();
    await page.screenshot({ path: path.join(ARTIFACTS, `champion-live-${name}.png`), fullPage: true });
    expect(consoleErrors).toEqual([]);
  });
});
