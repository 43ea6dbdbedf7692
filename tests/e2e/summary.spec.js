// The overview against k6's own end-of-test summary of the same run: every
// metric and figure (summary-export.json), every check with its counts, every
// threshold with the value it read and rates phrased as k6 prints them (k6's
// console text); a phone-sized viewport; the warning on comparing two
// different tests. Bundles: tests/e2e/make-bundles.sh (the corpus's catalog-api
// v1 and v2 runs, their k6 point streams only, so every figure is perfbundle's).
const { test, expect } = require('@playwright/test');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '../..');
const E2E = 'http://127.0.0.1:8798';
// Another run can be checked the same way (a held-out one, e.g. ../shared/corpus):
// SUMMARY_RUN=DIR (with k6.json.gz, summary-export.json, k6-console.txt) and
// SUMMARY_BUNDLE=NAME, its k6.json.gz packed into target/e2e-bundles/NAME.
const RUN = process.env.SUMMARY_RUN || path.join(ROOT, 'tests/corpus/runs/v1/cpu-prof');
const RUN_BUNDLE = process.env.SUMMARY_BUNDLE || 'catalog-v1-k6.perfbundle';
const shot = (page, name) => page.screenshot({ path: path.join(__dirname, 'test-results', `${name}.png`), fullPage: true });

// k6's summary-export.json: metric → { key: value } in k6's summary keys. A
// rate's `value` is its rate; the `thresholds` map is not a figure.
function k6Figures() {
  const j = JSON.parse(fs.readFileSync(path.join(RUN, 'summary-export.json')));
  const out = {};
  for (const [metric, m] of Object.entries(j.metrics)) {
    const isRate = 'passes' in m;
    out[metric] = {};
    for (const [k, v] of Object.entries(m)) {
      if (k === 'thresholds') continue;
      out[metric][isRate && k === 'value' ? 'rate' : k] = v;
    }
  }
  return { figures: out, root: j.root_group };
}

// k6's end-of-test text (k6-console.txt): the thresholds as `{ metric, ok,
// expr, observed }` and the rate lines as `metric → "2.89% 28 out of 967"`.
function k6Text() {
  const text = fs.readFileSync(path.join(RUN, 'k6-console.txt'), 'utf8');
  const block = text.slice(text.indexOf('█ THRESHOLDS'), text.indexOf('█ TOTAL RESULTS'));
  const thresholds = [];
  let metric = null;
  for (const line of block.split('\n').slice(1)) {
    const t = line.match(/^\s+([✓✗]) '(.+)' (\S+)$/);
    if (t) thresholds.push({ metric, ok: t[1] === '✓', expr: t[2], observed: t[3] });
    else if (/^\s+\S+$/.test(line)) metric = line.trim();
  }
  const rates = {};
  for (const m of text.matchAll(/^\s+(\w+)\.+: ([\d.]+%)\s+(\d+) out of (\d+)\s*$/gm)) rates[m[1]] = `${m[2]} — ${m[3]} out of ${m[4]}`;
  // The metric sections of TOTAL RESULTS: a heading in capitals, then its metrics' lines.
  const sections = {};
  let section = null;
  for (const line of text.slice(text.indexOf('█ TOTAL RESULTS')).split('\n').slice(1)) {
    const h = line.match(/^ {4}([A-Z]+)\s*$/);
    const m = line.match(/^ {4}(\w+)\.+:/);
    if (h) section = h[1];
    else if (m && section && !m[1].startsWith('checks_')) (sections[section] = sections[section] || []).push(m[1]);
  }
  return { thresholds, rates, sections };
}

// summary-export.json keeps a group's checks and groups as objects keyed by name.
const members = (x) => Object.values(x || {});
function checksOf(g, out = []) {
  for (const c of members(g.checks)) out.push(c);
  for (const sub of members(g.groups)) checksOf(sub, out);
  return out;
}

