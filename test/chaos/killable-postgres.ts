// An embedded PostgreSQL the chaos scenarios can SIGKILL (postmaster and every backend, as a crash or
// an OOM kill would) and start again on the same data and port; crash recovery does the rest. It can
// also be frozen (SIGSTOP): a server that hangs, which answers nothing instead of refusing. Commits
// are synchronous (fast: 'survives-kill'): with synchronous_commit off a SIGKILL loses commits the
// service was told had happened, which no real server does, and the scenarios would count that.
import { execFileSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { startEmbeddedPostgres, type RunningPostgres } from '../../src/db/embedded-postgres.js'

export interface KillablePostgres {
  url: string
  port: number
  kill: () => Promise<void>
  restart: () => Promise<void>
  /** SIGSTOP to the postmaster and every backend: a server that hangs, answering nothing (until thaw). */
  freeze: () => Promise<void>
  thaw: () => void
  stop: () => Promise<void>
}

const alive = (pid: number): boolean => { try { process.kill(pid, 0); return true } catch { return false } }

export async function startKillablePostgres (dir: string): Promise<KillablePostgres> {
  let running: RunningPostgres = await startEmbeddedPostgres({ dir, fast: 'survives-kill', maxConnections: 400 })
  const port = running.port
  const pidFile = path.join(dir, 'pgdata', 'postmaster.pid')
  // A killed server left down has nothing to stop (its stop() would wait for a process already gone).
  let killed = false
  let frozen: number[] = []
  const processes = async (): Promise<number[]> => {
    const postmaster = Number((await readFile(pidFile, 'utf8')).split('\n')[0])
    const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(postmaster)], { encoding: 'utf8' }).split('\n').map(Number).filter((n) => n > 0)
    return [postmaster, ...children]
  }
  const thaw = (): void => {
    for (const pid of frozen) { try { process.kill(pid, 'SIGCONT') } catch {} }
    frozen = []
  }
  return {
    url: running.url,
    port,
    async kill () {
      const pids = await processes()
      for (const pid of pids) { try { process.kill(pid, 'SIGKILL') } catch {} }
      while (pids.some(alive)) await new Promise((resolve) => setTimeout(resolve, 50))
      killed = true
    },
    async freeze () {
      frozen = await processes()
      for (const pid of frozen) { try { process.kill(pid, 'SIGSTOP') } catch {} }
    },
    thaw,
    async restart () {
      running = await startEmbeddedPostgres({ dir, port, fast: 'survives-kill', maxConnections: 400 })
      killed = false
    },
    async stop () {
      thaw()
      if (!killed) await running.stop().catch(() => {})
    }
  }
}
