// What an operator reads: the plan of a dry run, progress while a run goes (a cli-progress bar on a
// terminal, plain lines otherwise) and the final report.
import cliProgress from 'cli-progress'
import type { FleetPlan } from './plan.js'
import type { FleetReport } from './run.js'

const MAX_LISTED = 50

/** Plain text of a plan: servers, groups with counts, pending versions per tenant. */
export function formatPlan (plan: FleetPlan): string {
  const { options } = plan
  const lines = [`plan: ${options.direction === 'up' ? 'migrate up to' : 'roll back to'} ${options.target}`]
  lines.push(`servers (templates first): ${plan.servers.map((s) => `${s.name} ${s.templateVersion}${s.pending.length > 0 ? ` -> ${options.target} [${s.pending.join(', ')}]` : ' (current)'}`).join('; ') || 'none'}`)
  lines.push(`groups: canary ${plan.canary.length}, rest ${plan.rest.length}; already at ${options.target}: ${plan.upToDate}`)
  lines.push(`concurrency ${plan.concurrency}; failures allowed after the canaries: ${plan.allowedFailures}; lock_timeout ${options.lockTimeoutMs} ms, statement_timeout ${options.statementTimeoutMs} ms`)
  for (const [group, tenants] of [['canary', plan.canary], ['rest', plan.rest]] as const) {
    for (const t of tenants.slice(0, MAX_LISTED)) lines.push(`  ${group.padEnd(6)} ${t.id}  ${t.schemaVersion} -> ${options.target}  [${t.pending.join(', ')}]`)
    if (tenants.length > MAX_LISTED) lines.push(`  ${group.padEnd(6)} ... and ${tenants.length - MAX_LISTED} more`)
  }
  return lines.join('\n')
}

/** A plan as JSON (tenant lists included). */
export const planJson = (plan: FleetPlan) => ({
  direction: plan.options.direction,
  target: plan.options.target,
  servers: plan.servers,
  groups: { canary: plan.canary, rest: plan.rest },
  counts: { canary: plan.canary.length, rest: plan.rest.length, upToDate: plan.upToDate },
  concurrency: plan.concurrency,
  allowedFailures: plan.allowedFailures
})

export function formatReport (report: FleetReport): string {
  const g = report.groups
  const lines = report.failures.slice(0, MAX_LISTED).map((f) => `FAILED ${f.tenantId} (${f.group}, ${f.attempts} attempt${f.attempts > 1 ? 's' : ''}): ${f.error}`)
  if (report.failures.length > MAX_LISTED) lines.push(`... and ${report.failures.length - MAX_LISTED} more failures`)
  for (const t of report.templates) lines.push(`template on ${t.server}: ${t.from} -> ${t.to}`)
  lines.push(`${report.status}${report.reason === undefined ? '' : `: ${report.reason}`}`)
  lines.push(`canary ${g.canary.done}/${g.canary.total}, rest ${g.rest.done}/${g.rest.total}: ${g.canary.migrated + g.rest.migrated} migrated to ${report.target}, ` +
    `${g.canary.current + g.rest.current + report.upToDate} already there, ${report.failures.length} failed, ${g.canary.retries + g.rest.retries} lock retries; ` +
    `${(report.durationMs / 1000).toFixed(1)} s, concurrency ${report.concurrency}, peak ${report.peakConnections} connections`)
  return lines.join('\n')
}

/** Progress on stderr: a bar on a terminal, a line every `everyMs` otherwise. */
export function progressPrinter (stream: NodeJS.WriteStream, options: { everyMs?: number } = {}) {
  const tty = stream.isTTY === true
  const bar = tty ? new cliProgress.SingleBar({ stream, format: '{group} [{bar}] {value}/{total} failed {failed} | {rate}/s | {duration}s', hideCursor: true }, cliProgress.Presets.shades_classic) : undefined
  let started = false
  let last = 0
  return {
    update (report: FleetReport): void {
      const done = report.groups.canary.done + report.groups.rest.done
      const total = report.groups.canary.total + report.groups.rest.total
      const failed = report.failures.length
      const group = report.groups.canary.done < report.groups.canary.total ? 'canary' : 'rest'
      const rate = (done / Math.max(0.001, report.durationMs / 1000)).toFixed(1)
      if (bar !== undefined) {
        if (!started) { bar.start(total, 0, { group, failed, rate }); started = true }
        bar.update(done, { group, failed, rate })
        return
      }
      const now = Date.now()
      if (now - last < (options.everyMs ?? 1000) && done < total) return
      last = now
      stream.write(`${group}: ${done}/${total} done, ${failed} failed, ${rate}/s\n`)
    },
    stop (): void { if (started) bar?.stop() }
  }
}
