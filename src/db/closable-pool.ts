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
//   always finishes, and a query still running on such a client fails instead.
import pg from 'pg'

/** How long end() lets holders finish (a request, a transaction) before taking their clients back. */
export const END_GRACE_MS = 5000

export interface ClosablePoolConfig extends pg.PoolConfig {
  endGraceMs?: number
}

type Done = (release?: Error | boolean) => void

export class ClosablePool extends pg.Pool {
  /** Checked-out clients and the release that gives each back. */
  readonly #out = new Map<pg.PoolClient, (error?: Error) => void>()
  readonly #endGraceMs: number

  constructor ({ endGraceMs, ...config }: ClosablePoolConfig = {}) {
    super(config)
    this.#endGraceMs = endGraceMs ?? END_GRACE_MS
  }

  /** Clients handed out and not given back yet (tests and diagnostics). */
  get checkedOut (): number { return this.#out.size }

  override connect (): Promise<pg.PoolClient>
  override connect (callback: (err: Error | undefined, client: pg.PoolClient | undefined, done: Done) => void): void
  override connect (callback?: (err: Error | undefined, client: pg.PoolClient | undefined, done: Done) => void): Promise<pg.PoolClient> | undefined {
    // pg's own pool.query() comes through here too (it calls this.connect with a callback).
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
