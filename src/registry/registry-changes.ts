// LISTEN on the registry for the change notices its triggers send (registry migration 0002): the
// caches that route requests (tenant records, phone number routes) drop an entry the moment its row
// changes in any process. While not listening (at start, or after the connection dropped) notices
// could be missed, so subscribers hear about that too: they fall back to short expiries and, once
// listening again, forget what they hold.
import pg from 'pg'
import { CONNECT_TIMEOUT_MS } from '../db/pg-admin.js'

export const REGISTRY_CHANNELS = ['tenant_changed', 'phone_number_changed', 'tenant_moved'] as const
export type RegistryChannel = typeof REGISTRY_CHANNELS[number]

type LogFn = (obj: unknown, msg?: string) => void

export interface RegistryChanges {
  /** Resolves once the first LISTEN is in place (or the first attempt failed; retries go on). */
  ready: Promise<void>
  /** `onChange` gets each notice's payload (a tenant id, a phone number). */
  subscribe: (channel: RegistryChannel, handlers: { onChange: (key: string) => void, onListening: (listening: boolean) => void }) => void
  listening: () => boolean
  close: () => Promise<void>
}

export function startRegistryChanges (opts: { url: string, log: { warn: LogFn }, retryMs?: number }): RegistryChanges {
  const retryMs = opts.retryMs ?? 1000
  const subscribers = new Map<RegistryChannel, Array<{ onChange: (key: string) => void, onListening: (listening: boolean) => void }>>()
  let client: pg.Client | undefined
  let closed = false
  let retry: NodeJS.Timeout | undefined

  const each = (fn: (s: { onChange: (key: string) => void, onListening: (listening: boolean) => void }) => void): void => {
    for (const list of subscribers.values()) for (const s of list) fn(s)
  }

  function lost (c: pg.Client, error?: unknown): void {
    if (client !== c) return
    client = undefined
    each((s) => { s.onListening(false) })
    c.end().catch(() => {})
    if (closed) return
    opts.log.warn({ err: error }, 'registry change listener disconnected; retrying')
    retry = setTimeout(() => { void attempt() }, retryMs)
    retry.unref()
  }

  async function attempt (): Promise<void> {
    const c = new pg.Client({ connectionString: opts.url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: 'church-sms-listener' })
    c.on('notification', (message) => {
      const list = subscribers.get(message.channel as RegistryChannel)
      if (list === undefined || typeof message.payload !== 'string' || message.payload === '') return
      for (const s of list) s.onChange(message.payload)
    })
    c.on('error', (error) => { lost(c, error) })
    c.on('end', () => { lost(c) })
    try {
      await c.connect()
      await c.query(REGISTRY_CHANNELS.map((channel) => `LISTEN ${channel}`).join('; '))
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
    each((s) => { s.onListening(true) })
  }

  const ready = attempt()
  return {
    ready,
    subscribe: (channel, handlers) => {
      const list = subscribers.get(channel) ?? []
      list.push(handlers)
      subscribers.set(channel, list)
      // A late subscriber learns the current state, as the others did when it changed.
      handlers.onListening(client !== undefined)
    },
    listening: () => client !== undefined,
    close: async () => {
      closed = true
      clearTimeout(retry)
      const c = client
      client = undefined
      if (c !== undefined) {
        each((s) => { s.onListening(false) })
        await c.end().catch(() => {})
      }
    }
  }
}
