import fc from 'fast-check';
import { loadConfig } from '../../app/config.ts';
import { startAndon } from '../../app/runtime.ts';
import { exactly, type Figure, info } from '../figures.ts';

/** The write routes of the REST API (and the form posts beside them) with their path parameters. */
const ROUTES = [
  'POST /api/v1/cases/{id}/decision',
  'POST /api/v1/cases/{id}/draft',
  'POST /api/v1/actions/{id}/replay',
  'POST /api/v1/alarms/acknowledge',
  'POST /api/v1/alarms/shelve-requests',
  'POST /api/v1/alarms/unshelve',
  'POST /api/v1/alarms/requests/{id}/decision',
  'POST /api/v1/alarms/cases/{id}/disposition',
  'POST /api/v1/kb/documents',
  'DELETE /api/v1/kb/documents/{id}',
  'POST /login',
] as const;

/**
 * Random and nearly valid bodies against the running server over a real socket, signed in as the quality lead:
 * every answer must be a 2xx or a 4xx with a JSON error that has a code and a message; never a 5xx, a hang or a crash.
 */
export async function fuzzRest(runs: number): Promise<Figure[]> {
  const config = loadConfig({
    PORT: '0',
    ANDON_DATA_DIR: 'memory://reliability-rest',
    MQTT_EMBEDDED_PORT: '0',
    SIMULATOR: 'false',
    LOG_LEVEL: 'silent',
  });
  const andon = await startAndon(config, { log: () => {} });
  const quality = (await andon.users.byUsername('quality'))!;
  const token = await andon.users.createToken(quality.id, 'reliability-fuzz', ['quality_lead']);
  const counts = { inputs: 0, accepted: 0, clientErrors: 0, serverErrors: 0, unclear: 0 };
  const examples: string[] = [];
  try {
    const body = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
      fc.string({ maxLength: 300 }),
      fc
        .record(
          {
            decision: fc.oneof(fc.constantFrom('approve', 'reject', 'edit'), fc.string()),
            password: fc.oneof(fc.string(), fc.constant('wrong-password')),
            comment: fc.string(),
            recordHash: fc.string(),
            key: fc.string(),
            minutes: fc.oneof(fc.integer(), fc.double(), fc.string()),
            reason: fc.string(),
            disposition: fc.oneof(fc.constantFrom('true_deviation', 'false_alarm', 'planned'), fc.string()),
            title: fc.string(),
            text: fc.string(),
            kind: fc.string(),
            username: fc.string(),
            hypotheses: fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 2 }),
          },
          { requiredKeys: [] },
        )
        .map((value) => JSON.stringify(value)),
    );
    const id = fc.oneof(
      fc.constantFrom('CASE-20261125-000000', 'ACT-1', '1', '../../etc/passwd', '%00', 'a'.repeat(300)),
      fc.stringMatching(/^[A-Za-z0-9_.:%-]{1,40}$/),
    );
    const contentType = fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', '');
    const inputs = fc.sample(fc.tuple(fc.constantFrom(...ROUTES), id, body, contentType), { numRuns: runs, seed: 31 });
    for (const [route, pathId, payload, type] of inputs) {
      const [method, template] = route.split(' ') as [string, string];
      const path = template.replace('{id}', encodeURIComponent(pathId));
      counts.inputs++;
      let response: Response;
      try {
        response = await fetch(`${andon.url}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(type ? { 'content-type': type } : {}),
          },
          ...(method === 'DELETE' ? {} : { body: payload }),
          signal: AbortSignal.timeout(10_000),
        });
      } catch (error) {
        counts.unclear++;
        if (examples.length < 3) examples.push(`${route} ${pathId}: ${(error as Error).message}`);
        continue;
      }
      const text = await response.text();
      if (response.status >= 500) {
        counts.serverErrors++;
        if (examples.length < 3) examples.push(`${route} ${pathId} → ${response.status} ${text.slice(0, 200)}`);
      } else if (response.status >= 400) {
        let clear = false;
        try {
          const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
          clear = typeof parsed.error?.code === 'string' && typeof parsed.error.message === 'string';
        } catch {
          // an HTML error page for a form post names the problem too
          clear = /<html/i.test(text) && text.length > 100;
        }
        if (clear) counts.clientErrors++;
        else {
          counts.unclear++;
          if (examples.length < 3) examples.push(`${route} ${pathId} → ${response.status} ${text.slice(0, 200)}`);
        }
      } else counts.accepted++;
    }
  } finally {
    await andon.close();
  }
  const scenario = 'fuzz: REST bodies (real server)';
  for (const example of examples) console.error(`  ${scenario}: ${example}`);
  return [
    exactly(scenario, 'requests', counts.inputs, runs),
    info(scenario, 'accepted (2xx, 3xx)', counts.accepted),
    info(scenario, '4xx with a JSON error (code, message)', counts.clientErrors),
    exactly(scenario, '5xx answers', counts.serverErrors, 0),
    exactly(scenario, 'no answer or an unclear error', counts.unclear, 0),
  ];
}
