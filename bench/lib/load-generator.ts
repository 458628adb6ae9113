// The load generator of the HTTP benchmarks, run as a process of its own (autocannon) so that its
// work and garbage collection are not charged to the server it measures. Reads a job file (URL, the
// pre-built requests, how many connections), sends every request once in order over `connections`
// keep-alive connections, one in flight on each, and prints one JSON line: latencies of the measured
// requests, wall time and which of them were answered 2xx.
// Usage: node --import tsx bench/lib/load-generator.ts <job.json>
import { readFileSync } from 'node:fs'
import autocannon from 'autocannon'

export interface LoadRequest { method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: string }
export interface LoadJob { url: string, connections: number, warmup: LoadRequest[], measured: LoadRequest[] }
export interface LoadResult { latenciesMs: number[], wallMs: number, answered: number, ok: number[], statuses: Record<string, number>, errors: number, timeouts: number }

interface Context { index?: number }

async function fire (url: string, connections: number, list: LoadRequest[]): Promise<LoadResult> {
  let next = 0
  const latenciesMs: number[] = []
  const ok: number[] = []
  const statuses: Record<string, number> = {}
  let last = 0
  const started = performance.now()
  const instance = autocannon({
    url,
    connections,
    pipelining: 1,
    amount: list.length,
    timeout: 30,
    requests: [{
      // Called for every request a connection builds: each takes the next one of the list.
      setupRequest: (request: Record<string, unknown>, context: Context) => {
        const i = next++
        context.index = i
        const item = list[i % list.length] as LoadRequest
        return { ...request, method: item.method, path: item.path, headers: item.headers, body: item.body }
      },
      onResponse: (status: number, _body: string, context: Context) => {
        if (status >= 200 && status < 300 && context.index !== undefined && context.index < list.length) ok.push(context.index)
      }
    }]
  } as autocannon.Options)
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    latenciesMs.push(ms)
    statuses[status] = (statuses[status] ?? 0) + 1
    last = performance.now()
  })
  const result = await instance
  return { latenciesMs, wallMs: last - started, answered: latenciesMs.length, ok, statuses, errors: result.errors, timeouts: result.timeouts }
}

const job = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as LoadJob
if (job.warmup.length > 0) await fire(job.url, job.connections, job.warmup)
const measured = await fire(job.url, job.connections, job.measured)
process.stdout.write(JSON.stringify(measured) + '\n')
