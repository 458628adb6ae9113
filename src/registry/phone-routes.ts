// Inbound routing table: which tenant owns a phone number, read from PhoneNumberRegistry and kept in
// memory, since every inbound webhook asks. Assigning or releasing a number invalidates its entry, in
// this process directly and in every other one through the registry's change notices.
import type { RegistryClient } from './registry-client.js'

export interface RouteCacheOptions {
  registry: Pick<RegistryClient, 'phoneNumberRegistry'>
  /** How long a known route is trusted (other API instances may release numbers). */
  ttlMs?: number
  /** Unknown numbers are remembered briefly so that a flood for one does not hit the registry. */
  negativeTtlMs?: number
  maxEntries?: number
}

export function createRouteCache (opts: RouteCacheOptions) {
  const ttlMs = opts.ttlMs ?? 60_000
  const negativeTtlMs = opts.negativeTtlMs ?? 2_000
  const maxEntries = opts.maxEntries ?? 100_000
  const cache = new Map<string, { tenantId: string | null, expires: number }>()
  // One registry read per number even when many webhooks for it arrive at once.
  const loading = new Map<string, Promise<string | null>>()
  let generation = 0

  async function load (phoneNumber: string): Promise<string | null> {
    const started = generation
    const row = await opts.registry.phoneNumberRegistry.findUnique({ where: { phoneNumber }, select: { tenantId: true } })
    const tenantId = row?.tenantId ?? null
    // An invalidation during the read means the answer may be stale: use it once, do not keep it.
    if (started === generation) {
      cache.set(phoneNumber, { tenantId, expires: Date.now() + (tenantId === null ? negativeTtlMs : ttlMs) })
      if (cache.size > maxEntries) cache.delete(cache.keys().next().value as string)
    }
    return tenantId
  }

  async function tenantFor (phoneNumber: string): Promise<string | null> {
    const hit = cache.get(phoneNumber)
    if (hit !== undefined && hit.expires > Date.now()) return hit.tenantId
    let pending = loading.get(phoneNumber)
    if (pending === undefined) {
      pending = load(phoneNumber).finally(() => { loading.delete(phoneNumber) })
      loading.set(phoneNumber, pending)
    }
    return await pending
  }

  const invalidate = (phoneNumber: string): void => {
    generation++
    cache.delete(phoneNumber)
    loading.delete(phoneNumber)
  }

  return {
    tenantFor,
    invalidate,
    /** Registry change notices (registry-changes.ts) started or stopped: what is cached may have missed some. */
    setAnnounced: (_announced: boolean) => {
      generation++
      cache.clear()
      loading.clear()
    },
    size: () => cache.size
  }
}

export type RouteCache = ReturnType<typeof createRouteCache>
