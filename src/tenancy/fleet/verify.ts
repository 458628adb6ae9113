// The drift check: every tenant's ledger against the migration files and the registry, and its
// catalog fingerprint against its server's template at the same version. Read-only; each tenant
// connection holds a slot of its server's budget like a fleet run does.
import type { Migration } from '../../db/migrator.js'
import { connect, withDatabase } from '../../db/pg-admin.js'
import type { RegistryClient } from '../../registry/registry-client.js'
import type { ServerDirectory, ServerRow } from '../../registry/servers.js'
import type { TenantPool } from '../tenant-pool.js'
import { TEMPLATE_DATABASE } from '../template.js'
import { pendingFiles, versionOf } from './apply.js'
import { diffLines, fingerprint, FINGERPRINT_HASH_SQL, type Fingerprint } from './fingerprint.js'
import { MIGRATED_STATES } from './plan.js'

export interface Drift { tenantId: string, server: string, version: string, problems: string[] }
export interface VerifyReport { checked: number, templates: Record<string, string>, drifted: Drift[], durationMs: number }

export interface VerifyDeps {
  registry: Pick<RegistryClient, 'tenant'>
  servers: Pick<ServerDirectory, 'list' | 'adminUrl'>
  pool: Pick<TenantPool, 'borrow' | 'slots'>
  migrations: Migration[]
}

const LEDGER_SQL = 'SELECT version, checksum FROM migrator.applied ORDER BY version'

// Grants and schema privileges name roles, which differ on an organization's own server.
const structure = (lines: string[]): string[] => lines.filter((l) => !l.startsWith('grant ') && !l.startsWith('schema '))

function ledgerProblems (applied: Array<{ version: string, checksum: string }>, migrations: Migration[]): string[] {
  try {
    pendingFiles(applied, migrations, 'up', migrations.at(-1)?.version ?? 'none')
    return []
  } catch (error) {
    return [`ledger: ${(error as Error).message}`]
  }
}

export async function verifyFleet (deps: VerifyDeps, options: { concurrency?: number } = {}): Promise<VerifyReport> {
  const started = Date.now()
  const servers = new Map<string, { row: ServerRow, version: string, print: Fingerprint, problems: string[] }>()
  const byod = new Map<string, ServerRow>()
  for (const row of await deps.servers.list()) {
    if (row.kind === 'BYOD') {
      byod.set(row.id, row)
      continue
    }
    const client = await connect(withDatabase(deps.servers.adminUrl(row), TEMPLATE_DATABASE)).catch(() => undefined)
    if (client === undefined) continue
    try {
      const applied = (await client.query(LEDGER_SQL)).rows
      servers.set(row.id, { row, version: versionOf(applied), print: await fingerprint(client), problems: ledgerProblems(applied, deps.migrations) })
    } finally {
      await client.end()
    }
  }
  const tenants = await deps.registry.tenant.findMany({
    where: { status: { in: [...MIGRATED_STATES] } },
    select: { id: true, serverId: true, databaseName: true, schemaVersion: true },
    orderBy: { id: 'asc' }
  })
  const drifted: Drift[] = []
  for (const [, s] of servers) if (s.problems.length > 0) drifted.push({ tenantId: TEMPLATE_DATABASE, server: s.row.name, version: s.version, problems: s.problems })

  async function check (tenant: typeof tenants[number]): Promise<void> {
    const own = byod.get(tenant.serverId)
    if (own !== undefined) {
      await checkOwnServer(tenant, own)
      return
    }
    const server = servers.get(tenant.serverId)
    if (server === undefined) {
      drifted.push({ tenantId: tenant.id, server: tenant.serverId, version: tenant.schemaVersion, problems: ['its server has no reachable template'] })
      return
    }
    const release = await deps.pool.borrow(tenant.serverId)
    try {
      const client = await connect(deps.servers.adminUrl(server.row, tenant.databaseName), 'church-sms-verify')
      try {
        const [ledger, hash] = await client.query(`${LEDGER_SQL}; ${FINGERPRINT_HASH_SQL}`) as unknown as Array<{ rows: any[] }>
        const applied = ledger?.rows ?? []
        const version = versionOf(applied)
        const problems = ledgerProblems(applied, deps.migrations)
        if (version !== tenant.schemaVersion) problems.push(`registry says ${tenant.schemaVersion}, its ledger ${version}`)
        if (version !== server.version) {
          problems.push(`at ${version}, its server's template at ${server.version}`)
        } else if (hash?.rows[0]?.hash !== server.print.hash) {
          problems.push(...diffLines(server.print.lines, (await fingerprint(client)).lines).map((l) => `schema ${l}`))
        }
        if (problems.length > 0) drifted.push({ tenantId: tenant.id, server: server.row.name, version, problems })
      } finally {
        await client.end().catch(() => {})
      }
    } catch (error) {
      drifted.push({ tenantId: tenant.id, server: server.row.name, version: tenant.schemaVersion, problems: [`cannot check: ${(error as Error).message}`] })
    } finally {
      release()
    }
  }

  // A tenant on its organization's own server has no template beside it: compared with any template
  // at its version, structure only (its tables belong to the organization's role, not our group).
  async function checkOwnServer (tenant: typeof tenants[number], row: ServerRow): Promise<void> {
    const release = await deps.pool.borrow(tenant.serverId)
    try {
      const client = await connect(deps.servers.adminUrl(row, tenant.databaseName), 'church-sms-verify')
      try {
        const applied = (await client.query(LEDGER_SQL)).rows
        const version = versionOf(applied)
        const problems = ledgerProblems(applied, deps.migrations)
        if (version !== tenant.schemaVersion) problems.push(`registry says ${tenant.schemaVersion}, its ledger ${version}`)
        const reference = [...servers.values()].find((s) => s.version === version)
        if (reference === undefined) problems.push(`no template at ${version} to compare its schema with`)
        else problems.push(...diffLines(structure(reference.print.lines), structure((await fingerprint(client)).lines)).map((l) => `schema ${l}`))
        if (problems.length > 0) drifted.push({ tenantId: tenant.id, server: row.name, version, problems })
      } finally {
        await client.end().catch(() => {})
      }
    } catch (error) {
      drifted.push({ tenantId: tenant.id, server: row.name, version: tenant.schemaVersion, problems: [`cannot check: ${(error as Error).message}`] })
    } finally {
      release()
    }
  }

  const serverIds = new Set(tenants.map((t) => t.serverId))
  const concurrency = options.concurrency ?? Math.max(1, [...serverIds].reduce((n, id) => n + Math.max(1, Math.floor(deps.pool.slots(id) / 2)), 0))
  let next = 0
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, tenants.length)) }, async () => {
    while (next < tenants.length) await check(tenants[next++] as typeof tenants[number])
  }))
  drifted.sort((a, b) => a.tenantId < b.tenantId ? -1 : 1)
  return { checked: tenants.length, templates: Object.fromEntries([...servers.values()].map((s) => [s.row.name, s.version])), drifted, durationMs: Date.now() - started }
}

export function formatVerify (report: VerifyReport): string {
  const lines: string[] = []
  for (const d of report.drifted) {
    lines.push(`DRIFT ${d.tenantId} (server ${d.server}, at ${d.version}):`)
    for (const p of d.problems) lines.push(`  ${p}`)
  }
  lines.push(`${report.checked} tenants checked against templates ${Object.entries(report.templates).map(([s, v]) => `${s}@${v}`).join(', ')}: ` +
    `${report.drifted.length === 0 ? 'no drift' : `${report.drifted.length} with drift`} (${(report.durationMs / 1000).toFixed(1)} s)`)
  return lines.join('\n')
}
