// One tenant database (or a template) brought to a target version in ONE transaction: every pending
// file and its ledger row in migrator.applied commit together or not at all, so a crash or a failure
// leaves the tenant at its old version and a rerun applies exactly what is left. Two round trips.
import type pg from 'pg'
import { MigrationChecksumError, UnknownMigrationError, type AppliedMigration, type Migration } from '../../db/migrator.js'
import { quoteLiteral } from '../../db/pg-admin.js'

export type Direction = 'up' | 'down'

export interface Timeouts {
  /** How long one DDL statement may wait for a lock (live traffic holds them): then retried later. */
  lockTimeoutMs: number
  statementTimeoutMs: number
}

export interface ApplyResult { from: string, to: string, applied: string[] }

/** lock_not_available: another session held a lock past lock_timeout. Worth retrying later. */
export const isLockTimeout = (error: unknown): boolean => (error as { code?: string }).code === '55P03'

// Shared with src/db/migrator.ts's session lock: the same key, so the two never interleave.
const LOCK = "SELECT pg_advisory_xact_lock(hashtext('migrator'))"

/** Which files take a database whose ledger is `applied` to `target`, in the order they run. */
export function pendingFiles (applied: AppliedMigration[], migrations: Migration[], direction: Direction, target: string): Migration[] {
  const files = new Map(migrations.map((m) => [m.version, m]))
  const unknown = applied.filter((a) => !files.has(a.version)).map((a) => a.version)
  if (unknown.length > 0) throw new UnknownMigrationError(unknown)
  for (const a of applied) {
    if (files.get(a.version)?.checksum !== a.checksum) throw new MigrationChecksumError(a.version)
  }
  const done = new Set(applied.map((a) => a.version))
  if (direction === 'up') return migrations.filter((m) => m.version <= target && !done.has(m.version))
  return migrations.filter((m) => m.version > target && done.has(m.version)).reverse()
}

export const versionOf = (applied: AppliedMigration[]): string => applied.at(-1)?.version ?? 'none'

/**
 * Applies what is pending on `client` (a connection of its own to the database). `after` is SQL run
 * in the same transaction when something changed (the template's grants).
 */
export async function applyPending (client: pg.ClientBase, migrations: Migration[], direction: Direction, target: string, timeouts: Timeouts, after = ''): Promise<ApplyResult> {
  const opened = await client.query([
    'BEGIN',
    `SET LOCAL lock_timeout = ${Math.max(1, Math.round(timeouts.lockTimeoutMs))}`,
    `SET LOCAL statement_timeout = ${Math.max(1, Math.round(timeouts.statementTimeoutMs))}`,
    LOCK,
    'SELECT version, checksum FROM migrator.applied ORDER BY version'
  ].join('; ')) as unknown as Array<pg.QueryResult<AppliedMigration>>
  const applied = opened.at(-1)?.rows ?? []
  const from = versionOf(applied)
  let files: Migration[]
  try {
    files = pendingFiles(applied, migrations, direction, target)
  } catch (error) {
    await client.query('ROLLBACK')
    throw error
  }
  if (files.length === 0) {
    await client.query('ROLLBACK')
    return { from, to: from, applied: [] }
  }
  const steps = files.map((m) => direction === 'up'
    ? `${m.up}\n;INSERT INTO migrator.applied (version, checksum, duration_ms) VALUES (${quoteLiteral(m.version)}, ${quoteLiteral(m.checksum)}, (extract(epoch FROM clock_timestamp() - now()) * 1000)::int)`
    : `${m.down}\n;DELETE FROM migrator.applied WHERE version = ${quoteLiteral(m.version)}`)
  try {
    await client.query([...steps, after, 'COMMIT'].filter((s) => s !== '').join(';\n'))
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  }
  const remaining = direction === 'up'
    ? [...applied.map((a) => a.version), ...files.map((f) => f.version)].sort()
    : applied.map((a) => a.version).filter((v) => !files.some((f) => f.version === v))
  return { from, to: remaining.at(-1) ?? 'none', applied: files.map((f) => f.version) }
}
