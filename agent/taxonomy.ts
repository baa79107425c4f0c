/**
 * The default root-cause taxonomy: the 6M of an Ishikawa diagram, with words that point to each. A plant can configure
 * its own closed list instead; the drafter then ranks only those categories.
 */
export const defaultTaxonomy: Record<string, string[]> = {
  'Machine (equipment wear or failure)': [
    'heater',
    'cartridge',
    'element',
    'bearing',
    'motor',
    'pump',
    'valve',
    'seal',
    'jaw',
    'wear',
    'worn',
    'failure',
    'leak',
    'vibration',
    'agitator',
    'belt',
    'blade',
    'fouling',
    'degradation',
    'equipment',
    'machine',
  ],
  'Measurement (instrumentation or sensor fault)': [
    'thermocouple',
    'sensor',
    'transmitter',
    'probe',
    'calibration',
    'stuck',
    'flatline',
    'instrument',
    'gauge',
    'reading',
    'signal',
    'wiring',
    'rtd',
    'measurement',
  ],
  'Method (process control or procedure)': [
    'controller',
    'tuning',
    'setpoint',
    'pid',
    'recipe',
    'procedure',
    'sop',
    'parameter',
    'method',
    'changeover',
    'control',
    'loop',
    'instruction',
  ],
  'Material (raw material or supplier variation)': [
    'film',
    'gauge',
    'material',
    'supplier',
    'lot',
    'batch',
    'raw',
    'resin',
    'feed',
    'composition',
    'contamination',
    'moisture',
    'viscosity',
  ],
  'Man (human error or training)': ['operator', 'training', 'error', 'manual', 'skipped', 'mistake', 'shift'],
  'Mother nature (environment)': ['ambient', 'humidity', 'weather', 'season', 'cooling water', 'environment', 'dust'],
};

const words = (text: string): string[] => text.toLowerCase().match(/[a-z0-9]+/g) ?? [];

/**
 * The category of a taxonomy a piece of text points to most, by keyword and category-name overlap, or null.
 * @example classifyText('thermocouple drift', Object.keys(defaultTaxonomy)) // 'Measurement (instrumentation or sensor fault)'
 */
export function classifyText(
  text: string,
  categories: string[],
  keywords: Record<string, string[]> = defaultTaxonomy,
): string | null {
  const lower = ` ${words(text).join(' ')} `;
  let best: string | null = null;
  let bestScore = 0;
  for (const category of categories) {
    const terms = [...(keywords[category] ?? []), ...words(category).filter((word) => word.length > 3)];
    let score = 0;
    for (const term of new Set(terms)) if (lower.includes(` ${term} `) || lower.includes(` ${term}s `)) score += 1;
    if (score > bestScore) {
      bestScore = score;
      best = category;
    }
  }
  return best;
}

const profileStopwords = new Set(
  `the and for with from this that was were are has have had not but all any can may per its our out due use used
  than then into onto via been being also only such each other which who whom whose when where what why how there
  their they them these those over under after before during within without upon about above below between both
  more most less least very will would should could shall must product products lot lots firm firms reported
  reason recall recalled number numbers code codes count bottle bottles package packaged manufactured distributed
  inc llc ltd usa corp company`.split(/\s+/),
);

/** Content words of a text for the category profile: lower case, no digits, no stop words, plural folded. */
export function profileTerms(text: string): string[] {
  const terms: string[] = [];
  for (const word of text.toLowerCase().match(/[a-z][a-z-]*[a-z]/g) ?? []) {
    if (word.length < 3 || profileStopwords.has(word)) continue;
    terms.push(word.length > 4 && word.endsWith('s') && !word.endsWith('ss') ? word.slice(0, -1) : word);
  }
  return terms;
}

/**
 * Term statistics of each root-cause category, learned from labelled past incidents (the knowledge base itself): a
 * multinomial naive Bayes model over binary term occurrence. Nothing in it is written by hand for a particular plant
 * or data set; it is as good as the labelled history it was learned from.
 */
export interface CategoryProfile {
  categories: string[];
  /** log P(term | category) per category, for terms seen in training. */
  logLikelihood: Map<string, Float64Array>;
  /** log P(unseen term | category). */
  logUnseen: Float64Array;
  /** log P(category) of the training history. */
  logPrior: Float64Array;
  examples: number;
}

export interface LabelledExample {
  text: string;
  category: string;
  /** Near-duplicates share a group (e.g. `metadata.event_id`); each group weighs as one example. */
  group?: string | undefined;
}

