// Two API processes and the worker on one database server, each with TENANT_POOL_PROCESSES=3: under
// concurrent requests for more tenants than fit and broadcasts the worker sends, the tenant
// connections PostgreSQL sees from all three together never exceed the server's budget.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { freePort } from '../../src/db/embedded-postgres.js'
import { connect } from '../../src/db/pg-admin.js'
import { createTestDatabase, registerOrganization, TEST_SECRETS, testServerUrl } from '../helper.js'

const BUDGET = 9
const PROCESSES = 3
const TENANTS = 8
const MEMBERS = 15
const tsx = path.resolve('node_modules/tsx/dist/cli.mjs')

const serverUrl = await testServerUrl()
const env: Record<string, string> = {
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '/root',
  NODE_ENV: 'test',
  LOG_LEVEL: 'info',
  DATABASE_URL: await createTestDatabase('registry'),
  TENANT_DATABASE_URL: serverUrl,
  DATA_DIR: await mkdtemp(path.join(tmpdir(), 'multi-process-')),
  PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0',
  RATE_LIMIT_PER_MINUTE: '100000',
  ACCESS_TOKEN_TTL_SECONDS: '3600',
  MESSAGE_RATE_PER_SECOND: '0',
  QUIET_HOURS_START: '0',
  QUIET_HOURS_END: '0',
  TENANT_CONNECTION_BUDGET: String(BUDGET),
  TENANT_POOL_PROCESSES: String(PROCESSES),
  ...TEST_SECRETS
}

interface Org { tenantId: string, auth: { authorization: string }, database: string }

/** Organizations with a sending number and members, made by an app that is closed again. */
async function organizations (): Promise<Org[]> {
  const app = await buildApp(await loadConfig({ ...env, LOG_LEVEL: 'silent', WORKER_ENABLED: 'false' }), { logger: false })
  try {
    const orgs: Org[] = []
    for (let i = 0; i < TENANTS; i++) {
      const { tenantId, accessToken } = (await registerOrganization(app, `Budget ${i}`)).json() as { tenantId: string, accessToken: string }
      const tenant = await app.registry.tenant.update({ where: { id: tenantId }, data: { primaryPhoneNumber: `+1312555${String(7000 + i)}` } })
      const auth = { authorization: `Bearer ${accessToken}` }
      for (let m = 0; m < MEMBERS; m++) {
        const res = await app.inject({ method: 'POST', url: '/api/members', headers: auth, payload: { firstName: 'M', lastName: String(m), phone: `+1646${String(i * 100 + m).padStart(7, '0')}` } })
        if (res.statusCode !== 201) throw new Error(res.body)
      }
      orgs.push({ tenantId, auth, database: tenant.databaseName })
    }
    return orgs
  } finally {
    await app.close()
  }
}

function start (t: Tap, script: string, extra: Record<string, string>, ready: RegExp): Promise<ChildProcess> {
  const child = spawn(process.execPath, [tsx, script], { env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(async () => {
    if (child.exitCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 30_000))])
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  let out = ''
  child.stdout?.on('data', (d: Buffer) => { out = (out + d.toString()).slice(-20_000) })
  child.stderr?.on('data', (d: Buffer) => { out = (out + d.toString()).slice(-20_000) })
  return new Promise((resolve, reject) => {
    const end = Date.now() + 150_000
    const poll = setInterval(() => {
      if (ready.test(out)) { clearInterval(poll); resolve(child) } else if (child.exitCode !== null || Date.now() > end) {
        clearInterval(poll)
        reject(new Error(`${script} did not start:\n${out.slice(-2000)}`))
      }
    }, 100)
  })
}
type Tap = Pick<typeof t, 'teardown'>

t.test('two API processes and the worker stay within one server budget together', async (t) => {
  const orgs = await organizations()
  const ports = [await freePort(), await freePort()]
  await Promise.all([
    ...ports.map(async (port) => await start(t, 'src/server.ts', { PORT: String(port), HOST: '127.0.0.1', WORKER_ENABLED: 'false' }, /Server listening/)),
    start(t, 'src/worker.ts', {}, /messaging worker started/)
  ])

  const watcher = await connect(serverUrl)
  t.teardown(async () => { await watcher.end() })
  const databases = orgs.map((o) => o.database)
  const state = { running: true, peak: 0, samples: 0 }
  const sampler = (async () => {
    while (state.running) {
      const { rows } = await watcher.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = ANY($1)', [databases])
      state.peak = Math.max(state.peak, rows[0]?.n ?? 0)
      state.samples++
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  })()

  const statuses = new Map<number, number>()
  const call = async (port: number, org: Org, method: 'GET' | 'POST', url: string, body?: unknown): Promise<Response> => {
    const res = await fetch(`http://127.0.0.1:${port}${url}`, { method, headers: { ...org.auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) })
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
    return res
  }
  // One broadcast per organization, half through each API, for the worker to send.
  const broadcasts = await Promise.all(orgs.map(async (org, i) =>
    (await (await call(ports[i % 2] as number, org, 'POST', '/api/messages', { text: 'Budget test' })).json() as { id: string }).id))
  const sentAll = async (): Promise<boolean> => {
    for (const [i, org] of orgs.entries()) {
      const res = await call(ports[0] as number, org, 'GET', `/api/messages/${broadcasts[i] ?? ''}`)
      if ((await res.json() as { status: string }).status !== 'SENT') return false
    }
    return true
  }
  const started = Date.now()
  const traffic = Array.from({ length: 16 }, async (_, k) => {
    for (let n = 0; Date.now() - started < 8000; n++) {
      const org = orgs[(k + n) % orgs.length] as Org
      await (await call(ports[k % 2] as number, org, 'GET', n % 2 === 0 ? '/api/me' : '/api/members')).arrayBuffer()
    }
  })
  await Promise.all(traffic)
  const deadline = Date.now() + 120_000
  while (!await sentAll()) {
    if (Date.now() > deadline) throw new Error('the broadcasts were not sent in time')
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  state.running = false
  await sampler

  t.ok(state.samples > 50, `pg_stat_activity sampled ${state.samples} times`)
  t.ok(state.peak > BUDGET / PROCESSES, `more than one process's share (${BUDGET / PROCESSES}) was in use at once: peak ${state.peak}`)
  t.ok(state.peak <= BUDGET, `peak ${state.peak} tenant connections from all three processes, budget ${BUDGET}`)
  t.same([...statuses.keys()].filter((s) => s !== 200 && s !== 202), [], `every request answered (${JSON.stringify(Object.fromEntries(statuses))})`)
})
