// ESLint 9 flat config: the Fastify ecosystem's neostandard, with TypeScript. tsc --noEmit checks
// types and imports; this keeps one dialect (no semicolons) and catches the usual mistakes.
import neostandard, { resolveIgnoresFromGitignore } from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: resolveIgnoresFromGitignore() }),
  {
    rules: {
      // `void promise;` as a statement is how strict TypeScript code marks a promise it does not await
      // on purpose (a fire-and-forget, or Fastify's reply.send in a callback); as an expression it stays banned.
      'no-void': ['error', { allowAsStatement: true }],
      // Stricter than the default, which leaves TypeScript member delimiters alone: members end like
      // statements (nothing at a line end), commas between them on one line, as ts-standard had it.
      '@stylistic/member-delimiter-style': ['error', { multiline: { delimiter: 'none' }, singleline: { delimiter: 'comma', requireLast: false } }]
    }
  }
]
