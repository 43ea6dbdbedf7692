// Side-by-side benchmark: the viewer's flame graph against speedscope 1.25 on
// the same profiles, same browser, same machine. Run by scripts/bench-flame.sh,
// which prepares target/bench-flame/{profiles,bundles} and installs speedscope;
// skipped in the normal test run. Per profile and repetition (interleaved):
//  - speedscope, Time Order view (its default) and Left Heavy view (its
//    aggregated flame graph): page.goto start → end of the first
//    animation-frame callback that drew on its WebGL canvas (drawArrays /
//    drawElements) once the flame chart's canvases are in the page with a size;
//  - speedscope search (Left Heavy, opened with Ctrl+F): each of 5 keystrokes,
//    from the `input` event to the end of the next animation-frame callback
//    that drew;
//  - ours (its default flame view): page.goto start → end of the first flame
//    paint (`__pbLastDrawAt` of the first `__pbDraws` paint with rectangles);
//    a zoom click's redraw (`__pbLastDrawMs`); each of 5 keystrokes in the
//    search box, from the `input` event to the end of the next paint.
// Times are `performance.now()` in the page; "from goto" adds the page's
// time origin less Date.now() taken just before page.goto.
// Writes target/bench-flame/results.json and results.md.
const { test } = require('@playwright/test');
const { execFileSync, spawn } = require('child_process');
const fs = require('fs');
const http = require('http');
const path = require('path');

test.skip(!process.env.BENCH_FLAME, 'benchmark: run scripts/bench-flame.sh (BENCH_FLAME=1)');

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'target/release/perfbundle');
const WORK = path.join(ROOT, 'target/bench-flame');
const SPEEDSCOPE = process.env.SPEEDSCOPE_DIR
  || path.join(process.env.HOME, '.cache/perfbundle/speedscope/node_modules/speedscope/dist/release');
const REPS = Number(process.env.BENCH_REPS || 3);
// Free ports, picked when the servers start: speedscope and the raw profiles
// (a static server in this process); `perfbundle view target/bench-flame/bundles`.
let SS_PORT;
let PB_PORT;
const VIEWPORT = { width: 1400, height: 1000 };
const SEARCH = 'parse'; // in every profile here: parserOnHeadersComplete, Parser::OnStreamRead…

// ss: the file speedscope opens (target/bench-flame/profiles); bundle: ours
// (target/bench-flame/bundles). A case whose files are missing is skipped.
const CASES = [
  { id: 'cpu-corpus', what: 'corpus .cpuprofile', ss: 'cpu-corpus.cpuprofile', bundle: 'cpu-corpus.perfbundle' },
  { id: 'cpu-big', what: '62 s .cpuprofile (scripts/record-cpuprofile.sh)', ss: 'cpu-big.cpuprofile', bundle: 'cpu-big.perfbundle' },
  { id: 'perf-320MB', what: '320 MB perf script, timestamps made monotonic', ss: 'perf-big-mono.txt', bundle: 'perf-big-mono.perfbundle' },
  { id: 'perf-folded', what: 'the same stacks as folded (perfbundle export --folded)', ss: 'perf-big.folded', bundle: 'perf-big.perfbundle' },
  // Issue 17's size: 1.57 M samples, 150k distinct stacks (synthetic folded stacks, made by the script).
  { id: 'wide-1.57M', what: 'synthetic folded stacks: 1.57 M samples, 150k stacks', ss: 'wide-1.57M.folded', bundle: 'wide-1.57M.perfbundle' },
  // The 320 MB perf script as bench-profiles.sh makes it (the corpus script
  // repeated, its timestamps too): speedscope's answer, once.
  { id: 'perf-320MB-as-is', what: '320 MB perf script, repeated timestamps', ss: 'perf-big.txt', reps: 1 },
].filter((c) => fs.existsSync(path.join(WORK, 'profiles', c.ss)));

test.use({ viewport: VIEWPORT });
test.setTimeout(60 * 60_000);

let staticServer;
let viewer;
const results = {};

