// A counting semaphore with a first-come queue and a bound on how long a caller waits for its turn.
// pg.Pool has one timeout for two things, waiting for a free client and opening a connection; in
// front of a pool of the same size, this gate takes the waiting, so the pool's timeout is left to
// mean "the server did not answer".

export interface FifoGate {
  /** Resolves true once the caller holds a place, or false after `maxWaitMs` in the queue. */
  enter: (maxWaitMs: number) => Promise<boolean>
  /** Gives the place to the longest waiter, if any. Call exactly once per successful enter. */
  leave: () => void
  stats: () => { active: number, waiting: number }
}

export function createFifoGate (capacity: number): FifoGate {
  let active = 0
  const queue = new Set<{ admit: () => void, timer: NodeJS.Timeout }>()

  return {
    async enter (maxWaitMs) {
      if (active < capacity && queue.size === 0) {
        active++
        return true
      }
      return await new Promise<boolean>((resolve) => {
        const waiter = {
          admit: () => { clearTimeout(waiter.timer); resolve(true) },
          timer: setTimeout(() => { queue.delete(waiter); resolve(false) }, maxWaitMs)
        }
        queue.add(waiter)
      })
    },
    leave () {
      const next = queue.values().next().value
      if (next === undefined) {
        active--
        return
      }
      // The place passes straight to the next waiter: `active` stays the same.
      queue.delete(next)
      next.admit()
    },
    stats: () => ({ active, waiting: queue.size })
  }
}
