// A Telnyx stand-in in its own process: for CHAOS_SECONDS it sends signed inbound message events to
// WEBHOOK_URL the way Telnyx does: each event delivered 1-3 times, out of order, and delivered again
// after a 5xx or a dropped connection until it is answered 2xx or 4xx. Prints what it sent as JSON.
import { randomUUID, sign } from 'node:crypto'

const url = process.env.WEBHOOK_URL as string
const privateKey = process.env.WEBHOOK_PRIVATE_KEY as string
const numbers = JSON.parse(process.env.WEBHOOK_NUMBERS as string) as string[]
const seconds = Number(process.env.CHAOS_SECONDS ?? 60)
const inFlight = Number(process.env.WEBHOOK_CONCURRENCY ?? 16)

interface Delivery { body: string, attempt: number }
const events: Array<{ messageId: string, to: string }> = []
const pending: Delivery[] = []
const stats = { deliveries: 0, duplicatesSent: 0, fiveXx: 0, networkErrors: 0, fourXx: 0, redeliveredAfterFailure: 0, stormMs: 0 }
const startedAt = Date.now()
let seq = 0
let scheduled = 0

function newEvent (): void {
  // How long new events kept coming: the storm's length, retries of the last ones come after it.
  stats.stormMs = Date.now() - startedAt
  const to = numbers[seq % numbers.length] as string
  const messageId = randomUUID()
  events.push({ messageId, to })
  const body = JSON.stringify({
    data: {
      id: randomUUID(),
      event_type: 'message.received',
      occurred_at: new Date().toISOString(),
      record_type: 'event',
      payload: {
        id: messageId,
        direction: 'inbound',
        type: 'SMS',
        from: { phone_number: `+1773555${String(1000 + (seq % 9000)).padStart(4, '0')}` },
        to: [{ phone_number: to, status: 'webhook_delivered' }],
        text: `storm message ${seq}`,
        media: [],
        errors: [],
        received_at: new Date().toISOString()
      }
    },
    meta: { attempt: 1 }
  })
  seq++
  const copies = 1 + Math.floor(Math.random() * 3)
  stats.duplicatesSent += copies - 1
  for (let i = 0; i < copies; i++) pending.splice(Math.floor(Math.random() * (pending.length + 1)), 0, { body, attempt: 1 })
}

async function deliver (delivery: Delivery): Promise<void> {
  const timestamp = String(Math.floor(Date.now() / 1000))
  const signature = sign(null, Buffer.from(`${timestamp}|${delivery.body}`), privateKey).toString('base64')
  stats.deliveries++
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'telnyx-signature-ed25519': signature, 'telnyx-timestamp': timestamp }, body: delivery.body, signal: AbortSignal.timeout(10_000) })
    await res.arrayBuffer()
    if (res.status >= 500) { stats.fiveXx++; retry(delivery) } else if (res.status >= 400) stats.fourXx++
  } catch {
    stats.networkErrors++
    retry(delivery)
  }
}

function retry (delivery: Delivery): void {
  stats.redeliveredAfterFailure++
  // Telnyx backs off; a short pause keeps the storm going without hammering a dead database.
  scheduled++
  setTimeout(() => { scheduled--; pending.push({ ...delivery, attempt: delivery.attempt + 1 }) }, 250 * Math.min(delivery.attempt, 8))
}

const end = Date.now() + seconds * 1000
let outstanding = 0
await new Promise<void>((resolve) => {
  const lane = (): void => {
    if (Date.now() < end && pending.length < inFlight * 4) newEvent()
    const next = pending.shift()
    if (next === undefined) {
      if (Date.now() >= end && outstanding === 0 && scheduled === 0) return resolve()
      setTimeout(lane, 20)
      return
    }
    outstanding++
    void deliver(next).finally(() => { outstanding--; lane() })
  }
  for (let i = 0; i < inFlight; i++) lane()
})
// Retries scheduled just before the end still have to land.
// eslint-disable-next-line no-unmodified-loop-condition -- timers and deliveries change them between awaits
while (pending.length > 0 || outstanding > 0 || scheduled > 0) {
  const next = pending.shift()
  if (next === undefined) { await new Promise((resolve) => setTimeout(resolve, 100)); continue }
  outstanding++
  await deliver(next).finally(() => { outstanding-- })
}
process.stdout.write(JSON.stringify({ events, stats }) + '\n')
