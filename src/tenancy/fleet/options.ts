// What an operator may ask of a fleet run, checked before anything is touched: the CLI and the
// operator API give the same answers to the same bad input.
import { ERRORS } from '../../errors.js'
import type { Migration } from '../../db/migrator.js'
import type { Direction, Timeouts } from './apply.js'

export interface FleetRequest {
  direction: Direction
  /** up: a version to stop at (default the newest); down: the version to return to (default the one before the newest applied). */
  target?: string
  canary?: number
  concurrency?: number
  /** A count ("3") or a share of the tenants in the run ("2%"). */
  maxFailures?: string | number
  dryRun?: boolean
  lockTimeoutMs?: number
  statementTimeoutMs?: number
}

export interface FleetOptions extends Timeouts {
  direction: Direction
  target: string
  canary: number | undefined
  concurrency: number | undefined
  maxFailures: { count: number } | { percent: number }
  /** Attempts of a tenant whose locks could not be had before it counts as failed. */
  lockAttempts: number
}

export const DEFAULT_MAX_FAILURES = { percent: 2 }
export const DEFAULT_TIMEOUTS: Timeouts = { lockTimeoutMs: 2000, statementTimeoutMs: 5 * 60_000 }

const bad = (message: string): Error => new ERRORS.BadRequest(message)

function positiveInt (name: string, value: number | undefined, min: number): number | undefined {
  if (value === undefined) return undefined
  if (!Number.isInteger(value) || value < min) throw bad(`${name} must be a whole number of at least ${min} (got ${String(value)})`)
  return value
}

export function parseMaxFailures (value: string | number | undefined): FleetOptions['maxFailures'] {
  if (value === undefined) return DEFAULT_MAX_FAILURES
  const text = String(value).trim()
  const match = /^(\d+(?:\.\d+)?)(%?)$/.exec(text)
  if (match === null) throw bad(`max failures must be a count (3) or a percentage (2%), got "${text}"`)
  const n = Number(match[1])
  if (match[2] === '%') {
    if (n > 100) throw bad('max failures cannot exceed 100%')
    return { percent: n }
  }
  if (!Number.isInteger(n)) throw bad('max failures as a count must be a whole number')
  return { count: n }
}

/** The allowed number of failures among `total` tenants. */
export const failureAllowance = (policy: FleetOptions['maxFailures'], total: number): number =>
  'count' in policy ? policy.count : Math.floor(total * policy.percent / 100)

/** Validates a request against the migration files; the default target is filled in by the plan. */
export function resolveOptions (request: FleetRequest, migrations: Migration[]): FleetOptions & { explicitTarget: boolean } {
  if (request.direction !== 'up' && request.direction !== 'down') throw bad('direction must be up or down')
  const known = new Set(migrations.map((m) => m.version))
  const target = request.target
  if (target !== undefined && target !== 'none' && !known.has(target)) {
    throw bad(`unknown target version "${target}"; known versions: ${[...known].join(', ') || '(none)'}`)
  }
  if (request.direction === 'up' && target === 'none') throw bad('migrating up to "none" means nothing: give a version')
  return {
    direction: request.direction,
    target: target ?? (request.direction === 'up' ? migrations.at(-1)?.version ?? 'none' : ''),
    explicitTarget: target !== undefined,
    canary: positiveInt('canary', request.canary, 0),
    concurrency: positiveInt('concurrency', request.concurrency, 1),
    maxFailures: parseMaxFailures(request.maxFailures),
    lockTimeoutMs: positiveInt('lock timeout', request.lockTimeoutMs, 1) ?? DEFAULT_TIMEOUTS.lockTimeoutMs,
    statementTimeoutMs: positiveInt('statement timeout', request.statementTimeoutMs, 1) ?? DEFAULT_TIMEOUTS.statementTimeoutMs,
    lockAttempts: 4
  }
}
