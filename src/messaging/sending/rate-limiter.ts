// A token bucket per sending number with no burst: sends from one number are spaced 1/rate apart,
// however many jobs run at once in this process. A rate of 0 turns limiting off.
export function createRateLimiter (ratePerSecond: number) {
  const nextFree = new Map<string, number>()
  const interval = ratePerSecond > 0 ? 1000 / ratePerSecond : 0
  return {
    async acquire (key: string): Promise<void> {
      if (interval === 0) return
      const now = Date.now()
      const slot = Math.max(now, nextFree.get(key) ?? 0)
      nextFree.set(key, slot + interval)
      if (slot > now) await new Promise((resolve) => setTimeout(resolve, slot - now))
    }
  }
}

export type RateLimiter = ReturnType<typeof createRateLimiter>
