/**
 * The dashboard in a real browser (playwright-core driving Debian's chromium, headless)
 * against a whole pipeline on the real broker, with bearer tokens on: the page loads
 * without a token and says why it shows no data, then with the token typed in shows a
 * causal chain appended through the API in the tail and in the SVG drawing, LIds in order.
 * Twice: every stage in one process (`chariots dev`), and the deployed shape where the
 * batcher and the maintainer are processes of their own (the batcher forwards the page's
 * reads to the maintainer, batcher.readUrls). The screenshots are left in
 * test-artifacts/ui-dashboard.png and ui-dashboard-split.png.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { hashTag } from '../../src/record';
import { runStages, type RunningStages } from '../../src/runtime/run-stages';
import type { BatcherHandle } from '../../src/stages/batcher';
import { testEnvironment, testLogger } from '../helpers/cluster';
import { freePort, StageProcess } from '../helpers/stage-process';

/** What the functions run inside the page use of it (this project compiles without the DOM lib). */
interface PageElement {
  textContent: string | null;
  children: ArrayLike<PageElement>;
}
declare const document: {
  getElementById(id: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement>;
};

const TOKEN = 'ui-e2e-t0k3n';
const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');

/** CHROMIUM_PATH, else Debian's chromium on the PATH (.ci/run installs it when missing). */
function chromiumPath(): string {
  const given = process.env.CHROMIUM_PATH;
  if (given) return given;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
    } catch {
      // not this one
    }
  }
  throw new Error('no chromium found: apt-get install chromium (or set CHROMIUM_PATH)');
}

/** Starts the batcher and the maintainer as processes of their own; answers the batcher's URL. */
async function splitProcesses(
  env: Awaited<ReturnType<typeof testEnvironment>>,
  dataDir: string,
  procs: StageProcess[],
): Promise<string> {
  const [mPort, bPort] = [await freePort(), await freePort()];
  const common = {
    KAFKA_BROKERS: env.config.kafka.brokers.join(','),
    CHARIOTS_TOPIC_PREFIX: env.prefix,
    CHARIOTS_HTTP_HOST: '127.0.0.1',
    CHARIOTS_TCP_ENABLED: 'false',
    CHARIOTS_AUTH_TOKENS: `${TOKEN}:admin`,
  };
  procs.push(
    new StageProcess('maintainer', {
      ...common,
      CHARIOTS_DATA_DIR: dataDir,
      CHARIOTS_MAINTAINER_PORT: String(mPort),
      CHARIOTS_HTTP_ADMIN_ENABLED: 'false',
    }),
    new StageProcess('batcher', {
      ...common,
      CHARIOTS_HTTP_PORT: String(bPort),
      CHARIOTS_HTTP_ADMIN_HOST: '127.0.0.1',
      CHARIOTS_HTTP_ADMIN_PORT: String(await freePort()),
      CHARIOTS_BATCHER_READ_URLS: `http://127.0.0.1:${mPort}`,
    }),
  );
  await Promise.all(procs.map((p) => p.start(180000)));
  return `http://127.0.0.1:${bPort}`;
}