test.beforeAll(async () => {
  // speedscope's dist/release at /, the profiles at /profiles/ (not cached: each run fetches anew).
  staticServer = http.createServer((req, res) => {
    const url = decodeURIComponent(req.url.split(/[?#]/)[0]);
    const file = url.startsWith('/profiles/')
      ? path.join(WORK, 'profiles', path.basename(url))
      : path.join(SPEEDSCOPE, path.normalize(url === '/' ? '/index.html' : url));
    fs.stat(file, (err, st) => {
      if (err || !st.isFile()) { res.writeHead(404); res.end(); return; }
      res.writeHead(200, { 'Access-Control-Allow-Origin': '*', 'Content-Length': st.size, 'Cache-Control': 'no-store' });
      fs.createReadStream(file).pipe(res);
    });
  });
  await new Promise((resolve) => staticServer.listen(0, '127.0.0.1', resolve));
  SS_PORT = staticServer.address().port;
  // `--port 0` picks a free port; the viewer prints its URLs on stdout.
  viewer = spawn(BIN, ['view', path.join(WORK, 'bundles'), '--port', '0', '-q'], { stdio: ['ignore', 'pipe', 'inherit'] });
  PB_PORT = await new Promise((resolve, reject) => {
    let out = '';
    viewer.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/http:\/\/127\.0\.0\.1:(\d+)\//);
      if (m) resolve(Number(m[1]));
    });
    viewer.on('exit', () => reject(new Error(`perfbundle view exited: ${out}`)));
  });
  viewer.stdout.resume();
});

test.afterAll(async () => {
  viewer?.kill();
  staticServer?.close();
  if (Object.keys(results).length) writeResults();
});

// In speedscope's page before its script: times the animation-frame
// callbacks that draw (speedscope draws its canvases in them).
function speedscopeProbe() {
  const ss = (window.__ss = { firstDraw: 0, draws: [], inputAt: [], error: '' });
  let drew = false;
  for (const proto of [WebGLRenderingContext.prototype, WebGL2RenderingContext.prototype]) {
    for (const name of ['drawArrays', 'drawElements']) {
      const f = proto[name];
      proto[name] = function (...args) { drew = true; return f.apply(this, args); };
    }
  }
  // The flame chart's own canvases (its minimap and chart, beside the page-wide WebGL one).
  const flameMounted = () => {
    const c = [...document.querySelectorAll('canvas')];
    return c.length >= 3 && c.every((x) => x.width > 0 && x.height > 0);
  };
  const raf = window.requestAnimationFrame.bind(window);
  window.requestAnimationFrame = (cb) => raf((ts) => {
    drew = false;
    cb(ts);
    if (!drew) return;
    const end = performance.now();
    ss.draws.push(end);
    if (!ss.firstDraw && flameMounted()) ss.firstDraw = end;
  });
  window.addEventListener('input', () => ss.inputAt.push(performance.now()), true);
}

// In our viewer's page before its script: every flame paint, as the viewer
// counts `__pbDraws` up after setting `__pbLastDrawAt`/`__pbLastDrawMs`.
function viewerProbe() {
  const pb = (window.__pbProbe = { paints: [], inputAt: [] });
  let draws = 0;
  Object.defineProperty(window, '__pbDraws', {
    configurable: true,
    get: () => draws,
    set: (v) => {
      draws = v;
      pb.paints.push({ at: window.__pbLastDrawAt, ms: window.__pbLastDrawMs, rects: window.__pbLastDrawRects });
    },
  });
  window.addEventListener('input', () => pb.inputAt.push(performance.now()), true);
}

const sinceGoto = (page, t0, at) => page.evaluate(() => performance.timeOrigin).then((origin) => origin + at - t0);

async function speedscopeRun(browser, file, view, search) {
  const ctx = await browser.newContext({ viewport: VIEWPORT });
  const page = await ctx.newPage();
  await page.addInitScript(speedscopeProbe);
  let consoleError = '';
  page.on('console', (m) => { if (!consoleError && /error/i.test(m.text()) && !/GL Driver/.test(m.text())) consoleError = m.text().split('\n')[0]; });
  const t0 = Date.now();
  await page.goto(`http://127.0.0.1:${SS_PORT}/index.html#profileURL=${encodeURIComponent(`/profiles/${file}`)}${view ? `&view=${view}` : ''}`);
  await page.waitForFunction(() => window.__ss.firstDraw || document.body.innerText.includes('Something went wrong'), null, { timeout: 600_000 });
  const out = {};
  const first = await page.evaluate(() => window.__ss.firstDraw);
  if (!first) {
    out.error = consoleError || 'speedscope: Something went wrong';
  } else {
    out.load = await sinceGoto(page, t0, first);
    if (search) {
      await page.waitForTimeout(500);
      await page.keyboard.press('Control+f');
      await page.waitForFunction(() => document.activeElement?.tagName === 'INPUT', null, { timeout: 60_000 }); // its search box
      await page.waitForTimeout(1000); // let the redraws of opening the search box pass
      out.search = [];
      for (const [k, ch] of [...SEARCH].entries()) {
        await page.keyboard.type(ch);
        const ms = await page.waitForFunction((k) => {
          const ss = window.__ss;
          const t = ss.inputAt[k];
          const end = t && ss.draws.find((d) => d > t);
          return end ? end - t : 0;
        }, k, { timeout: 60_000 }).then((h) => h.jsonValue());
        out.search.push(ms);
        await page.waitForTimeout(400);
      }
    }
  }
  await ctx.close();
  return out;
}

async function viewerRun(browser, bundle) {
  const ctx = await browser.newContext({ viewport: VIEWPORT });
  const page = await ctx.newPage();
  await page.addInitScript(viewerProbe);
  const t0 = Date.now();
  await page.goto(`http://127.0.0.1:${PB_PORT}/?bundle=bundles/${bundle}&view=profiles`);
  const paint = () => page.evaluate(() => window.__pbProbe.paints.length);
  await page.waitForFunction(() => window.__pbProbe.paints.some((p) => p.rects > 0), null, { timeout: 600_000 });
  const first = await page.evaluate(() => window.__pbProbe.paints.find((p) => p.rects > 0).at);
  const out = { load: await sinceGoto(page, t0, first), zoom: [], search: [] };
  await page.waitForTimeout(500);

  // Zoom: click a frame 1, 3, 5 rows from the root ("all": the top row in
  // icicle mode, else the bottom one; rows are 17 px), at 20% of the width
  // (left heavy: the widest frames first); back with the first crumb. The
  // mouse is moved there first so that the hover's repaint is not counted.
  const canvas = page.getByTestId('flame-canvas');
  const icicle = await page.getByTestId('flame-icicle').isChecked();
  for (const row of [1, 3, 5]) {
    await canvas.evaluate((el, icicle) => el.scrollIntoView({ block: icicle ? 'start' : 'end' }), icicle);
    const box = await canvas.boundingBox();
    const y = icicle ? box.y + 17 * row + 8 : box.y + box.height - 17 * row - 8;
    await page.mouse.move(box.x + box.width * 0.2, y);
    await page.waitForTimeout(300);
    const n = await paint();
    await page.mouse.down();
    await page.mouse.up();
    // No frame at that spot (a shallow stack there): no zoom, no figure.
    const zoomed = await page.waitForFunction((n) => window.__pbProbe.paints.length > n, n, { timeout: 5_000 }).then(() => true, () => false);
    if (!zoomed) continue;
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=crumb]').length >= 2, null, { timeout: 5_000 }); // it zoomed
    out.zoom.push(await page.evaluate((n) => window.__pbProbe.paints[n].ms, n));
    await page.waitForTimeout(300);
    await page.getByTestId('crumb').first().click();
    await page.waitForTimeout(300);
  }

  // Search: one character at a time, input event → end of the next paint.
  await page.getByTestId('flame-search').click();
  await page.waitForTimeout(300);
  for (const [k, ch] of [...SEARCH].entries()) {
    const n = await paint();
    await page.keyboard.type(ch);
    // The viewer does not repaint when the matches stay the same ("pars" → "parse" here): null.
    const painted = await page.waitForFunction((n) => window.__pbProbe.paints.length > n, n, { timeout: 5_000 }).then(() => true, () => false);
    out.search.push(painted ? await page.evaluate(([n, k]) => window.__pbProbe.paints[n].at - window.__pbProbe.inputAt[k], [n, k]) : null);
    await page.waitForTimeout(400);
  }
  await ctx.close();
  return out;
}

