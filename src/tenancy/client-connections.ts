// How many connections one cached tenant client holds: one while idle (its slot of the server's
// budget), more only while its queries find every connection busy and the server has free room
// (extra slots, see pool-capacity.ts), given back when pg closes them after they idle.
import type pg from 'pg'
import type { Slotted } from './pool-capacity.js'

export interface Growable extends Slotted {
  state: 'building' | 'ready' | 'draining' | 'gone'
  pool?: pg.Pool
}

interface ExtraSlots<E> { reserveExtra: (entry: E) => boolean, releaseExtra: (entry: E) => void }

export function createConnectionGrowth<E extends Growable> (opts: { capacity: ExtraSlots<E>, connectionsPerClient: number, onFreed: () => void }) {
  const { capacity, connectionsPerClient } = opts

  /**
   * A query is about to ask for a connection: if in-use ones, queries already waiting (pg hands an
   * idle one over on the next tick) and this one are more than the client holds, allow one more
   * when the server has room. Without room the query waits for one of its own client's connections.
   */
  function grow (entry: E, pool: pg.Pool): void {
    if (entry.state !== 'ready') return
    const held = 1 + (entry.extra ?? 0)
    // A connection being opened (closable-pool.ts) is already promised to a waiting query.
    const opening = (pool as { opening?: number }).opening ?? 0
    const demand = pool.totalCount - pool.idleCount - opening + pool.waitingCount + 1
    if (held >= connectionsPerClient || demand <= held) return
    if (capacity.reserveExtra(entry)) pool.options.max = held + 1
  }

  /** pg closed a connection (an extra one idle for extraIdleMs, or a broken one): free its slot. */
  function shrink (entry: E, pool: pg.Pool): void {
    if (entry.state === 'gone') return
    let freed = false
    while ((entry.extra ?? 0) > 0 && pool.totalCount < 1 + (entry.extra ?? 0)) {
      capacity.releaseExtra(entry)
      freed = true
    }
    pool.options.max = 1 + (entry.extra ?? 0)
    if (freed) opts.onFreed()
  }

  /** Every query goes through pool.connect (pool.query too): it asks grow() first. */
  function attach (entry: E, pool: pg.Pool): void {
    pool.on('remove', () => { shrink(entry, pool) })
    if (connectionsPerClient < 2) return
    const connect = pool.connect.bind(pool) as (...args: unknown[]) => unknown
    pool.connect = ((...args: unknown[]) => {
      grow(entry, pool)
      return connect(...args)
    }) as unknown as pg.Pool['connect']
  }

  return { attach }
}