test('the overview shows every metric and figure of k6\'s own summary, checks and thresholds', async ({ page }) => {
  await page.goto(`${E2E}/?bundle=bundles/${RUN_BUNDLE}`);
  await expect(page.getByTestId('summary-table')).toBeVisible();
  const { figures, root } = k6Figures();
  // Every metric and figure, counts exact, avg/min/max/value to float rounding, the rest within 1%.
  const cells = await page.locator('[data-testid^="v-"]').evaluateAll((els) =>
    Object.fromEntries(els.map((e) => [e.dataset.testid, e.dataset.value])));
  let compared = 0;
  for (const [metric, keys] of Object.entries(figures)) {
    for (const [k, want] of Object.entries(keys)) {
      const id = `v-${metric}-${k}`;
      expect(cells[id], `${id} is shown`).toBeDefined();
      const got = parseFloat(cells[id]);
      if (['count', 'passes', 'fails'].includes(k)) expect(got, id).toBe(want);
      else if (['avg', 'min', 'max', 'value'].includes(k)) expect(Math.abs(got - want), id).toBeLessThanOrEqual(Math.abs(want) * 1e-9);
      else expect(Math.abs(got - want), id).toBeLessThanOrEqual(Math.abs(want) * 0.01);
      compared++;
    }
  }
  expect(compared, "figures compared").toBeGreaterThan(40);
  // Sections as k6's own end-of-test text groups them, custom metrics included.
  const { sections } = k6Text();
  expect(Object.keys(sections)).toEqual(expect.arrayContaining(['HTTP', 'EXECUTION', 'NETWORK']));
  for (const [section, names] of Object.entries(sections)) {
    for (const metric of names) await expect(page.getByTestId(`summary-${section}`).locator(`[data-series="${metric}"]`), `${section} ${metric}`).toHaveCount(1);
  }
  // Every check of every group, with its passes and fails.
  const checks = checksOf(root);
  expect(checks.length).toBeGreaterThan(0);
  const shown = await page.getByTestId('check').evaluateAll((els) => Object.fromEntries(els.map((e) => [e.dataset.path, {
    passes: Number(e.querySelector('[data-testid=check-passes]').dataset.value),
    fails: Number(e.querySelector('[data-testid=check-fails]').dataset.value),
    failed: e.classList.contains('fail'),
  }])));
  for (const c of checks) expect(shown[c.path], c.path).toEqual({ passes: c.passes, fails: c.fails, failed: c.fails > 0 });
  const groups = (g) => members(g.groups).reduce((n, sub) => n + 1 + groups(sub), 0);
  await expect(page.getByTestId('check-group')).toHaveCount(groups(root));
  // Each threshold with the value it read, as k6 printed it.
  const { thresholds, rates } = k6Text();
  expect(thresholds.length).toBeGreaterThan(0);
  const ths = page.getByTestId('threshold');
  await expect(ths).toHaveCount(thresholds.length);
  for (const t of thresholds) {
    const li = ths.filter({ has: page.locator(`code:text-is("${t.expr}")`) }).and(page.locator(`[data-metric="${t.metric}"]`));
    await expect(li).toHaveClass(t.ok ? /pass/ : /fail/);
    await expect(li.getByTestId('threshold-value')).toHaveText(t.observed);
  }
  // Rates as k6 phrases them: "2.89% — 28 out of 967", never passes=… fails=….
  expect(Object.keys(rates)).toEqual(expect.arrayContaining(['http_req_failed', 'checks_succeeded']));
  for (const [metric, phrase] of Object.entries(rates)) {
    const where = metric.startsWith('checks_') ? page.getByTestId('check-totals').locator('tr', { hasText: metric }) : page.locator(`[data-series="${metric}"]`);
    const text = (await where.locator('td.figs').innerText()).trim().replace(/(\d),(\d)/g, '$1$2');
    expect(text, metric).toBe(phrase);
  }
  await expect(page.getByTestId('summary-table')).not.toContainText('passes=');
  // The key charts lead the overview.
  for (const id of ['request-rate', 'latency', 'failure-rate', 'vus']) {
    await expect(page.getByTestId('key-charts').locator(`[data-testid=chart-${id}] path`).first()).toBeVisible();
  }
  await shot(page, 'overview-summary');
});

