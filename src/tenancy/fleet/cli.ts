// The fleet commands of `npm run tenants` (scripts/tenants.ts stays a thin dispatcher): flags to a
// request, checked before anything is touched; plan, progress and report to the terminal.
import type { FastifyInstance } from 'fastify'
import type { FleetRequest } from './options.js'
import { resolveOptions } from './options.js'
import { formatPlan, formatReport, planJson, progressPrinter } from './report.js'
import { formatVerify } from './verify.js'

export const FLEET_OPTIONS = {
  to: { type: 'string' },
  canary: { type: 'string' },
  concurrency: { type: 'string' },
  'max-failures': { type: 'string' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
  'lock-timeout-ms': { type: 'string' },
  'statement-timeout-ms': { type: 'string' },
  /** Another tenant migrations folder (benchmarks, tests). */
  'migrations-dir': { type: 'string' }
} as const

type Flags = Partial<Record<keyof typeof FLEET_OPTIONS, string | boolean>>

export class UsageError extends Error {}

const int = (name: string, value: string | boolean | undefined): number | undefined => {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || !/^-?\d+$/.test(value.trim())) throw new UsageError(`--${name} must be a whole number (got "${String(value)}")`)
  return Number(value)
}

/** Flags to a request; syntax and ranges are checked here so bad input stops before the app starts. */
export function fleetRequest (direction: FleetRequest['direction'], flags: Flags): FleetRequest {
  const request: FleetRequest = {
    direction,
    target: typeof flags.to === 'string' ? flags.to : undefined,
    canary: int('canary', flags.canary),
    concurrency: int('concurrency', flags.concurrency),
    maxFailures: typeof flags['max-failures'] === 'string' ? flags['max-failures'] : undefined,
    dryRun: flags['dry-run'] === true,
    lockTimeoutMs: int('lock-timeout-ms', flags['lock-timeout-ms']),
    statementTimeoutMs: int('statement-timeout-ms', flags['statement-timeout-ms'])
  }
  try {
    resolveOptions(request, [])
  } catch (error) {
    // The target is checked against the files later; everything else is known now.
    if (!/target version/.test((error as Error).message)) throw new UsageError((error as Error).message)
  }
  return request
}

export async function runFleetCommand (app: FastifyInstance, command: 'migrate' | 'rollback' | 'verify', flags: Flags): Promise<number> {
  const out = (text: string): void => { process.stdout.write(text + '\n') }
  const json = flags.json === true
  if (command === 'verify') {
    const result = await app.fleet.verify({ concurrency: int('concurrency', flags.concurrency) })
    out(json ? JSON.stringify(result, null, 2) : formatVerify(result))
    return result.drifted.length > 0 ? 1 : 0
  }
  const request = fleetRequest(command === 'migrate' ? 'up' : 'down', flags)
  if (request.dryRun === true) {
    const plan = await app.fleet.plan(request)
    out(json ? JSON.stringify(planJson(plan), null, 2) : formatPlan(plan))
    return 0
  }
  const progress = progressPrinter(process.stderr)
  try {
    const report = await app.fleet.runHere(request, { onProgress: progress.update })
    progress.stop()
    out(json ? JSON.stringify(report, null, 2) : formatReport(report))
    return report.status === 'SUCCEEDED' && report.failures.length === 0 ? 0 : 1
  } finally {
    progress.stop()
  }
}
