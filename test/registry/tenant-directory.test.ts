// The tenant directory's cache against the real registry: one read for concurrent misses, and a
// change announced while a read is under way never leaves the old row cached.
import t from 'tap'
import { createTenantDirectory } from '../../src/registry/tenant-directory.js'
import { build, registerOrganization } from '../helper.js'

t.test('concurrent misses read once; an invalidation during a read keeps its answer out of the cache', async (t) => {
  const app = await build(t)
  const { tenantId } = (await registerOrganization(app)).json() as { tenantId: string }
  let reads = 0
  let hold: Promise<void> | undefined
  // The real registry, with its reads counted and, when asked, held back.
  const registry = {
    tenant: {
      findUnique: async (args: Parameters<typeof app.registry.tenant.findUnique>[0]) => {
        reads++
        const row = await app.registry.tenant.findUnique(args)
        await hold
        return row
      }
    }
  }
  const directory = createTenantDirectory({ registry: registry as never, secretBox: app.secretBox, ttlMs: 60_000 })

  const all = await Promise.all(Array.from({ length: 10 }, async () => await directory.get(tenantId)))
  t.equal(reads, 1, 'ten concurrent misses, one registry read')
  t.ok(all.every((r) => r.status === 'ACTIVE'))

  directory.invalidate(tenantId)
  let release!: () => void
  hold = new Promise((resolve) => { release = resolve })
  const stale = directory.get(tenantId) // reads ACTIVE, then waits
  await new Promise((resolve) => setTimeout(resolve, 50))
  await app.registry.tenant.update({ where: { id: tenantId }, data: { status: 'SUSPENDED' } })
  directory.invalidate(tenantId) // what the change notice does
  release()
  hold = undefined
  t.equal((await stale).status, 'ACTIVE', 'the read under way answers with what it read')
  t.equal((await directory.get(tenantId)).status, 'SUSPENDED', 'but did not cache it: the next get reads again')
  t.equal(reads, 3)
})
