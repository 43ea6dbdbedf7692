// The viewer as a person uses it, in headless Chromium: open bundles by URL
// and by file, read the summary against `perfbundle inspect --json`, hover and
// zoom charts, search and zoom flame graphs, permalinks, hostile strings,
// errors. Screenshots land in test-results/ as artifacts; timings in
// test-results/metrics.json (see BENCHMARKS.md).
const { test, expect } = require('@playwright/test');
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'target/release/perfbundle');
const ARCH = path.join(ROOT, 'archives');
const E2E = 'http://127.0.0.1:8798';
const metrics = {};
const shot = (page, name) => page.screenshot({ path: path.join(__dirname, 'test-results', `${name}.png`), fullPage: true });
const inspect = (file) => JSON.parse(execFileSync(BIN, ['inspect', '--json', path.join(ARCH, file)]).toString());

// What a flame graph search must say, counted from V8's own .cpuprofile (the
// corpus's v1 run): samples whose stack holds a frame whose function name
// matches, each sample once; and all samples but the idle ones (left out by
// default, as every CPU view leaves them out).
const CPUPROFILE_DIR = path.join(ROOT, 'tests/corpus/runs/v1/cpu-prof');
// The .cpuprofile, and whether sample k's stack holds a frame whose function name matches.
function cpuprofile(matches) {
  const file = fs.readdirSync(CPUPROFILE_DIR).find((f) => f.endsWith('.cpuprofile'));
  const prof = JSON.parse(fs.readFileSync(path.join(CPUPROFILE_DIR, file)));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children || []) parent.set(c, n.id);
  const hit = (k) => {
    for (let id = prof.samples[k]; id !== undefined; id = parent.get(id)) {
      if (matches(byId.get(id).callFrame.functionName)) return true;
    }
    return false;
  };
  const idle = (k) => byId.get(prof.samples[k]).callFrame.functionName === '(idle)';
  return { prof, hit, idle };
}
function searchCover(matches) {
  const { prof, hit, idle } = cpuprofile(matches);
  const covered = prof.samples.filter((_, k) => hit(k)).length;
  return `${covered} of ${prof.samples.filter((_, k) => !idle(k)).length}`;
}

// The same by wall time, the share of it: a sample lasts until the next one
// (the last until endTime), as speedscope and DevTools weigh V8's samples.
function searchTimeShare(matches) {
  const { prof, hit, idle } = cpuprofile(matches);
  const times = [];
  let t = prof.startTime;
  for (const d of prof.timeDeltas) times.push((t += d));
  let covered = 0;
  let total = 0;
  prof.samples.forEach((_, k) => {
    const w = Math.max(0, (k + 1 < times.length ? times[k + 1] : prof.endTime) - times[k]);
    if (!idle(k)) total += w;
    if (hit(k)) covered += w;
  });
  // perfbundle's percentages: truncated to two decimals, as k6 prints its rates.
  return `(${(Math.floor((covered * 10000) / total + 1e-9) / 100).toFixed(2)}%)`;
}

test.afterAll(() => {
  fs.mkdirSync(path.join(__dirname, 'test-results'), { recursive: true });
  const f = path.join(__dirname, 'test-results', 'metrics.json');
  const old = fs.existsSync(f) ? JSON.parse(fs.readFileSync(f)) : {};
  fs.writeFileSync(f, JSON.stringify({ ...old, ...metrics }, null, 2));
});

async function summaryMatches(page, metricsJson, keys) {
  for (const [metric, key] of keys) {
    const cell = page.getByTestId(`v-${metric}-${key}`);
    await expect(cell).toHaveAttribute('data-value', /.+/);
    const shown = parseFloat(await cell.getAttribute('data-value'));
    const want = metricsJson[metric].values[key];
    expect(shown, `${metric} ${key}`).toBe(want);
  }
}

const KEYS = [
  ['http_req_duration', 'avg'], ['http_req_duration', 'min'], ['http_req_duration', 'med'], ['http_req_duration', 'max'],
  ['http_req_duration', 'p(90)'], ['http_req_duration', 'p(95)'], ['http_req_duration', 'p(99)'],
  ['http_reqs', 'count'], ['http_reqs', 'rate'], ['http_req_failed', 'rate'], ['checks', 'passes'], ['checks', 'fails'],
  ['data_received', 'count'], ['data_sent', 'count'], ['iterations', 'count'], ['vus', 'max'],
];

test('overview by URL shows the numbers of inspect --json', async ({ page }) => {
  const t0 = Date.now();
  await page.goto('/?bundle=bundles/orders-api-v1-k6.perfbundle');
  await expect(page.getByTestId('title')).toHaveText('orders-api v1 — dev load (k6 only)');
  const j = inspect('orders-api-v1-k6.perfbundle');
  await summaryMatches(page, j.k6.metrics, KEYS);
  await expect(page.getByTestId('threshold')).toContainText('p(95)<250');
  await expect(page.getByTestId('labels')).toContainText('version=v1');
  metrics.overview_ms = Date.now() - t0;
  await shot(page, 'overview');
});

