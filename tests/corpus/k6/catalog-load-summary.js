// catalog-load.js plus a handleSummary() that writes k6's summary data object,
// as given, to the file named by SUMMARY_JSON_FILE (default handle-summary.json).
import load, { options as loadOptions } from './catalog-load.js'

export const options = loadOptions
export default load

export function handleSummary(data) {
  const file = __ENV.SUMMARY_JSON_FILE || 'handle-summary.json'
  return {
    [file]: JSON.stringify(data, null, 2),
    stdout: `handleSummary: wrote ${file}\n`,
  }
}
