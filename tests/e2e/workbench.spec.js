// The flame-graph workbench as a person uses it, in headless Chromium: the
// first screen, left heavy, time order, sandwich, call tree, keyboard, the
// category legend (hide idle), "where was this slow?", and the differential
// flame graph pairing functions whose file moved. Figures are read from the
// tools' own files (V8's .cpuprofile) or from `perfbundle inspect --json` /
// `perfbundle diff --json`, never typed in.
const { test, expect } = require('@playwright/test');
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'target/release/perfbundle');
const BUNDLES = path.join(ROOT, 'target/e2e-bundles');
const E2E = 'http://127.0.0.1:8798';
const shot = (page, name) => page.screenshot({ path: path.join(__dirname, 'test-results', `${name}.png`), fullPage: true });
const run = (args) => JSON.parse(execFileSync(BIN, args).toString());
const inspect = (file) => run(['inspect', '--json', path.join(BUNDLES, file)]);
const open = (page, bundle, extra = '') => page.goto(`${E2E}/?bundle=bundles/${bundle}&view=profiles${extra}`);
const ROW = 17;

// V8's own .cpuprofile of the corpus v1 run: total samples of each function name
// (each sample once), and self samples.
function cpuprofileCounts() {
  const dir = path.join(ROOT, 'tests/corpus/runs/v1/cpu-prof');
  const prof = JSON.parse(fs.readFileSync(path.join(dir, fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile')))));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children || []) parent.set(c, n.id);
  const total = new Map();
  const self = new Map();
  for (const id of prof.samples) {
    const leaf = byId.get(id).callFrame.functionName;
    self.set(leaf, (self.get(leaf) || 0) + 1);
    const seen = new Set();
    for (let p = id; p !== undefined; p = parent.get(p)) seen.add(byId.get(p).callFrame.functionName);
    for (const f of seen) total.set(f, (total.get(f) || 0) + 1);
  }
  return { samples: prof.samples.length, total, self };
}

// After the first paint: how many painted frames lie in the first screen, of how many.
async function firstScreen(page, height) {
  await page.waitForFunction(() => (window.__pbDraws || 0) >= 1);
  await page.waitForTimeout(100);
  const rows = Array.from(await page.evaluate(() => Array.from(window.__pbRowRects)));
  const top = (await page.getByTestId('flame-canvas').boundingBox()).y;
  const visibleRows = Math.max(0, Math.floor((height - top) / ROW));
  const inView = rows.slice(0, visibleRows).reduce((a, b) => a + b, 0);
  const all = rows.reduce((a, b) => a + b, 0);
  return { top, inView, all, rows: rows.length };
}

test('the first screen shows the root and most painted frames (a Clinic.js flame profile)', async ({ page }) => {
  await page.setViewportSize({ width: 1400, height: 1000 });
  const cases = [['corpus-v1-clinic-flame.perfbundle', 'repo']];
  // A held-out Clinic.js flame run (a folder as `perfbundle pack` takes it), when given.
  if (process.env.HELDOUT_CLINIC_FLAME) {
    execFileSync(BIN, ['pack', '-q', '-o', path.join(BUNDLES, 'heldout-clinic-flame.perfbundle'), process.env.HELDOUT_CLINIC_FLAME]);
    cases.push(['heldout-clinic-flame.perfbundle', 'held out']);
  }
  for (const [bundle, what] of cases) {
    await open(page, bundle);
    const s = await firstScreen(page, 1000);
    console.log(`${what}: ${s.inView} of ${s.all} painted frames in the first 1400x1000 screen (canvas top ${s.top}px, ${s.rows} rows)`);
    expect(s.top + ROW, 'the root row is on the first screen').toBeLessThanOrEqual(1000);
    expect(s.inView / s.all).toBeGreaterThanOrEqual(0.75);
    // The root is the first row: hovering it says "all".
    const box = await page.getByTestId('flame-canvas').boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + 8);
    await expect(page.getByTestId('flame-tooltip')).toContainText(/^all — /);
  }
  await shot(page, 'workbench-first-screen');
});

test('left heavy puts the heaviest frames first; by name orders them alphabetically', async ({ page }) => {
  await open(page, 'corpus-v1-cpu-prof.perfbundle', '&by=samples');
  const { total } = cpuprofileCounts();
  const canvas = page.getByTestId('flame-canvas');
  await expect(page.locator('[data-testid=flame-view][data-view=left-heavy]')).toHaveClass(/active/);
  const tipAt = async (fx, row) => {
    const box = await canvas.boundingBox();
    await page.mouse.move(box.x + box.width * fx, box.y + row * ROW + 8);
    return page.getByTestId('flame-tooltip').innerText();
  };
  // Row 1 (under "all"): the leftmost frame is the widest, with the samples V8 counted for it.
  const samplesOf = (tip) => Number(/total ([\d,]+) samples/.exec(tip)[1].replaceAll(',', ''));
  const nameOf = (tip) => tip.split('\n')[0];
  const left = await tipAt(0.005, 1);
  const right = await tipAt(0.995, 1);
  expect(samplesOf(left)).toBeGreaterThanOrEqual(samplesOf(right));
  expect(samplesOf(left)).toBe(total.get(nameOf(left)));
  // By name: the same row in label order.
  await page.locator('[data-testid=flame-view][data-view=flame]').click();
  await expect.poll(() => page.url()).toContain('fview=flame');
  const a = nameOf(await tipAt(0.005, 1));
  const b = nameOf(await tipAt(0.995, 1));
  expect(a.localeCompare(b, 'en', { sensitivity: 'variant' }) <= 0 || a < b).toBe(true);
});

test('time order: the samples over time, zoom to a frame, the minimap, the whole profile', async ({ page }) => {
  await open(page, 'corpus-v1-cpu-prof.perfbundle', '&fview=time-order');
  const canvas = page.getByTestId('time-canvas');
  await expect(canvas).toBeVisible();
  const whole = await page.getByTestId('time-window').innerText();
  // The whole profile spans its duration (inspect: duration_us), within a sample gap.
  const dur = inspect('corpus-v1-cpu-prof.perfbundle').profiles[0].duration_us / 1e6;
  const secs = Number(/– ([\d.]+) s/.exec(whole)[1]);
  expect(Math.abs(secs - dur)).toBeLessThan(0.1);
  // Hover a frame on the first row: its name and how long it was on the stack.
  const box = await canvas.boundingBox();
  let hovered = false;
  for (const fx of [0.1, 0.3, 0.5, 0.7, 0.9]) {
    await page.mouse.move(box.x + box.width * fx, box.y + 8);
    if (await page.getByTestId('time-tooltip').isVisible()) { hovered = true; break; }
  }
  expect(hovered).toBe(true);
  await expect(page.getByTestId('time-tooltip')).toContainText(/m?s from [\d.]+ m?s to/);
  // Click: the window becomes that frame's stretch of time.
  const before = await page.evaluate(() => window.__pbDraws);
  await page.mouse.click(box.x + box.width * 0.5, box.y + 8);
  await expect(page.getByTestId('time-window')).not.toHaveText(whole);
  await expect(page.getByTestId('time-whole')).toBeEnabled();
  expect(await page.evaluate(() => window.__pbDraws)).toBeGreaterThan(before);
  await page.getByTestId('time-whole').click();
  await expect(page.getByTestId('time-window')).toHaveText(whole);
  // Drag across the first tenth of the minimap: the window is that tenth.
  const mini = await page.getByTestId('time-minimap').boundingBox();
  await page.mouse.move(mini.x + 2, mini.y + 5);
  await page.mouse.down();
  await page.mouse.move(mini.x + mini.width * 0.1, mini.y + 5);
  await page.mouse.up();
  const w = /^([\d.]+) (m?s) – ([\d.]+) (m?s)/.exec(await page.getByTestId('time-window').innerText());
  const toS = (v, u) => Number(v) / (u === 'ms' ? 1000 : 1);
  expect(toS(w[3], w[4]) - toS(w[1], w[2])).toBeGreaterThan(dur * 0.08);
  expect(toS(w[3], w[4]) - toS(w[1], w[2])).toBeLessThan(dur * 0.12);
  await shot(page, 'workbench-time-order');
  // A profile without sample times says so.
  await open(page, 'wide-flame.perfbundle', '&fview=time-order');
  await expect(page.getByTestId('no-time-order')).toBeVisible();
});

test('sandwich: the callers and callees of a function from the table, with V8 own totals', async ({ page }) => {
  await open(page, 'corpus-v1-cpu-prof.perfbundle', '&by=samples&fview=sandwich');
  await expect(page.getByTestId('sandwich-empty')).toBeVisible();
  const { samples, total, self } = cpuprofileCounts();
  // Idle is left out (by default): the profile's samples are the others.
  const samplesNoIdle = samples - self.get('(idle)');
  const fmt = (n) => n.toLocaleString('en-US');
  const fn = 'countBundleOffers';
  await page.getByTestId('flame-search').fill(fn);
  await page.getByTestId('function-row').first().click();
  await expect(page.getByTestId('sandwich-title')).toContainText(`${fn} (`);
  await expect(page.getByTestId('sandwich-title')).toContainText(`on the stack in ${fmt(total.get(fn))} samples of ${fmt(samplesNoIdle)} samples`);
  for (const half of ['sandwich-callers', 'sandwich-callees']) {
    const c = page.getByTestId(half);
    await expect(c).toBeVisible();
    expect((await c.boundingBox()).height).toBeGreaterThanOrEqual(2 * ROW);
  }
  // The callers half: the function is the bottom row (under "all"? no: flame, roots at the bottom).
  const callers = await page.getByTestId('sandwich-callers').boundingBox();
  await page.mouse.move(callers.x + callers.width / 2, callers.y + callers.height - ROW - 8);
  await expect(page.getByTestId('sandwich-tooltip')).toContainText(fn);
  await expect(page.getByTestId('sandwich-tooltip')).toContainText(`${fmt(total.get(fn))} samples of the profile's`);
  // The callees half: the function on the row under the root.
  const callees = await page.getByTestId('sandwich-callees').boundingBox();
  await page.mouse.move(callees.x + callees.width / 2, callees.y + ROW + 8);
  await expect(page.getByTestId('sandwich-tooltip')).toContainText(fn);
  await shot(page, 'workbench-sandwich');
  // From a frame: the selected frame's "sandwich" button.
  await page.locator('[data-testid=flame-view][data-view=left-heavy]').click();
  await page.getByTestId('flame-search').fill('');
  await page.getByTestId('function-row').first().click();
  const selected = await page.getByTestId('flame-selected').innerText();
  await page.getByTestId('sandwich-selected').click();
  await expect(page.getByTestId('sandwich-title')).toContainText(selected.split(' · ')[0]);
});

test('call tree: expandable, heaviest first, and inverted', async ({ page }) => {
  await open(page, 'corpus-v1-cpu-prof.perfbundle', '&by=samples&fview=call-tree');
  const { samples, self } = cpuprofileCounts();
  const rows = page.getByTestId('tree-row');
  await expect(rows.first()).toBeVisible();
  // The heaviest path is open: depths 0, 1, 2… down the first rows; totals fall.
  const totals = async () => rows.evaluateAll((els) => els.map((e) => Number(e.dataset.total)));
  expect(await rows.nth(1).getAttribute('data-depth')).toBe('1');
  const first = (await totals())[0];
  expect(first).toBeLessThanOrEqual(samples);
  // Collapse all, then open the first row: its children appear.
  await page.getByTestId('tree-collapse').click();
  const collapsed = await rows.count();
  await rows.first().click();
  await expect.poll(() => rows.count()).toBeGreaterThan(collapsed);
  // Inverted: the first rows are the functions where most samples ended (V8's self counts).
  await page.getByTestId('tree-inverted').check();
  await page.getByTestId('tree-collapse').click();
  const top = [...self.entries()].sort((a, b) => b[1] - a[1])[0];
  await expect(rows.first()).toContainText(top[0]);
  expect((await totals())[0]).toBe(top[1]);
  await shot(page, 'workbench-call-tree');
});

test('keyboard: arrows move between frames, Enter zooms, Escape goes up, / searches', async ({ page }) => {
  await open(page, 'corpus-v1-cpu-prof.perfbundle', '&by=samples');
  const canvas = page.getByTestId('flame-canvas');
  await canvas.focus();
  const sel = page.getByTestId('flame-selected').locator('span').first();
  await page.keyboard.press('ArrowDown');
  const firstChild = await sel.innerText();
  expect(firstChild).not.toContain('all —');
  await page.keyboard.press('ArrowDown');
  const grandChild = await sel.innerText();
  expect(grandChild).not.toBe(firstChild);
  await page.keyboard.press('ArrowUp');
  await expect(sel).toHaveText(firstChild);
  // Across: the next sibling (lighter: left heavy), and back.
  await page.keyboard.press('ArrowRight');
  await expect(sel).not.toHaveText(firstChild);
  await page.keyboard.press('ArrowLeft');
  await expect(sel).toHaveText(firstChild);
  await page.keyboard.press('ArrowDown');
  await expect(sel).toHaveText(grandChild);
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('crumb')).toHaveCount(3);
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('crumb')).toHaveCount(2);
  await page.keyboard.press('Backspace');
  await expect(page.getByTestId('crumb')).toHaveCount(1);
  await page.keyboard.press('/');
  await expect(page.getByTestId('flame-search')).toBeFocused();
});

