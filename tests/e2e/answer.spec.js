// The answer first, as a user looks for it: the verdict on the first screen
// (a run and a comparison), every endpoint's figures against k6's raw stream,
// the regressed endpoint first, CPU views without idle, keyboard reach,
// embeds that fit a docs column, phones. Every expected figure comes from a
// tool's own file (k6's stream and summary-export, V8's .cpuprofile) or from
// the CLI; screenshots at 1400 × 900 and 390 px land in test-results/.
const { test, expect } = require('@playwright/test');
const { execFileSync } = require('child_process');
const fs = require('fs');
const http = require('http');
const path = require('path');
const zlib = require('zlib');

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'target/release/perfbundle');
const BUNDLES = path.join(ROOT, 'target/e2e-bundles');
const RUNS = path.join(ROOT, 'tests/corpus/runs');
const E2E = 'http://127.0.0.1:8798';
const shot = (page, name) => page.screenshot({ path: path.join(__dirname, 'test-results', `${name}.png`), fullPage: false });
const WIDE = { width: 1400, height: 900 };
const PHONE = { width: 390, height: 844 };

// k6's --summary-export of a corpus run.
const summaryExport = (run) => JSON.parse(fs.readFileSync(path.join(RUNS, run, 'summary-export.json')));

// Each endpoint (the `name` tag) of a run, from k6's raw point stream: requests, failed requests, durations.
function rawEndpoints(run) {
  const text = zlib.gunzipSync(fs.readFileSync(path.join(RUNS, run, 'k6.json.gz'))).toString();
  const out = new Map();
  for (const line of text.split('\n')) {
    if (!line) continue;
    const v = JSON.parse(line);
    const name = v.type === 'Point' && v.data.tags && v.data.tags.name;
    if (!name) continue;
    const e = out.get(name) || { requests: 0, failed: 0, durations: [] };
    if (v.metric === 'http_reqs') e.requests++;
    if (v.metric === 'http_req_failed' && v.data.value === 1) e.failed++;
    if (v.metric === 'http_req_duration') e.durations.push(v.data.value);
    out.set(name, e);
  }
  for (const e of out.values()) e.durations.sort((a, b) => a - b);
  return out;
}
// k6's percentile: linear interpolation between the values of ranks floor and ceil of p·(n−1).
function percentile(sorted, p) {
  const pos = p * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}
const within1 = (got, want, what) => expect(Math.abs(got - want), `${what}: ${got} vs ${want}`).toBeLessThanOrEqual(0.01 * want);

