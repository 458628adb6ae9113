// Polls a condition until it holds; throws (naming what was awaited) when it does not in time, so a
// test fails at the wait and not at some later assertion.
export async function until (check: () => Promise<boolean> | boolean, options: { timeoutMs?: number, intervalMs?: number, what?: string } = {}): Promise<void> {
  const end = Date.now() + (options.timeoutMs ?? 20_000)
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting${options.what === undefined ? '' : ` for ${options.what}`}`)
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100))
  }
}
