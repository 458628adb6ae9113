// The pool's slot accounting and victim choice, without a database: segmented LRU order, demotion
// when the protected segment is full, per-server victims, and the hit ratio it buys on skewed traffic.
import t from 'tap'
import { createCapacity, type Slotted } from '../../src/tenancy/pool-capacity.js'

interface E extends Slotted { name: string }
const entry = (name: string, serverId = 's1'): E => ({ name, tenantId: name, serverId, holdsGlobal: false, holdsServer: false })

function filled (maxClients: number, names: string[], serverCap = 100) {
  const cap = createCapacity<E>({ maxClients, serverCap: () => serverCap })
  const entries = new Map(names.map((n) => [n, entry(n)]))
  for (const e of entries.values()) {
    t.ok(cap.reserve(e).ok)
    cap.markIdle(e)
  }
  return { cap, entries }
}

/** What the pool does on a cache hit: touch, lease (busy), release (idle again). */
function use (cap: ReturnType<typeof createCapacity<E>>, e: E): void {
  cap.touch(e)
  cap.markBusy(e)
  cap.markIdle(e)
}

const victimOf = (cap: ReturnType<typeof createCapacity<E>>, name = 'new'): string | undefined => {
  const r = cap.reserve(entry(name))
  return r.ok ? r.victim?.name : 'none'
}

t.test('victims come from probation before the protected segment, least recently used first', async (t) => {
  const { cap, entries } = filled(4, ['a', 'b', 'c', 'd'])
  use(cap, entries.get('a')!)
  use(cap, entries.get('b')!)
  t.equal(victimOf(cap, 'x'), 'c', 'c is the oldest on probation; a and b are older but protected')
  t.equal(victimOf(cap, 'y'), 'd')
  t.equal(victimOf(cap, 'z'), 'a', 'with probation empty, the oldest protected client goes')
})

t.test('promotion beyond the protected share demotes the least recently used protected client', async (t) => {
  // 5 clients, 80% protected: at most 4.
  const { cap, entries } = filled(5, ['a', 'b', 'c', 'd', 'e'])
  for (const n of ['a', 'b', 'c', 'd', 'e']) use(cap, entries.get(n)!)
  t.same(cap.segments(), { protected: 4, protectedMax: 4 })
  t.equal(entries.get('a')!.protected, false, 'a, touched first, went back to probation')
  t.equal(victimOf(cap), 'a')
  use(cap, entries.get('b')!)
  t.equal(victimOf(cap), 'c', 'b was used again, so c is now the least recently used protected client')
})

t.test('a busy client is never a victim and a full pool with none idle is blocked', async (t) => {
  const { cap, entries } = filled(2, ['a', 'b'])
  cap.markBusy(entries.get('a')!)
  t.equal(victimOf(cap, 'x'), 'b')
  t.equal(cap.blocked(), true)
  t.same(cap.reserve(entry('y')), { ok: false })
})

t.test('a full server takes its victim from its own clients, by segment', async (t) => {
  const cap = createCapacity<E>({ maxClients: 10, serverCap: (s) => (s === 's1' ? 2 : 10) })
  const a = entry('a', 's1')
  const b = entry('b', 's1')
  const c = entry('c', 's2')
  for (const e of [c, a, b]) { cap.reserve(e); cap.markIdle(e) }
  use(cap, a)
  const r = cap.reserve(entry('d', 's1'))
  t.ok(r.ok)
  t.equal(r.ok ? r.victim?.name : undefined, 'b', 'c is older and on probation, but on another server')
})

t.test('a busy client takes extra connection slots from free room only; they count until given back', async (t) => {
  const cap = createCapacity<E>({ maxClients: 10, serverCap: () => 3 })
  const a = entry('a')
  const b = entry('b')
  t.ok(cap.reserve(a).ok)
  t.ok(cap.reserve(b).ok)
  cap.markIdle(b)
  t.equal(cap.reserveExtra(a), true, 'one free connection on the server')
  t.equal(cap.reserveExtra(a), false, 'none left: the idle b is not evicted for an extra connection')
  const c = entry('c')
  t.same(cap.reserve(c), { ok: true, victim: b }, "a new client still gets b's slot")
  cap.release(b) // b disconnected; it had handed its slot to c
  t.equal(cap.reserveExtra(c), false, "a's extra connection still counts")
  cap.releaseExtra(a)
  t.equal(cap.reserveExtra(a), true, 'given back, it is free room again')
  cap.release(a) // a disconnects: its own slot and its extra one
  t.equal(cap.reserveExtra(c), true)
  t.equal(cap.reserveExtra(c), true)
  t.equal(cap.reserveExtra(c), false, 'c with two extra connections fills the server')
})

t.test('on Zipf(1.1) traffic over 1,000 tenants with 50 clients, more requests hit than with plain LRU', async (t) => {
  let seed = 42
  const random = (): number => { seed = (seed * 16807) % 2147483647; return seed / 2147483647 }
  const n = 1000
  const cdf: number[] = []
  let sum = 0
  for (let k = 0; k < n; k++) cdf.push(sum += 1 / Math.pow(k + 1, 1.1))
  const draw = (): number => {
    const u = random() * sum
    let lo = 0
    let hi = n - 1
    while (lo < hi) { const mid = (lo + hi) >> 1; if ((cdf[mid] as number) < u) lo = mid + 1; else hi = mid }
    return lo
  }
  const trace = Array.from({ length: 50_000 }, draw)

  // The pool's use of the capacity, one request at a time: hit -> touch; miss -> reserve (maybe evict).
  const cap = createCapacity<E>({ maxClients: 50, serverCap: () => 1000 })
  const cached = new Map<string, E>()
  let hits = 0
  for (const k of trace) {
    const name = `t${k}`
    const hit = cached.get(name)
    if (hit !== undefined) {
      hits++
      use(cap, hit)
      continue
    }
    const e = entry(name)
    const r = cap.reserve(e)
    if (!r.ok) throw new Error('no room')
    if (r.victim !== undefined) { cached.delete(r.victim.name); cap.release(r.victim) }
    cached.set(name, e)
    cap.markIdle(e)
  }
  const lru = new Map<number, true>()
  let lruHits = 0
  for (const k of trace) {
    if (lru.delete(k)) lruHits++
    else if (lru.size >= 50) lru.delete(lru.keys().next().value as number)
    lru.set(k, true)
  }
  const ratio = hits / trace.length
  t.ok(ratio > lruHits / trace.length + 0.05, `segmented LRU ${(ratio * 100).toFixed(1)}% vs LRU ${(lruHits / trace.length * 100).toFixed(1)}%`)
  t.ok(cap.segments().protected <= 40)
})
