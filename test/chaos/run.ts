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
let strays = 0
keepRunningOnStrayRejections({ error: () => { strays++ } })
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
if (strays > 0) process.stdout.write(`(${strays} unhandled rejections from dependencies were logged and survived)\n`)
process.stdout.write(`${passed} passed, ${failed} failed\n`)
process.exit(failed > 0 ? 1 : 0)