for (const c of CASES) {
  test(`flame graph: ${c.id}`, async ({ browser }) => {
    results.browser ??= `Chromium ${browser.version()}`;
    const r = (results[c.id] = { ...c, ssTime: [], ssLeft: [], ours: [] });
    if (c.bundle) {
      const j = JSON.parse(execFileSync(BIN, ['inspect', '--json', path.join(WORK, 'bundles', c.bundle)]).toString());
      r.samples = j.profiles[0].total_samples;
    }
    r.bytes = fs.statSync(path.join(WORK, 'profiles', c.ss)).size;
    for (let rep = 0; rep < (c.reps || REPS); rep++) {
      r.ssTime.push(await speedscopeRun(browser, c.ss, null, false));
      if (r.ssTime[rep].error) break; // speedscope could not read it: once is enough
      r.ssLeft.push(await speedscopeRun(browser, c.ss, 'left-heavy', true));
      r.ours.push(await viewerRun(browser, c.bundle));
      console.log(c.id, rep, JSON.stringify({ ss: r.ssTime[rep].load, ssLeft: r.ssLeft[rep], ours: r.ours[rep] }));
    }
  });
}

const median = (xs) => {
  const s = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (x) => (Number.isNaN(x) ? '—' : x >= 100 ? x.toFixed(0) : x.toFixed(1));
const ratio = (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? '—' : `${(a / b).toFixed(2)}×`);

const cases = () => Object.values(results).filter((r) => r.id);

function writeResults() {
  fs.writeFileSync(path.join(WORK, 'results.json'), JSON.stringify(results, null, 1));
  const L = [];
  L.push(`Flame graph: perfbundle viewer vs speedscope 1.25 — ${results.browser}, viewport ${VIEWPORT.width}×${VIEWPORT.height}, medians of ${REPS}, ms`);
  L.push('');
  L.push('| profile | samples | speedscope opens | speedscope Time Order | speedscope Left Heavy | ours | ours / Time Order | ours / Left Heavy |');
  L.push('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of cases()) {
    const err = r.ssTime.find((x) => x.error);
    const ss = median(r.ssTime.map((x) => x.load));
    const left = median(r.ssLeft.map((x) => x.load));
    const ours = median(r.ours.map((x) => x.load));
    const file = `${r.ss} (${(r.bytes / 1e6).toFixed(1)} MB)`;
    L.push(err
      ? `| ${r.id}: ${r.what} | ${r.samples ?? '—'} | ${file} | fails: ${err.error.replace(/\|/g, '/')} | — | — | — | — |`
      : `| ${r.id}: ${r.what} | ${r.samples} | ${file} | ${ms(ss)} | ${ms(left)} | ${ms(ours)} | ${ratio(ours, ss)} | ${ratio(ours, left)} |`);
  }
  L.push('');
  L.push(`Search, typing "${SEARCH}" one key at a time (input event → end of the next paint; speedscope: Left Heavy, Ctrl+F), medians, ms; ours' zoom-click redraw (__pbLastDrawMs)`);
  L.push('');
  L.push(`| profile | ${[...SEARCH].map((ch, k) => `"${SEARCH.slice(0, k + 1)}" ours / speedscope`).join(' | ')} | ours zoom redraw |`);
  L.push(`| --- | ${[...SEARCH].map(() => '---').join(' | ')} | --- |`);
  for (const r of cases()) {
    if (!r.ours.length) continue;
    const cells = [...SEARCH].map((_, k) => {
      const o = median(r.ours.map((x) => x.search[k]));
      const s = median(r.ssLeft.map((x) => x.search?.[k]));
      return `${ms(o)} / ${ms(s)} (${ratio(o, s)})`;
    });
    L.push(`| ${r.id} | ${cells.join(' | ')} | ${ms(median(r.ours.flatMap((x) => x.zoom)))} |`);
  }
  L.push('');
  L.push('—: no repaint within 5 s (ours repaints only when the matches change).');
  L.push('');
  L.push('speedscope: end of the first animation frame that drew on its WebGL canvas once its flame chart is in the page;');
  L.push('ours: end of the first flame paint (`__pbLastDrawAt`); both from the start of page.goto, cold (a new browser context each time).');
  L.push('speedscope splits a perf script by thread and shows the first (here tid 15968, 98% of the samples); ours draws all threads.');
  fs.writeFileSync(path.join(WORK, 'results.md'), `${L.join('\n')}\n`);
}
