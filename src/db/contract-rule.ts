// The expand/contract rule: while a fleet rolls out, the release before still runs against migrated
// tenants, so a migration may only add. Dropping or renaming a table or column breaks that code; such a
// migration must say it is the contract step (a later release, once no running code uses the old
// shape) with the marker line below at the top of its up.sql.
export const CONTRACT_MARKER = '-- migration: contract'

// SQL comments and string literals could hold any words; only statements count.
const strip = (sql: string): string => sql.replace(/--[^\n]*/g, ' ').replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/'(?:[^']|'')*'/g, "''")

const DESTRUCTIVE: Array<[RegExp, string]> = [
  [/\bDROP\s+TABLE\b/i, 'drops a table'],
  [/\bALTER\s+TABLE\b[^;]*\bDROP\s+(?:COLUMN\s+)?(?!CONSTRAINT\b|DEFAULT\b|NOT\s+NULL\b|IDENTITY\b|EXPRESSION\b)("[^"]+"|\w+)/i, 'drops a column'],
  [/\bALTER\s+TABLE\b[^;]*\bRENAME\b/i, 'renames a table or column']
]

/** Why the migration's up.sql is destructive, or undefined when it only adds. */
export function destructiveChange (upSql: string): string | undefined {
  const sql = strip(upSql)
  return DESTRUCTIVE.find(([pattern]) => pattern.test(sql))?.[1]
}

export const isContractStep = (upSql: string): boolean => upSql.split('\n').some((line) => line.trim().toLowerCase() === CONTRACT_MARKER)

export class ContractRuleError extends Error {
  constructor (readonly version: string, reason: string) {
    super(`migration ${version} ${reason}: old code still running during a rollout would break. Keep the change additive (expand), or mark a later release's migration as the contract step with "${CONTRACT_MARKER}" as a line of its up.sql`)
    this.name = 'ContractRuleError'
  }
}
