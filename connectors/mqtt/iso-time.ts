/**
 * ISO 8601 text ↔ epoch milliseconds for the ingest hot path. `Date.prototype.toISOString` and `Date.parse` cost about a
 * microsecond each, more than the rest of decoding; plant samples arrive many per second, so both functions remember
 * the last whole second and only format or read the milliseconds when the second is the same. The readable reference is
 * `new Date(ms).toISOString()` and `Date.parse(text)`; iso-time.test.ts checks both give the same answers.
 */

export interface IsoClock {
  /** `new Date(ms).toISOString()`, for any ms a Date accepts. */
  format(ms: number): string;
  /** `Date.parse(text)` (NaN when unreadable). */
  parse(text: string): number;
}

const DIGITS = Array.from({ length: 1000 }, (_, index) => `${String(index).padStart(3, '0')}Z`);

/** A formatter and parser with their own one-second caches (one per ingest, so callers never share state). */
export function createIsoClock(): IsoClock {
  let formatSecond = Number.NaN;
  let formatPrefix = '';
  let parsePrefix = '';
  let parseBase = Number.NaN;
  return {
    format(ms) {
      const second = Math.floor(ms / 1000);
      if (second !== formatSecond || !Number.isInteger(ms)) {
        const text = new Date(ms).toISOString();
        // Only the plain 24-character form (years 0000-9999) has the milliseconds at a fixed place.
        if (text.length !== 24 || !Number.isInteger(ms)) return text;
        formatSecond = second;
        formatPrefix = text.slice(0, 20);
        return text;
      }
      return formatPrefix + DIGITS[ms - second * 1000];
    },
    parse(text) {
      // YYYY-MM-DDTHH:mm:ss.sssZ: reuse the second when the first 20 characters repeat.
      if (text.length === 24 && text.charCodeAt(23) === 90 /* Z */ && text.charCodeAt(19) === 46 /* . */) {
        const a = text.charCodeAt(20) - 48;
        const b = text.charCodeAt(21) - 48;
        const c = text.charCodeAt(22) - 48;
        if (a >= 0 && a <= 9 && b >= 0 && b <= 9 && c >= 0 && c <= 9) {
          if (text.startsWith(parsePrefix) && parsePrefix.length === 20) return parseBase + a * 100 + b * 10 + c;
          const base = Date.parse(`${text.slice(0, 19)}Z`);
          if (!Number.isNaN(base)) {
            parsePrefix = text.slice(0, 20);
            parseBase = base;
            return base + a * 100 + b * 10 + c;
          }
        }
      }
      return Date.parse(text);
    },
  };
}
