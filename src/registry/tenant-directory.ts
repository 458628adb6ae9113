// Where each tenant lives and what state it is in, read from the registry and cached briefly so that
// routing a request costs no registry round trip most of the time.
import type { RegistryClient } from './registry-client.js'
import type { SecretBox } from '../util/secret-box.js'
import { buildDatabaseUrl } from '../db/pg-admin.js'
import { ERRORS } from '../errors.js'
import type { TenantConnectionInfo } from '../tenancy/tenant-pool.js'

export interface TenantRecord {
  id: string
  churchId: string
  name: string
  status: string
  subscriptionStatus: string
  trialEndsAt: Date | null
  schemaVersion: string
  primaryPhoneNumber: string | null
  timezone: string
  serverId: string
  databaseName: string
  databaseHost: string
  databasePort: number
  databaseUser: string
  databasePasswordEncrypted: string
  /** Set while a move freezes the tenant's writes (see tenancy/moves/). */
  writesFrozenAt: Date | null
  createdAt: Date
  /** When a scheduled deletion happens (status DELETION_SCHEDULED). */
  deletionScheduledAt: Date | null
}

/** How long a record is trusted when nothing announces changes: another process may suspend a tenant. */
export const UNANNOUNCED_TTL_MS = 5000
/** With change notices (registry-changes.ts) the expiry is only a safety net. */
export const ANNOUNCED_TTL_MS = 5 * 60_000

export function createTenantDirectory (deps: { registry: RegistryClient, secretBox: SecretBox, ttlMs?: number }) {
  const { registry, secretBox } = deps
  let ttlMs = deps.ttlMs ?? UNANNOUNCED_TTL_MS
  const cache = new Map<string, { record: TenantRecord, expires: number }>()
  // One registry read per tenant however many requests miss at once.
  const loading = new Map<string, Promise<TenantRecord>>()
  // Bumped by every invalidation: a read that was under way meanwhile may hold the old row, so its
  // answer serves the callers that waited for it but is not cached.
  let generation = 0

  async function load (tenantId: string): Promise<TenantRecord> {
    const started = generation
    const record = await registry.tenant.findUnique({ where: { id: tenantId } })
    if (record === null) {
      cache.delete(tenantId)
      throw new ERRORS.TenantNotFound(tenantId)
    }
    if (started === generation) {
      cache.set(tenantId, { record, expires: Date.now() + ttlMs })
      if (cache.size > 50_000) cache.delete(cache.keys().next().value as string)
    }
    return record
  }

  async function get (tenantId: string): Promise<TenantRecord> {
    const hit = cache.get(tenantId)
    if (hit !== undefined && hit.expires > Date.now()) return hit.record
    let pending = loading.get(tenantId)
    if (pending === undefined) {
      pending = load(tenantId).finally(() => { if (loading.get(tenantId) === pending) loading.delete(tenantId) })
      loading.set(tenantId, pending)
    }
    return await pending
  }

  function forget (tenantId?: string): void {
    generation++
    if (tenantId === undefined) {
      cache.clear()
      loading.clear()
    } else {
      cache.delete(tenantId)
      loading.delete(tenantId)
    }
  }

  async function connectionInfo (tenantId: string): Promise<TenantConnectionInfo> {
    const t = await get(tenantId)
    const url = buildDatabaseUrl({
      host: t.databaseHost,
      port: t.databasePort,
      user: t.databaseUser,
      password: secretBox.decrypt(t.databasePasswordEncrypted),
      database: t.databaseName,
      params: ''
    })
    return { tenantId, serverId: t.serverId, url }
  }

  return {
    get,
    connectionInfo,
    invalidate: (tenantId: string) => { forget(tenantId) },
    /**
     * Whether registry changes are announced to this process. Either way the cache is emptied: when
     * announcements start, any change made before them may not have been seen.
     */
    setAnnounced: (announced: boolean) => {
      ttlMs = announced ? ANNOUNCED_TTL_MS : (deps.ttlMs ?? UNANNOUNCED_TTL_MS)
      forget()
    }
  }
}

export type TenantDirectory = ReturnType<typeof createTenantDirectory>
