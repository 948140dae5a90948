import type { PreparedTemplates } from './prepare.js'

/** One line (and one per database left behind) on what a run built, reused and dropped. */
export function reportTemplates(prepared: PreparedTemplates): string {
  const made = prepared.workers.filter((worker) => worker.made)
  const template = prepared.template
  const parts = [
    template
      ? template.made
        ? `template ${template.database} built in ${Math.round(template.ms)} ms`
        : `template ${template.database} reused`
      : 'no template (copy: migrate)',
    made.length === 0
      ? `${prepared.workers.length} worker databases reused`
      : `${made.length} of ${prepared.workers.length} worker databases made ` +
        `(${made[0]?.how}, ${Math.round(made.reduce((sum, w) => sum + w.ms, 0) / made.length)} ms each)`,
  ]
  if (prepared.dropped.length > 0) parts.push(`${prepared.dropped.length} stale dropped`)
  const kept = prepared.kept.map(
    ({ database, reason }) => `\n  stale ${database} left in place: ${reason}`,
  )
  return `sqlsandbox templates (${prepared.server}): ${parts.join('; ')}${kept.join('')}`
}