// V8's own .cpuprofile of a corpus run: idle samples, and all.
function cpuprofileIdle(run) {
  const dir = path.join(RUNS, run);
  const prof = JSON.parse(fs.readFileSync(path.join(dir, fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile')))));
  const idle = new Set(prof.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  return { idle: prof.samples.filter((s) => idle.has(s)).length, all: prof.samples.length };
}
// A share as perfbundle writes every percentage: truncated to two decimals, as k6 prints its rates.
const share = (part, whole) => `${(Math.floor((part * 10000) / whole + 1e-9) / 100).toFixed(2)}%`;

// The endpoint of the pair v2 → v3 whose median grew most in the raw streams (v3's slower route).
function regressedEndpoint(base, cand) {
  const [b, c] = [rawEndpoints(base), rawEndpoints(cand)];
  let worst = null;
  let ratio = 0;
  for (const [name, e] of c) {
    if (!b.has(name)) continue;
    const r = percentile(e.durations, 0.5) / percentile(b.get(name).durations, 0.5);
    if (r > ratio) [worst, ratio] = [name, r];
  }
  expect(ratio).toBeGreaterThan(2);
  return { name: worst, base: b.get(worst), cand: c.get(worst) };
}

test('a run leads with its verdict, on the first screen at 1400 × 900, with k6\'s figures', async ({ page }) => {
  await page.setViewportSize(WIDE);
  await page.goto(`${E2E}/?bundle=bundles/catalog-v1-k6.perfbundle`);
  const v = page.getByTestId('verdict');
  await expect(v).toBeVisible();
  const box = await v.boundingBox();
  expect(box.y + box.height, 'the verdict block ends within the first 900 px').toBeLessThanOrEqual(900);
  const k6 = summaryExport('v1/cpu-prof');
  const ths = Object.values(k6.metrics).flatMap((m) => Object.values(m.thresholds || {}));
  const th = page.getByTestId('verdict-thresholds');
  await expect(th).toHaveAttribute('data-total', String(ths.length));
  // In a summary-export, `true` means the threshold was crossed.
  await expect(th).toHaveAttribute('data-failed', String(ths.filter((x) => x === true).length));
  await expect(th).toContainText(`${ths.filter((x) => x === true).length} of ${ths.length} thresholds failed`);
  const val = async (id) => Number(await page.getByTestId(id).getAttribute('data-value'));
  expect(await val('verdict-http_req_failed')).toBeCloseTo(k6.metrics.http_req_failed.value, 12);
  within1(await val('verdict-http_req_duration-p(95)'), k6.metrics.http_req_duration['p(95)'], 'p(95)');
  expect(await val('verdict-checks')).toBeCloseTo(k6.metrics.checks.value, 12);
  // The same words as `perfbundle inspect` (one formatter for every percentage).
  const inspect = execFileSync(BIN, ['inspect', path.join(BUNDLES, 'catalog-v1-k6.perfbundle')]).toString();
  const line = inspect.split('\n').find((l) => l.includes('verdict:'));
  const failed = (await page.getByTestId('verdict-http_req_failed').innerText()).split('\n');
  expect(line).toContain(`http_req_failed ${failed[1]} — ${failed[2]}`);
  await shot(page, 'answer-run-1400');
  await page.setViewportSize(PHONE);
  await expect(v).toBeVisible();
  await shot(page, 'answer-run-390');
});

test('every endpoint with its requests, failures and percentiles as k6\'s stream has them; a row opens its charts', async ({ page }) => {
  await page.setViewportSize(WIDE);
  await page.goto(`${E2E}/?bundle=bundles/catalog-v1-k6.perfbundle`);
  const rows = page.getByTestId('endpoint');
  const raw = rawEndpoints('v1/cpu-prof');
  await expect(rows).toHaveCount(raw.size);
  for (const [name, e] of raw) {
    const row = page.locator(`[data-testid=endpoint][data-name="${name}"]`);
    await expect(row).toHaveAttribute('data-count', String(e.requests));
    await expect(row).toHaveAttribute('data-failed', String(e.failed));
    within1(Number(await row.getAttribute('data-p95')), percentile(e.durations, 0.95), `${name} p(95)`);
  }
  // Most requests first; a column head sorts by it.
  const counts = await rows.evaluateAll((els) => els.map((e) => Number(e.dataset.count)));
  expect(counts).toEqual([...counts].sort((a, b) => b - a));
  await page.getByTestId('endpoints-sort-p(95)').click();
  const p95s = await rows.evaluateAll((els) => els.map((e) => Number(e.dataset.p95)));
  expect(p95s).toEqual([...p95s].sort((a, b) => b - a));
  // A row opens the charts of that endpoint's sub-series.
  const first = await rows.first().getAttribute('data-name');
  await rows.first().click();
  await expect(page.getByTestId('charts')).toBeVisible();
  await expect(page.locator('[data-testid=chart-latency] figcaption')).toContainText(`{name:${first}}`);
  expect(decodeURIComponent(page.url())).toContain(`series={name:${first}}`);
  // By keyboard too.
  await page.goBack().catch(() => {});
  await page.goto(`${E2E}/?bundle=bundles/catalog-v1-k6.perfbundle`);
  await rows.nth(1).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('charts')).toBeVisible();
});

test('a comparison leads with both verdicts and the endpoint that regressed, listed first', async ({ page }) => {
  await page.setViewportSize(WIDE);
  await page.goto(`${E2E}/?bundle=bundles/catalog-v3-k6.perfbundle&base=bundles/catalog-v2-k6.perfbundle&view=compare`);
  const v = page.getByTestId('verdict');
  await expect(v).toBeVisible();
  const box = await v.boundingBox();
  expect(box.y + box.height, 'the verdict block ends within the first 900 px').toBeLessThanOrEqual(900);
  const [b, c] = [summaryExport('v2/cpu-prof'), summaryExport('v3/cpu-prof')];
  const p95 = page.getByTestId('verdict-http_req_duration-p(95)');
  within1(Number(await p95.getAttribute('data-value')), c.metrics.http_req_duration['p(95)'], 'candidate p(95)');
  within1(Number(await p95.getAttribute('data-base-value')), b.metrics.http_req_duration['p(95)'], 'base p(95)');
  expect(Number(await page.getByTestId('verdict-http_req_failed').getAttribute('data-value'))).toBeCloseTo(c.metrics.http_req_failed.value, 12);
  // The endpoints: regressions first, the regressed one flagged, each side's figures the streams'.
  const r = regressedEndpoint('v2/cpu-prof', 'v3/cpu-prof');
  const rows = page.getByTestId('endpoint');
  await expect(rows.first()).toHaveAttribute('data-name', r.name);
  await expect(rows.first()).toHaveAttribute('data-verdict', 'regression');
  await expect(rows.first()).toHaveAttribute('data-count', String(r.cand.requests));
  await expect(rows.first()).toHaveAttribute('data-failed', String(r.cand.failed));
  within1(Number(await rows.first().getAttribute('data-p95')), percentile(r.cand.durations, 0.95), 'candidate p(95)');
  within1(Number(await rows.first().getAttribute('data-base-p95')), percentile(r.base.durations, 0.95), 'base p(95)');
  const verdicts = await rows.evaluateAll((els) => els.map((e) => e.dataset.verdict));
  const order = ['regression', 'improvement', 'new', 'gone', 'unchanged'];
  expect(verdicts.map((x) => order.indexOf(x))).toEqual([...verdicts.map((x) => order.indexOf(x))].sort((a, b) => a - b));
  await expect(rows.first()).toBeInViewport();
  // At this width each endpoint is one table row: its cells side by side.
  const tops = await rows.first().locator('th, td').evaluateAll((els) => els.map((e) => Math.round(e.getBoundingClientRect().top)));
  expect(new Set(tops).size, `cells at ${tops}`).toBe(1);
  await shot(page, 'answer-compare-1400');
  await page.setViewportSize(PHONE);
  await expect(rows.first()).toBeVisible();
  // At 390 px the thresholds keep their values, and nothing scrolls sideways.
  await expect(page.getByTestId('compare-threshold').first().locator('.observed').first()).toBeVisible();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await shot(page, 'answer-compare-390');
});

test('no profile view leads with idle: said once, one switch in the URL to draw it', async ({ page }) => {
  await page.setViewportSize(WIDE);
  const { idle, all } = cpuprofileIdle('v3/cpu-prof');
  expect(idle * 2).toBeGreaterThan(all);
  await page.goto(`${E2E}/?bundle=bundles/corpus-v3-cpu-prof.perfbundle&view=profiles&by=samples`);
  await expect(page.getByTestId('idle-note')).toContainText(`idle ${share(idle, all)} of samples, not drawn`);
  const rows = page.getByTestId('function-row');
  await expect(rows.first()).toBeVisible();
  expect(await rows.evaluateAll((els) => els.map((e) => e.dataset.function))).not.toContain('(idle)');
  // The flame graph's root holds the other samples only.
  const canvas = page.getByTestId('flame-canvas');
  const box = await canvas.boundingBox();
  await page.mouse.move(box.x + 4, box.y + 8);
  await expect(page.getByTestId('flame-tooltip')).toContainText(`all — ${(all - idle).toLocaleString('en-US')} samples`);
  await page.mouse.move(box.x + 4, box.y + 17 + 8);
  await expect(page.getByTestId('flame-tooltip')).not.toContainText('(idle)');
  await shot(page, 'answer-flame-without-idle');
  // One switch: drawn, and in the URL.
  await page.getByTestId('show-idle').click();
  await expect(page).toHaveURL(/idle=1/);
  await expect.poll(() => rows.first().getAttribute('data-function')).toBe('(idle)');
  await page.reload();
  await expect(page.getByTestId('idle-shown')).toBeVisible();
  await page.getByTestId('hide-idle').click();
  await expect(page).not.toHaveURL(/idle=1/);
  // The comparison: the differential flame graph's table leads with the app, idle said once.
  await page.goto(`${E2E}/?bundle=bundles/corpus-v3-cpu-prof.perfbundle&base=bundles/corpus-v2-cpu-prof.perfbundle&view=compare`);
  await expect(page.getByTestId('idle-note')).toContainText(/idle [\d.]+% → [\d.]+% of samples, not drawn/);
  const changes = await page.getByTestId('top-change').allInnerTexts();
  expect(changes.length).toBeGreaterThan(3);
  expect(changes.filter((t) => t.includes('(idle)'))).toEqual([]);
  // The time order's header says what is not drawn.
  await page.goto(`${E2E}/?bundle=bundles/corpus-v3-cpu-prof.perfbundle&view=profiles&fview=time-order`);
  await expect(page.getByTestId('time-window')).toContainText('not drawn');
});

test('one unit for a function in every view: the table, the sandwich and the call tree', async ({ page }) => {
  // By weight (V8's time deltas): every view says the function's time in the same words.
  await page.goto(`${E2E}/?bundle=bundles/corpus-v1-cpu-prof.perfbundle&view=profiles`);
  const row = page.getByTestId('function-row').first();
  await expect(row).toBeVisible();
  const cells = await row.locator('td').allInnerTexts();
  const total = cells[2];
  expect(total).toMatch(/^[\d.]+ m?s$/);
  await page.locator('[data-testid=flame-view][data-view=sandwich]').click();
  await row.click();
  await expect(page.getByTestId('sandwich-title')).toContainText(`on the stack in ${total} of `);
  await page.locator('[data-testid=flame-view][data-view=call-tree]').click();
  const first = page.getByTestId('tree-row').first();
  await expect(first.locator('td').first()).toHaveText(/^[\d.]+ m?s$/);
});

test('"where was this slow?" on a profile not on the run\'s clock is off, and says why and what to do', async ({ page }) => {
  await page.goto(`${E2E}/?bundle=bundles/corpus-v1-cpu-prof.perfbundle&view=profiles`);
  await page.getByTestId('function-row').first().click();
  await expect(page.getByTestId('where-slow')).toBeDisabled();
  await expect(page.getByTestId('where-slow-why')).toContainText('--align');
  await expect(page.getByTestId('profiles')).toBeVisible();
});

test('"Open…" is reached by keyboard, and a dropped file that is not a bundle leaves the run open and says what it is', async ({ page }) => {
  // Listening before the page loads: Playwright turns on its file-chooser
  // interception when the first listener is added, and a chooser opened
  // before that reaches the browser is not reported.
  const chooser = page.waitForEvent('filechooser');
  await page.goto(`${E2E}/`);
  await expect(page.getByTestId('runs')).toBeVisible();
  let reached = false;
  for (let i = 0; i < 10 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement && document.activeElement.dataset.testid === 'open');
  }
  expect(reached, '[data-testid=open] within 10 Tab presses').toBe(true);
  await page.keyboard.press('Enter');
  await (await chooser).setFiles(path.join(BUNDLES, 'catalog-v1-k6.perfbundle'));
  await expect(page.getByTestId('title')).toHaveText('catalog-api v1 (k6 stream)');
  // k6's summary dropped on the page: the run stays, the notice says what the file is and what to do.
  const summary = fs.readFileSync(path.join(RUNS, 'v1/k6-only/summary-export.json'), 'utf8');
  const dt = await page.evaluateHandle((text) => {
    const d = new DataTransfer();
    d.items.add(new File([text], 'summary-export.json', { type: 'application/json' }));
    return d;
  }, summary);
  await page.dispatchEvent('body', 'drop', { dataTransfer: dt });
  await expect(page.getByTestId('open-error')).toContainText("this is k6's end-of-test summary");
  await expect(page.getByTestId('open-error')).toContainText('perfbundle pack');
  await expect(page.getByTestId('title')).toHaveText('catalog-api v1 (k6 stream)');
});

test('the logo of a site\'s page goes back to its runs', async ({ page }) => {
  await page.goto('/');
  await page.getByTestId('run-link').first().click();
  await expect(page.getByTestId('title')).toBeVisible();
  await page.getByTestId('home').click();
  await expect(page.getByTestId('runs')).toBeVisible();
  await expect(page.getByTestId('title')).toHaveCount(0);
});

test('at 390 px: the runs list reads as rows, chart labels are not squashed', async ({ page }) => {
  await page.setViewportSize(PHONE);
  await page.goto('/');
  const cell = page.locator('table.runs-table tbody td').first();
  await expect(cell).toBeVisible();
  // A run's title on one or two lines, not a character per line.
  expect((await cell.boundingBox()).width).toBeGreaterThan(200);
  await shot(page, 'answer-runs-390');
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  // A chart is drawn at its width: its viewBox is as wide as the chart on the page.
  await page.goto(`${E2E}/?bundle=bundles/catalog-v1-k6.perfbundle&view=charts`);
  const svg = page.locator('[data-testid=chart-latency] svg');
  await expect(svg.locator('path').first()).toBeVisible();
  await expect.poll(() => svg.evaluate((s) => Math.abs(s.viewBox.baseVal.width - s.getBoundingClientRect().width))).toBeLessThan(2);
  const labels = await svg.locator('text.tick').evaluateAll((els) => els.filter((e) => /\d\d:\d\d:\d\d/.test(e.textContent)).map((e) => e.getBoundingClientRect()).map((r) => [r.left, r.right]));
  for (let i = 1; i < labels.length; i++) expect(labels[i][0], 'x labels do not overlap').toBeGreaterThanOrEqual(labels[i - 1][1]);
  await shot(page, 'answer-charts-390');
});

test('the trend follows the site\'s --by label, names a test by its runs, and its labels do not overlap', async ({ page }) => {
  // The site's index as `perfbundle site --by version` writes it.
  await page.route('**/index.json', async (route) => {
    const res = await route.fetch();
    const j = await res.json();
    j.by = 'version';
    await route.fulfill({ response: res, json: j });
  });
  await page.setViewportSize(PHONE);
  await page.goto('/?view=trend');
  await expect(page.getByTestId('trend-by')).toContainText('version');
  const versions = await page.getByTestId('trend-row').evaluateAll((rows) => rows.map((r) => (r.textContent.match(/version=(v\d+)/) || [])[1]));
  expect(versions).toEqual([...versions].sort());
  // Each line named by what its runs' titles share and its profilers: `orders-api · cpuprofile`.
  const legends = await page.getByTestId('trend-legend').allInnerTexts();
  for (const l of legends) expect(l).toMatch(/^orders-api( · [\w-]+)? \(\d+ runs?\)$/);
  const xs = await page.getByTestId('trend-x-label').evaluateAll((els) => els.map((e) => e.getBoundingClientRect()).map((r) => [r.left, r.right]));
  for (let i = 1; i < xs.length; i++) expect(xs[i][0]).toBeGreaterThanOrEqual(xs[i - 1][1]);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await shot(page, 'answer-trend-390');
});

test('time order: ctrl + wheel zooms, drag pans, a ruler, the window in the URL', async ({ page }) => {
  await page.goto(`${E2E}/?bundle=bundles/corpus-v1-cpu-prof.perfbundle&view=profiles&fview=time-order`);
  const canvas = page.getByTestId('time-canvas');
  await expect(canvas).toBeVisible();
  await expect(page.getByTestId('ruler-label').first()).toBeVisible();
  const box = await canvas.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + 20);
  await page.keyboard.down('Control');
  await page.mouse.wheel(0, -400);
  await page.keyboard.up('Control');
  await expect(page).toHaveURL(/tw=\d+%2C\d+|tw=\d+,\d+/);
  const tw = () => decodeURIComponent(new URL(page.url()).searchParams.get('tw')).split(',').map(Number);
  const [a, b] = tw();
  expect(b - a).toBeGreaterThan(0);
  // Drag to the left: later times come into view, the window keeps its width.
  await page.mouse.move(box.x + box.width * 0.6, box.y + 20);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.3, box.y + 20, { steps: 6 });
  await page.mouse.up();
  await expect.poll(() => tw()[0]).toBeGreaterThan(a);
  const [c, d] = tw();
  expect(Math.abs((d - c) - (b - a))).toBeLessThanOrEqual(2);
  // The window survives a reload.
  await page.reload();
  await expect(page.getByTestId('time-whole')).toBeEnabled();
  expect(tw()).toEqual([c, d]);
});

