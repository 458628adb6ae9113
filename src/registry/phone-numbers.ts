// Assigning numbers to organizations: PhoneNumberRegistry is the inbound routing table (a number
// belongs to one tenant only) and Tenant.primaryPhoneNumber is the number replies are sent from.
import type { RegistryClient } from './registry-client.js'
import { ERRORS } from '../errors.js'
import type { RouteCache } from './phone-routes.js'
import type { TenantStore } from './tenants.js'
import { isE164 } from '../util/phone.js'

export interface PhoneNumberView { phoneNumber: string, isPrimary: boolean, createdAt: Date }

export function createPhoneNumberService (deps: {
  registry: RegistryClient
  tenants: Pick<TenantStore, 'transaction'>
  routes: Pick<RouteCache, 'invalidate'>
}) {
  const { registry, tenants, routes } = deps

  async function list (tenantId: string): Promise<PhoneNumberView[]> {
    const [tenant, rows] = await Promise.all([
      registry.tenant.findUnique({ where: { id: tenantId }, select: { primaryPhoneNumber: true } }),
      registry.phoneNumberRegistry.findMany({ where: { tenantId }, orderBy: [{ createdAt: 'asc' }, { phoneNumber: 'asc' }] })
    ])
    return rows.map((r) => ({ phoneNumber: r.phoneNumber, isPrimary: r.phoneNumber === tenant?.primaryPhoneNumber, createdAt: r.createdAt }))
  }

  /** Idempotent for the owner; PHONE_NUMBER_TAKEN for anyone else. The first number becomes primary. */
  async function add (tenantId: string, phoneNumber: string): Promise<{ view: PhoneNumberView, created: boolean }> {
    if (!isE164(phoneNumber)) throw new ERRORS.BadRequest('phoneNumber must be in E.164 form, e.g. +15551234567')
    // The primary key settles concurrent claims: exactly one insert wins.
    const inserted = await registry.phoneNumberRegistry.createMany({ data: [{ phoneNumber, tenantId }], skipDuplicates: true })
    if (inserted.count === 0) {
      const owner = await registry.phoneNumberRegistry.findUnique({ where: { phoneNumber } })
      if (owner !== null && owner.tenantId !== tenantId) throw new ERRORS.PhoneNumberTaken()
      // Released between our insert and read: claim again.
      if (owner === null) return await add(tenantId, phoneNumber)
    }
    await tenants.transaction(async (t) => { await t.setPrimaryPhoneNumber(tenantId, phoneNumber, { onlyIfUnset: true }) })
    routes.invalidate(phoneNumber)
    const view = (await list(tenantId)).find((v) => v.phoneNumber === phoneNumber)
    if (view === undefined) throw new ERRORS.NotFound('Phone number')
    return { view, created: inserted.count === 1 }
  }

  /** Releases the number at once; the next oldest number (if any) becomes primary. */
  async function remove (tenantId: string, phoneNumber: string): Promise<void> {
    await tenants.transaction(async (t, tx) => {
      const deleted = await tx.phoneNumberRegistry.deleteMany({ where: { phoneNumber, tenantId } })
      if (deleted.count === 0) throw new ERRORS.NotFound('Phone number')
      const tenant = await tx.tenant.findUnique({ where: { id: tenantId }, select: { primaryPhoneNumber: true } })
      if (tenant?.primaryPhoneNumber !== phoneNumber) return
      const next = await tx.phoneNumberRegistry.findFirst({ where: { tenantId }, orderBy: [{ createdAt: 'asc' }, { phoneNumber: 'asc' }] })
      await t.setPrimaryPhoneNumber(tenantId, next?.phoneNumber ?? null)
    })
    routes.invalidate(phoneNumber)
  }

  return { list, add, remove }
}

export type PhoneNumberService = ReturnType<typeof createPhoneNumberService>