test('the legend names the colours; idle is left out, its box the same switch as "show idle"', async ({ page }) => {
  await open(page, 'corpus-v1-cpu-prof.perfbundle', '&by=samples');
  const { samples, self } = cpuprofileCounts();
  const idle = self.get('(idle)');
  expect(idle).toBeGreaterThan(0);
  const fmt = (n) => n.toLocaleString('en-US');
  const share = (part, whole) => `${(Math.floor((part * 10000) / whole + 1e-9) / 100).toFixed(2)}%`;
  const item = page.locator('[data-testid=legend-item][data-category=idle]');
  await expect(item).toContainText(`idle ${share(idle, samples)}`);
  await expect(item.locator('input')).not.toBeChecked();
  await expect(page.locator('[data-testid=legend-item][data-category=app]')).toBeVisible();
  const canvas = page.getByTestId('flame-canvas');
  const rootTip = async () => {
    const box = await canvas.boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + 8);
    return page.getByTestId('flame-tooltip').innerText();
  };
  // Left out: the shares are of the other samples, and the search's too.
  await expect.poll(rootTip).toContain(`all — ${fmt(samples - idle)} samples`);
  await page.getByTestId('flame-search').fill('(idle)');
  await expect(page.getByTestId('search-info')).toContainText(`matches cover 0 of ${samples - idle} samples`);
  await shot(page, 'workbench-without-idle');
  // The legend's box draws it, as "show idle" does, and the URL says so.
  await page.getByTestId('flame-search').fill('');
  await item.locator('input').check();
  await expect.poll(rootTip).toContain(`all — ${fmt(samples)} samples`);
  await expect(page).toHaveURL(/idle=1/);
  await expect(page.getByTestId('idle-shown')).toBeVisible();
});

