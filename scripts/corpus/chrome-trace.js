// usage: node chrome-trace.js PAGE.html OUT.json — records a Chrome DevTools
// Performance trace of the page with Debian's chromium through Playwright's
// browser.startTracing (the same Trace Event JSON the Performance panel
// saves), with the categories that carry V8's CPU samples.
// playwright-core comes from $PLAYWRIGHT_CORE (a path) or node's resolution.
const { chromium } = require(process.env.PLAYWRIGHT_CORE || 'playwright-core');
const path = require('path');

(async () => {
  const [page_html, out] = process.argv.slice(2);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  const page = await browser.newPage();
  await browser.startTracing(page, { path: out, categories: ['devtools.timeline', 'disabled-by-default-v8.cpu_profiler'] });
  await page.goto('file://' + path.resolve(page_html));
  // The page sets its title to "done" after its rounds of work.
  await page.waitForFunction(() => document.title === 'done', null, { timeout: 60000 });
  await browser.stopTracing();
  await browser.close();
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