test('first chart is drawn quickly, hover is shared, drag zooms every chart and the summary', async ({ page }) => {
  const t0 = Date.now();
  await page.goto('/?bundle=bundles/orders-api-v2-k6.perfbundle&view=charts');
  await expect(page.locator('[data-testid=chart-request-rate] path').first()).toBeVisible();
  metrics.first_chart_ms = Date.now() - t0;
  const charts = page.locator('figure.chart');
  const n = await charts.count();
  expect(n).toBeGreaterThanOrEqual(4);
  const svg = page.locator('[data-testid=chart-latency] svg');
  await svg.scrollIntoViewIfNeeded();
  const box = await svg.boundingBox();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
  await expect(page.getByTestId('crosshair')).toHaveCount(n);
  await expect(page.locator('[data-testid=chart-latency] .legend')).toContainText('p95');
  const whole = String(inspect('orders-api-v2-k6.perfbundle').k6.metrics.http_reqs.values.count);
  // Drag across the middle third.
  await page.mouse.move(box.x + box.width * 0.35, box.y + box.height * 0.5);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.65, box.y + box.height * 0.5, { steps: 5 });
  await page.mouse.up();
  await expect(page.getByTestId('range')).toContainText('selected');
  await shot(page, 'charts-zoomed');
  // The summary (on the overview, under the key charts) follows the range.
  await page.getByTestId('tab-overview').click();
  await expect(page.getByTestId('summary-scope')).toContainText('selected time range');
  const part = parseFloat(await page.getByTestId('v-http_reqs-count').getAttribute('data-value'));
  expect(part).toBeGreaterThan(0);
  expect(part).toBeLessThan(parseFloat(whole));
  // The range is in the URL: a reload shows the same range.
  await page.reload();
  await expect(page.getByTestId('summary-scope')).toContainText('selected time range');
  await page.getByTestId('reset-range').click();
  await expect(page.getByTestId('summary-scope')).toHaveText('whole run');
  expect(await page.getByTestId('v-http_reqs-count').getAttribute('data-value')).toBe(whole);
});

test('a sub-series by tag shows its own figures', async ({ page }) => {
  await page.goto('/?bundle=bundles/orders-api-v1-k6.perfbundle');
  const key = '{name:http://127.0.0.1:18080/fast}';
  await page.getByTestId('series-select').selectOption(key);
  const j = inspect('orders-api-v1-k6.perfbundle');
  const want = j.k6.metrics[`http_req_duration${key}`].values['p(95)'];
  await expect(page.getByTestId('v-http_req_duration-p(95)')).toHaveAttribute('data-value', String(want));
  // The charts' titles name the sub-series they draw.
  await expect(page.locator('[data-testid=chart-latency] figcaption')).toContainText(key);
});

test('clinic doctor timelines are drawn under the k6 charts', async ({ page }) => {
  await page.goto('/?bundle=bundles/orders-api-v1-clinic-doctor.perfbundle&view=charts');
  await expect(page.getByTestId('timeline-title')).toContainText('clinic-doctor');
  for (const id of ['chart-timeline-0-cpu', 'chart-timeline-0-memory', 'chart-timeline-0-delay', 'chart-timeline-0-handles']) {
    await expect(page.locator(`[data-testid=${id}] path`).first()).toBeVisible();
  }
  // Its GC events (clinic doctor's trace events) as pause time per sample interval.
  expect(inspect('orders-api-v1-clinic-doctor.perfbundle').timelines[0].gc_events).toBeGreaterThan(0);
  await expect(page.locator('[data-testid=chart-timeline-0-gc] path').first()).toBeVisible();
  await shot(page, 'timeline');
});

