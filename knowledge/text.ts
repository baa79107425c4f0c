/** Small, dependency-free text analysis shared by the offline embedder, de-duplication and MMR. */

// Function words plus a few words that carry no meaning in plant documents.
const stopwordList =
  'a about above after again against all am an and any are as at be because been before being below between both but by can could did do does doing down during each few for from further had has have having he her here hers herself him himself his how i if in into is it its itself just me more most my myself no nor not of off on once only or other our ours ourselves out over own same she should so some such than that the their theirs them themselves then there these they this those through to too under until up very was we were what when where which while who whom why will with would you your yours yourself yourselves also may must shall per via etc e.g i.e';
export const stopwords: ReadonlySet<string> = new Set(stopwordList.split(' '));

/** Lower-case, strip accents, and split into word tokens (letters and digits; inner '.' and '-' kept for codes). */
export function tokenize(text: string): string[] {
  const normalised = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase();
  const tokens = normalised.match(/[\p{L}\p{N}]+(?:[.\-/][\p{L}\p{N}]+)*/gu) ?? [];
  const out: string[] = [];
  for (const token of tokens) {
    if (/[.\-/]/.test(token) && !/\d/.test(token)) {
      // "heat-sealer" is two words; "SOP-QA-012" and "4.2" stay codes.
      for (const part of token.split(/[.\-/]/)) if (part) out.push(part);
    } else {
      out.push(token);
    }
  }
  return out;
}

/** A light English suffix stripper (plural, -ing, -ed, -ly, -ation…): enough to match "sealing" with "seal". */
export function stem(word: string): string {
  if (word.length <= 3 || /\d/.test(word)) return word;
  let w = word;
  if (w.endsWith('ies') && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (w.endsWith('sses')) w = w.slice(0, -2);
  else if (w.endsWith('s') && !w.endsWith('ss') && !w.endsWith('us') && !w.endsWith('is')) w = w.slice(0, -1);
  for (const [suffix, replacement, minimum] of suffixes) {
    if (w.endsWith(suffix) && w.length - suffix.length >= minimum) {
      w = w.slice(0, -suffix.length) + replacement;
      break;
    }
  }
  // Undouble a final consonant left by -ing/-ed ("stopping" → "stopp" → "stop").
  if (/([b-df-hj-np-tv-z])\1$/.test(w) && !/(ll|ss|zz|ff)$/.test(w)) w = w.slice(0, -1);
  return w;
}

const suffixes: [string, string, number][] = [
  ['ational', 'ate', 3],
  ['ization', 'ize', 3],
  ['fulness', 'ful', 3],
  ['iveness', 'ive', 3],
  ['ations', 'ate', 3],
  ['ation', 'ate', 3],
  ['ement', '', 4],
  ['ment', '', 4],
  ['ness', '', 3],
  ['ingly', '', 3],
  ['edly', '', 3],
  ['ing', '', 3],
  ['ed', '', 3],
  ['ly', '', 4],
  ['er', '', 4],
  ['e', '', 4],
];

/** Content terms: tokens minus stopwords, stemmed. */
export function terms(text: string): string[] {
  const out: string[] = [];
  for (const token of tokenize(text)) {
    if (stopwords.has(token) || token.length < 2) continue;
    out.push(stem(token));
  }
  return out;
}

/** 32-bit FNV-1a hash of a string (UTF-16 code units), deterministic across platforms. */
export function hash32(value: string, seed = 0x811c9dc5): number {
  let hash = seed >>> 0;
  for (let index = 0; index < value.length; index++) {
    hash ^= value.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  // Final avalanche (murmur3 fmix32) so nearby strings spread over all buckets.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** Jaccard similarity of two term sets: the de-duplication and MMR measure, independent of the embedding model. */
export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let shared = 0;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const term of small) if (large.has(term)) shared++;
  return shared / (a.size + b.size - shared);
}
