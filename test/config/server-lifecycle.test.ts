// The real entry point: `npm start` on the embedded default, graceful shutdown, restart on the same
// data, and a fast, one-line failure when DATABASE_URL points nowhere.
import { spawn } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { freePort } from '../../src/db/embedded-postgres.js'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'

const tsx = path.resolve('node_modules/tsx/dist/cli.mjs')

function start (env: Record<string, string>) {
  const child = spawn(process.execPath, [tsx, 'src/server.ts'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => { resolve(code) }))
  const waitFor = async (pattern: RegExp, ms: number): Promise<void> => {
    const until = Date.now() + ms
    while (!pattern.test(out)) {
      if (Date.now() > until || child.exitCode !== null) throw new Error(`did not see ${String(pattern)}:\n${out}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  return { child, exited, waitFor, output: () => out }
}

t.test('starts on embedded PostgreSQL, serves, stops cleanly and restarts on the same data', async (t) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'lifecycle-'))
  const port = String(await freePort())
  const first = start({ DATA_DIR: dataDir, PORT: port, HOST: '127.0.0.1' })
  await first.waitFor(/Server listening/, 150_000)
  const health = await fetch(`http://127.0.0.1:${port}/health`)
  t.equal(health.status, 200)
  const ready = await (await fetch(`http://127.0.0.1:${port}/ready`)).json() as { status: string }
  t.equal(ready.status, 'ready')
  const pgPort = /listening on 127\.0\.0\.1:(\d+)/.exec(first.output())?.[1]
  t.ok(pgPort, 'embedded PostgreSQL port logged')
  first.child.kill('SIGTERM')
  t.equal(await first.exited, 0, 'exits 0 after SIGTERM')
  await t.rejects(fetch(`http://127.0.0.1:${pgPort ?? 0}`), 'embedded PostgreSQL stopped too')

  const second = start({ DATA_DIR: dataDir, PORT: port, HOST: '127.0.0.1' })
  await second.waitFor(/Server listening/, 150_000)
  t.notMatch(second.output(), /registry migrated/, 'second start reuses the migrated data')
  second.child.kill('SIGINT')
  t.equal(await second.exited, 0)
})

t.test('an unreachable DATABASE_URL ends start-up within 10 s with one line naming the host', async (t) => {
  const closed = await freePort()
  // Timed in-process, so that the child's TypeScript start-up on a busy machine does not count.
  const started = Date.now()
  const config = await loadConfig({ DATA_DIR: await mkdtemp(path.join(tmpdir(), 'unreach-')), DATABASE_URL: `postgres://u:secretpw@127.0.0.1:${closed}/registry` })
  await t.rejects(buildApp(config, { logger: false }), new RegExp(`cannot connect to PostgreSQL at 127\\.0\\.0\\.1:${closed}`))
  t.ok(Date.now() - started < 10_000, `gave up after ${Date.now() - started} ms`)
  const run = start({ DATA_DIR: await mkdtemp(path.join(tmpdir(), 'unreach-')), DATABASE_URL: `postgres://u:secretpw@127.0.0.1:${closed}/registry`, PORT: String(await freePort()) })
  const code = await run.exited
  t.equal(code, 1)
  const lines = run.output().trim().split('\n')
  t.equal(lines.length, 1, run.output())
  t.match(lines[0], new RegExp(`127\\.0\\.0\\.1:${closed}`))
  t.notMatch(run.output(), /secretpw/, 'the password is not printed')
})