test('flame graph: hover, search, zoom, breadcrumb, icicle, function table, permalink', async ({ page }) => {
  await page.goto(`${E2E}/?bundle=bundles/corpus-v1-cpu-prof.perfbundle&view=profiles`);
  const canvas = page.getByTestId('flame-canvas');
  await expect(canvas).toBeVisible();
  // Top-down by default (an icicle): the root "all" is the first row, on the first screen.
  await expect(page.getByTestId('flame-icicle')).toBeChecked();
  const topInView = async () => {
    await canvas.evaluate((el) => el.scrollIntoView({ block: 'start' }));
    return canvas.boundingBox();
  };
  let box = await topInView();
  // The top row is "all": by wall time first (V8's time deltas).
  await page.mouse.move(box.x + box.width * 0.6, box.y + 8);
  await expect(page.getByTestId('flame-tooltip')).toHaveText(/^all — [\d.]+ m?s$/);
  // The search matches frame labels (name, then file:line:col); the app's file name holds neither term.
  const bubble = searchCover((f) => f.toLowerCase().includes('bubble'));
  expect(bubble).not.toMatch(/^0 of/);
  await page.getByTestId('flame-search').fill('bubble');
  // By wall time first (the profile has V8's time deltas), by samples at the switch.
  await expect(page.getByTestId('flame-by-weight')).toBeChecked();
  await expect(page.getByTestId('search-info')).toContainText(searchTimeShare((f) => f.toLowerCase().includes('bubble')));
  await expect(page.getByTestId('search-info')).toContainText(/^matches cover [\d.]+ m?s of [\d.]+ m?s \(/);
  await page.getByTestId('flame-by-weight').uncheck();
  await expect(page.getByTestId('search-info')).toContainText(`matches cover ${bubble} samples`);
  // The search filters the function table: every row left matches it.
  const rows = page.getByTestId('function-row');
  await expect(rows.first()).toBeVisible();
  for (const t of await rows.allInnerTexts()) expect(t.toLowerCase()).toContain('bubble');
  // By samples, the row under "all" holds the top frames; the sample interval gives their time.
  box = await topInView();
  await page.mouse.move(box.x + box.width * 0.6, box.y + 17 + 8);
  await expect(page.getByTestId('flame-tooltip')).toContainText('total');
  await expect(page.getByTestId('flame-tooltip')).toContainText(/samples ≈ [\d.]+ m?s/);
  await page.getByTestId('flame-regex').check();
  await page.getByTestId('flame-search').fill('^rankBy.*Bubble');
  await expect(page.getByTestId('search-info')).toContainText(searchCover((f) => /^rankBy.*Bubble/.test(f)));
  box = await topInView(); // (typing in the search box scrolled it away)
  await page.mouse.click(box.x + box.width * 0.6, box.y + 17 + 8);
  await expect(page.getByTestId('crumb')).toHaveCount(2);
  await shot(page, 'flame-zoomed');
  await page.reload();
  await expect(page.getByTestId('crumb')).toHaveCount(2);
  await expect(page.getByTestId('flame-search')).toHaveValue('^rankBy.*Bubble');
  await expect(page.getByTestId('flame-by-weight')).not.toBeChecked();
  await page.getByTestId('crumb').first().click();
  await expect(page.getByTestId('crumb')).toHaveCount(1);
  // Flame (roots at the bottom) on demand, kept in the URL.
  await page.getByTestId('flame-icicle').uncheck();
  await expect.poll(() => page.url()).toContain('icicle=0');
  await page.getByTestId('flame-search').fill('');
  await page.getByTestId('sort-total').click();
  // A function-table row selects that function's widest frame and brings it into view.
  const second = rows.nth(1);
  const name = await second.locator('td.fn').evaluate((el) => el.firstChild.textContent);
  await second.click();
  await expect(page.getByTestId('flame-selected')).toContainText(name);
  await shot(page, 'flame-flame-layout');
});

test('a flame graph of 100,000+ frames zooms within a frame budget', async ({ page }) => {
  await page.goto(`${E2E}/?bundle=bundles/wide-flame.perfbundle&view=profiles`);
  const canvas = page.getByTestId('flame-canvas');
  await expect(canvas).toBeVisible();
  const box = await canvas.boundingBox();
  const frames = await page.getByTestId('profile-tab').innerText();
  expect(frames).toContain('synthetic');
  const times = [];
  for (const fx of [0.1, 0.3, 0.5, 0.7, 0.9]) {
    await page.getByTestId('crumb').first().click();
    // Zoom into a frame three rows down from the root (top-down by default).
    await page.mouse.click(box.x + box.width * fx, box.y + 17 * 3 + 8);
    await page.waitForTimeout(50);
    times.push(await page.evaluate(() => window.__pbLastDrawMs));
  }
  metrics.flame_100k_rects_drawn = await page.evaluate(() => window.__pbLastDrawRects);
  await page.getByTestId('crumb').first().click();
  await page.waitForTimeout(50);
  times.push(await page.evaluate(() => window.__pbLastDrawMs));
  metrics.flame_100k_draw_ms = times;
  for (const t of times) expect(t).toBeLessThan(100);
});

test('opening a file with the picker', async ({ page }) => {
  await page.goto('/');
  await page.getByTestId('file-input').setInputFiles(path.join(ARCH, 'orders-api-v2-k6.perfbundle'));
  await expect(page.getByTestId('title')).toHaveText('orders-api v2 — dev load (k6 only)');
  await summaryMatches(page, inspect('orders-api-v2-k6.perfbundle').k6.metrics, KEYS);
});

test('the landing page lists the bundles of a folder', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('run-link')).toHaveCount(fs.readdirSync(ARCH).filter((f) => f.endsWith('.perfbundle')).length);
  await page.getByTestId('run-link').first().click();
  await expect(page.getByTestId('title')).toBeVisible();
});

