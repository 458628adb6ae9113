// Runs the load generator (load-generator.ts, autocannon) in a child process against a server this
// process runs, so the server's figures carry none of the load generator's work or GC.
import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { LoadJob, LoadResult } from './load-generator.js'

export type { LoadJob, LoadRequest, LoadResult } from './load-generator.js'

const GENERATOR = path.join(import.meta.dirname, 'load-generator.ts')

export async function runLoad (job: LoadJob): Promise<LoadResult & { generatorPid: number }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'church-sms-load-'))
  const file = path.join(dir, 'job.json')
  await writeFile(file, JSON.stringify(job))
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', GENERATOR, file], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { out += chunk })
    const code = await new Promise<number | null>((resolve, reject) => { child.once('error', reject); child.once('exit', resolve) })
    if (code !== 0) throw new Error(`load generator exited with ${String(code)}`)
    return { ...(JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as LoadResult), generatorPid: child.pid ?? -1 }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
