// The pg driver adapter the Prisma CLI uses through prisma/<set>/prisma.config.ts. Prisma 6.19's WASM
// schema engine reads the PostgreSQL catalogs through @prisma/adapter-pg, which cannot type the catalogs'
// `name` and `"char"` columns: both reach pg as text here, and the `"char"` ones are then handed to the
// engine as the driver adapters' Character type, the only type the engine reads them as (pg_constraint's
// contype among others). So `prisma db pull` can describe a live database, check constraints and
// PostgreSQL 18's NOT NULL constraint rows included.
import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import { defineConfig } from 'prisma/config'

const TEXT_OID = 25
const CHAR_OID = 18
const NAME_OID = 19
/** ColumnTypeEnum.Character of @prisma/driver-adapter-utils (adapter-pg's own types stop at Text). */
const CHARACTER_COLUMN = 6

/**
 * Result rows (the array adapter-pg hands back untouched) -> the indexes of their `"char"` columns.
 * The engine reads a `"char"` column only as a character: given text it panics (a WASM
 * `RuntimeError: unreachable`), as it did on the first check constraint (tenant 0002's single-row
 * OrganizationSettings).
 */
const charColumns = new WeakMap<object, number[]>()

function adjustResult (result: pg.QueryResult): void {
  const chars: number[] = []
  result.fields.forEach((field, i) => {
    if (field.dataTypeID === CHAR_OID) chars.push(i)
    if (field.dataTypeID === CHAR_OID || field.dataTypeID === NAME_OID) field.dataTypeID = TEXT_OID
  })
  if (chars.length > 0) charColumns.set(result.rows, chars)
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

type Queryable = Pick<Awaited<ReturnType<PrismaPg['connect']>>, 'queryRaw'>

/** Types the `"char"` columns CatalogClient noted as Character in every result of `queryable`. */
function typeCharColumns<T extends Queryable> (queryable: T): T {
  const queryRaw = queryable.queryRaw.bind(queryable)
  queryable.queryRaw = async (query) => {
    const result = await queryRaw(query)
    for (const i of charColumns.get(result.rows) ?? []) result.columnTypes[i] = CHARACTER_COLUMN as typeof result.columnTypes[number]
    return result
  }
  return queryable
}

class CatalogAdapterFactory extends PrismaPg {
  override async connect (): ReturnType<PrismaPg['connect']> {
    const adapter = typeCharColumns(await super.connect())
    const startTransaction = adapter.startTransaction.bind(adapter)
    adapter.startTransaction = async (isolationLevel) => typeCharColumns(await startTransaction(isolationLevel))
    return adapter
  }
}

export function schemaEngineAdapter (connectionString: string | undefined): PrismaPg {
  // allowExitOnIdle: the CLI does not close the adapter when it exits normally (an empty diff), and an
  // idle pool would otherwise keep it alive for another 10 s.
  const pool = new pg.Pool({ connectionString, Client: CatalogClient, allowExitOnIdle: true })
  return new CatalogAdapterFactory(pool, { disposeExternalPool: true })
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
