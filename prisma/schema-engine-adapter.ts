// The pg driver adapter the Prisma CLI uses through prisma/<set>/prisma.config.ts. Prisma 6.19's WASM
// schema engine reads the PostgreSQL catalogs through @prisma/adapter-pg, which cannot type the catalogs'
// `name` and `"char"` columns, and it panics on the NOT NULL rows PostgreSQL 18 added to pg_constraint
// (it only expects check and exclusion constraints there). Both are adjusted here, so `prisma db pull`
// can describe a live database.
import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import { defineConfig } from 'prisma/config'

const TEXT_OID = 25
const CATALOG_TEXT_OIDS = new Set([18 /* "char" */, 19])
const NOT_NULL_CONSTRAINT = 'n'

function adjustResult (result: pg.QueryResult): void {
  for (const field of result.fields) {
    if (CATALOG_TEXT_OIDS.has(field.dataTypeID)) field.dataTypeID = TEXT_OID
  }
  const typeIndex = result.fields.findIndex((field) => field.name === 'constraint_type')
  const isConstraintQuery = typeIndex >= 0 && result.fields.some((field) => field.name === 'constraint_definition')
  if (!isConstraintQuery) return
  result.rows = result.rows.filter((row: unknown) => {
    const type: unknown = Array.isArray(row) ? row[typeIndex] : (row as Record<string, unknown>).constraint_type
    return type !== NOT_NULL_CONSTRAINT
  })
  result.rowCount = result.rows.length
}

function adjust<T> (result: T): T {
  for (const one of Array.isArray(result) ? result : [result]) {
    if (typeof one === 'object' && one !== null && Array.isArray((one as pg.QueryResult).fields)) adjustResult(one as pg.QueryResult)
  }
  return result
}

type AnyQuery = (...args: unknown[]) => unknown

class CatalogClient extends pg.Client {
  constructor (config?: string | pg.ClientConfig) {
    super(config)
    const query = (super.query as AnyQuery).bind(this)
    // pg.Pool calls query(text, values, callback); the adapter's transactions call the promise form.
    const adjusted: AnyQuery = (...args) => {
      const callback = args.at(-1)
      if (typeof callback === 'function') {
        args[args.length - 1] = (error: unknown, result: unknown) => callback(error, error == null ? adjust(result) : result)
        return query(...args)
      }
      const out = query(...args)
      return out instanceof Promise ? out.then(adjust) : out
    }
    this.query = adjusted as pg.Client['query']
  }
}

export function schemaEngineAdapter (connectionString: string | undefined): PrismaPg {
  // allowExitOnIdle: the CLI does not close the adapter when it exits normally (an empty diff), and an
  // idle pool would otherwise keep it alive for another 10 s.
  const pool = new pg.Pool({ connectionString, Client: CatalogClient, allowExitOnIdle: true })
  return new PrismaPg(pool, { disposeExternalPool: true })
}

/**
 * Prisma CLI settings shared by prisma/registry and prisma/tenant: the WASM schema engine through the
 * adapter above, because the native engines cannot be downloaded here. Only `prisma migrate diff`,
 * `db pull`/`db push` (benchmark, drift test) and `prisma generate` use it.
 */
export function schemaEngineConfig (): ReturnType<typeof defineConfig> {
  // The schema's datasource names DATABASE_URL; generate only parses it, so any URL will do there.
  process.env.DATABASE_URL ??= 'postgres://localhost/unused'
  return defineConfig({
    experimental: { adapter: true },
    engine: 'js',
    // Prisma resolves this relative to the folder of the config file it loaded, not this one's.
    schema: 'schema.prisma',
    async adapter () {
      return schemaEngineAdapter(process.env.PRISMA_DIFF_URL ?? process.env.DATABASE_URL)
    }
  })
}