test('errors are shown in the page', async ({ page }) => {
  await page.goto('/?bundle=bundles/nope.perfbundle');
  await expect(page.getByTestId('error')).toContainText('HTTP 404');
  await page.goto(`${E2E}/?bundle=bundles/corrupt.perfbundle`);
  await expect(page.getByTestId('error')).toContainText('not a perfbundle');
  await page.goto(`${E2E}/?bundle=bundles/future.perfbundle`);
  await expect(page.getByTestId('error')).toContainText('format version 2.0 is not supported');
  await shot(page, 'error');
});

test('strings from a bundle are text, never markup', async ({ page }) => {
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  await page.goto(`${E2E}/?bundle=bundles/xss.perfbundle`);
  await expect(page.getByTestId('title')).toHaveText('<img src=x onerror="window.__xss=1">');
  await expect(page.getByTestId('labels')).toContainText('<script>window.__xss=2</script>');
  await page.getByTestId('tab-charts').click();
  await expect(page.getByTestId('series-select')).toContainText('<img src=x onerror="window.__xss=3">');
  await page.getByTestId('series-select').selectOption({ index: 1 });
  await page.getByTestId('tab-profiles').click();
  await page.getByTestId('flame-search').fill('xss');
  await expect(page.getByTestId('function-table')).toContainText('<script>window.__xss=5</script>');
  expect(await page.evaluate(() => window.__xss)).toBeUndefined();
  expect(await page.locator('img').count()).toBe(0);
  expect(dialogs).toEqual([]);
  await shot(page, 'xss');
});

test('dropping a file anywhere on the page opens it', async ({ page }) => {
  await page.goto('/');
  const b64 = fs.readFileSync(path.join(ARCH, 'orders-api-v1-0x.perfbundle')).toString('base64');
  await page.evaluate((data) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], 'dropped.perfbundle'));
    document.body.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, b64);
  await expect(page.getByTestId('title')).toHaveText('orders-api v1 — dev load under 0x');
  await page.getByTestId('tab-profiles').click();
  await expect(page.getByTestId('profile-tab')).toContainText('10295.0x');
});

/** A plain static server (not perfbundle view) of `dir` under `base`; `extra(rel)` may map other paths. */
async function staticServer(dir, base, extra = () => null) {
  const http = require('http');
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent(req.url.split('?')[0]);
    if (!url.startsWith(base)) { res.writeHead(404); return res.end(); }
    let rel = url.slice(base.length);
    if (rel === '' || rel.endsWith('/')) rel += 'index.html';
    const file = extra(rel) || path.join(dir, rel);
    if (rel.includes('..') || !fs.existsSync(file) || fs.statSync(file).isDirectory()) { res.writeHead(404); return res.end(); }
    const type = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css', '.json': 'application/json' }[path.extname(file)] || 'application/octet-stream';
    res.writeHead(200, { 'content-type': type });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${server.address().port}${base}` };
}

test('under a sub-path of a static site, relative bundle paths work', async ({ page }) => {
  const { server, url } = await staticServer(path.join(ROOT, 'dist'), '/some/sub/path/', (rel) => (rel.startsWith('data/') ? path.join(ARCH, rel.slice(5)) : null));
  try {
    await page.goto(`${url}?bundle=data/orders-api-v2-cpu-prof.perfbundle`);
    await expect(page.getByTestId('title')).toHaveText('orders-api v2 — dev load under cpu-prof');
  } finally {
    server.close();
  }
});

test('perfbundle site: a static site of runs that works under a sub-path', async ({ page }) => {
  const out = path.join(__dirname, 'test-results', 'site');
  execFileSync(BIN, ['site', ARCH, '-o', out, '--force']);
  const index = JSON.parse(fs.readFileSync(path.join(out, 'index.json')));
  const n = fs.readdirSync(ARCH).filter((f) => f.endsWith('.perfbundle')).length;
  expect(index.bundles.length).toBe(n);
  const v2 = index.bundles.find((b) => b.title === 'orders-api v2 — dev load (k6 only)');
  expect(v2.thresholds_passed).toBe(true);
  expect(v2.http_reqs).toBe(1944);
  const { server, url } = await staticServer(out, '/some/sub/path/');
  try {
    await page.goto(url);
    await expect(page.getByTestId('run-link')).toHaveCount(n);
    await shot(page, 'site-landing');
    await page.getByTestId('run-link').filter({ hasText: 'orders-api v2 — dev load (k6 only)' }).click();
    await expect(page.getByTestId('title')).toHaveText('orders-api v2 — dev load (k6 only)');
    await summaryMatches(page, inspect('orders-api-v2-k6.perfbundle').k6.metrics, KEYS);
  } finally {
    server.close();
  }
});

test('the single-file HTML report opens from file:// with the network off', async ({ page, context }) => {
  const out = path.join(__dirname, 'test-results', 'report.html');
  const bundle = path.join(ROOT, 'target/e2e-bundles/corpus-v1-cpu-prof.perfbundle');
  execFileSync(BIN, ['html', bundle, '-o', out]);
  metrics.html_report_bytes = fs.statSync(out).size;
  await context.setOffline(true);
  const remote = [];
  const fetched = [];
  const errors = [];
  page.on('request', (r) => { fetched.push(r.url()); if (!/^(file|blob|data):/.test(r.url())) remote.push(r.url()); });
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(`file://${out}`);
  await summaryMatches(page, JSON.parse(execFileSync(BIN, ['inspect', '--json', bundle]).toString()).k6.metrics, KEYS);
  await page.getByTestId('tab-charts').click();
  await expect(page.locator('[data-testid=chart-latency] path').first()).toBeVisible();
  await page.getByTestId('tab-profiles').click();
  await page.getByTestId('flame-search').fill('bubble');
  await expect(page.getByTestId('search-info')).toContainText(searchTimeShare((f) => f.toLowerCase().includes('bubble')));
  await page.getByTestId('flame-by-weight').uncheck();
  await expect(page.getByTestId('search-info')).toContainText(searchCover((f) => f.toLowerCase().includes('bubble')));
  expect(remote).toEqual([]);
  // The report carries its bundle: it looks for no index of runs beside it, and logs no error.
  expect(fetched.filter((u) => u.endsWith('index.json'))).toEqual([]);
  expect(errors).toEqual([]);
  await shot(page, 'html-report');
});

