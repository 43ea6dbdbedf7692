// The <perfbundle-viewer> web component (perfbundle-viewer.js, in the built
// viewer): the snippet of docs/embedding.md in a plain page on another path,
// and the mdBook example's element.md page; each holds a run and a comparison,
// checked against `perfbundle inspect` and `perfbundle diff`.
const { test, expect } = require('@playwright/test');
const { execFileSync } = require('child_process');
const fs = require('fs');
const http = require('http');
const path = require('path');

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'target/release/perfbundle');
const ARCH = path.join(ROOT, 'archives');
const V1 = 'orders-api-v1-k6.perfbundle';
const V2 = 'orders-api-v2-k6.perfbundle';
const inspect = (file) => JSON.parse(execFileSync(BIN, ['inspect', '--json', path.join(ARCH, file)]).toString());
const diffJson = () => {
  try {
    return JSON.parse(execFileSync(BIN, ['diff', '--json', path.join(ARCH, V1), path.join(ARCH, V2)]).toString());
  } catch (e) {
    return JSON.parse(e.stdout.toString());
  }
};
const shot = (page, name) => page.screenshot({ path: path.join(__dirname, 'test-results', `${name}.png`), fullPage: true });

async function staticServer(dir, base) {
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent(req.url.split('?')[0]);
    if (!url.startsWith(base)) { res.writeHead(404); return res.end(); }
    let rel = url.slice(base.length);
    if (rel === '' || rel.endsWith('/')) rel += 'index.html';
    const file = path.join(dir, rel);
    if (rel.includes('..') || !fs.existsSync(file) || fs.statSync(file).isDirectory()) { res.writeHead(404); return res.end(); }
    const type = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css', '.json': 'application/json' }[path.extname(file)] || 'application/octet-stream';
    res.writeHead(200, { 'content-type': type });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${server.address().port}${base}` };
}

// A run and a comparison, each in its own element, each with its own state.
async function checkRunAndComparison(page) {
  const run = page.locator('perfbundle-viewer#run-v2');
  const cmp = page.locator('perfbundle-viewer#v1-v2');
  await expect(run.getByTestId('title')).toHaveText('orders-api v2 — dev load (k6 only)');
  const j = inspect(V2).k6.metrics;
  await expect(run.getByTestId('v-http_reqs-count')).toHaveAttribute('data-value', String(j.http_reqs.values.count));
  await expect(run.getByTestId('v-http_req_duration-p(95)')).toHaveAttribute('data-value', String(j.http_req_duration.values['p(95)']));
  // The comparison opens on the compare view, with perfbundle diff's figures and verdict.
  await expect(cmp.getByTestId('compare-base-title')).toHaveText('orders-api v1 — dev load (k6 only)');
  await expect(cmp.getByTestId('compare-candidate-title')).toHaveText('orders-api v2 — dev load (k6 only)');
  const d = diffJson().metrics.http_req_duration;
  const row = cmp.locator('[data-testid=compare-row][data-key=http_req_duration][data-stat="p(95)"]');
  await expect(row.getByTestId('base-value')).toHaveAttribute('data-value', String(d.base['p(95)']));
  await expect(row.getByTestId('candidate-value')).toHaveAttribute('data-value', String(d.candidate['p(95)']));
  await expect(row).toHaveAttribute('data-verdict', d.change['p(95)'].verdict);
  // Embedded: no header; the page's URL is never rewritten; one element's tabs leave the other alone.
  await expect(run.locator('header.top')).toBeHidden();
  const before = page.url();
  await run.getByTestId('tab-charts').click();
  await expect(run.locator('[data-testid=chart-request-rate] path').first()).toBeVisible();
  await expect(cmp.getByTestId('compare')).toBeVisible();
  await expect(run.getByTestId('compare')).toHaveCount(0);
  expect(page.url()).toBe(before);
  // Sized by the page: as wide as its container.
  const [w, parent] = await run.evaluate((el) => [el.getBoundingClientRect().width, el.parentElement.getBoundingClientRect().width]);
  expect(Math.abs(w - parent)).toBeLessThan(2);
  // In shadow roots: the page's styles do not reach the viewer's elements.
  expect(await run.evaluate((el) => el.shadowRoot !== null && document.querySelectorAll('[data-testid=title]').length === 0)).toBe(true);
}

test('<perfbundle-viewer>: the docs snippet in a plain page on another path, a run and a comparison', async ({ page }) => {
  const site = path.join(__dirname, 'test-results', 'element-site');
  fs.rmSync(site, { recursive: true, force: true });
  fs.mkdirSync(path.join(site, 'guide'), { recursive: true });
  fs.cpSync(path.join(ROOT, 'dist'), path.join(site, 'perf', 'viewer'), { recursive: true });
  fs.mkdirSync(path.join(site, 'perf', 'runs'), { recursive: true });
  fs.copyFileSync(path.join(ARCH, V1), path.join(site, 'perf', 'runs', 'v1.perfbundle'));
  fs.copyFileSync(path.join(ARCH, V2), path.join(site, 'perf', 'runs', 'v2.perfbundle'));
  const doc = fs.readFileSync(path.join(ROOT, 'docs', 'embedding.md'), 'utf8');
  const start = doc.indexOf('```html\n<!-- the viewer at /perf/viewer/, the bundles at /perf/runs/');
  expect(start, 'the <perfbundle-viewer> snippet of docs/embedding.md').toBeGreaterThan(0);
  const from = start + '```html\n'.length;
  const snippet = doc.slice(from, doc.indexOf('\n```', from)).replaceAll('"/perf/', '"../perf/');
  // Hostile page styles: none of them may reach the viewer.
  const css = '<style>* { color: rgb(255, 0, 0); } h1 { font-size: 60px; } table, section { display: none !important; } body { max-width: 900px; }</style>';
  fs.writeFileSync(path.join(site, 'guide', 'page.html'), `<!doctype html><meta charset="utf-8">${css}<h1>Guide</h1><div>${snippet}</div>`);
  const { server, url } = await staticServer(site, '/docs/');
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  try {
    await page.goto(`${url}guide/page.html`);
    await checkRunAndComparison(page);
    await page.locator('perfbundle-viewer#run-v2').getByTestId('tab-overview').click();
    const title = page.locator('perfbundle-viewer#run-v2').getByTestId('title');
    expect(await title.evaluate((e) => getComputedStyle(e).color)).not.toBe('rgb(255, 0, 0)');
    expect(await title.evaluate((e) => getComputedStyle(e).fontSize)).not.toBe('60px');
    await expect(page.locator('perfbundle-viewer#v1-v2').locator('table').first()).toBeVisible();
    // An attribute change re-renders that element only.
    await page.locator('perfbundle-viewer#run-v2').evaluate((el) => el.setAttribute('src', '../perf/runs/v1.perfbundle'));
    await expect(page.locator('perfbundle-viewer#run-v2').getByTestId('title')).toHaveText('orders-api v1 — dev load (k6 only)');
    await expect(page.locator('perfbundle-viewer#v1-v2').getByTestId('compare')).toBeVisible();
    expect(errors).toEqual([]);
    await shot(page, 'element-plain-page');
  } finally {
    server.close();
  }
});

test('<perfbundle-viewer> in the mdBook example: a run and a comparison', async ({ page }) => {
  const book = path.join(ROOT, 'target', 'book');
  expect(fs.existsSync(path.join(book, 'element.html')), 'scripts/test.sh builds examples/mdbook into target/book').toBe(true);
  const { server, url } = await staticServer(book, '/notes/');
  try {
    await page.goto(`${url}element.html`);
    await checkRunAndComparison(page);
    await shot(page, 'element-mdbook');
  } finally {
    server.close();
  }
});
