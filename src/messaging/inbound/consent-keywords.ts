// Recognizes the carrier-standard consent keywords (CTIA) in inbound texts and words the replies.
// Only a message that is nothing but the keyword counts: "please stop" is a conversation, not an opt-out.

export type ConsentKind = 'OPT_OUT' | 'OPT_IN' | 'HELP'

export interface ConsentKeyword {
  kind: ConsentKind
  keyword: string
}

const KEYWORDS: ReadonlyMap<string, ConsentKind> = new Map<string, ConsentKind>([
  ['STOP', 'OPT_OUT'],
  ['STOPALL', 'OPT_OUT'],
  ['UNSUBSCRIBE', 'OPT_OUT'],
  ['CANCEL', 'OPT_OUT'],
  ['END', 'OPT_OUT'],
  ['QUIT', 'OPT_OUT'],
  ['START', 'OPT_IN'],
  ['UNSTOP', 'OPT_IN'],
  ['YES', 'OPT_IN'],
  ['HELP', 'HELP'],
  ['INFO', 'HELP'],
])

// Punctuation, any Unicode space and invisible format characters (zero-width spaces pasted from
// other apps) at either end. Emoji are deliberately not stripped: "STOP 🙏" is not a bare keyword.
const EDGE_NOISE = /^[\p{P}\p{Z}\p{Cf}\s]+|[\p{P}\p{Z}\p{Cf}\s]+$/gu

export function classifyKeyword (text: string): ConsentKeyword | null {
  // NFKC folds look-alikes such as full-width "ＳＴＯＰ" that some phone keyboards produce.
  const word = text.normalize('NFKC').replace(EDGE_NOISE, '').toUpperCase()
  const kind = KEYWORDS.get(word)
  return kind ? { kind, keyword: word } : null
}

export function consentReply (kind: ConsentKind, orgName: string, contact?: string): string {
  const org = orgName.trim()
  switch (kind) {
    case 'OPT_OUT':
      return `You have been unsubscribed from ${org} messages. No more messages will be sent. Reply START to resubscribe.`
    case 'OPT_IN':
      return `You are subscribed to ${org} messages again. Msg frequency varies. Msg & data rates may apply. Reply HELP for help, STOP to unsubscribe.`
    case 'HELP': {
      const reach = contact?.trim() ? `Contact us at ${contact.trim()}.` : 'Contact the church office for help.'
      return `${org}: ${reach} Msg & data rates may apply. Reply STOP to unsubscribe.`
    }
  }
}
