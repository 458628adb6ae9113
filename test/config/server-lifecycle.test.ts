// The real entry point: `npm start` on the embedded default, graceful shutdown, restart on the same
// data, and a fast, one-line failure when DATABASE_URL points nowhere.
import { spawn } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { createServer } from 'node:net'
import { freePort, startEmbeddedPostgres } from '../../src/db/embedded-postgres.js'
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

const post = async (url: string, body: unknown): Promise<Response> =>
  await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

t.test('starts on embedded PostgreSQL, serves, stops cleanly and restarts on the same data', async (t) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'lifecycle-'))
  const port = String(await freePort())
  const api = `http://127.0.0.1:${port}`
  const first = start({ DATA_DIR: dataDir, PORT: port, HOST: '127.0.0.1' })
  await first.waitFor(/Server listening/, 150_000)
  const health = await fetch(`${api}/health`)
  t.equal(health.status, 200)
  const ready = await (await fetch(`${api}/ready`)).json() as { status: string }
  t.equal(ready.status, 'ready')
  const pgPort = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(first.output())?.[1])
  t.ok(pgPort > 0, 'embedded PostgreSQL port logged')
  const account = { email: 'lifecycle@example.org', password: 'correct horse battery staple' }
  const signUp = await post(`${api}/api/auth/register`, { ...account, firstName: 'Ada', lastName: 'Byron', churchName: 'Restart Chapel' })
  t.equal(signUp.status, 201, 'an organization signs up on the first run')
  first.child.kill('SIGTERM')
  t.equal(await first.exited, 0, 'exits 0 after SIGTERM')
  await t.rejects(fetch(`http://127.0.0.1:${pgPort}`), 'embedded PostgreSQL stopped too')

  // Someone else took the embedded server's port meanwhile: it starts on another one, and the
  // organization's rows follow it (they carried the old port, and every request of theirs failed).
  const squatter = createServer()
  await new Promise<void>((resolve) => squatter.listen(pgPort, '127.0.0.1', resolve))
  const second = start({ DATA_DIR: dataDir, PORT: port, HOST: '127.0.0.1' })
  try {
    await second.waitFor(/Server listening/, 150_000)
    t.notMatch(second.output(), /registry migrated/, 'second start reuses the migrated data')
    const movedTo = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(second.output())?.[1])
    t.not(movedTo, pgPort, 'the busy port was not taken')
    t.match(second.output(), /tenants follow their server to its new address/)
    const login = await post(`${api}/api/auth/login`, account)
    t.equal(login.status, 200, 'the organization signs in after the restart')
    const { accessToken } = await login.json() as { accessToken: string }
    const me = await fetch(`${api}/api/me`, { headers: { authorization: `Bearer ${accessToken}` } })
    t.equal(me.status, 200, 'and reaches its own database')
    t.equal((await me.json() as { church?: { name?: string } }).church?.name, 'Restart Chapel')
  } finally {
    squatter.close()
    second.child.kill('SIGINT')
  }
  t.equal(await second.exited, 0)

  // The port is remembered: the next start takes the same one again.
  const third = await startEmbeddedPostgres({ dir: path.join(dataDir, 'postgres') })
  await third.stop()
  t.not(third.port, pgPort)
  t.equal(String(third.port), /listening on 127\.0\.0\.1:(\d+)/.exec(second.output())?.[1], 'the third start listens where the second did')
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
