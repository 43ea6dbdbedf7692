// The viewer, served by `perfbundle view`, in Debian's chromium (no browser download).
const { defineConfig } = require('@playwright/test');
const bin = '../../target/release/perfbundle';
module.exports = defineConfig({
  testDir: '.',
  timeout: 60_000,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: 'http://127.0.0.1:8799',
    viewport: { width: 1300, height: 1000 },
    launchOptions: {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    },
  },
  webServer: [
    { command: `${bin} view ../../archives --port 8799`, url: 'http://127.0.0.1:8799/', reuseExistingServer: false, timeout: 30_000 },
    { command: `${bin} view ../../target/e2e-bundles --port 8798`, url: 'http://127.0.0.1:8798/', reuseExistingServer: false, timeout: 30_000 },
  ],
});