test('embedded in a docs page on another path, sized to its content', async ({ page }) => {
  const site = path.join(__dirname, 'test-results', 'docs-site');
  fs.rmSync(site, { recursive: true, force: true });
  fs.mkdirSync(path.join(site, 'guide'), { recursive: true });
  fs.cpSync(path.join(ROOT, 'dist'), path.join(site, 'perf', 'viewer'), { recursive: true });
  fs.mkdirSync(path.join(site, 'perf', 'runs'), { recursive: true });
  fs.copyFileSync(path.join(ARCH, 'orders-api-v2-k6.perfbundle'), path.join(site, 'perf', 'runs', 'v2.perfbundle'));
  // The snippet of docs/embedding.md, on a page at another path.
  const doc = fs.readFileSync(path.join(ROOT, 'docs', 'embedding.md'), 'utf8');
  const start = doc.indexOf('```html\n') + '```html\n'.length;
  const snippet = doc.slice(start, doc.indexOf('\n```', start)).replaceAll('"/perf/', '"../perf/');
  fs.writeFileSync(path.join(site, 'guide', 'page.html'), `<!doctype html><meta charset="utf-8"><h1>Guide</h1>${snippet}`);
  const { server, url } = await staticServer(site, '/docs/');
  try {
    await page.goto(`${url}guide/page.html`);
    const frame = page.frameLocator('#perf-v2');
    await expect(frame.getByTestId('title')).toHaveText('orders-api v2 — dev load (k6 only)');
    await expect(frame.locator('header.top')).toBeHidden();
    const want = inspect('orders-api-v2-k6.perfbundle').k6.metrics.http_reqs.values.count;
    await expect(frame.getByTestId('v-http_reqs-count')).toHaveAttribute('data-value', String(want));
    await expect.poll(async () => (await page.locator('#perf-v2').boundingBox()).height).not.toBe(600);
    await shot(page, 'embedded');
  } finally {
    server.close();
  }
});

test('the mdBook example embeds the viewer and shows the summary', async ({ page }) => {
  const book = path.join(ROOT, 'target', 'book');
  expect(fs.existsSync(path.join(book, 'v2.html')), 'scripts/test.sh builds examples/mdbook into target/book').toBe(true);
  const { server, url } = await staticServer(book, '/notes/');
  try {
    await page.goto(`${url}v2.html`);
    const frame = page.frameLocator('#perf-v2');
    await expect(frame.getByTestId('title')).toHaveText('orders-api v2 — dev load (k6 only)');
    const want = inspect('orders-api-v2-k6.perfbundle').k6.metrics.http_req_duration.values['p(95)'];
    await expect(frame.getByTestId('v-http_req_duration-p(95)')).toHaveAttribute('data-value', String(want));
    await shot(page, 'mdbook');
  } finally {
    server.close();
  }
});

// The compare view: v1 (base) against v2 (candidate), as `perfbundle diff` sees them.
const diffJson = (base, cand) => {
  try {
    return JSON.parse(execFileSync(BIN, ['diff', '--json', path.join(ARCH, base), path.join(ARCH, cand)]).toString());
  } catch (e) {
    return JSON.parse(e.stdout.toString()); // exit 1 only when a gate fails; none here
  }
};

