'use strict'
// catalog-api 1.0.0 — the slow version, on purpose. Each route's cost sits in a
// named function so that profiles point at it; v2/catalog.js fixes every one.
//
//   GET  /health                  cheap: readiness and version
//   GET  /products/search?q=…     matchSkusBacktracking: a regular expression with nested
//                                 quantifiers, tried on SKUs that almost match (catastrophic backtracking)
//   GET  /products/:id/price      countBundleOffers: naive recursion (integer partitions), exponential
//   GET  /products/top?n=…        rankByPopularityBubble: O(n²) bubble sort
//   GET  /reports/stock?rows=…    assembleStockReport: allocates a report, deep-copies it and keeps
//                                 every copy forever (the heap only grows)
//   POST /orders                  sealOrderSync: crypto.scryptSync on the main thread — blocks the event loop
//   GET  /inventory/:sku/reserve  reserveFromWarehouse: the "warehouse" fails 20 % of calls → 503
const crypto = require('crypto')
const { serveCatalog, httpError } = require('../lib/serve.js')

const VERSION = 'v1'

// ---- search -----------------------------------------------------------------
// "words, then -NN": the (\w+\s?)* group can split a run of letters in
// exponentially many ways, and every SKU below fails only at its last character.
const SKU_QUERY = /^(\w+\s?)*-(\d{2})$/

function catalogSkus (q) {
  const skus = []
  for (let i = 0; i < 45; i++) skus.push((q + 'sku' + i).padEnd(16, 'x') + ' !')
  return skus
}

function matchSkusBacktracking (q) {
  let hits = 0
  for (const sku of catalogSkus(q)) if (SKU_QUERY.test(sku)) hits++
  return hits
}

// ---- price ------------------------------------------------------------------
// Number of ways to split a quantity into bundles of at most `largest` items.
function countBundleOffers (qty, largest) {
  if (qty === 0) return 1
  if (qty < 0 || largest === 0) return 0
  return countBundleOffers(qty - largest, largest) + countBundleOffers(qty, largest - 1)
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

function rankByPopularityBubble (rows) {
  const a = rows.slice()
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < a.length - 1 - i; j++) {
      if (a[j].views < a[j + 1].views) {
        const t = a[j]
        a[j] = a[j + 1]
        a[j + 1] = t
      }
    }
  }
  return a
}

// ---- stock report (memory) ----------------------------------------------------
const reportArchive = [] // the bug: never trimmed

function assembleStockReport (rows) {
  const lines = []
  for (let i = 0; i < rows; i++) {
    lines.push({ sku: 'SKU-' + (100000 + i), warehouse: 'W' + (i % 7), onHand: (i * 37) % 500, label: 'item '.repeat(8) + i })
  }
  const copy = JSON.parse(JSON.stringify(lines))
  reportArchive.push(copy)
  return { rows: copy.length, archived: reportArchive.length }
}

// ---- orders (blocks the event loop) ------------------------------------------
function sealOrderSync (orderText) {
  return crypto.scryptSync(orderText, 'catalog-order-salt', 32, { N: 4096 }).toString('hex')
}

// ---- inventory (fails sometimes) ---------------------------------------------
function reserveFromWarehouse (sku) {
  if (Math.random() < 0.2) throw httpError(503, 'warehouse did not answer')
  return { sku, reserved: 1 }
}

serveCatalog({
  app: 'catalog-api',
  version: VERSION,
  routes: [
    ['GET', /^\/health$/, () => ({ body: { ok: true, version: VERSION } })],
    ['GET', /^\/products\/search$/, (m, q) => ({ body: { hits: matchSkusBacktracking(q.get('q') || 'lamp') } })],
    ['GET', /^\/products\/([\w-]+)\/price$/, (m, q) => {
      const qty = Math.min(Number(q.get('qty') || 40), 70)
      return { body: { id: m[1], qty, offers: countBundleOffers(qty, qty) } }
    }],
    ['GET', /^\/products\/top$/, (m, q) => {
      const n = Math.min(Number(q.get('n') || 300), 2000)
      return { body: { top: rankByPopularityBubble(popularityTable(n)).slice(0, 5) } }
    }],
    ['GET', /^\/reports\/stock$/, (m, q) => ({ body: assembleStockReport(Math.min(Number(q.get('rows') || 2000), 20000)) })],
    ['POST', /^\/orders$/, (m, q, text) => ({ status: 201, body: { seal: sealOrderSync(text || '{}').slice(0, 16) } })],
    ['GET', /^\/inventory\/([\w-]+)\/reserve$/, (m) => ({ body: reserveFromWarehouse(m[1]) })]
  ]
})
