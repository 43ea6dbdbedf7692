'use strict'
// Shared HTTP plumbing of the catalog-api demo app (tests/corpus/apps/v1 and v2).
// Each version passes its own route handlers; this module only parses the URL,
// writes JSON, and prints the two lifecycle lines that pair the wall clock with
// CLOCK_MONOTONIC from inside the (profiled) process:
//   {"event":"listening","app":…,"version":…,"pid":…,"port":…,"wall_ms":…,"mono_ns":"…"}
//   {"event":"shutdown","app":…,"version":…,"pid":…,"signal":…,"wall_ms":…,"mono_ns":"…"}
const http = require('http')

const HOST = '127.0.0.1'

function lifecycleLine (event, app, version, extra) {
  // Both readings taken back to back; process.hrtime is CLOCK_MONOTONIC on Linux.
  const mono = process.hrtime.bigint()
  const wall = Date.now()
  const line = Object.assign({ event, app, version, pid: process.pid }, extra, { wall_ms: wall, mono_ns: mono.toString() })
  process.stdout.write(JSON.stringify(line) + '\n')
}

function writeJson (res, status, payload) {
  const text = JSON.stringify(payload)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text)
  })
  res.end(text)
}

// routes: array of [method, RegExp on the path, handler(match, searchParams, bodyText)],
// a handler returning {status, body} or a Promise of it.
function serveCatalog ({ app, version, routes }) {
  const port = Number(process.env.PORT || 18090)

  async function dispatch (req, res, bodyText) {
    const url = new URL(req.url, `http://${HOST}:${port}`)
    for (const [method, pattern, handler] of routes) {
      const m = req.method === method && pattern.exec(url.pathname)
      if (!m) continue
      try {
        const out = await handler(m, url.searchParams, bodyText)
        return writeJson(res, out.status || 200, out.body)
      } catch (err) {
        return writeJson(res, err.statusCode || 500, { error: err.message, version })
      }
    }
    writeJson(res, 404, { error: 'no such route', path: url.pathname })
  }

  const server = http.createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => { dispatch(req, res, Buffer.concat(chunks).toString('utf8')) })
  })
  server.keepAliveTimeout = 30000
  server.listen(port, HOST, () => lifecycleLine('listening', app, version, { port }))

  let stopping = false
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      if (stopping) return
      stopping = true
      lifecycleLine('shutdown', app, version, { signal })
      server.close()
      // Exit now, not when keep-alive sockets drain: node --cpu-prof writes its file on exit.
      process.exit(0)
    })
  }
  return server
}

// An error that becomes an HTTP status other than 500.
function httpError (statusCode, message) {
  const e = new Error(message)
  e.statusCode = statusCode
  return e
}

module.exports = { serveCatalog, httpError }
