/**
 * ISO 8601 times of readings in milliseconds, as `Date.parse` gives them but computed directly for the form
 * `toISOString` writes, which is what nearly every reading carries.
 */

/** Milliseconds of an ISO time, remembering the last one parsed: the readings of one plant scan share their time. */
export const createTimeParser = () => {
  let lastText = '';
  let lastTime = Number.NaN;
  return (text: string): number => {
    if (text !== lastText) {
      lastTime = parseIsoTime(text);
      lastText = text;
    }
    return lastTime;
  };
};

/** The number of two ASCII digits at `index`, or -1. */
function twoDigits(text: string, index: number): number {
  const tens = text.charCodeAt(index) - 48;
  const ones = text.charCodeAt(index + 1) - 48;
  return tens >= 0 && tens <= 9 && ones >= 0 && ones <= 9 ? 10 * tens + ones : -1;
}

/** Days from 1970-01-01 to a date of the proleptic Gregorian calendar (Hinnant's days_from_civil), for years from 1. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

/**
 * `Date.parse` of a reading's time, computed directly for the form `toISOString` writes (`YYYY-MM-DDTHH:mm:ss.sssZ`, or
 * without milliseconds) from year 100 and days up to the 28th; every other text goes to `Date.parse`, so the result is
 * always the same as `Date.parse`'s.
 */
export function parseIsoTime(text: string): number {
  const length = text.length;
  if (
    (length === 24 || length === 20) &&
    text.charCodeAt(length - 1) === 90 && // Z
    text.charCodeAt(4) === 45 && // -
    text.charCodeAt(7) === 45 &&
    text.charCodeAt(10) === 84 && // T
    text.charCodeAt(13) === 58 && // :
    text.charCodeAt(16) === 58 &&
    (length === 20 || text.charCodeAt(19) === 46) // .
  ) {
    const century = twoDigits(text, 0);
    const yearOfCentury = twoDigits(text, 2);
    const month = twoDigits(text, 5);
    const day = twoDigits(text, 8);
    const hour = twoDigits(text, 11);
    const minute = twoDigits(text, 14);
    const second = twoDigits(text, 17);
    const hundredths = length === 24 ? twoDigits(text, 20) : 0;
    const thousandths = length === 24 ? text.charCodeAt(22) - 48 : 0;
    if (
      century >= 1 &&
      yearOfCentury >= 0 &&
      month >= 1 &&
      month <= 12 &&
      day >= 1 &&
      day <= 28 &&
      hour >= 0 &&
      hour <= 23 &&
      minute >= 0 &&
      minute <= 59 &&
      second >= 0 &&
      second <= 59 &&
      hundredths >= 0 &&
      thousandths >= 0 &&
      thousandths <= 9
    ) {
      const days = daysFromCivil(100 * century + yearOfCentury, month, day);
      return days * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000 + 10 * hundredths + thousandths;
    }
  }
  return Date.parse(text);
}
