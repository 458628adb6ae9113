// Timed HTTP requests over loopback with the global fetch (undici), with a closed-loop load generator.
import { mapLimit, since } from './stats.js'

export interface Timed { ms: number, status: number, body: string, error?: string }

export async function timedFetch (url: string, init: RequestInit = {}): Promise<Timed> {
  const start = performance.now()
  try {
    const res = await fetch(url, init)
    const body = await res.text()
    return { ms: since(start), status: res.status, body }
  } catch (error) {
    return { ms: since(start), status: 0, body: '', error: (error as Error).message }
  }
}

export async function postJson (url: string, payload: unknown, headers: Record<string, string> = {}): Promise<Timed> {
  return await timedFetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(payload) })
}

/**
 * Runs `total` requests, `concurrency` in flight at any time; returns them in issue order and the wall
 * time. With `maxMs`, no request is started after that much time has passed (the run is cut short).
 */
export async function closedLoop (total: number, concurrency: number, request: (i: number) => Promise<Timed>, maxMs = Number.POSITIVE_INFINITY): Promise<{ results: Timed[], wallMs: number, cut: boolean }> {
  const start = performance.now()
  let cut = false
  const results = await mapLimit(total, concurrency, async (i) => {
    if (since(start) > maxMs) { cut = true; return undefined }
    return await request(i)
  })
  return { results: results.filter((r): r is Timed => r !== undefined), wallMs: since(start), cut }
}