test('<perfbundle-viewer> comparing two runs in an 860 px docs column neither scrolls inside nor sideways', async ({ page }) => {
  const site = path.join(__dirname, 'test-results', 'answer-column');
  fs.rmSync(site, { recursive: true, force: true });
  fs.cpSync(path.join(ROOT, 'dist'), path.join(site, 'viewer'), { recursive: true });
  fs.mkdirSync(path.join(site, 'runs'));
  for (const f of ['catalog-v2-k6.perfbundle', 'catalog-v3-k6.perfbundle']) fs.copyFileSync(path.join(BUNDLES, f), path.join(site, 'runs', f));
  fs.writeFileSync(path.join(site, 'page.html'), `<!doctype html><meta charset="utf-8"><body style="margin:0"><main style="width:860px;margin:0 auto">
    <h1>Release notes</h1><script src="viewer/perfbundle-viewer.js"></script>
    <perfbundle-viewer id="cmp" src="runs/catalog-v3-k6.perfbundle" base="runs/catalog-v2-k6.perfbundle"></perfbundle-viewer></main>`);
  const server = http.createServer((req, res) => {
    const file = path.join(site, decodeURIComponent(req.url.split('?')[0]));
    if (!file.startsWith(site) || !fs.existsSync(file)) { res.writeHead(404); return res.end(); }
    const type = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css' }[path.extname(file)] || 'application/octet-stream';
    res.writeHead(200, { 'content-type': type });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    await page.setViewportSize(WIDE);
    await page.goto(`http://127.0.0.1:${server.address().port}/page.html`);
    const el = page.locator('perfbundle-viewer#cmp');
    await expect(el.getByTestId('endpoint').first()).toBeVisible();
    await expect(el.getByTestId('compare-row').first()).toBeVisible();
    // The element is as tall as its content: nothing scrolls inside it.
    const [h, sh] = await el.evaluate((e) => [e.clientHeight, e.scrollHeight]);
    expect(sh - h).toBeLessThanOrEqual(1);
    // No box inside it is wider than its own box (no sideways scroll), nor the page.
    const wide = await el.evaluate((e) => [...e.shadowRoot.querySelectorAll('*')]
      .filter((x) => ['auto', 'scroll'].includes(getComputedStyle(x).overflowX) && x.scrollWidth > x.clientWidth + 1)
      .map((x) => `${x.tagName}.${x.className} ${x.scrollWidth}>${x.clientWidth}`));
    expect(wide).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1400);
    const cols = await el.getByTestId('compare-table').locator('thead th').count();
    expect(cols).toBe(6);
    await page.screenshot({ path: path.join(__dirname, 'test-results', 'answer-column-860.png'), fullPage: true });
  } finally {
    server.close();
  }
});

