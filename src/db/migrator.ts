// Applies the SQL migrations generated from a Prisma schema (prisma/<set>/migrations/<NNNN>_<name>/).
// The same code migrates the registry at start-up and every tenant database in a fleet fan-out.
// History lives in the `migrator` schema, which Prisma does not look at, so schema diffs stay clean.
import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import type pg from 'pg'
import { projectRoot } from '../util/project-root.js'
import { ContractRuleError, destructiveChange, isContractStep } from './contract-rule.js'

export interface Migration {
  version: string
  up: string
  down: string
  checksum: string
}

export interface AppliedMigration { version: string, checksum: string }

export class MigrationChecksumError extends Error {
  constructor (readonly version: string) {
    super(`migration ${version} was changed after it was applied (checksum mismatch): restore the original file or add a new migration`)
    this.name = 'MigrationChecksumError'
  }
}

export class UnknownMigrationError extends Error {
  constructor (readonly versions: string[]) {
    super(`database has migrations this code does not know (${versions.join(', ')}): it was migrated by a newer release`)
    this.name = 'UnknownMigrationError'
  }
}

export const MIGRATION_SETS = {
  registry: path.join(projectRoot(), 'prisma/registry/migrations'),
  tenant: path.join(projectRoot(), 'prisma/tenant/migrations')
}

const cache = new Map<string, Promise<Migration[]>>()

/** Reads a migrations folder once per process; the files do not change while we run. */
export async function loadMigrations (dir: string): Promise<Migration[]> {
  let loaded = cache.get(dir)
  if (loaded === undefined) {
    loaded = readMigrations(dir)
    cache.set(dir, loaded)
  }
  return await loaded
}

async function readMigrations (dir: string): Promise<Migration[]> {
  const entries = await readdir(dir, { withFileTypes: true })
  const folders = entries.filter((e) => e.isDirectory() && /^\d{4}_[a-z0-9_]+$/.test(e.name)).map((e) => e.name).sort()
  return await Promise.all(folders.map(async (version) => {
    const up = await readFile(path.join(dir, version, 'up.sql'), 'utf8')
    const down = await readFile(path.join(dir, version, 'down.sql'), 'utf8')
    const destructive = destructiveChange(up)
    if (destructive !== undefined && !isContractStep(up)) throw new ContractRuleError(version, destructive)
    return { version, up, down, checksum: createHash('sha256').update(up).digest('hex') }
  }))
}

export function latestVersion (migrations: Migration[]): string {
  return migrations.at(-1)?.version ?? 'none'
}

const HISTORY_DDL = `
  CREATE SCHEMA IF NOT EXISTS migrator;
  CREATE TABLE IF NOT EXISTS migrator.applied (
    version text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    duration_ms integer NOT NULL
  );`

// One key for every migrator run in a database: two processes starting together apply each file once.
const LOCK_KEY = 'migrator'

type Queryable = Pick<pg.ClientBase, 'query'>

export async function appliedMigrations (client: Queryable): Promise<AppliedMigration[]> {
  const exists = await client.query<{ present: boolean }>("SELECT to_regclass('migrator.applied') IS NOT NULL AS present")
  if (exists.rows[0]?.present !== true) return []
  const result = await client.query<AppliedMigration>('SELECT version, checksum FROM migrator.applied ORDER BY version')
  return result.rows
}

/** The newest applied version, or 'none'. */
export async function currentVersion (client: Queryable): Promise<string> {
  return (await appliedMigrations(client)).at(-1)?.version ?? 'none'
}

export interface MigrateResult { applied: string[], version: string }

/**
 * Brings one database to the newest migration. Must be given a dedicated client (not a pool) because
 * the advisory lock is held by the session.
 */
export async function migrateUp (client: pg.ClientBase, migrations: Migration[], options: { allowUnknown?: boolean } = {}): Promise<MigrateResult> {
  await client.query('SELECT pg_advisory_lock(hashtext($1))', [LOCK_KEY])
  try {
    await client.query(HISTORY_DDL)
    const applied = await appliedMigrations(client)
    const known = new Map(migrations.map((m) => [m.version, m]))
    const unknown = applied.filter((a) => !known.has(a.version)).map((a) => a.version)
    if (unknown.length > 0 && options.allowUnknown !== true) throw new UnknownMigrationError(unknown)
    for (const a of applied) {
      const file = known.get(a.version)
      if (file !== undefined && file.checksum !== a.checksum) throw new MigrationChecksumError(a.version)
    }
    const done = new Set(applied.map((a) => a.version))
    const newlyApplied: string[] = []
    for (const migration of migrations) {
      if (done.has(migration.version)) continue
      const started = Date.now()
      await client.query('BEGIN')
      try {
        await client.query(migration.up)
        await client.query('INSERT INTO migrator.applied (version, checksum, duration_ms) VALUES ($1, $2, $3)',
          [migration.version, migration.checksum, Date.now() - started])
        await client.query('COMMIT')
      } catch (error) {
        await client.query('ROLLBACK')
        throw error
      }
      newlyApplied.push(migration.version)
    }
    return { applied: newlyApplied, version: await currentVersion(client) }
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [LOCK_KEY])
  }
}

/** Reverts applied migrations newer than `target` ('none' reverts all), newest first. */
export async function migrateDown (client: pg.ClientBase, migrations: Migration[], target = 'none'): Promise<string[]> {
  await client.query('SELECT pg_advisory_lock(hashtext($1))', [LOCK_KEY])
  try {
    const applied = await appliedMigrations(client)
    const byVersion = new Map(migrations.map((m) => [m.version, m]))
    const reverted: string[] = []
    for (const a of [...applied].reverse()) {
      if (target !== 'none' && a.version <= target) break
      const migration = byVersion.get(a.version)
      if (migration === undefined) throw new UnknownMigrationError([a.version])
      await client.query('BEGIN')
      try {
        await client.query(migration.down)
        await client.query('DELETE FROM migrator.applied WHERE version = $1', [a.version])
        await client.query('COMMIT')
      } catch (error) {
        await client.query('ROLLBACK')
        throw error
      }
      reverted.push(a.version)
    }
    return reverted
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [LOCK_KEY])
  }
}