test('the Charts tab has every chart and no summary above them', async ({ page }) => {
  await page.goto(`${E2E}/?bundle=bundles/${RUN_BUNDLE}&view=charts`);
  const custom = (k6Text().sections.CUSTOM || []).map((m) => `custom-${m}`);
  if (!process.env.SUMMARY_RUN) expect(custom.length, 'the corpus script has custom metrics').toBeGreaterThan(0);
  for (const id of ['request-rate', 'latency', 'iteration-duration', 'data', 'request-phases', ...custom]) {
    await expect(page.getByTestId(`chart-${stem(id)}`)).toBeVisible();
    expect(await page.locator(`[data-testid=chart-${stem(id)}] path`).count(), id).toBeGreaterThan(0);
  }
  await expect(page.getByTestId('charts').getByTestId('summary-table')).toHaveCount(0);
  // http_req_duration's parts stacked (sending, waiting, receiving): an area each under its top edge;
  // the connection's setup apart.
  await expect(page.locator('[data-testid=chart-request-phases] .legend-item')).toHaveCount(3);
  await expect(page.locator('[data-testid=chart-request-phases] path.area')).toHaveCount(3);
  await expect(page.locator('[data-testid=chart-connection-setup] path.area')).toHaveCount(0);
  await expect(page.locator('[data-testid=chart-connection-setup] .legend-item')).toHaveCount(3);
});

// render::charts::stem: a file-name-safe id.
function stem(s) {
  return s.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 60).replace(/^-+|-+$/g, '');
}

test('at 390 px wide no page scrolls sideways', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  const pages = [
    ['overview', '/?bundle=bundles/catalog-v1-k6.perfbundle', 'summary-table'],
    ['charts', '/?bundle=bundles/catalog-v1-k6.perfbundle&view=charts', 'chart-latency'],
    ['profiles', '/?bundle=bundles/corpus-v1-cpu-prof.perfbundle&view=profiles', 'flame-search'],
    ['compare', '/?bundle=bundles/catalog-v2-k6.perfbundle&base=bundles/catalog-v1-k6.perfbundle&view=compare', 'compare-verdicts'],
    ['runs', '/', 'runs'],
  ];
  for (const [name, url, testid] of pages) {
    await page.goto(`${E2E}${url}`);
    await expect(page.getByTestId(testid).first()).toBeVisible();
    const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
    expect(scroll, `${name}: page width ${scroll} in a ${client} px viewport`).toBeLessThanOrEqual(client);
    await shot(page, `phone-${name}`);
  }
});

test('comparing two different tests warns; v1 against v2 of one test does not', async ({ page }) => {
  await page.goto(`${E2E}/?bundle=bundles/catalog-v2-k6.perfbundle&base=bundles/catalog-v1-k6.perfbundle&view=compare`);
  await expect(page.getByTestId('compare-verdicts')).toBeVisible();
  await expect(page.getByTestId('unrelated-runs')).toHaveCount(0);
  await shot(page, 'compare-related');
  await page.goto(`${E2E}/?bundle=bundles/catalog-v1-k6.perfbundle&base=bundles/k6-only.perfbundle&view=compare`);
  await expect(page.getByTestId('unrelated-runs')).toBeVisible();
  await expect(page.getByTestId('unrelated-runs')).toContainText('different tests');
  await shot(page, 'compare-unrelated');
  // The runs list offers "vs the run before" only within one test.
  await page.goto(`${E2E}/`);
  const row = (title) => page.locator('tr', { has: page.getByTestId('run-link').getByText(title, { exact: true }) });
  // Its base is a run of the catalog-api script (the corpus's runs, or one packed from their files).
  await expect(row('catalog-api v2 (k6 stream)').getByTestId('compare-link')).toHaveAttribute('href', /base=bundles\/(catalog-v1-k6|corpus-v[12]-cpu-prof|corpus-v1-clinic-flame|timeline-apart)\.perfbundle$/);
  await expect(row('orders-api v1 — dev load (k6 only)').getByTestId('compare-link')).toHaveCount(0);
});

