'use strict'
// catalog-api 2.1.0 — v2/catalog.js with one route made slower again, on
// purpose: the stock report now lists rows sorted by SKU with a collation per
// comparison (assembleStockReportSorted). Every other route is v2's. The
// pair v2 → v3 has exactly one regressed endpoint, and a function that
// vanished (assembleStockReportBounded) and one that appeared.
//
//   /reports/stock        assembleStockReportSorted: sorts a slice of the rows with
//                         localeCompare(…, 'en', { numeric: true }) — ~5 ms a report
//
// v2's routes:
//
//   /products/search      matchSkusLinear: one pass over each SKU, no regular expression
//   /products/:id/price   countBundleOffersTable: the same count by dynamic programming
//   /products/top         rankByPopularitySorted: Array.prototype.sort
//   /reports/stock        assembleStockReportBounded: no deep copy; keeps the last 20 summaries only
//   POST /orders          sealOrder: crypto.scrypt on libuv's thread pool (the event loop stays free)
//   /inventory/:sku/reserve  reserveWithRetry: one retry, so ~4 % of calls still fail
const crypto = require('crypto')
const { serveCatalog, httpError } = require('../lib/serve.js')

const VERSION = 'v3'

// ---- search -----------------------------------------------------------------
function catalogSkus (q) {
  const skus = []
  for (let i = 0; i < 45; i++) skus.push((q + 'sku' + i).padEnd(16, 'x') + ' !')
  return skus
}

function isSpace (c) {
  return c === 32 || (c >= 9 && c <= 13)
}

function isWordChar (c) {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95
}

// Same answers as v1's regular expression for ASCII SKUs, in one left-to-right pass.
function matchSkusLinear (q) {
  let hits = 0
  for (const sku of catalogSkus(q)) {
    const dash = sku.length - 3
    if (dash < 0 || sku.charCodeAt(dash) !== 45) continue
    const d1 = sku.charCodeAt(dash + 1)
    const d2 = sku.charCodeAt(dash + 2)
    if (!(d1 >= 48 && d1 <= 57 && d2 >= 48 && d2 <= 57)) continue
    let ok = true
    let prevSpace = true
    for (let i = 0; i < dash; i++) {
      const c = sku.charCodeAt(i)
      if (isWordChar(c)) prevSpace = false
      else if (isSpace(c) && !prevSpace) prevSpace = true
      else { ok = false; break }
    }
    if (ok) hits++
  }
  return hits
}

// ---- price ------------------------------------------------------------------
function countBundleOffersTable (qty, largest) {
  const ways = new Array(qty + 1).fill(0)
  ways[0] = 1
  for (let part = 1; part <= largest; part++) {
    for (let total = part; total <= qty; total++) ways[total] += ways[total - part]
  }
  return ways[qty]
}

// ---- top products -----------------------------------------------------------
function popularityTable (n) {
  const rows = []
  let seed = 7
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648
    rows.push({ id: 'p' + i, views: seed % 100000 })
  }
  return rows
}

function rankByPopularitySorted (rows) {
  return rows.slice().sort((a, b) => b.views - a.views)
}

// ---- stock report (memory) ----------------------------------------------------
const recentReports = []

function assembleStockReportSorted (rows) {
  const lines = []
  for (let i = 0; i < rows; i++) lines.push({ sku: 'sku-' + ((i * 7919) % rows).toString(36), onHand: (i * 37) % 500 })
  // The report's first page: a slice of the rows, sorted with a new collator for every comparison.
  const shown = lines.slice(0, Math.ceil(rows / 25))
  shown.sort((a, b) => a.sku.localeCompare(b.sku, 'en', { numeric: true }))
  let onHand = 0
  for (const l of lines) onHand += l.onHand
  recentReports.push({ rows, onHand })
  if (recentReports.length > 20) recentReports.shift()
  return { rows, archived: recentReports.length, first: shown[0].sku }
}

// ---- orders -----------------------------------------------------------------
function sealOrder (orderText) {
  return new Promise((resolve, reject) => {
    crypto.scrypt(orderText, 'catalog-order-salt', 32, { N: 4096 }, (err, key) => (err ? reject(err) : resolve(key.toString('hex'))))
  })
}

// ---- inventory ----------------------------------------------------------------
function askWarehouse (sku) {
  if (Math.random() < 0.2) throw httpError(503, 'warehouse did not answer')
  return { sku, reserved: 1 }
}

function reserveWithRetry (sku) {
  try {
    return askWarehouse(sku)
  } catch (e) {
    return askWarehouse(sku)
  }
}

serveCatalog({
  app: 'catalog-api',
  version: VERSION,
  routes: [
    ['GET', /^\/health$/, () => ({ body: { ok: true, version: VERSION } })],
    ['GET', /^\/products\/search$/, (m, q) => ({ body: { hits: matchSkusLinear(q.get('q') || 'lamp') } })],
    ['GET', /^\/products\/([\w-]+)\/price$/, (m, q) => {
      const qty = Math.min(Number(q.get('qty') || 40), 70)
      return { body: { id: m[1], qty, offers: countBundleOffersTable(qty, qty) } }
    }],
    ['GET', /^\/products\/top$/, (m, q) => {
      const n = Math.min(Number(q.get('n') || 300), 2000)
      return { body: { top: rankByPopularitySorted(popularityTable(n)).slice(0, 5) } }
    }],
    ['GET', /^\/reports\/stock$/, (m, q) => ({ body: assembleStockReportSorted(Math.min(Number(q.get('rows') || 2000), 20000)) })],
    ['POST', /^\/orders$/, async (m, q, text) => ({ status: 201, body: { seal: (await sealOrder(text || '{}')).slice(0, 16) } })],
    ['GET', /^\/inventory\/([\w-]+)\/reserve$/, (m) => ({ body: reserveWithRetry(m[1]) })]
  ]
})
