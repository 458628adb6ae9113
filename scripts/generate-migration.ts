// Writes the next SQL migration of a set (`registry` or `tenant`) from the difference between the latest
// migration's schema snapshot and prisma/<set>/schema.prisma: up.sql, down.sql and a new snapshot.
// Usage: npm run migration:new -- <registry|tenant> <name>
import { spawn } from 'node:child_process'
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { startEmbeddedPostgres } from '../src/db/embedded-postgres.js'

const SETS = ['registry', 'tenant'] as const
type MigrationSet = typeof SETS[number]

const ROOT = path.resolve(import.meta.dirname, '..')
const PRISMA_CLI = createRequire(import.meta.url).resolve('prisma/build/index.js')
const MIGRATION_DIR_PATTERN = /^(\d{4})_[a-z0-9_]+$/

/** A diff source or target: a schema file, or nothing at all. */
type Side = { schema: string } | 'empty'

function usage (message: string): never {
  console.error(`${message}\nusage: npm run migration:new -- <${SETS.join('|')}> <name>`)
  process.exit(1)
}

function parseArgs (argv: string[]): { set: MigrationSet, name: string } {
  const [set, rawName] = argv
  if (!SETS.includes(set as MigrationSet)) usage(`unknown migration set: ${set ?? '(none)'}`)
  const name = (rawName ?? '').trim().toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '')
  if (name === '') usage('a migration name is required')
  return { set: set as MigrationSet, name }
}

async function latestMigration (migrationsDir: string): Promise<{ folder: string, number: number } | undefined> {
  const entries = await readdir(migrationsDir, { withFileTypes: true }).catch(() => [])
  const folders = entries
    .filter((entry) => entry.isDirectory() && MIGRATION_DIR_PATTERN.test(entry.name))
    .map((entry) => entry.name)
    .sort()
  const folder = folders.at(-1)
  if (folder === undefined) return undefined
  return { folder, number: Number(folder.slice(0, 4)) }
}

function sideArgs (direction: 'from' | 'to', side: Side): string[] {
  return side === 'empty' ? [`--${direction}-empty`] : [`--${direction}-schema-datamodel`, side.schema]
}

/** Runs `prisma migrate diff --script`; returns '' when the two sides are equal. */
async function diff (set: MigrationSet, from: Side, to: Side, diffUrl: string): Promise<string> {
  const args = [
    PRISMA_CLI, 'migrate', 'diff',
    '--config', path.join(ROOT, 'prisma', set, 'prisma.config.ts'),
    ...sideArgs('from', from), ...sideArgs('to', to),
    '--script', '--exit-code'
  ]
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, PRISMA_DIFF_URL: diffUrl, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', resolve)
  })
  // With --exit-code: 0 is no difference, 2 is a difference, anything else is a failure.
  if (code === 0) return ''
  if (code !== 2) throw new Error(`prisma migrate diff failed (exit ${String(code)}):\n${stderr}${stdout}`)
  return toTransactionalScript(stdout)
}

/**
 * The migrator runs each file inside a transaction of its own, so the BEGIN/COMMIT pairs Prisma puts
 * around enum rewrites would end that transaction early; the outer transaction already gives them
 * their atomicity.
 */
function toTransactionalScript (sql: string): string {
  const lines = sql.split('\n').filter((line) => !/^\s*(BEGIN|COMMIT)\s*;\s*$/i.test(line))
  return lines.join('\n').trim() + '\n'
}

async function withDiffDatabase<T> (fn: (url: string) => Promise<T>): Promise<T> {
  const given = process.env.PRISMA_DIFF_URL
  if (given !== undefined && given !== '') return await fn(given)
  // The WASM schema engine connects to a real PostgreSQL even to diff two schema files.
  const dir = await mkdtemp(path.join(os.tmpdir(), 'migration-diff-'))
  await chmod(dir, 0o755)
  try {
    const pg = await startEmbeddedPostgres({ dir, fast: true })
    try {
      return await fn(pg.url)
    } finally {
      await pg.stop()
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function main (): Promise<void> {
  const { set, name } = parseArgs(process.argv.slice(2))
  const setDir = path.join(ROOT, 'prisma', set)
  const schema = path.join(setDir, 'schema.prisma')
  const migrationsDir = path.join(setDir, 'migrations')
  const latest = await latestMigration(migrationsDir)
  const previous: Side = latest === undefined ? 'empty' : { schema: path.join(migrationsDir, latest.folder, 'schema.prisma') }
  const next: Side = { schema }
  const snapshot = await readFile(schema, 'utf8')

  const { up, down } = await withDiffDatabase(async (url) => {
    const up = await diff(set, previous, next, url)
    if (up === '') return { up, down: '' }
    return { up, down: await diff(set, next, previous, url) }
  })
  if (await readFile(schema, 'utf8') !== snapshot) throw new Error(`prisma/${set}/schema.prisma changed while diffing; run again`)
  if (up === '') {
    console.log(`no changes in prisma/${set}/schema.prisma since ${latest?.folder ?? 'the start'}`)
    return
  }

  const folder = `${String((latest?.number ?? 0) + 1).padStart(4, '0')}_${name}`
  const target = path.join(migrationsDir, folder)
  await mkdir(migrationsDir, { recursive: true })
  await mkdir(target) // fails rather than overwrite a folder made meanwhile
  try {
    await writeFile(path.join(target, 'up.sql'), up)
    await writeFile(path.join(target, 'down.sql'), down)
    await writeFile(path.join(target, 'schema.prisma'), snapshot)
  } catch (error) {
    await rm(target, { recursive: true, force: true })
    throw error
  }
  console.log(`wrote prisma/${set}/migrations/${folder}/{up.sql,down.sql,schema.prisma}`)
}

await main()
