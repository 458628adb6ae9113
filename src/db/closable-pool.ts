// The pg pool every long-lived pool of ours uses (registry, tenant clients, admin connections). pg's
// Pool.end() waits until every checked-out client is released, and a holder that never releases keeps
// its slot for ever. Prisma's driver adapter does exactly that (6.19, client engine): when a
// transaction's COMMIT or ROLLBACK fails, as it does when the server is killed mid-transaction, the
// transaction is forgotten without its connection being released. The pool then has one connection
// fewer until the process restarts, and app.close() never finishes (issue 14, chaos suite). Here:
// - a checked-out client whose connection has ended is released by the pool itself (with the error,
//   so it is dropped, never reused): a dead connection holds no slot;
// - releasing a client twice is harmless (the holder's late release after that is a no-op, where pg
//   would throw, possibly inside one of its own callbacks);
// - end() waits at most `endGraceMs` for the holders, then releases what they still hold: a close
//   always finishes, and a query still running on such a client fails instead;
// - a connection opened because every other one was busy goes to whichever request waits first once
//   it is ready, and a connection given back before then serves that request instead. pg ties the new
//   connection to the request that asked for it, which then waits for a fork and a login (10-30 ms on
//   a loaded server) even when a busy connection frees up a millisecond later. Same connections opened
//   as before; only who serves whom changes. (The webhook benchmark's p99 did not measurably move:
//   its run-to-run noise is larger.)
import pg from 'pg'

/** How long end() lets holders finish (a request, a transaction) before taking their clients back. */
export const END_GRACE_MS = 5000

export interface ClosablePoolConfig extends pg.PoolConfig {
  endGraceMs?: number
}

type Done = (release?: Error | boolean) => void
type Callback = (err: Error | undefined, client: pg.PoolClient | undefined, done: Done) => void

// pg-pool's internals used here (3.x): its idle connections, whether it is full, and opening a
// connection for a pending item. test/db/closable-pool.test.ts fails if a pg upgrade changes them.
interface PoolInternals {
  _idle: unknown[]
  _isFull: () => boolean
  newClient: (item: { callback: Callback }) => void
}

export class ClosablePool extends pg.Pool {
  /** Checked-out clients and the release that gives each back. */
  readonly #out = new Map<pg.PoolClient, (error?: Error) => void>()
  readonly #endGraceMs: number
  #opening = 0

  constructor ({ endGraceMs, ...config }: ClosablePoolConfig = {}) {
    super(config)
    this.#endGraceMs = endGraceMs ?? END_GRACE_MS
  }

  /** Connections being opened for the queue of waiting requests (each counted in totalCount). */
  get opening (): number { return this.#opening }

  /** Clients handed out and not given back yet (tests and diagnostics). */
  get checkedOut (): number { return this.#out.size }

  override connect (): Promise<pg.PoolClient>
  override connect (callback: Callback): void
  override connect (callback?: Callback): Promise<pg.PoolClient> | undefined {
    // pg's own pool.query() comes through here too (it calls this.connect with a callback).
    const internals = this as unknown as PoolInternals
    const opening = !this.ending && internals._idle.length === 0 && !internals._isFull()
    if (opening) {
      // Queued like a request that found the pool full (with pg's connection timeout), then the
      // connection is opened for the queue, not for this request.
      const isFull = internals._isFull
      internals._isFull = () => true
      let result: Promise<pg.PoolClient> | undefined
      try {
        result = this.#checkout(callback)
      } finally {
        internals._isFull = isFull
      }
      this.#opening++
      internals.newClient({
        // Into the idle list, from where pg hands it to the first waiter. If it failed, pg has already
        // opened another one for the first waiter (so a dead server still answers each request with
        // its error); nobody else is owed this one's.
        callback: (err, _client, done) => {
          this.#opening--
          if (err === undefined) done()
        }
      })
      return result
    }
    return this.#checkout(callback)
  }

  #checkout (callback?: Callback): Promise<pg.PoolClient> | undefined {
    if (callback === undefined) return super.connect().then((client) => this.#guard(client))
    super.connect((err, client, done) => {
      if (err instanceof Error || client === undefined) { callback(err, client, done); return }
      const guarded = this.#guard(client)
      callback(undefined, guarded, guarded.release)
    })
    return undefined
  }

  override end (): Promise<void>
  override end (callback: () => void): void
  override end (callback?: () => void): Promise<void> | undefined {
    const ended = super.end()
    const timer = setTimeout(() => {
      for (const release of [...this.#out.values()]) release(new Error('the pool was ended while this client was still checked out'))
    }, this.#endGraceMs)
    timer.unref()
    const done = ended.finally(() => { clearTimeout(timer) })
    if (callback === undefined) return done
    done.then(() => { callback() }, () => { callback() })
    return undefined
  }

  #guard (client: pg.PoolClient): pg.PoolClient {
    const release = client.release.bind(client)
    let released = false
    let broken: Error | undefined
    // pg-pool takes its idle 'error' listener off a client it hands out: without one of ours, an
    // error between statements (a server dying sends FATAL first) would crash the process.
    const onError = (error: Error): void => { broken ??= error }
    const onEnd = (): void => { give(broken ?? new Error('the connection ended while checked out')) }
    const give = (error?: Error | boolean): void => {
      if (released) return
      released = true
      client.removeListener('error', onError)
      client.removeListener('end', onEnd)
      this.#out.delete(client)
      // A connection that failed while out may be mid-transaction or half-read: drop it, never reuse.
      release(error ?? broken)
    }
    client.on('error', onError)
    client.once('end', onEnd)
    client.release = give
    this.#out.set(client, give)
    return client
  }
}
