// Organization addresses (slugs) for branded sign-in: chosen at sign-up or derived from the church's
// name. A chosen slug that is taken is a 409; a derived one gets a numeric suffix instead.
import { randomInt } from 'node:crypto'
import type { RegistryClient } from '../registry/registry-client.js'
import { ERRORS } from '../errors.js'

/** 3 to 40 characters: lowercase letters, digits and single hyphens, starting and ending alphanumeric. */
export const SLUG_PATTERN = '^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,39}$'
const SLUG = new RegExp(SLUG_PATTERN)
// Words that would read as the platform's own pages rather than an organization's.
const RESERVED = new Set(['admin', 'api', 'app', 'auth', 'docs', 'help', 'login', 'platform', 'signup', 'support', 'www'])

export function checkSlug (slug: string): string {
  if (!SLUG.test(slug)) throw new ERRORS.InvalidSlug('An organization address has 3 to 40 lowercase letters, digits and single hyphens')
  if (RESERVED.has(slug)) throw new ERRORS.InvalidSlug(`"${slug}" is reserved`)
  return slug
}

// Derived slugs stay short enough for a "-NNN" suffix within the 40 characters.
const DERIVED_MAX = 35

/** Cuts at the last whole word that fits. */
function shorten (slug: string): string {
  if (slug.length <= DERIVED_MAX) return slug
  const cut = slug.slice(0, DERIVED_MAX + 1)
  const at = cut.lastIndexOf('-')
  return (at >= 3 ? cut.slice(0, at) : cut.slice(0, DERIVED_MAX)).replace(/-+$/, '')
}

/** "St. Mary's Église" -> "st-marys-eglise"; names with no usable letters fall back to "church-NNNN". */
export function deriveSlug (name: string): string {
  const base = shorten(name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
    .replace(/['’]/g, '').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, ''))
  if (base.length >= 3 && !RESERVED.has(base)) return base
  return shorten(`church-${base === '' ? randomInt(1000, 10000) : base}`)
}

export function createSlugs (registry: Pick<RegistryClient, 'tenant'>) {
  const taken = async (slug: string): Promise<boolean> => (await registry.tenant.count({ where: { slug } })) > 0

  /** The slug a new organization gets: the chosen one if free, else a free variant of its name. */
  async function pick (churchName: string, chosen?: string): Promise<string> {
    if (chosen !== undefined) {
      if (await taken(checkSlug(chosen))) throw new ERRORS.SlugTaken()
      return chosen
    }
    const base = deriveSlug(churchName)
    const used = new Set((await registry.tenant.findMany({ where: { slug: { startsWith: base } }, select: { slug: true } })).map((t) => t.slug))
    if (!used.has(base)) return base
    for (let n = 2; n < 1000; n++) if (!used.has(`${base}-${n}`)) return `${base}-${n}`
    return `${base}-${randomInt(1000, 1_000_000)}`
  }

  async function displayName (slug: string): Promise<string> {
    const tenant = await registry.tenant.findUnique({ where: { slug: checkSlug(slug) }, select: { name: true, status: true } })
    if (tenant === null || !['ACTIVE', 'SUSPENDED'].includes(tenant.status)) throw new ERRORS.OrganizationNotFound()
    return tenant.name
  }

  async function tenantIdOf (slug: string): Promise<string | null> {
    const tenant = await registry.tenant.findUnique({ where: { slug }, select: { id: true } })
    return tenant?.id ?? null
  }

  return { pick, displayName, tenantIdOf }
}

export type Slugs = ReturnType<typeof createSlugs>
