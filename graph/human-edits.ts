import {
  CAPA_SECTION_LABELS,
  CAPA_SECTIONS,
  type CapaItem,
  type CapaPlan,
  type CapaSection,
  canonicalJson,
} from '../core/index.ts';

/** The parts of an 8D CAPA plan a person can edit, each kept or redrafted as a whole: its sections. */
const CAPA_FIELDS = CAPA_SECTIONS;
type CapaField = CapaSection;

/** One part of the CAPA plan as a person last wrote it, and where: a redraft keeps it. */
export interface HumanCapaEdit {
  value: CapaPlan[CapaField];
  editorId: string;
  version: number;
}
export type HumanCapaEdits = Partial<Record<CapaField, HumanCapaEdit>>;

/**
 * The CAPA fields a person changed between the version the graph last knew and the version they stored, added to the
 * edits already recorded (a later edit of the same field replaces the earlier one).
 *
 * @example
 * recordCapaEdits({}, v1.capa, v2.capa, { editorId: 'u-7', version: 2 }) // { corrective: { value: [...], ... } }
 */
export function recordCapaEdits(
  known: HumanCapaEdits,
  before: CapaPlan,
  after: CapaPlan,
  by: { editorId: string; version: number },
): HumanCapaEdits {
  const edits: HumanCapaEdits = { ...known };
  for (const field of CAPA_FIELDS) {
    if (canonicalJson(before[field]) !== canonicalJson(after[field])) edits[field] = { value: after[field], ...by };
  }
  return edits;
}

const texts = (value: CapaPlan[CapaField]): string[] =>
  typeof value === 'string'
    ? [value]
    : (value as readonly (string | CapaItem)[]).map((item) => (typeof item === 'string' ? item : item.text));

/**
 * Merge a redrafted CAPA plan with what people wrote: every field a person edited stays exactly as they left it. Where
 * the redraft would have written something the person's version does not contain, that is a conflict, and a flag for
 * the reviewer quotes what the redraft suggested so nothing is lost silently either way.
 */
export function keepCapaEdits(redrafted: CapaPlan, edits: HumanCapaEdits): { capa: CapaPlan; flags: string[] } {
  const capa: CapaPlan = { ...redrafted };
  const flags: string[] = [];
  for (const field of CAPA_FIELDS) {
    const edit = edits[field];
    if (!edit) continue;
    (capa as Record<CapaField, unknown>)[field] = edit.value;
    const kept = new Set(texts(edit.value).map((text) => text.trim()));
    const suggested = texts(redrafted[field]).filter((text) => !kept.has(text.trim()));
    const label = CAPA_SECTION_LABELS[field];
    flags.push(
      suggested.length === 0
        ? `${label}: kept as edited by a person in v${edit.version}.`
        : `${label}: kept as edited by a person in v${edit.version}; the redraft suggested instead: ${suggested
            .map((text) => `“${text.length > 120 ? `${text.slice(0, 119)}…` : text}”`)
            .join('; ')}. Edit the CAPA to take any of it.`,
    );
  }
  return { capa, flags };
}
