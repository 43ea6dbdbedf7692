// Load for the catalog-api demo app (tests/corpus/apps): ~13 s of ramping VUs,
// groups (one nested), checks, custom metrics of all four kinds, a custom
// request tag (`flow`), `name` tags for URLs with ids in them, and a p(95)
// threshold that v1 crosses and v2 keeps. BASE_URL from the environment.
import http from 'k6/http'
import { check, group, sleep } from 'k6'
import { Counter, Gauge, Rate, Trend } from 'k6/metrics'

const BASE = __ENV.BASE_URL || 'http://127.0.0.1:18090'

const searchLatency = new Trend('catalog_search_latency', true)
const reservationsMade = new Counter('reservations_made')
const reservationOk = new Rate('reservation_ok')
const archivedReports = new Gauge('archived_reports')

export const options = {
  stages: [
    { duration: '3s', target: 5 },
    { duration: '7s', target: 12 },
    { duration: '3s', target: 8 },
  ],
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
  thresholds: {
    http_req_duration: ['p(95)<100'],
    reservation_ok: ['rate>0.7'],
  },
}

const isJson = (r) => (r.headers['Content-Type'] || '').indexOf('application/json') === 0

export default function () {
  const health = http.get(`${BASE}/health`)
  check(health, { 'health is 200': (r) => r.status === 200 })

  group('browse', () => {
    group('search', () => {
      const r = http.get(`${BASE}/products/search?q=lamp`, { tags: { flow: 'browse' } })
      searchLatency.add(r.timings.duration)
      check(r, { 'search is 200': (r) => r.status === 200, 'search is json': isJson })
    })
    const id = `p-${__ITER % 25}`
    const price = http.get(`${BASE}/products/${id}/price?qty=50`, {
      tags: { flow: 'browse', name: 'GET /products/:id/price' },
    })
    check(price, { 'price is 200': (r) => r.status === 200 })
    const top = http.get(`${BASE}/products/top?n=500`, { tags: { flow: 'browse' } })
    check(top, { 'top is 200': (r) => r.status === 200 })
  })

  group('buy', () => {
    const order = http.post(`${BASE}/orders`, JSON.stringify({ items: [{ sku: 'SKU-1', qty: 2 }], vu: __VU }), {
      headers: { 'content-type': 'application/json' },
      tags: { flow: 'buy' },
    })
    check(order, { 'order is 201': (r) => r.status === 201 })
    const sku = `SKU-${100 + (__ITER % 50)}`
    const res = http.get(`${BASE}/inventory/${sku}/reserve`, {
      tags: { flow: 'buy', name: 'GET /inventory/:sku/reserve' },
    })
    const ok = res.status === 200
    reservationOk.add(ok)
    if (ok) reservationsMade.add(1)
    check(res, { 'reserve is 200': (r) => r.status === 200 })
  })

  if (__ITER % 3 === 0) {
    const report = http.get(`${BASE}/reports/stock?rows=3000`)
    if (report.status === 200) archivedReports.add(report.json('archived'))
    check(report, { 'report is json': isJson })
  }
  sleep(0.2)
}
