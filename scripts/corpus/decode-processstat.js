'use strict'
// usage: node scripts/corpus/decode-processstat.js PROCESSSTAT_FILE > out.ndjson
// Decodes a Clinic.js doctor `<pid>.clinic-doctor-processstat` file (binary:
// uint16 big-endian length + protocol-buffers ProcessStat, repeated) with
// Clinic.js doctor's OWN decoder (@clinic/doctor/format/process-stat-decoder.js,
// found beside the `clinic` on PATH) and prints one JSON object per sample.
const fs = require('fs')
const path = require('path')
const { execFileSync } = require('child_process')

function clinicModules () {
  const bin = execFileSync('sh', ['-c', 'command -v clinic'], { encoding: 'utf8' }).trim()
  let dir = path.dirname(fs.realpathSync(bin))
  while (path.basename(dir) !== 'node_modules') {
    const up = path.dirname(dir)
    if (up === dir) throw new Error(`no node_modules above ${bin}`)
    dir = up
  }
  return dir
}

const file = process.argv[2]
if (!file) {
  console.error('usage: node scripts/corpus/decode-processstat.js PROCESSSTAT_FILE')
  process.exit(2)
}
const modules = clinicModules()
const Decoder = require(path.join(modules, '@clinic', 'doctor', 'format', 'process-stat-decoder.js'))
const doctorVersion = require(path.join(modules, '@clinic', 'doctor', 'package.json')).version
let n = 0
fs.createReadStream(file)
  .pipe(new Decoder())
  .on('data', (sample) => {
    process.stdout.write(JSON.stringify(sample) + '\n')
    n++
  })
  .on('end', () => console.error(`${file}: ${n} samples (decoded by @clinic/doctor ${doctorVersion})`))
  .on('error', (e) => {
    console.error(`${file}: ${e.message}`)
    process.exit(1)
  })
