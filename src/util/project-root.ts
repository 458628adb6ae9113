// The project folder (the one holding package.json), whether we run from src/ with tsx or from dist/.
import { existsSync } from 'node:fs'
import path from 'node:path'

export function projectRoot (from = import.meta.dirname): string {
  let dir = from
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir)
    if (parent === dir) throw new Error(`no package.json above ${from}`)
    dir = parent
  }
  return dir
}
