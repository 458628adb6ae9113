// LISTEN tenant_changed on the registry: the "Tenant" trigger (registry migration 0002) announces
// every change that matters to a cached tenant record, and this drops that record in this process.
// While not listening (at start, or after the connection dropped) changes could be missed, so the
// directory is told to fall back to its short expiry and, once listening again, to forget everything.
import pg from 'pg'
import { CONNECT_TIMEOUT_MS } from '../db/pg-admin.js'

export const TENANT_CHANGED_CHANNEL = 'tenant_changed'

type LogFn = (obj: unknown, msg?: string) => void

export interface TenantChangeListener {
  /** Resolves once the first LISTEN is in place (or the first attempt failed; retries go on). */
  ready: Promise<void>
  listening: () => boolean
  close: () => Promise<void>
}

export function startTenantChangeListener (opts: {
  url: string
  onChange: (tenantId: string) => void
  /** true: now listening (caches may have missed changes meanwhile); false: not listening any more. */
  onListening: (listening: boolean) => void
  log: { warn: LogFn, info: LogFn }
  retryMs?: number
}): TenantChangeListener {
  const retryMs = opts.retryMs ?? 1000
  let client: pg.Client | undefined
  let closed = false
  let retry: NodeJS.Timeout | undefined

  function lost (c: pg.Client, error?: unknown): void {
    if (client !== c) return
    client = undefined
    opts.onListening(false)
    c.end().catch(() => {})
    if (closed) return
    opts.log.warn({ err: error }, 'tenant change listener disconnected; retrying')
    retry = setTimeout(() => { void attempt() }, retryMs)
    retry.unref()
  }

  async function attempt (): Promise<void> {
    const c = new pg.Client({ connectionString: opts.url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: 'church-sms-listener' })
    c.on('notification', (message) => {
      if (message.channel === TENANT_CHANGED_CHANNEL && typeof message.payload === 'string' && message.payload !== '') opts.onChange(message.payload)
    })
    c.on('error', (error) => { lost(c, error) })
    c.on('end', () => { lost(c) })
    try {
      await c.connect()
      await c.query(`LISTEN ${TENANT_CHANGED_CHANNEL}`)
    } catch (error) {
      client = c
      lost(c, error)
      return
    }
    if (closed) {
      await c.end().catch(() => {})
      return
    }
    client = c
    opts.onListening(true)
  }

  const ready = attempt()
  return {
    ready,
    listening: () => client !== undefined,
    close: async () => {
      closed = true
      clearTimeout(retry)
      const c = client
      client = undefined
      if (c !== undefined) {
        opts.onListening(false)
        await c.end().catch(() => {})
      }
    }
  }
}
