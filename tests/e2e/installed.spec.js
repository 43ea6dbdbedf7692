// What a perfbundle installed with `cargo install --locked --path
// crates/perfbundle-cli` from a fresh clone, the clone deleted, wrote and
// serves from an empty folder (scripts/test-install.sh, run just before by
// scripts/test.sh): the single-file report and the server, in Chromium.
const { test, expect } = require('@playwright/test');
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '../..');
const OUT = path.join(ROOT, 'target', 'install-test');
const BIN = path.join(ROOT, 'target/release/perfbundle');
const ARCH = path.join(ROOT, 'archives');
const inspect = (file) => JSON.parse(execFileSync(BIN, ['inspect', '--json', path.join(ARCH, file)]).toString());
const have = fs.existsSync(path.join(OUT, 'view.url'));

test.describe('the installed binary, clone deleted', () => {
  test.skip(!have, 'run scripts/test-install.sh first (scripts/test.sh does)');

  test('its single-file report opens from file:// with the network off', async ({ page, context }) => {
    await context.setOffline(true);
    await page.goto(`file://${path.join(OUT, 'report.html')}`);
    await expect(page.getByTestId('title')).toHaveText('orders-api v2 — dev load under cpu-prof');
    const want = inspect('orders-api-v2-cpu-prof.perfbundle').k6.metrics.http_reqs.values.count;
    await expect(page.getByTestId('v-http_reqs-count')).toHaveAttribute('data-value', String(want));
    await page.getByTestId('tab-profiles').click();
    await expect(page.getByTestId('flame-canvas')).toBeVisible();
  });

  test('its server serves the viewer and the runs', async ({ page }) => {
    const url = fs.readFileSync(path.join(OUT, 'view.url'), 'utf8').trim();
    await page.goto(url);
    await expect(page.getByTestId('run-link')).toHaveCount(2);
    await page.goto(`${url}?bundle=bundles/orders-api-v1-k6.perfbundle`);
    await expect(page.getByTestId('title')).toHaveText('orders-api v1 — dev load (k6 only)');
    const want = inspect('orders-api-v1-k6.perfbundle').k6.metrics['http_req_duration'].values['p(95)'];
    await expect(page.getByTestId('v-http_req_duration-p(95)')).toHaveAttribute('data-value', String(want));
  });
});