test('where was this slow: a function\'s share of samples over the run, under the k6 charts', async ({ page }) => {
  // A profile aligned to the run's clock.
  await open(page, 'aligned-cpu-prof.perfbundle', '&by=samples');
  await page.getByTestId('function-row').first().click();
  const name = (await page.getByTestId('flame-selected').innerText()).split(' · ')[0];
  await page.getByTestId('where-slow').click();
  const chart = page.getByTestId('chart-function-share');
  await expect(chart).toBeVisible();
  await expect(chart).toContainText(name);
  expect(await chart.locator('path').count()).toBeGreaterThan(0);
  // It sits with the k6 charts, on their time axis.
  await expect(page.getByTestId('chart-latency')).toBeVisible();
  await shot(page, 'workbench-where-slow');
  // A profile not on the run's clock: the button is off, and says why and what to do.
  await open(page, 'corpus-v1-cpu-prof.perfbundle');
  await page.getByTestId('function-row').first().click();
  await expect(page.getByTestId('where-slow')).toBeDisabled();
  await expect(page.getByTestId('where-slow-why')).toContainText('not on the run\'s clock');
});

test('the differential flame graph pairs functions whose file moved (apps/v1 → apps/v2)', async ({ page }) => {
  const base = path.join(BUNDLES, 'corpus-v1-cpu-prof.perfbundle');
  const cand = path.join(BUNDLES, 'corpus-v2-cpu-prof.perfbundle');
  const changes = (mode) => run(['diff', '--json', '--top', '15', '--match', mode, base, cand]).profiles[0].top_changes;
  const moved = changes('name+file').filter((f) => f.base_file);
  expect(moved.length).toBeGreaterThan(0);
  await page.goto(`${E2E}/?bundle=bundles/corpus-v2-cpu-prof.perfbundle&base=bundles/corpus-v1-cpu-prof.perfbundle&view=compare`);
  const rows = page.getByTestId('top-change');
  await expect(rows.first()).toBeVisible();
  // The viewer's table is the CLI's, row for row: a moved function once, both files named.
  const texts = await rows.allInnerTexts();
  const fromCli = changes('name+file');
  expect(texts.length).toBe(fromCli.length);
  fromCli.forEach((f, i) => expect(texts[i]).toContain(f.function));
  for (const f of moved) {
    const row = texts.find((t) => t.includes(`${f.function} (`) && t.includes('→ ' + f.file));
    expect(row, f.function).toBeTruthy();
    expect(texts.filter((t) => t.includes(`\t${f.function} (`)).length).toBe(1);
  }
  // Exact pairing, as `diff --match exact`: a moved function shows as gone plus new.
  await page.getByTestId('diff-match').selectOption('exact');
  const exact = changes('exact');
  await expect(rows).toHaveCount(exact.length);
  const texts2 = await rows.allInnerTexts();
  exact.forEach((f, i) => expect(texts2[i]).toContain(f.function));
  // Search and icicle in the diff view; the tooltip names the moved file.
  await page.getByTestId('diff-match').selectOption('name+file');
  await page.getByTestId('diff-search').fill(moved[0].function);
  await expect(page.getByTestId('diff-icicle')).toBeChecked();
  await shot(page, 'workbench-diff-moved');
});
