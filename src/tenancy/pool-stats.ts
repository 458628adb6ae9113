// What the pool reports of itself (GET /metrics, /ready, benchmarks): clients and connections per
// server against its budget, requests in flight and acquirers waiting. Computed on demand, never kept.
import type { Entry } from './tenant-pool-types.js'

export interface ServerStats { clients: number, connectionCap: number, openConnections: number }

export function poolStats<C> (live: Iterable<Entry<C>>, queue: Iterable<Entry<C>>, budget: (serverId: string) => number) {
  const servers: Record<string, ServerStats> = {}
  let clients = 0
  let openConnections = 0
  let inFlight = 0
  for (const entry of live) {
    const open = entry.pool?.totalCount ?? 0
    clients++
    openConnections += open
    inFlight += entry.leases
    const server = servers[entry.serverId] ??= { clients: 0, connectionCap: budget(entry.serverId), openConnections: 0 }
    server.clients++
    server.openConnections += open
  }
  let waiters = 0
  for (const entry of queue) waiters += entry.pending.length
  return { clients, waiters, openConnections, inFlight, servers }
}
