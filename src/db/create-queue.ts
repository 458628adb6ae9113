// pg-boss 10 creates a queue (a row, a partition table with foreign keys, ATTACH PARTITION) without a
// lock of its own, so two processes starting together on a fresh registry (the API and the worker
// after a deploy) deadlock on the queue and job tables and one of them dies at start-up with
// "deadlock detected". PostgreSQL has already undone the victim's half: creating it again is safe.
import type PgBoss from 'pg-boss'

const DEADLOCK = '40P01'

export async function createQueueSafely (boss: Pick<PgBoss, 'createQueue'>, name: string, options: PgBoss.Queue, attempts = 8): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await boss.createQueue(name, options)
      return
    } catch (error) {
      if ((error as { code?: string }).code !== DEADLOCK || attempt >= attempts) throw error
      // Apart at random, so that the two processes do not collide again in step.
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 200 * attempt))
    }
  }
}
