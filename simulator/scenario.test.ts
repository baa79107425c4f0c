import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPlant } from './plant.ts';
import { loadScenario } from './scenario.ts';

const directory = new URL('./scenarios/', import.meta.url).pathname;
const files = readdirSync(directory).filter((file) => file.endsWith('.yaml'));

describe('scenario files', () => {
  it.each(files)('%s is valid and every fault starts when it says', async (file) => {
    const scenario = await loadScenario(`${directory}${file}`);
    const plant = createPlant({ scenario, seed: scenario.seed ?? 1, intervalMs: 1000, startTime: new Date(0) });
    const last = Math.max(...scenario.faults.map((fault) => fault.startSample));
    const started = Array.from({ length: last + 1 }, () => plant.step()).flatMap((sample) => sample.faultsStarted);
    expect(started.map((fault) => [fault.kind, fault.tag, fault.startSample])).toEqual(
      scenario.faults.map((fault) => [fault.kind, fault.tag, fault.startSample]),
    );
  });

  it('names the file and the field of a bad scenario', async () => {
    const path = `${directory}../scenario.test.ts`;
    await expect(loadScenario(path)).rejects.toThrow(/Unknown simulator scenario/);
    await expect(loadScenario('/nonexistent/x.yaml')).rejects.toThrow(
      /Cannot read the simulator scenario file \/nonexistent\/x\.yaml/,
    );
    const bad = join(mkdtempSync(join(tmpdir(), 'andon-scenario-')), 'bad.yaml');
    writeFileSync(bad, 'name: bad\nfaults:\n  - { kind: melt, tag: packaging.line1.cycle_time, startSample: 1 }\n');
    await expect(loadScenario(bad)).rejects.toThrow(/scenario file .*bad\.yaml is invalid \(faults\.0\.kind: /);
  });
});
