// The OpenAPI document is the client contract: every path, operation and component schema saved in
// test/fixtures/openapi.json must still be served unchanged. Routes may be added; after changing or
// adding one on purpose, rewrite the saved copy with `UPDATE_OPENAPI=1 npm test -- test/routes/openapi.test.ts`
// and review the fixture's diff like any other change.
import { readFile, writeFile } from 'node:fs/promises'
import t from 'tap'
import { build } from '../helper.js'

const FIXTURE = new URL('../fixtures/openapi.json', import.meta.url)

interface OpenApiDocument {
  info: unknown
  paths: Record<string, Record<string, unknown>>
  components: { schemas?: Record<string, unknown>, securitySchemes?: Record<string, unknown> }
}

t.test('the OpenAPI document keeps every saved path, operation and schema', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'GET', url: '/docs/json' })
  t.equal(res.statusCode, 200)
  const served = res.json<OpenApiDocument>()
  if (process.env.UPDATE_OPENAPI === '1') {
    await writeFile(FIXTURE, JSON.stringify(served, null, 2) + '\n')
    t.comment('test/fixtures/openapi.json rewritten')
  }
  const saved = JSON.parse(await readFile(FIXTURE, 'utf8')) as OpenApiDocument
  t.same(served.info, saved.info, 'info')
  t.same(served.components.securitySchemes, saved.components.securitySchemes, 'security schemes')
  for (const [name, schema] of Object.entries(saved.components.schemas ?? {})) {
    t.same(served.components.schemas?.[name], schema, `component schema ${name}`)
  }
  for (const [path, operations] of Object.entries(saved.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      t.same(served.paths[path]?.[method], operation, `${method.toUpperCase()} ${path}`)
    }
  }
})