test('html --base: one file that opens on the comparison, from file://', async ({ page }) => {
  const out = path.join(__dirname, 'test-results', 'compare-report.html');
  execFileSync(BIN, ['html', '--base', path.join(BUNDLES, 'catalog-v2-k6.perfbundle'), path.join(BUNDLES, 'catalog-v3-k6.perfbundle'), '-o', out]);
  const remote = [];
  page.on('request', (r) => { if (!r.url().startsWith('file:') && !r.url().startsWith('blob:') && !r.url().startsWith('data:')) remote.push(r.url()); });
  await page.setViewportSize(WIDE);
  await page.goto(`file://${out}`);
  await expect(page.getByTestId('compare')).toBeVisible();
  await expect(page.getByTestId('compare-base-title')).toHaveText('catalog-api v2 (k6 stream)');
  await expect(page.getByTestId('compare-candidate-title')).toHaveText('catalog-api v3 (k6 stream)');
  const r = regressedEndpoint('v2/cpu-prof', 'v3/cpu-prof');
  await expect(page.getByTestId('endpoint').first()).toHaveAttribute('data-name', r.name);
  await expect(page.getByTestId('endpoint').first()).toHaveAttribute('data-verdict', 'regression');
  expect(remote).toEqual([]);
  await shot(page, 'answer-html-base-1400');
});
