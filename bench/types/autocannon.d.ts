// The part of autocannon (no bundled types) the benchmarks' load generator uses.
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events'
  namespace autocannon {
    interface Request {
      setupRequest?: (request: Record<string, unknown>, context: Record<string, unknown>) => Record<string, unknown>
      onResponse?: (status: number, body: string, context: Record<string, unknown>) => void
    }
    interface Options { url: string, connections?: number, pipelining?: number, amount?: number, duration?: number, timeout?: number, requests?: Request[] }
    interface Result { errors: number, timeouts: number, non2xx: number, duration: number }
    type Instance = EventEmitter & PromiseLike<Result>
  }
  function autocannon (options: autocannon.Options): autocannon.Instance
  export default autocannon
}
