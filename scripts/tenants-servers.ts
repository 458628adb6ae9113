// `npm run tenants -- servers ...`: the operator CLI's twin of /api/platform/servers.
import type { FastifyInstance } from 'fastify'

export const CLI_ACTOR = `operator:cli:${process.env.USER ?? 'unknown'}`

const mb = (bytes: number | undefined): string => bytes === undefined ? '-' : `${(bytes / 1024 / 1024).toFixed(1)} MB`

export async function serversCommand (app: FastifyInstance, sub: string | undefined, rest: string[], values: Record<string, string | boolean | undefined>): Promise<number> {
  const number = (name: string, fallback: number): number => {
    const raw = values[name]
    if (typeof raw !== 'string') return fallback
    const n = Number(raw)
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive whole number`)
    return n
  }
  switch (sub) {
    case 'add': {
      const [name, url] = rest
      if (name === undefined || url === undefined) throw new Error('usage: servers add <name> <adminUrl> [--kind SHARED|DEDICATED] [--budget N] [--max-tenants N]')
      const kind = (typeof values.kind === 'string' ? values.kind.toUpperCase() : 'SHARED')
      if (kind !== 'SHARED' && kind !== 'DEDICATED') throw new Error('--kind must be SHARED or DEDICATED (BYOD servers are set per tenant: tenants database set)')
      const server = await app.serverAdmin.add({ name, url, kind, connectionBudget: number('budget', app.config.pool.connectionBudget), maxTenants: number('max-tenants', kind === 'DEDICATED' ? 1 : 5000), actor: CLI_ACTOR })
      process.stdout.write(`server ${server.name} added (${server.host}:${server.port}, ${server.kind}, PostgreSQL ${server.health.version ?? '?'}); its template is ready\n`)
      return 0
    }
    case 'drain':
    case 'disable':
    case 'enable': {
      const [name] = rest
      if (name === undefined) throw new Error(`usage: servers ${sub} <name>`)
      const server = await app.serverAdmin.transition(name, sub, CLI_ACTOR)
      process.stdout.write(`server ${server.name} is now ${server.status}\n`)
      return 0
    }
    case undefined:
    case 'list': {
      const servers = await app.serverAdmin.list()
      console.table(servers.map((s) => ({
        name: s.name,
        kind: s.kind,
        status: s.status,
        host: `${s.host}:${s.port}`,
        tenants: `${s.tenantCount}/${s.maxTenants}`,
        budget: s.connectionBudget,
        reachable: s.health.reachable ? 'yes' : `no: ${s.health.error ?? ''}`,
        version: s.health.version ?? '-',
        rttMs: s.health.rttMs ?? '-',
        connections: s.health.connectionsUsed === undefined ? '-' : `${s.health.connectionsUsed}/${s.health.connectionsAllowed ?? '?'}`,
        databases: s.health.databaseCount ?? '-',
        size: mb(s.health.sizeBytes)
      })))
      return 0
    }
    default:
      throw new Error(`unknown servers command ${sub}: add, list, drain, disable or enable`)
  }
}
