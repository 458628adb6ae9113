// `npm run worker` for real: the standalone worker starts on a given registry database (migrating
// it), says it is ready, and exits 0 on SIGTERM once pg-boss and the pools have closed.
import { spawn } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { createTestDatabase, TEST_SECRETS, testServerUrl } from '../helper.js'

const tsx = path.resolve('node_modules/tsx/dist/cli.mjs')

t.test('the standalone worker starts, reports ready, and stops cleanly on SIGTERM', async (t) => {
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/root',
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    DATABASE_URL: await createTestDatabase('registry'),
    TENANT_DATABASE_URL: await testServerUrl(),
    DATA_DIR: await mkdtemp(path.join(tmpdir(), 'worker-')),
    ...TEST_SECRETS
  }
  const child = spawn(process.execPath, [tsx, 'src/worker.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => { resolve(code) }))

  const until = Date.now() + 150_000
  while (!/worker running/.test(out)) {
    if (Date.now() > until || child.exitCode !== null) throw new Error(`worker did not become ready:\n${out}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  t.match(out, /messaging worker started/, 'the send queue is being worked')
  t.notMatch(out, new RegExp(TEST_SECRETS.JWT_SECRET), 'no secret in the logs')

  child.kill('SIGTERM')
  // Generous: this bounds a hang, it does not measure speed (the worker's own limit is 30 s).
  let timer: NodeJS.Timeout | undefined
  const code = await Promise.race([exited, new Promise<string>((resolve) => { timer = setTimeout(() => { resolve('still running') }, 45_000) })])
  clearTimeout(timer)
  t.equal(code, 0, out.split('\n').slice(-5).join('\n'))
  t.match(out, /worker shutting down/)
})
