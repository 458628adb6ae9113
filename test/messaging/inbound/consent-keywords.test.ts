import t from 'tap'
import { classifyKeyword, consentReply } from '../../../src/messaging/inbound/consent-keywords.js'

const cases: Array<[input: string, expected: ReturnType<typeof classifyKeyword>]> = [
  [' stop!! ', { kind: 'OPT_OUT', keyword: 'STOP' }],
  ['Stop.', { kind: 'OPT_OUT', keyword: 'STOP' }],
  ['UNSUBSCRIBE', { kind: 'OPT_OUT', keyword: 'UNSUBSCRIBE' }],
  ['stopall', { kind: 'OPT_OUT', keyword: 'STOPALL' }],
  ['Cancel', { kind: 'OPT_OUT', keyword: 'CANCEL' }],
  ['end', { kind: 'OPT_OUT', keyword: 'END' }],
  ['"quit"', { kind: 'OPT_OUT', keyword: 'QUIT' }],
  ['\tSTOP\n', { kind: 'OPT_OUT', keyword: 'STOP' }],
  ['\u200bstop\u200b', { kind: 'OPT_OUT', keyword: 'STOP' }],
  ['ＳＴＯＰ', { kind: 'OPT_OUT', keyword: 'STOP' }],
  ['yes', { kind: 'OPT_IN', keyword: 'YES' }],
  ['Start', { kind: 'OPT_IN', keyword: 'START' }],
  ['unstop!', { kind: 'OPT_IN', keyword: 'UNSTOP' }],
  ['Info?', { kind: 'HELP', keyword: 'INFO' }],
  ['help', { kind: 'HELP', keyword: 'HELP' }],
  ['stop please', null],
  ['please stop', null],
  ['Stop sending me stuff', null],
  ['S.T.O.P', null],
  ['stopp', null],
  ['yes!! see you sunday', null],
  ['', null],
  ['   ', null],
  ['?!', null],
  ['🙏', null],
  ['STOP 🛑', null],
]

t.test('classifyKeyword', async (t) => {
  for (const [input, expected] of cases) {
    t.same(classifyKeyword(input), expected, JSON.stringify(input))
  }
})

t.test('consentReply names the organization and the way back', async (t) => {
  const out = consentReply('OPT_OUT', 'Grace Chapel')
  t.equal(
    out,
    'You have been unsubscribed from Grace Chapel messages. No more messages will be sent. Reply START to resubscribe.'
  )

  const optIn = consentReply('OPT_IN', 'Grace Chapel')
  t.match(optIn, /Grace Chapel/)
  t.match(optIn, /Reply HELP/)
  t.match(optIn, /STOP to unsubscribe/)

  const help = consentReply('HELP', 'Grace Chapel', '555-0100')
  t.match(help, /^Grace Chapel:/)
  t.match(help, /555-0100/)
  t.match(help, /Reply STOP to unsubscribe\.$/)
  t.notMatch(consentReply('HELP', 'Grace Chapel'), /undefined/)

  // Each reply should go out as a single SMS segment.
  for (const kind of ['OPT_OUT', 'OPT_IN', 'HELP'] as const) {
    t.ok(consentReply(kind, 'Grace Chapel').length <= 160, `${kind} fits in 160 characters`)
  }
})
