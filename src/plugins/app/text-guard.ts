// Refuses, on every route, request text that PostgreSQL cannot store (NUL, unpaired surrogates) with
// 400 UNSTORABLE_TEXT, before validation and before any handler could write it. Signed webhook bodies
// are strings here (checked as such); the carrier's text is cleaned where it is parsed instead.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { ERRORS } from '../../errors.js'
import { findUnstorable } from '../../util/storable-text.js'

async function textGuard (app: FastifyInstance): Promise<void> {
  app.addHook('preValidation', async (request) => {
    const where = findUnstorable(request.params, 'params') ?? findUnstorable(request.query, 'query') ?? findUnstorable(request.body, 'body')
    if (where !== undefined) throw new ERRORS.UnstorableText(where)
  })
}

export default fp(textGuard, { name: 'text-guard' })
