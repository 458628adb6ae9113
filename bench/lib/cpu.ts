// CPU time of this process and of the PostgreSQL server (postmaster, its live children and the ones
// it has reaped), so a benchmark can say which side a request's cost falls on. Linux /proc only;
// elsewhere the server side reads as NaN.
import { readdirSync, readFileSync } from 'node:fs'
import { withClient } from '../../src/db/pg-admin.js'

const TICK_MS = 10 // USER_HZ is 100 on Linux

function statFields (pid: number): string[] | undefined {
  try {
    // Fields after "(comm)"; comm may contain spaces, hence the split on ") ".
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')
  } catch {
    return undefined
  }
}

/** The postmaster's pid: the parent of a backend we open. */
export async function postmasterPid (url: string): Promise<number | undefined> {
  // Read while the backend is alive.
  const ppid = await withClient(url, async (c) => statFields(Number((await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid))?.[1])
  return ppid === undefined ? undefined : Number(ppid)
}

/** Milliseconds of CPU used by the server so far: live processes plus reaped backends. */
export function serverCpuMs (pid: number | undefined): number {
  if (pid === undefined) return Number.NaN
  const own = statFields(pid)
  if (own === undefined) return Number.NaN
  // utime, stime, cutime, cstime are fields 14-17 of stat, i.e. 11-14 after "(comm) ".
  let ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(own[i]), 0)
  let children: string[] = []
  try { children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean) } catch {
    children = readdirSync('/proc').filter((d) => /^\d+$/.test(d) && statFields(Number(d))?.[1] === String(pid))
  }
  for (const child of children) {
    const f = statFields(Number(child))
    if (f !== undefined) ticks += Number(f[11]) + Number(f[12])
  }
  return ticks * TICK_MS
}

export interface CpuMeter { stop: () => { nodeMs: number, serverMs: number } }

/** Starts measuring CPU of this process and of the server. */
export function cpuMeter (serverPid: number | undefined): CpuMeter {
  const node0 = process.cpuUsage()
  const server0 = serverCpuMs(serverPid)
  return {
    stop: () => {
      const node = process.cpuUsage(node0)
      return { nodeMs: (node.user + node.system) / 1000, serverMs: serverCpuMs(serverPid) - server0 }
    }
  }
}
