// Collects finished tenants and writes them to the registry in batches (src/registry/fleet-runs.ts):
// at most every `intervalMs`, or sooner when `maxRows` are waiting, and once more at the end. A crash
// loses at most one batch of registry rows; each tenant's own ledger (migrator.applied) is already
// committed, so the next run finds those tenants current and records them then. While the registry
// is unreachable (its server restarting) the rows wait, and the last write is retried until it answers.
import type { LedgerRow } from '../../registry/fleet-runs.js'

export interface LedgerSink { flush: (rows: LedgerRow[], progress: unknown) => Promise<{ cancelRequested: boolean }> }

export interface LedgerBufferOptions {
  intervalMs?: number
  maxRows?: number
  /** How long close() keeps retrying the last write before it gives up and throws. */
  closeRetryMs?: number
  onError?: (error: unknown) => void
}

export function createLedgerBuffer (sink: LedgerSink, progress: () => unknown, options: LedgerBufferOptions = {}) {
  const intervalMs = options.intervalMs ?? 250
  const maxRows = options.maxRows ?? 250
  const closeRetryMs = options.closeRetryMs ?? 5 * 60_000
  let rows: LedgerRow[] = []
  let writing: Promise<void> = Promise.resolve()
  let cancelRequested = false
  let failure: unknown

  function write (): Promise<void> {
    const batch = rows
    rows = []
    writing = writing.then(async () => {
      const answer = await sink.flush(batch, progress())
      if (answer.cancelRequested) cancelRequested = true
    }).catch((error: unknown) => {
      // Kept for the next attempt: a registry hiccup must not lose finished tenants.
      rows = [...batch, ...rows]
      failure = error
      options.onError?.(error)
    })
    return writing
  }

  const timer = setInterval(() => { void write() }, intervalMs)
  timer.unref()

  return {
    add (row: LedgerRow): void {
      rows.push(row)
      if (rows.length >= maxRows) void write()
    },
    get cancelRequested (): boolean { return cancelRequested },
    /** Writes what is left, retrying for closeRetryMs; throws when the registry still refuses it. */
    async close (): Promise<void> {
      clearInterval(timer)
      await writing
      const deadline = Date.now() + closeRetryMs
      for (let attempt = 0; ; attempt++) {
        failure = undefined
        await write()
        if (failure === undefined) return
        if (Date.now() >= deadline) throw failure instanceof Error ? failure : new Error(String(failure))
        await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** attempt, 5000)))
      }
    }
  }
}
