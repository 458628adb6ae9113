// `npm test`: starts one embedded PostgreSQL for the whole run, runs tap against it, stops it, removes
// its folder, runs the chaos suite, and ends with the line `N passed, N failed`. Extra arguments go to tap (e.g. one file).
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { startEmbeddedPostgres } from '../src/db/embedded-postgres.js'

const dir = await mkdtemp(path.join(tmpdir(), 'church-sms-test-'))
const pg = await startEmbeddedPostgres({ dir, fast: true, maxConnections: 500 })
process.stdout.write(`embedded PostgreSQL for tests on port ${pg.port}\n`)

// Ctrl-C or a CI cancel: stop the server and remove its folder rather than leave them behind.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void pg.stop().then(async () => { await rm(dir, { recursive: true, force: true }) }).finally(() => process.exit(130))
  })
}

const args = process.argv.slice(2)
// The coverage floor in .taprc is for the whole suite; a run of a few files only reports it.
if (args.some((arg) => !arg.startsWith('-'))) args.unshift('--allow-incomplete-coverage')
const tap = spawn(process.execPath, [path.resolve('node_modules/tap/dist/esm/run.mjs'), '--reporter=tap', ...args], {
  env: { ...process.env, TEST_DATABASE_URL: pg.url, NODE_ENV: 'test' },
  stdio: ['ignore', 'pipe', 'inherit']
})

// Raw TAP is read here: each test file is a top-level subtest; its direct children are the tests we count.
let passed = 0
let failed = 0
let skipped = 0
let block: string[] = []
let blockFailures = 0
let blockCount = 0
const lines = createInterface({ input: tap.stdout })
for await (const line of lines) {
  const child = /^ {4}(not )?ok \d+(.*)$/.exec(line)
  const top = /^(not )?ok \d+ - (\S+)(.*)$/.exec(line)
  if (child !== null) {
    blockCount++
    if (/# (SKIP|TODO)/i.test(child[2] ?? '')) skipped++
    else if (child[1] === undefined) passed++
    else { failed++; blockFailures++ }
    block.push(line)
  } else if (top !== null) {
    const fileFailed = top[1] !== undefined
    // A file that crashed before or between its tests still counts as one failure.
    if (fileFailed && blockFailures === 0) { failed++; blockFailures++ }
    process.stdout.write(`${fileFailed ? 'FAIL' : 'ok  '} ${top[2] ?? ''} (${blockCount} tests)${top[3] ?? ''}\n`)
    if (fileFailed) process.stdout.write(block.join('\n') + '\n')
    block = []
    blockFailures = 0
    blockCount = 0
  } else if (line.startsWith('    ') || line.startsWith('# Subtest')) {
    block.push(line)
  } else if (!/^(TAP version|1\.\.\d+)/.test(line)) {
    process.stdout.write(line + '\n')
  }
}
const code: number = await new Promise((resolve) => {
  if (tap.exitCode !== null) resolve(tap.exitCode)
  else tap.on('close', (c) => { resolve(c ?? 1) })
})
await pg.stop()
await rm(dir, { recursive: true, force: true })
if (code !== 0 && failed === 0) failed++

// A whole run (no file named) also runs the chaos suite (test/chaos/run.ts: each scenario on its own
// PostgreSQL, killed on purpose), after tap so the two never share the cores; its scenarios count
// like tests. TEST_CHAOS=0 leaves it out of a local run.
if (!args.some((arg) => !arg.startsWith('-')) && process.env.TEST_CHAOS !== '0') {
  process.stdout.write('chaos suite (npm run test:chaos)\n')
  const chaos = spawn(process.execPath, [path.resolve('node_modules/tsx/dist/cli.mjs'), path.resolve('test/chaos/run.ts')], { stdio: ['ignore', 'pipe', 'inherit'] })
  let counted = false
  for await (const line of createInterface({ input: chaos.stdout })) {
    const total = /^(\d+) passed, (\d+) failed$/.exec(line)
    if (total === null) { process.stdout.write(`  ${line}\n`); continue }
    passed += Number(total[1])
    failed += Number(total[2])
    counted = true
  }
  const chaosCode: number = await new Promise((resolve) => {
    if (chaos.exitCode !== null) resolve(chaos.exitCode)
    else chaos.on('close', (c) => { resolve(c ?? 1) })
  })
  if ((chaosCode !== 0 || !counted) && failed === 0) failed++
}
process.stdout.write(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}\n`)
process.exit(failed > 0 || code !== 0 ? 1 : 0)
