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
