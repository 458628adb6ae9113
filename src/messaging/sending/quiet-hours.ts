// Quiet hours: no outbound text reaches a member at night in the member's own time zone, which for
// North American numbers we infer from the area code.

// NANP area codes by IANA zone. An area code that straddles a zone line (850, 270, 812, 906, 605...)
// is listed under the zone where most of its subscribers live.
const NANP_ZONES: Record<string, string> = {
  'America/New_York':
    '201 202 203 207 212 215 216 220 223 226 227 229 231 234 239 240 248 249 252 260 263 267 269 272 276 283 289 ' +
    '301 302 304 305 313 315 317 321 324 326 329 330 332 336 339 343 347 351 352 354 363 365 367 380 382 386 387 ' +
    '401 404 407 410 412 413 416 418 419 423 434 436 437 438 440 443 445 450 463 468 470 472 475 478 484 502 508 ' +
    '513 514 516 517 518 519 540 548 551 561 567 570 571 574 579 581 582 585 586 603 606 607 609 610 613 614 616 ' +
    '617 624 631 640 645 646 647 656 667 678 679 680 681 683 686 689 703 704 705 706 716 717 718 724 727 728 732 ' +
    '734 740 742 743 753 754 757 762 765 770 771 772 774 781 786 802 803 804 807 810 812 813 814 819 821 826 828 ' +
    '835 838 839 843 845 848 854 856 857 859 860 862 863 864 865 873 878 904 905 906 908 910 912 914 917 919 929 ' +
    '930 934 937 941 942 943 947 948 954 959 973 978 980 984 989',
  'America/Chicago':
    '204 205 210 214 217 218 219 224 225 228 251 254 256 262 270 274 281 308 309 312 314 316 318 319 320 325 327 ' +
    '331 334 337 346 353 361 364 402 405 409 414 417 430 431 432 447 448 457 464 469 479 483 501 504 507 512 515 ' +
    '531 534 539 557 563 572 573 580 584 601 605 608 612 615 618 620 629 630 636 641 651 659 660 662 682 701 708 ' +
    '712 713 715 726 730 731 737 763 769 773 779 785 806 815 816 817 830 832 847 850 861 870 872 901 903 913 918 ' +
    '920 924 931 936 938 940 945 952 956 972 975 979 985',
  'America/Denver': '303 307 368 385 403 406 435 505 575 587 719 720 780 801 825 867 915 970 983',
  'America/Boise': '208 986',
  'America/Phoenix': '480 520 602 623 928',
  'America/Los_Angeles':
    '206 209 213 236 250 253 257 279 310 323 341 350 357 360 369 408 415 424 425 442 458 503 509 510 530 541 559 ' +
    '562 564 604 619 626 628 650 657 661 669 672 702 707 714 725 738 747 760 775 778 805 818 820 831 840 858 909 ' +
    '916 925 949 951 971',
  'America/Anchorage': '907',
  'Pacific/Honolulu': '808',
  'America/Regina': '306 474 639',
  'America/Halifax': '428 506 782 902',
  'America/St_Johns': '709 879',
  'America/Puerto_Rico': '246 264 268 284 340 473 664 721 758 767 784 787 809 829 849 868 869 939',
  'America/Nassau': '242',
  'America/Grand_Turk': '649',
  'America/Jamaica': '658 876',
  'America/Cayman': '345',
  'Atlantic/Bermuda': '441',
  'Pacific/Guam': '671',
  'Pacific/Saipan': '670',
  'Pacific/Pago_Pago': '684',
}

const ZONE_BY_AREA_CODE = new Map<string, string>()
for (const [zone, codes] of Object.entries(NANP_ZONES)) {
  for (const code of codes.split(' ')) ZONE_BY_AREA_CODE.set(code, zone)
}

/** Area codes the table knows, for tests and diagnostics. */
export const KNOWN_AREA_CODES: ReadonlyMap<string, string> = ZONE_BY_AREA_CODE

/** IANA zone for a +1 number's area code; `fallback` (usually the church's zone) otherwise. */
export function timezoneForPhone (e164: string, fallback: string): string {
  const match = /^\+1(\d{3})\d{7}$/.exec(e164)
  return (match && ZONE_BY_AREA_CODE.get(match[1] ?? '')) || fallback
}

export interface QuietHours {
  /** Local hour (0-23) at which sending stops. */
  start: number
  /** Local hour (0-23) at which sending resumes. */
  end: number
}

/** `now` when a text may be sent now in `timeZone`; otherwise the instant quiet hours end there. */
export function nextSendableTime (now: Date, timeZone: string, quiet: QuietHours = { start: 21, end: 8 }): Date {
  const local = wallTime(now, timeZone)
  const minutes = local.hour * 60 + local.minute
  const start = quiet.start * 60
  const end = quiet.end * 60
  const wraps = start > end
  const isQuiet = wraps ? minutes >= start || minutes < end : minutes >= start && minutes < end
  if (!isQuiet) return now
  // Evening side of a window that wraps midnight: quiet hours end tomorrow morning.
  const dayOffset = wraps && minutes >= start ? 1 : 0
  const day = new Date(Date.UTC(local.year, local.month - 1, local.day + dayOffset))
  return zonedTimeToUtc(
    { year: day.getUTCFullYear(), month: day.getUTCMonth() + 1, day: day.getUTCDate(), hour: quiet.end, minute: 0 },
    timeZone
  )
}

export interface WallTime {
  year: number
  month: number
  day: number
  hour: number
  minute: number
}

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatterFor (timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
    formatters.set(timeZone, f)
  }
  return f
}

/** The clock reading in `timeZone` at `instant`. Throws RangeError for an unknown zone. */
export function wallTime (instant: Date, timeZone: string): WallTime & { second: number } {
  const parts: Record<string, number> = {}
  for (const p of formatterFor(timeZone).formatToParts(instant)) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value)
  }
  return {
    year: parts.year ?? 0,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  }
}

function offsetMs (instantMs: number, timeZone: string): number {
  const w = wallTime(new Date(instantMs), timeZone)
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second)
  return asUtc - Math.floor(instantMs / 1000) * 1000
}

/**
 * The instant at which `timeZone` clocks read `wall`. A reading that happens twice (autumn) gives the
 * first; one skipped by a spring-forward gap gives the instant an hour later on the new clock.
 */
export function zonedTimeToUtc (wall: WallTime, timeZone: string): Date {
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute)
  const first = offsetMs(asUtc, timeZone)
  const guess = asUtc - first
  const second = offsetMs(guess, timeZone)
  if (second === first) return new Date(guess)
  const retry = asUtc - second
  if (offsetMs(retry, timeZone) === second) return new Date(retry)
  // In the gap: keep the pre-transition offset, which lands past the jump.
  return new Date(asUtc - Math.min(first, second))
}