test('a Clinic timeline recorded during another run is named, not drawn as empty charts', async ({ page }) => {
  await page.goto(`${E2E}/?bundle=bundles/timeline-apart.perfbundle&view=charts`);
  await expect(page.getByTestId('timeline-outside')).toContainText('do not overlap the k6 run');
  await expect(page.getByTestId('chart-timeline-0-cpu')).toHaveCount(0);
  await expect(page.locator('[data-testid=chart-request-rate] path').first()).toBeVisible();
});

test('charts: the time under the pointer beside the values, ticks at round times, the sub-series in the title', async ({ page }) => {
  await page.goto(`${E2E}/?bundle=bundles/catalog-v1-k6.perfbundle&view=charts`);
  const svg = page.locator('[data-testid=chart-latency] svg');
  await expect(svg.locator('path').first()).toBeVisible();
  const box = await svg.boundingBox();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
  await expect(page.locator('[data-testid=chart-latency] [data-testid=hover-time]')).toHaveText(/^\d\d:\d\d:\d\d/);
  // A 13 s run: ticks every 2 s, on even seconds.
  const ticks = await page.locator('[data-testid=chart-latency] text.tick').allTextContents();
  const times = ticks.filter((t) => /^\d\d:\d\d:\d\d$/.test(t));
  expect(times.length).toBeGreaterThanOrEqual(4);
  for (const t of times) expect(Number(t.slice(-2)) % 2, t).toBe(0);
});

test('an embed shows its run\'s title and grows with its content: the page scrolls, not the frame', async ({ page }) => {
  const src = `${E2E}/?bundle=bundles/corpus-v1-cpu-prof.perfbundle&embed=1&view=profiles`;
  await page.setContent(`<h1>Notes</h1><iframe id="f" src="${src}" style="width:100%;border:0;height:600px"></iframe>
    <script>addEventListener('message', (e) => { if (e.data && e.data.perfbundleHeight) document.getElementById('f').style.height = e.data.perfbundleHeight + 'px'; });</script>`);
  const frame = page.frameLocator('#f');
  await expect(frame.getByTestId('embed-title')).toHaveText('catalog-api v1 under cpu-prof');
  await expect(frame.getByTestId('function-row').first()).toBeVisible();
  // The profile view is taller than any fixed cap: the frame is as tall as the viewer's page.
  const inner = () => page.frames()[1].evaluate(() => document.documentElement.scrollHeight);
  await expect.poll(async () => (await page.locator('#f').boundingBox()).height - (await inner()), { timeout: 10_000 }).toBe(0);
  expect(await inner()).toBeGreaterThan(1500);
});