describe.each([
  { shape: 'every stage in one process', split: false, shot: 'ui-dashboard.png' },
  {
    shape: 'batcher and maintainer in processes of their own',
    split: true,
    shot: 'ui-dashboard-split.png',
  },
])('the /ui dashboard in a browser, $shape', ({ split, shot: shotName }) => {
  let env: Awaited<ReturnType<typeof testEnvironment>>;
  let running: RunningStages;
  const procs: StageProcess[] = [];
  let browser: Browser;
  let page: Page;
  let base: string;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ui-e2e-'));
    env = await testEnvironment('ui', {
      dataDir,
      tcp: { enabled: false },
      auth: { tokens: [`${TOKEN}:admin`] },
    });
    if (split) {
      running = await runStages(env.config, ['filter', 'queue', 'sequencer'], testLogger);
      base = await splitProcesses(env, dataDir, procs);
    } else {
      running = await runStages(
        env.config,
        ['batcher', 'filter', 'queue', 'sequencer', 'maintainer'],
        testLogger,
      );
      base = (running.handles.batcher as BatcherHandle).httpUrl;
    }
    browser = await chromium.launch({
      executablePath: chromiumPath(),
      headless: true,
      // Root in CI containers: chromium's sandbox needs user namespaces it may not get.
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  }, 300000);
  afterAll(async () => {
    await browser?.close();
    await Promise.all(procs.map((p) => p.stop()));
    await running?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const post = async (body: object, query = '') => {
    const res = await fetch(`${base}/record${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(body),
    });
    const answer = (await res.json()) as { id: string; lid?: number };
    expect({ status: res.status, answer }).toMatchObject({ status: 200 });
    return answer;
  };

  it('without a token the page loads and says what it lacks', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const res = await page.goto(`${base}/ui`);
    expect(res?.status()).toBe(200);
    await page.waitForFunction(() =>
      /CHARIOTS_ERR_UNAUTHORIZED/.test(document.getElementById('tail-note')!.textContent ?? ''),
    );
    expect(errors).toEqual([]);
  });

  it('with the token, shows a causal chain appended through the API in the tail and as a graph', async () => {
    await page.fill('#token', TOKEN);
    await page.dispatchEvent('#token', 'change');
    // A seed above 2^53, so a rounding anywhere (server, page) would lose the chain.
    const seed = String(2n ** 63n + BigInt(Math.floor(Math.random() * 1e9)) * 2n + 1n);
    const h = (step: string) => hashTag('step', step);
    // Posted last-first: b and c wait (deferred) until a is in the log.
    const c = await post({
      seed,
      tags: { step: 'c' },
      prehash: [h('b')],
      parent: 'chain-a-' + seed,
    });
    const b = await post({ seed, tags: { step: 'b' }, prehash: h('a') });
    const a = await post({ id: 'chain-a-' + seed, seed, tags: { step: 'a' } }, '?wait=appended');
    const ids = [a.id, b.id, c.id];

    // The tail: all three rows, whatever else the log holds.
    await page.waitForFunction(
      (want) => {
        const rows = [...document.querySelectorAll('#tail tbody tr')];
        return want.every((id) => rows.some((r) => r.children[4]?.textContent === id));
      },
      ids,
      { timeout: 60000 },
    );

    await page.fill('#seed', seed);
    await page.click('#chain-form button');
    await page.waitForFunction(
      () =>
        document.querySelectorAll('#chain g.node').length === 3 &&
        document.querySelectorAll('#chain path.edge').length === 3,
      undefined,
      { timeout: 30000 },
    );
    const nodes = await page.$$eval('#chain g.node', (gs) =>
      gs.map((g) => ({ lid: Number(g.getAttribute('data-lid')), id: g.getAttribute('data-id') })),
    );
    // LId order is causal order: a, then b, then c, left to right.
    expect(nodes.map((n) => n.id)).toEqual(ids);
    const lid = Object.fromEntries(nodes.map((n) => [n.id, n.lid]));
    expect(lid[a.id]).toBe(a.lid);
    expect(lid[a.id]).toBeLessThan(lid[b.id]);
    expect(lid[b.id]).toBeLessThan(lid[c.id]);
    const edges = await page.$$eval('#chain path.edge', (ps) =>
      ps.map(
        (p) => `${p.getAttribute('data-from')}->${p.getAttribute('data-to')} ${p.classList[1]}`,
      ),
    );
    expect(edges.sort()).toEqual(
      [
        `${lid[a.id]}->${lid[b.id]} prehash`,
        `${lid[b.id]}->${lid[c.id]} prehash`,
        `${lid[a.id]}->${lid[c.id]} parent`,
      ].sort(),
    );

    // Health and lag from the admin view, through the batcher's proxy.
    await page.waitForSelector('#stages tr[data-stage="sequencer"]', { timeout: 30000 });
    expect(await page.textContent('#ready')).toMatch(/ready/);

    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, shotName);
    await page.screenshot({ path: shot, fullPage: true });
    expect(existsSync(shot)).toBe(true);
  });
});
