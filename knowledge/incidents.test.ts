import { describe, expect, it } from 'vitest';
import { chunkDocument } from './chunk.ts';
import { incidentDocument } from './incidents.ts';

describe('incident records of closed cases', () => {
  const incident = {
    caseId: 'C-42',
    title: 'Seal temperature drift on HS-101',
    description: 'Jaw temperature rose 6 °C over three hours; leak tester rejects doubled.',
    signals: ['HS101.JawTemp drifted +6 °C (CUSUM)', 'LT1.RejectRate above 2 %'],
    rootCause: { statement: 'Type J thermocouple in the upper jaw read 6 °C low.', category: 'Thermocouple drift' },
    capa: ['Containment: held lots 2411-07 to 2411-09', 'Corrective: replaced the thermocouple'],
    outcome: 'No recurrence in 30 days.',
    closedAt: '2024-11-20T10:00:00Z',
    line: 'Packaging Line 1',
  };

  it('keeps description, signals, root cause, CAPA and outcome as sections, keyed by case', () => {
    const document = incidentDocument(incident);
    expect(document).toMatchObject({
      kind: 'incident',
      key: 'case:C-42',
      documentNumber: 'INC-C-42',
      line: 'Packaging Line 1',
      metadata: { caseId: 'C-42', category: 'Thermocouple drift' },
    });
    const sections = chunkDocument(document.text).map((chunk) => chunk.sectionPath.at(-1));
    expect(sections).toEqual(['Description', 'Signals involved', 'Confirmed root cause', 'CAPA', 'Outcome']);
  });

  it('refuses an incident without a confirmed root cause', () => {
    expect(() => incidentDocument({ ...incident, rootCause: { statement: '', category: '' } })).toThrow();
  });
});
