// `npm run bench -- <name> [more names]`: runs bench/<name>.ts's exported `run()` one after another.
import { readdirSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

interface Benchmark { run: () => Promise<void> }

const here = import.meta.dirname

function available (): string[] {
  return readdirSync(here)
    .filter((file) => file.endsWith('.ts') && file !== 'run.ts' && !file.endsWith('.d.ts'))
    .map((file) => file.slice(0, -3))
    .sort()
}

function usage (message: string): never {
  console.error(`${message}\nusage: npm run bench -- <name> [more names]\navailable benchmarks: ${available().join(', ') || '(none)'}`)
  process.exit(1)
}

async function main (): Promise<void> {
  const names = process.argv.slice(2).filter((arg) => arg !== '--')
  if (names.length === 0) usage('no benchmark named')
  const known = new Set(available())
  const unknown = names.filter((name) => !known.has(name))
  if (unknown.length > 0) usage(`unknown benchmark${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`)
  for (const name of names) {
    const mod = await import(pathToFileURL(path.join(here, `${name}.js`)).href) as Partial<Benchmark>
    if (typeof mod.run !== 'function') usage(`bench/${name}.ts does not export run()`)
    const started = performance.now()
    console.log(`\n=== ${name} ===`)
    await mod.run()
    console.log(`\n=== ${name} done in ${((performance.now() - started) / 1000).toFixed(1)} s ===`)
  }
}

main().then(() => process.exit(0), (error: unknown) => {
  console.error(error)
  process.exit(1)
})
