// Slot accounting for the tenant pool: one slot is one client (and its connections) on one server.
// A slot stays held until the client's connections are closed, so budgets count what Postgres sees.

export interface Slotted {
  tenantId: string
  serverId: string
  /** Which halves of the slot this entry still has to give back; cleared when handed to a successor. */
  holdsGlobal: boolean
  holdsServer: boolean
}

export type Reservation<E> = { ok: false } | { ok: true, victim?: E }

export function createCapacity<E extends Slotted> (opts: { maxClients: number, serverCap: (serverId: string) => number }) {
  let total = 0
  const perServer = new Map<string, number>()
  // Idle entries in the order they became idle: the first is the least recently used. Map order
  // gives O(1) touch (delete + set) and O(1) oldest lookup without a linked list of our own.
  const idle = new Map<string, E>()
  const idleByServer = new Map<string, Map<string, E>>()

  const used = (serverId: string): number => perServer.get(serverId) ?? 0
  const first = (map: Map<string, E> | undefined): E | undefined => map?.values().next().value

  function markBusy (entry: E): void {
    idle.delete(entry.tenantId)
    const byServer = idleByServer.get(entry.serverId)
    byServer?.delete(entry.tenantId)
    if (byServer?.size === 0) idleByServer.delete(entry.serverId)
  }

  function markIdle (entry: E): void {
    markBusy(entry)
    idle.set(entry.tenantId, entry)
    let byServer = idleByServer.get(entry.serverId)
    if (byServer === undefined) idleByServer.set(entry.serverId, byServer = new Map())
    byServer.set(entry.tenantId, entry)
  }

  /**
   * Finds room for `entry` on its server. When the pool or the server is full, the least recently used
   * idle client that frees what is missing becomes the victim: its slot passes straight to `entry`
   * (no one else can grab it while the victim disconnects), and the caller must dispose the victim
   * and wait for that before opening connections.
   */
  function reserve (entry: E): Reservation<E> {
    const serverFull = used(entry.serverId) >= opts.serverCap(entry.serverId)
    const globalFull = total >= opts.maxClients
    if (!serverFull && !globalFull) {
      total++
      perServer.set(entry.serverId, used(entry.serverId) + 1)
      entry.holdsGlobal = entry.holdsServer = true
      return { ok: true }
    }
    // Only a client on the same server frees a server slot; any client frees a global one.
    const victim = serverFull ? first(idleByServer.get(entry.serverId)) : first(idle)
    if (victim === undefined) return { ok: false }
    markBusy(victim)
    victim.holdsGlobal = false
    if (serverFull) {
      victim.holdsServer = false
    } else {
      // The victim's connections on its own server stay counted until it has disconnected.
      perServer.set(entry.serverId, used(entry.serverId) + 1)
    }
    entry.holdsGlobal = entry.holdsServer = true
    return { ok: true, victim }
  }

  function release (entry: E): void {
    markBusy(entry)
    if (entry.holdsGlobal) total--
    if (entry.holdsServer) {
      const left = used(entry.serverId) - 1
      if (left > 0) perServer.set(entry.serverId, left)
      else perServer.delete(entry.serverId)
    }
    entry.holdsGlobal = entry.holdsServer = false
  }

  return {
    reserve,
    release,
    markIdle,
    markBusy,
    /** Idle entries, least recently used first. */
    idleEntries: (): IterableIterator<E> => idle.values(),
    /** Nothing idle to evict and no free slot: a waiter for any server would fail. */
    blocked: (): boolean => idle.size === 0 && total >= opts.maxClients
  }
}