test('compare view by URL: the table, verdicts, overlay charts and the differential flame graph agree with perfbundle diff', async ({ page }) => {
  const base = 'orders-api-v1-cpu-prof.perfbundle';
  const cand = 'orders-api-v2-cpu-prof.perfbundle';
  const t0 = Date.now();
  await page.goto(`/?bundle=bundles/${cand}&base=bundles/${base}`);
  await expect(page.getByTestId('compare')).toBeVisible();
  await expect(page.getByTestId('compare-base-title')).toHaveText('orders-api v1 — dev load under cpu-prof');
  await expect(page.getByTestId('compare-candidate-title')).toHaveText('orders-api v2 — dev load under cpu-prof');
  const d = diffJson(base, cand);
  const rows = page.getByTestId('compare-row');
  await expect(rows.first()).toBeVisible();
  metrics.compare_view_ms = Date.now() - t0;
  const n = await rows.count();
  expect(n).toBeGreaterThan(50);
  for (let i = 0; i < n; i++) {
    const row = rows.nth(i);
    const key = await row.getAttribute('data-key');
    const stat = await row.getAttribute('data-stat');
    const m = d.metrics[key];
    expect(m, key).toBeTruthy();
    expect(parseFloat(await row.getByTestId('base-value').getAttribute('data-value')), `${key} ${stat} base`).toBe(m.base[stat]);
    expect(parseFloat(await row.getByTestId('candidate-value').getAttribute('data-value')), `${key} ${stat} cand`).toBe(m.candidate[stat]);
    expect(await row.getAttribute('data-verdict'), `${key} ${stat}`).toBe(m.change[stat].verdict);
  }
  // Worst first: the first rows are the largest changes, and the p(95) improvement is there.
  await expect(page.locator('[data-testid=compare-row][data-key=http_req_duration][data-stat="p(95)"]')).toHaveAttribute('data-verdict', 'improvement');
  await expect(page.getByTestId('compare-threshold')).toContainText('p(95)<250');
  await expect(page.getByTestId('compare-threshold')).toContainText('✗ failed');
  // Every sub-series on demand.
  await page.getByTestId('compare-all').check();
  await expect(page.locator('[data-testid=compare-row][data-key="http_req_duration{expected_response:true}"]').first()).toBeAttached();
  // Overlay charts: base dashed, candidate solid, on time since start.
  const latency = page.getByTestId('compare-chart-latency');
  await expect(latency.locator('path[stroke-dasharray="5 3"]')).toHaveCount(2);
  await expect(latency.locator('path[stroke-dasharray="none"]')).toHaveCount(2);
  await expect(latency).toContainText('0:00');
  // The differential flame graph: drawn, a tooltip with both runs, click zooms.
  const canvas = page.getByTestId('diff-flame-canvas');
  await expect(canvas).toBeVisible();
  // Idle is left out (said once above the graph), so the table leads with the app's code.
  await expect(page.getByTestId('idle-note')).toContainText(/idle [\d.]+% → [\d.]+% of samples, not drawn/);
  await expect(page.getByTestId('top-change').first()).toContainText('RegExp');
  expect((await page.getByTestId('top-change').allInnerTexts()).filter((t) => t.includes('(idle)'))).toEqual([]);
  const box = await canvas.boundingBox();
  // Top-down (the root on the first row), the row under it holds both runs' top frames.
  await canvas.hover({ position: { x: box.width * 0.75, y: 17 * 1.5 } });
  await expect(page.getByTestId('diff-flame-tooltip')).toContainText('base:');
  await expect(page.getByTestId('diff-flame-tooltip')).toContainText('candidate:');
  await canvas.click({ position: { x: box.width * 0.75, y: 17 * 1.5 } });
  await expect(page.getByTestId('diff-crumb')).toHaveCount(2);
  await shot(page, 'compare');
  // The permalink keeps both bundles and the view.
  const url = page.url();
  expect(url).toContain('base=bundles%2Forders-api-v1-cpu-prof.perfbundle');
  expect(url).toContain('view=compare');
  expect(url).toContain('dfocus=');
  await page.goto(url);
  await expect(page.getByTestId('diff-crumb')).toHaveCount(2);
  await expect(page.getByTestId('compare-all')).toBeChecked();
});

test('compare view from a second file opened in the page, and from the runs list', async ({ page }) => {
  await page.goto('/?bundle=bundles/orders-api-v2-k6.perfbundle');
  await expect(page.getByTestId('title')).toBeVisible();
  await page.getByTestId('base-file-input').setInputFiles(path.join(ARCH, 'orders-api-v1-k6.perfbundle'));
  await expect(page.getByTestId('compare-base-title')).toHaveText('orders-api v1 — dev load (k6 only)');
  await expect(page.getByTestId('compare-verdicts')).toContainText('improvements');
  await expect(page.getByTestId('no-pairs')).toContainText('Neither run has a profile');
  // The runs list links each run to the compare view with the run before it.
  await page.goto('/');
  const link = page.getByTestId('compare-link').first();
  await link.click();
  await expect(page.getByTestId('compare')).toBeVisible();
  await expect(page.getByTestId('compare-row').first()).toBeVisible();
  expect(page.url()).toContain('base=');
});

