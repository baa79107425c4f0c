import { describe, expect, it } from 'vitest';
import { createCircuitBreakers } from './circuit-breaker.ts';
import { parseRetryAfter } from './delivery.ts';
import { parseFaultSpec } from './faults.ts';
import { createRateLimiter } from './rate-limit.ts';
import { render, renderUrl } from './template.ts';

describe('body templates', () => {
  const context = {
    params: { lot: 'L 1', quantity: 5, priority: 'high', note: 'a long note' },
    vars: { plant: '1010' },
  };

  it('keeps the type of a whole-value template, interpolates text, and drops keys whose value is missing', () => {
    expect(
      render(
        {
          lot: '{{params.lot}}',
          quantity: '{{params.quantity}}',
          asText: '{{params.quantity | string}}',
          label: 'Lot {{params.lot}} in {{vars.plant}}',
          product: '{{params.product}}',
          fallback: '{{params.product | default:UNKNOWN}}',
          priority: '{{params.priority | map:high=2,low=4}}',
          short: '{{params.note | truncate:6 | upper}}',
          nested: [{ at: '{{vars.plant}}' }],
        },
        context,
      ),
    ).toEqual({
      lot: 'L 1',
      quantity: 5,
      asText: '5',
      label: 'Lot L 1 in 1010',
      fallback: 'UNKNOWN',
      priority: '2',
      short: 'A LONG',
      nested: [{ at: '1010' }],
    });
  });

  it('fails on a required value, a missing value inside text, or an unknown filter', () => {
    expect(() => render({ a: '{{params.product | required}}' }, context)).toThrow(/required/);
    expect(() => render({ a: 'x {{params.product}}' }, context)).toThrow(/has no value/);
    expect(() => render({ a: '{{params.lot | shout}}' }, context)).toThrow(/unknown filter/);
  });

  it('URL-encodes path values', () => {
    expect(renderUrl('/lots/{{params.lot}}/hold', { params: { lot: 'A/B 1' } })).toBe('/lots/A%2FB%201/hold');
  });
});

describe('circuit breaker', () => {
  it('opens after consecutive failures, lets one probe through after the pause, and closes on success', () => {
    let now = 0;
    const breakers = createCircuitBreakers({ failureThreshold: 3, openMs: 10_000, now: () => now });
    for (let n = 0; n < 3; n++) {
      expect(breakers.check('erp').allowed).toBe(true);
      breakers.record('erp', false);
    }
    expect(breakers.check('erp')).toEqual({ allowed: false, retryAtMs: 10_000 });
    expect(breakers.check('other').allowed).toBe(true);
    now = 10_000;
    expect(breakers.check('erp').allowed).toBe(true); // the probe
    expect(breakers.check('erp').allowed).toBe(false); // only one
    breakers.record('erp', false);
    expect(breakers.state('erp')).toBe('open');
    now = 20_000;
    expect(breakers.check('erp').allowed).toBe(true);
    breakers.record('erp', true);
    expect(breakers.state('erp')).toBe('closed');
  });
});

describe('rate limit', () => {
  it('lets a burst through, then spaces requests at the configured rate', () => {
    const now = 0;
    const limiter = createRateLimiter({ perSecond: 2, burst: 2 }, { now: () => now });
    expect([limiter.reserve(), limiter.reserve(), limiter.reserve(), limiter.reserve()]).toEqual([0, 0, 500, 1000]);
  });
});

describe('Retry-After and fault specs', () => {
  it('reads delta-seconds and HTTP dates', () => {
    expect(parseRetryAfter('2', 0)).toBe(2000);
    expect(parseRetryAfter(new Date(61_000).toUTCString(), 1_000)).toBe(60_000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
  });

  it('parses SANDBOX_ERP_FAULTS and names a bad entry', () => {
    expect(parseFaultSpec('latency=50-400,delay=10,503=0.1,429=0.05,retry-after=2,malformed=0.02,fail-next=3')).toEqual(
      {
        latencyMs: [50, 400],
        responseDelayMs: [10, 10],
        unavailableRate: 0.1,
        rateLimitRate: 0.05,
        retryAfterSeconds: 2,
        malformedRate: 0.02,
        failNext: 3,
      },
    );
    expect(() => parseFaultSpec('explode=1')).toThrow(/unknown fault "explode"/);
    expect(() => parseFaultSpec('503=2')).toThrow(/SANDBOX_ERP_FAULTS/);
  });
});