test('the compare page leads with the verdict: thresholds with their values, then what changed, the rest folded', async ({ page }) => {
  const { execFileSync } = require('child_process');
  const BIN = path.join(ROOT, 'target/release/perfbundle');
  const B = path.join(ROOT, 'target/e2e-bundles');
  const d = JSON.parse(execFileSync(BIN, ['diff', '--json', path.join(B, 'catalog-v1-k6.perfbundle'), path.join(B, 'catalog-v2-k6.perfbundle')]).toString());
  await page.goto(`${E2E}/?bundle=bundles/catalog-v2-k6.perfbundle&base=bundles/catalog-v1-k6.perfbundle&view=compare`);
  // Thresholds first, each side with the value it read and its verdict.
  const th = page.getByTestId('compare-threshold');
  await expect(th).toHaveCount(d.thresholds.length);
  const p95 = d.thresholds.find((t) => t.metric === 'http_req_duration');
  const row = th.filter({ hasText: p95.expr });
  await expect(row).toContainText(p95.base ? '✓ passed' : '✗ failed');
  await expect(row).toContainText(p95.candidate ? '✓ passed' : '✗ failed');
  await expect(row.locator('.observed').first()).toHaveText(/^p\(95\)=\d/);
  const y = async (id) => (await page.getByTestId(id).boundingBox()).y;
  expect(await y('compare-thresholds')).toBeLessThan(await y('compare-table'));
  // Then the significant changes only, as the diff decided them; the others folded away.
  const rank = (v) => (v === 'regression' ? 0 : 1);
  let changed = 0;
  let same = 0;
  for (const [key, m] of Object.entries(d.metrics)) {
    if (m.origin !== 'metric' && !d.thresholds.some((t) => t.metric === key)) continue;
    for (const c of Object.values(m.change)) c.verdict === 'same' ? same++ : changed++;
  }
  const rows = page.getByTestId('compare-table').getByTestId('compare-row');
  await expect(rows).toHaveCount(changed);
  const verdicts = await rows.evaluateAll((els) => els.map((e) => e.dataset.verdict));
  expect(verdicts).toEqual([...verdicts].sort((a, b) => rank(a) - rank(b)));
  // Grouped by metric: within a verdict, each metric's rows are together.
  const groups = await rows.evaluateAll((els) => els.map((e) => `${e.dataset.verdict} ${e.dataset.key}`));
  const seen = new Set();
  groups.forEach((g, i) => {
    if (i > 0 && groups[i - 1] === g) return;
    expect(seen.has(g), `${g} comes back after other rows`).toBe(false);
    seen.add(g);
  });
  expect(same, 'v1 and v2 share figures that did not change').toBeGreaterThan(0);
  await expect(page.getByTestId('compare-same').locator('summary')).toContainText(`${same} figures with no significant change`);
  await expect(page.getByTestId('compare-same').getByTestId('compare-row')).toHaveCount(same);
  await expect(page.getByTestId('compare-same').getByTestId('compare-row').first()).toBeHidden();
  // The filter narrows the rows; the columns sort.
  await page.getByTestId('compare-filter').fill('http_req_duration');
  const keys = await rows.evaluateAll((els) => els.map((e) => e.dataset.key));
  expect(keys.length).toBeGreaterThan(0);
  for (const k of keys) expect(k).toContain('http_req_duration');
  await page.getByTestId('compare-filter').fill('');
  await page.getByTestId('sort-metric').click();
  const sorted = await rows.evaluateAll((els) => els.map((e) => e.dataset.key));
  expect(sorted).toEqual([...sorted].sort());
  // A link down to the differential flame graph's section.
  await expect(page.getByTestId('to-diff-flame')).toHaveAttribute('href', '#compare-profiles');
  await shot(page, 'compare-verdict-first');
});

test('the trend keeps runs of different tests apart, and fits a phone', async ({ page }) => {
  await page.goto(`${E2E}/?view=trend`);
  await expect(page.getByTestId('trend-view')).toBeVisible();
  // catalog-api (the corpus's runs and a recording of its script) and orders-api are different tests.
  const lines = page.getByTestId('trend-line');
  expect(await lines.count()).toBeGreaterThanOrEqual(2);
  const fileOf = async (i) => lines.nth(i).getByTestId('trend-point').evaluateAll((els) => els.map((e) => e.dataset.file));
  const groups = [];
  for (let i = 0; i < await lines.count(); i++) groups.push(await fileOf(i));
  const catalog = groups.find((g) => g.includes('bundles/catalog-v1-k6.perfbundle'));
  expect(catalog).toContain('bundles/catalog-v2-k6.perfbundle');
  expect(catalog).not.toContain('bundles/k6-only.perfbundle');
  await page.setViewportSize({ width: 390, height: 844 });
  await expect(page.getByTestId('trend-chart')).toBeVisible();
  const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  expect(scroll, `trend: page width ${scroll} in a ${client} px viewport`).toBeLessThanOrEqual(client);
  await shot(page, 'phone-trend');
});