test('compare view shows hostile strings as text, and says when there is nothing to compare', async ({ page }) => {
  await page.goto(`${E2E}/?bundle=bundles/xss.perfbundle&base=bundles/xss.perfbundle`);
  await expect(page.getByTestId('compare-base-title')).toHaveText('<img src=x onerror="window.__xss=1">');
  // A run against itself: nothing changed, every row folded away; unfolded, the rows show.
  await expect(page.getByTestId('no-changes')).toBeVisible();
  await page.getByTestId('compare-same').locator('summary').click();
  await expect(page.getByTestId('compare-row').first()).toBeVisible();
  await page.getByTestId('diff-flame-canvas').hover();
  expect(await page.evaluate(() => window.__xss)).toBeUndefined();
  await page.goto(`${E2E}/?bundle=bundles/k6-only.perfbundle&base=bundles/wide-flame.perfbundle`);
  await expect(page.getByTestId('compare-error')).toContainText('nothing to compare');
});

test('trend: any figure across runs, each point linked to its run, each run to the compare view with the run before', async ({ page }) => {
  await page.goto('/');
  await page.getByTestId('trend-link').click();
  await expect(page).toHaveURL(/view=trend/);
  const rows = page.getByTestId('trend-row');
  await expect(rows).toHaveCount(6);
  // Oldest first: the v1 k6-only run, then the rest by start time.
  await expect(rows.first()).toContainText('orders-api v1 — dev load (k6 only)');
  await expect(rows.last()).toContainText('orders-api v2 — dev load under cpu-prof');
  // One test (the same script) under four setups of profilers (none, 0x, cpu-prof, clinic doctor): a line
  // for each, as a profiler changes the latencies; every run but the first of its setup compares with the one before.
  const files = fs.readdirSync(ARCH).filter((f) => f.endsWith('.perfbundle'));
  const setup = (f) => {
    const j = inspect(f);
    return [...new Set([...j.profiles.map((p) => p.source), ...j.timelines.map((t) => t.source)])].sort().join(',');
  };
  const setups = new Set(files.map(setup));
  expect(setups.size).toBeGreaterThan(1);
  await expect(page.getByTestId('trend-line')).toHaveCount(setups.size);
  await expect(page.getByTestId('trend-compare')).toHaveCount(files.length - setups.size);
  // The default figure, p(95) of http_req_duration: each point is its run's own figure.
  const want = (stat, metric) => Object.fromEntries(files.map((f) => [`bundles/${f}`, inspect(f).k6.metrics[metric].values[stat]]));
  const shown = async () => Object.fromEntries(await page.getByTestId('trend-point').evaluateAll((els) => els.map((e) => [e.dataset.file, Number(e.dataset.value)])));
  await expect.poll(shown).toEqual(want('p(95)', 'http_req_duration'));
  // Distinct labels on the x axis.
  const xs = await page.getByTestId('trend-x-label').allTextContents();
  expect(new Set(xs).size).toBe(xs.length);
  // Any figure: the iteration count.
  await page.getByTestId('trend-metric').selectOption('iterations\u001fcount');
  await expect(page.getByTestId('trend-chart').locator('figcaption')).toContainText('iterations count');
  await expect.poll(shown).toEqual(want('count', 'iterations'));
  await shot(page, 'trend');
  // A point opens its run.
  await page.getByTestId('trend-point').first().click();
  await expect(page.getByTestId('title')).toHaveText('orders-api v1 — dev load (k6 only)');
  await page.goto('/?view=trend');
  await page.getByTestId('trend-compare').last().click();
  await expect(page.getByTestId('compare-candidate-title')).toHaveText('orders-api v2 — dev load under cpu-prof');
  await expect(page.getByTestId('compare-base-title')).toHaveText('orders-api v1 — dev load under cpu-prof');
});

test('a recorded profile follows the range selected on the charts', async ({ page }) => {
  // The overview says how the run was recorded and how the profile's clock was aligned.
  await page.goto(`${E2E}/?bundle=bundles/recorded-cpu-prof.perfbundle`);
  await expect(page.getByTestId('record')).toContainText('profiler: cpu-prof');
  await expect(page.getByTestId('record-alignment')).toContainText('CLOCK_MONOTONIC');
  await expect(page.getByTestId('record-outcome')).toContainText('k6 exit');
  await selectARangeAndCheckTheFlameGraph(page, 'recorded-cpu-prof', 'recorded-range');
});

