// Garbage collection and RSS for memory measurements.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

let cached: (() => void) | undefined | null

/**
 * global.gc when node runs with --expose-gc; otherwise the flag is switched on at run time and a fresh
 * context's gc is used (works on Node 20); null if neither is possible.
 */
export function getGc (): { gc: (() => void) | null, how: string } {
  if (typeof globalThis.gc === 'function') return { gc: globalThis.gc as () => void, how: 'global.gc (--expose-gc)' }
  if (cached === undefined) {
    try {
      setFlagsFromString('--expose-gc')
      const fn = runInNewContext('gc') as unknown
      cached = typeof fn === 'function' ? fn as () => void : null
    } catch {
      cached = null
    }
  }
  return { gc: cached, how: cached === null ? 'no gc available: figures include uncollected garbage' : 'v8.setFlagsFromString("--expose-gc") at run time (tsx does not pass --expose-gc; process.execArgv=' + JSON.stringify(process.execArgv) + ')' }
}

/** Collects garbage a few times (finalizers may free more) and returns memoryUsage() in MiB. */
export async function settledMemory (): Promise<{ rss: number, heapUsed: number, external: number }> {
  const { gc } = getGc()
  for (let i = 0; i < 3; i++) {
    gc?.()
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const m = process.memoryUsage()
  const mib = (n: number): number => n / (1024 * 1024)
  return { rss: mib(m.rss), heapUsed: mib(m.heapUsed), external: mib(m.external + m.arrayBuffers) }
}