/**
 * Learn a category profile from labelled examples. The label's own words are removed from each example's text first
 * (a record that spells out its category teaches nothing about cases that do not), and each group of near-duplicates
 * counts once, so one event with fifty recalled products does not outweigh fifty events.
 *
 * @example
 * const profile = learnCategoryProfile(incidents.map((d) => ({ text: d.text, category: d.metadata.category, group: d.metadata.event_id })));
 */
export function learnCategoryProfile(examples: Iterable<LabelledExample>, smoothing = 0.5): CategoryProfile {
  const all = [...examples].filter((example) => example.category.trim() !== '');
  const categories = [...new Set(all.map((example) => example.category))].sort();
  const index = new Map(categories.map((category, position) => [category, position]));
  const groupSizes = new Map<string, number>();
  for (const example of all) if (example.group) groupSizes.set(example.group, (groupSizes.get(example.group) ?? 0) + 1);
  const counts = new Map<string, Float64Array>();
  const totals = new Float64Array(categories.length);
  const mass = new Float64Array(categories.length);
  for (const example of all) {
    const column = index.get(example.category)!;
    const weight = example.group ? 1 / groupSizes.get(example.group)! : 1;
    mass[column]! += weight;
    const label = example.category.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const text = example.text.replace(new RegExp(label, 'gi'), ' ');
    for (const term of new Set(profileTerms(text))) {
      let row = counts.get(term);
      if (!row) {
        row = new Float64Array(categories.length);
        counts.set(term, row);
      }
      row[column]! += weight;
      totals[column]! += weight;
    }
  }
  const vocabulary = counts.size + 1;
  const logUnseen = totals.map((total) => Math.log(smoothing / (total + smoothing * vocabulary)));
  const logLikelihood = new Map<string, Float64Array>();
  for (const [term, row] of counts) {
    logLikelihood.set(
      term,
      row.map((count, column) => Math.log((count + smoothing) / (totals[column]! + smoothing * vocabulary))),
    );
  }
  const totalMass = mass.reduce((sum, value) => sum + value, 0) || 1;
  return {
    categories,
    logLikelihood,
    logUnseen,
    logPrior: mass.map((value) => Math.log((value + smoothing) / (totalMass + smoothing * categories.length))),
    examples: all.length,
  };
}

/**
 * The posterior over `categories` of a text under a profile, as a map that sums to 1 over the categories the profile
 * knows. `priorWeight` 1 uses the history's base rates, 0 treats every category as equally likely up front.
 * `temperature` flattens (> 1) or sharpens (< 1) the distribution.
 */
export function profilePosterior(
  profile: CategoryProfile,
  text: string,
  categories: readonly string[],
  options: { priorWeight?: number; temperature?: number } = {},
): Map<string, number> {
  const priorWeight = options.priorWeight ?? 0;
  const temperature = options.temperature ?? 1;
  const terms = [...new Set(profileTerms(text))].filter((term) => profile.logLikelihood.has(term));
  const columns = new Map(profile.categories.map((category, column) => [category.toLowerCase(), column]));
  const scored: { category: string; log: number }[] = [];
  for (const category of categories) {
    const column = columns.get(category.toLowerCase());
    if (column === undefined) continue;
    let log = priorWeight * profile.logPrior[column]!;
    for (const term of terms) log += profile.logLikelihood.get(term)![column]!;
    scored.push({ category, log: log / temperature });
  }
  const posterior = new Map<string, number>();
  if (scored.length === 0) return posterior;
  const max = Math.max(...scored.map((entry) => entry.log));
  const sum = scored.reduce((total, entry) => total + Math.exp(entry.log - max), 0);
  for (const entry of scored) posterior.set(entry.category, Math.exp(entry.log - max) / sum);
  return posterior;
}

/**
 * How much of a category's own name a text mentions, weighting each name word by how few category names share it
 * (so "dissolution" counts, "failed" barely does). 0 to 1 per category.
 */
export function categoryNameMatch(text: string, categories: readonly string[]): Map<string, number> {
  const present = new Set(profileTerms(text));
  const names = categories.map((category) => [...new Set(profileTerms(category))]);
  const frequency = new Map<string, number>();
  for (const words of names) for (const word of words) frequency.set(word, (frequency.get(word) ?? 0) + 1);
  const match = new Map<string, number>();
  categories.forEach((category, position) => {
    const words = names[position]!;
    const weight = (word: string) => Math.log(1 + categories.length / frequency.get(word)!);
    const total = words.reduce((sum, word) => sum + weight(word), 0);
    const found = words.filter((word) => present.has(word)).reduce((sum, word) => sum + weight(word), 0);
    match.set(category, total > 0 ? found / total : 0);
  });
  return match;
}
