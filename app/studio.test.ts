import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { TRIAGE_NODES } from '../graph/index.ts';

describe('langgraph.json', () => {
  it('points LangGraph Studio at a module that exports the compiled triage graph', async () => {
    const manifest = JSON.parse(await readFile(new URL('../langgraph.json', import.meta.url), 'utf8')) as {
      graphs: Record<string, string>;
    };
    const [file, name] = manifest.graphs.triage!.split(':');
    expect(file).toBe('./app/studio.ts');
    process.env.ANDON_DATA_DIR = 'memory://studio-test';
    const module = (await import('./studio.ts')) as Record<string, { getGraph(): { nodes: Record<string, unknown> } }>;
    const nodes = Object.keys(module[name!]!.getGraph().nodes);
    expect(nodes).toEqual(expect.arrayContaining([...TRIAGE_NODES]));
  }, 120_000);
});
