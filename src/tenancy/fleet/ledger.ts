// Collects finished tenants and writes them to the registry in batches (src/registry/fleet-runs.ts):
// at most every `intervalMs`, or sooner when `maxRows` are waiting, and once more at the end. A crash
// loses at most one batch of registry rows; each tenant's own ledger (migrator.applied) is already
// committed, so the next run finds those tenants current and records them then.
import type { LedgerRow } from '../../registry/fleet-runs.js'

export interface LedgerSink { flush: (rows: LedgerRow[], progress: unknown) => Promise<{ cancelRequested: boolean }> }

export function createLedgerBuffer (sink: LedgerSink, progress: () => unknown, options: { intervalMs?: number, maxRows?: number, onError?: (error: unknown) => void } = {}) {
  const intervalMs = options.intervalMs ?? 250
  const maxRows = options.maxRows ?? 250
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
    /** Writes what is left; throws when the registry still refuses it. */
    async close (): Promise<void> {
      clearInterval(timer)
      await writing
      failure = undefined
      await write()
      if (failure !== undefined) throw failure instanceof Error ? failure : new Error(String(failure))
    }
  }
}
