// `npm run test:chaos`: scenarios that kill real things (PostgreSQL, processes) and check what a user
// would see afterwards. Each scenario runs on a PostgreSQL of its own; the run ends with the line
// `N passed, N failed` like `npm test`. Arguments: names of scenarios to run (default all).
import { signupBurst } from './signup-burst.js'
import { webhookStorm } from './webhook-storm.js'
import { broadcastKill } from './broadcast-kill.js'
import { fleetKill } from './fleet-kill.js'
import { processKill } from './process-kill.js'
import { keepRunningOnStrayRejections } from '../../src/process/run-service.js'

const SCENARIOS: Record<string, () => Promise<string[]>> = {
  'PostgreSQL SIGKILLed during a burst of sign-ups': signupBurst,
  'PostgreSQL SIGKILLed during a 5,000-recipient broadcast': broadcastKill,
  'PostgreSQL SIGKILLed during a fleet migration': fleetKill,
  'API and worker processes SIGKILLed mid-broadcast and restarted': processKill,
  'inbound webhooks with Telnyx retries from another process, PostgreSQL killed midway': webhookStorm
}

// As in server.ts and worker.ts: what a library lets slip while PostgreSQL is down is logged, not fatal.
// Counted by message and where they came from, so that the summary names them (so far: pg-boss 10's
// worker loop, which neither awaits nor catches its complete() and fail() calls while PostgreSQL is down).
const strays = new Map<string, number>()
keepRunningOnStrayRejections({
  error: (obj) => {
    const err = (obj as { err?: unknown }).err
    const stack = err instanceof Error ? err.stack ?? err.message : String(err)
    const [message = '', ...frames] = stack.split('\n').map((line) => line.trim())
    // pg-pool rewrites its errors' stacks to start inside itself: the callers are the frames past it.
    const at = frames.filter((frame) => !/pg-pool|node:internal/.test(frame)).slice(0, 2).join(' < ')
    const key = `${message.slice(0, 120)} ${at}`.trim()
    strays.set(key, (strays.get(key) ?? 0) + 1)
  }
})
// An uncaught exception (e.g. an 'error' event nobody listens to) would end the service: it fails the
// scenario it happened in, with its stack, instead of ending the run with nothing reported.
const uncaught: string[] = []
process.on('uncaughtException', (error) => { uncaught.push(error.stack ?? String(error)) })

const only = process.argv.slice(2)
// A scenario that hangs fails and the run goes on (the suite has a CI time limit).
const SCENARIO_TIMEOUT_MS = Number(process.env.CHAOS_SCENARIO_TIMEOUT_MS ?? 240_000)
let passed = 0
let failed = 0
for (const [name, scenario] of Object.entries(SCENARIOS)) {
  if (only.length > 0 && !only.some((word) => name.includes(word))) continue
  const started = Date.now()
  let failures: string[]
  try {
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<string[]>((resolve) => { timer = setTimeout(() => { resolve([`did not finish within ${SCENARIO_TIMEOUT_MS / 1000} s`]) }, SCENARIO_TIMEOUT_MS) })
    failures = await Promise.race([scenario(), deadline]).finally(() => { clearTimeout(timer) })
  } catch (error) {
    failures = [`crashed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`]
  }
  failures.push(...uncaught.splice(0).map((stack) => `uncaught exception (would end the process): ${stack}`))
  const seconds = ((Date.now() - started) / 1000).toFixed(1)
  if (failures.length === 0) {
    passed++
    process.stdout.write(`ok   ${name} (${seconds} s)\n`)
  } else {
    failed++
    process.stdout.write(`FAIL ${name} (${seconds} s)\n${failures.map((f) => `  - ${f}`).join('\n')}\n`)
  }
}
const strayCount = [...strays.values()].reduce((a, b) => a + b, 0)
if (strayCount > 0) {
  process.stdout.write(`(${strayCount} unhandled rejections from dependencies were logged and survived:\n${[...strays].map(([where, n]) => `   ${n} x ${where}`).join('\n')})\n`)
}
process.stdout.write(`${passed} passed, ${failed} failed\n`)
process.exit(failed > 0 ? 1 : 0)
