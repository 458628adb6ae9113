// `npm run tenants -- database set|test <id> [url]`: a tenant's own database (BYOD), the CLI's twin
// of /api/platform/tenants/:id/database. A URL of `-` (or none, for set) is read from standard input,
// so that it stays out of shell history and the process list.
import type { FastifyInstance } from 'fastify'
import { CLI_ACTOR } from './tenants-servers.js'

async function readStdin (): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('database URL: ')
  let text = ''
  for await (const chunk of process.stdin) text += String(chunk)
  return text.trim()
}

export async function databaseCommand (app: FastifyInstance, sub: string | undefined, rest: string[], values: Record<string, string | boolean | undefined>): Promise<number> {
  const [tenantId, given] = rest
  if ((sub !== 'set' && sub !== 'test') || tenantId === undefined) throw new Error('usage: database set <tenantId> [url|-] [--budget N] | database test <tenantId> [url|-]')
  const url = given === '-' || (given === undefined && sub === 'set') ? await readStdin() : given
  if (sub === 'set') {
    if (url === undefined || url === '') throw new Error('a postgres:// URL is required')
    const budget = typeof values.budget === 'string' ? Number(values.budget) : undefined
    if (budget !== undefined && (!Number.isInteger(budget) || budget < 1)) throw new Error('--budget must be a positive whole number')
    const result = await app.byod.setDatabase(tenantId, url, { actor: CLI_ACTOR, connectionBudget: budget })
    process.stdout.write(`tenant ${tenantId} now lives in ${result.database} on ${result.host}:${result.port} (server ${result.server}, as ${result.user}` +
      `${result.ownDatabase ? ', the organization\'s own database' : ''}): moved by copy, writes frozen ${result.move.freezeMs} ms, ${result.move.rows} rows\n`)
    return 0
  }
  const result = await app.byod.testDatabase(tenantId, { actor: CLI_ACTOR, url })
  process.stdout.write(`${result.target === 'tenant' ? 'tenant database' : 'candidate'} at ${result.at}: ${result.ok ? 'ok' : `NOT OK: ${result.reason ?? ''}`}` +
    `${result.rttMs === null ? '' : `, ${result.rttMs} ms round trip`}${result.version === null ? '' : `, PostgreSQL ${result.version}`}${result.schemaVersion === null ? '' : `, schema ${result.schemaVersion}`}\n`)
  return result.ok ? 0 : 1
}