test('a profile packed afterwards with --align auto follows the range selected on the charts', async ({ page }) => {
  // pack --align auto put the kept .cpuprofile (renamed) on the k6 run's clock.
  const j = JSON.parse(execFileSync(BIN, ['inspect', '--json', path.join(ROOT, 'target/e2e-bundles/aligned-cpu-prof.perfbundle')]).toString());
  expect(j.profiles[0].alignment.status).toBe('aligned');
  expect(j.profiles[0].start_unix_us).not.toBeNull();
  await selectARangeAndCheckTheFlameGraph(page, 'aligned-cpu-prof', 'aligned-range');
});

// Drags across the middle fifth of the request-rate chart, then checks that the
// flame graph shows only the samples taken then, and all of them after a reset.
async function selectARangeAndCheckTheFlameGraph(page, bundle, shotName) {
  await page.goto(`${E2E}/?bundle=bundles/${bundle}.perfbundle&view=charts`);
  const chart = page.getByTestId('chart-request-rate').locator('svg');
  await expect(chart).toBeVisible();
  const box = await chart.boundingBox();
  await page.mouse.move(box.x + box.width * 0.4, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  await expect(page.getByTestId('range')).toContainText('selected');
  await page.getByTestId('tab-profiles').click();
  const note = page.getByTestId('flame-range');
  await expect(note).toContainText('the range selected on the charts');
  const m = (await note.textContent()).match(/(\d+) of (\d+) samples/);
  const [part, all] = [Number(m[1]), Number(m[2])];
  expect(part).toBeGreaterThan(0);
  expect(part).toBeLessThan(all * 0.6);
  await shot(page, shotName);
  await page.getByTestId('flame-range-reset').click();
  await expect(note).not.toContainText('selected on the charts');
}

test('a perf profile is drawn by its events\' periods, or by samples at the switch', async ({ page }) => {
  // What perfbundle export --folded writes (inferno-collapse-perf's output, byte
  // for byte): each stack by period, and with --folded-samples by sample count.
  const bundle = path.join(ROOT, 'target/e2e-bundles/perf-page-faults.perfbundle');
  const stacks = (extra) => {
    const out = fs.mkdtempSync(path.join(require('os').tmpdir(), 'pb-folded-'));
    execFileSync(BIN, ['export', bundle, '--out-dir', path.join(out, 'x'), '--folded', ...extra]);
    const file = fs.readdirSync(path.join(out, 'x')).find((f) => f.endsWith('.folded'));
    const text = fs.readFileSync(path.join(out, 'x', file), 'utf8');
    fs.rmSync(out, { recursive: true });
    return text.trim().split('\n').map((l) => {
      const k = l.lastIndexOf(' ');
      return [l.slice(0, k).split(';'), Number(l.slice(k + 1))];
    });
  };
  const [byWeight, bySamples] = [stacks([]), stacks(['--folded-samples'])];
  const j = JSON.parse(execFileSync(BIN, ['inspect', '--json', bundle]).toString());
  // The hottest function by period whose name is a plain identifier (a substring search finds only it).
  const top = j.profiles[0].top_self.map((f) => f.function).find((f) => /^[A-Za-z_][A-Za-z0-9_]{5,}$/.test(f));
  expect(top).toBeTruthy();
  const cover = (lines) => {
    const t = top.toLowerCase();
    const covered = lines.filter(([frames]) => frames.some((f) => f.toLowerCase().includes(t))).reduce((a, [, n]) => a + n, 0);
    const total = lines.reduce((a, [, n]) => a + n, 0);
    return { covered, total, share: (Math.floor((covered * 10000) / total + 1e-9) / 100).toFixed(2) };
  };
  const w = cover(byWeight);
  const c = cover(bySamples);
  expect(w.total).not.toBe(c.total); // the periods vary: weight and samples differ
  await page.goto(`${E2E}/?bundle=bundles/perf-page-faults.perfbundle&view=profiles`);
  const sw = page.getByTestId('flame-by-weight');
  await expect(sw).toBeChecked();
  await expect(sw.locator('..')).toContainText('event period');
  await page.getByTestId('flame-search').fill(top);
  const fmt = (n) => n.toLocaleString('en-US');
  await expect(page.getByTestId('search-info')).toHaveText(
    `matches cover ${fmt(w.covered)} events (period) of ${fmt(w.total)} events (period) (${w.share}%)`);
  // The function table goes by weight too: its first row is the hottest by period.
  const first = page.getByTestId('function-row').first();
  await expect(first.locator('td').first()).toContainText('events (period)');
  await shot(page, 'perf-by-weight');
  await sw.uncheck();
  await expect(page.getByTestId('search-info')).toHaveText(`matches cover ${c.covered} of ${c.total} samples (${c.share}%)`);
  await expect(first.locator('td').first()).not.toContainText('events');
  // The choice is in the URL.
  expect(page.url()).toContain('by=samples');
  await page.reload();
  await expect(page.getByTestId('flame-by-weight')).not.toBeChecked();
  await expect(page.getByTestId('search-info')).toContainText(`of ${c.total} samples`);
});
