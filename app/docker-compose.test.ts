import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { type Config, environmentNames, loadConfig } from './config.ts';

const repositoryRoot = new URL('../', import.meta.url);
const composeText = readFileSync(new URL('docker-compose.yml', repositoryRoot), 'utf8');

/** Variables the third-party images in docker-compose.yml document; andon's own image may only use app/config.ts's. */
const imageVariables: Record<string, readonly string[]> = {
  'pgvector/pgvector': ['POSTGRES_USER', 'POSTGRES_PASSWORD', 'POSTGRES_DB', 'POSTGRES_INITDB_ARGS', 'PGDATA'],
  'eclipse-mosquitto': [],
};

const EnvironmentValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const Service = z.looseObject({
  image: z.string().optional(),
  build: z.union([z.string(), z.looseObject({ context: z.string().optional() })]).optional(),
  command: z.union([z.string(), z.array(z.string())]).optional(),
  environment: z.union([z.record(z.string(), EnvironmentValue), z.array(z.string())]).optional(),
  volumes: z
    .array(z.union([z.string(), z.looseObject({ source: z.string().optional(), target: z.string() })]))
    .optional(),
  depends_on: z
    .union([z.array(z.string()), z.record(z.string(), z.looseObject({ condition: z.string().optional() }))])
    .optional(),
  healthcheck: z.looseObject({ test: z.union([z.string(), z.array(z.string())]).optional() }).optional(),
});
type Service = z.infer<typeof Service>;
const Compose = z.looseObject({ services: z.record(z.string(), Service) });
type Compose = z.infer<typeof Compose>;

/**
 * What `docker compose` would pass with no .env file: `${NAME:-default}` and `${NAME-default}` become the default,
 * `${NAME}` and `$NAME` become empty, `$$` is a literal `$`.
 */
function interpolate(value: string): string {
  return value.replace(
    /\$\$|\$\{[A-Za-z_]\w*(?:(:?[-?])([^}]*))?\}|\$[A-Za-z_]\w*/g,
    (match, operator: string | undefined, fallback: string | undefined) =>
      match === '$$' ? '$' : operator?.endsWith('-') ? (fallback ?? '') : '',
  );
}

function environmentOf(service: Service): Record<string, string | undefined> {
  const raw = service.environment ?? {};
  const entries = Array.isArray(raw)
    ? raw.map((item): [string, string | undefined] => {
        const at = item.indexOf('=');
        return at === -1 ? [item, undefined] : [item.slice(0, at), item.slice(at + 1)];
      })
    : Object.entries(raw).map(([name, value]): [string, string | undefined] => [
        name,
        value === null ? undefined : String(value),
      ]);
  return Object.fromEntries(
    entries.map(([name, value]) => [name, value === undefined ? undefined : interpolate(value)]),
  );
}

const isAndonImage = (service: Service, andonImage: string | undefined): boolean =>
  service.build !== undefined || (andonImage !== undefined && service.image === andonImage);

const imageName = (image: string): string => image.replace(/[:@].*$/, '');

const mountSource = (volume: string | { source?: string | undefined; target: string }): string | undefined =>
  typeof volume === 'string' ? volume.split(':')[0] : volume.source;

/** The parsed config, or loadConfig's message when it rejects the environment. */
function tryLoadConfig(environment: Record<string, string | undefined>): Config | string {
  try {
    return loadConfig(environment);
  } catch (error) {
    return (error as Error).message;
  }
}

/** Every problem with a compose file, each naming the service and what to fix. Empty means the file is fine. */
function checkCompose(compose: Compose, fileExists: (path: string) => boolean): string[] {
  const problems: string[] = [];
  const services = compose.services;
  const andonImage = Object.values(services).find((service) => service.build !== undefined)?.image;
  const known = new Set<string>(environmentNames);

  for (const [name, service] of Object.entries(services)) {
    const environment = environmentOf(service);
    if (isAndonImage(service, andonImage)) {
      for (const variable of Object.keys(environment)) {
        if (!known.has(variable)) {
          problems.push(`service ${name} sets ${variable}, which app/config.ts does not declare (a typo?)`);
        }
      }
      const config = tryLoadConfig(environment);
      if (typeof config === 'string') problems.push(`service ${name}'s environment fails loadConfig: ${config}`);
    } else {
      const image = imageName(service.image ?? '');
      const allowed = imageVariables[image];
      if (allowed === undefined) {
        problems.push(`service ${name} uses image ${image}, which imageVariables in this test does not know`);
      } else {
        for (const variable of Object.keys(environment)) {
          if (!allowed.includes(variable)) problems.push(`service ${name} sets ${variable}, unknown to image ${image}`);
        }
      }
    }
    if (service.healthcheck?.test === undefined) problems.push(`service ${name} has no healthcheck`);
    for (const volume of service.volumes ?? []) {
      const source = mountSource(volume);
      if (source?.startsWith('.') && !fileExists(source)) {
        problems.push(`service ${name} mounts ${source}, which is not in the repository`);
      }
    }
  }

  const andon = services.andon;
  if (andon === undefined) return [...problems, 'there is no andon service'];
  const config = tryLoadConfig(environmentOf(andon));
  if (typeof config !== 'string') {
    const healthcheck = [andon.healthcheck?.test ?? []].flat().join(' ');
    if (!healthcheck.includes(`:${config.PORT}/healthz`)) {
      problems.push(`service andon's healthcheck does not request /healthz on PORT ${config.PORT}`);
    }
    for (const [variable, url] of [
      ['DATABASE_URL', config.DATABASE_URL],
      ['MQTT_URL', config.MQTT_URL],
    ] as const) {
      const host = url === undefined ? undefined : new URL(url).hostname;
      if (host === undefined || services[host] === undefined) {
        problems.push(`service andon's ${variable} points at ${host ?? 'nothing'}, which is not a service here`);
      } else if (!Array.isArray(andon.depends_on) && andon.depends_on?.[host]?.condition !== 'service_healthy') {
        problems.push(`service andon does not wait for ${host} with condition: service_healthy`);
      }
    }
  }
  return problems;
}

const compose = Compose.parse(parse(composeText));
const inRepository = (path: string) => existsSync(new URL(path, repositoryRoot));

/** A copy of the real compose file with one service changed. */
function withService(name: string, change: (service: Service) => Service): Compose {
  const copy = structuredClone(compose);
  const service = copy.services[name];
  if (service === undefined) throw new Error(`docker-compose.yml has no service ${name}`);
  copy.services[name] = change(service);
  return copy;
}

describe('docker-compose.yml', () => {
  it('sets only declared variables, passes loadConfig, has healthchecks and mounts files that exist', () => {
    expect(checkCompose(compose, inRepository)).toEqual([]);
  });

  it('runs andon, the simulator, PostgreSQL with pgvector and mosquitto', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['andon', 'mosquitto', 'postgres', 'simulator']);
    expect(compose.services.postgres?.image).toMatch(/^pgvector\/pgvector:pg1[5-9]/);
    expect(compose.services.simulator?.command).toEqual(
      expect.arrayContaining(['bin/andon.js', 'simulate', '--mqtt-url', 'mqtt://mosquitto:1883']),
    );
  });

  it('mounts a mosquitto config that listens on 1883 inside the compose network', () => {
    const source = (compose.services.mosquitto?.volumes ?? []).map(mountSource).find((path) => path?.endsWith('.conf'));
    expect(source).toBe('./deploy/mosquitto.conf');
    const config = readFileSync(new URL(source ?? '', repositoryRoot), 'utf8');
    expect(config).toMatch(/^listener 1883\s*$/m);
  });

  it('names a variable app/config.ts does not declare', () => {
    const typo = withService('andon', (service) => ({
      ...service,
      environment: { ...environmentOf(service), DATABSE_URL: 'postgres://andon@postgres/andon' },
    }));
    expect(checkCompose(typo, inRepository)).toEqual([
      'service andon sets DATABSE_URL, which app/config.ts does not declare (a typo?)',
    ]);
  });

  it('names the variable whose value loadConfig rejects', () => {
    const bad = withService('andon', (service) => ({
      ...service,
      environment: { ...environmentOf(service), MQTT_URL: 'mosquitto:1883' },
    }));
    const [problem, ...rest] = checkCompose(bad, inRepository);
    expect(rest).toEqual([]);
    expect(problem).toContain('fails loadConfig');
    expect(problem).toContain('MQTT_URL="mosquitto:1883"');
  });

  it('names a service without a healthcheck and a mounted file that is missing', () => {
    const broken = withService('mosquitto', ({ healthcheck: _healthcheck, ...service }) => ({
      ...service,
      volumes: ['./deploy/mosquito.conf:/mosquitto/config/mosquitto.conf:ro'],
    }));
    expect(checkCompose(broken, inRepository)).toEqual([
      'service mosquitto has no healthcheck',
      'service mosquitto mounts ./deploy/mosquito.conf, which is not in the repository',
    ]);
  });

  it('substitutes defaults the way docker compose does without a .env file', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: docker compose interpolation, not a template string
    expect(interpolate('postgres://andon:${POSTGRES_PASSWORD:-andon}@postgres:5432/andon')).toBe(
      'postgres://andon:andon@postgres:5432/andon',
    );
    // biome-ignore lint/suspicious/noTemplateCurlyInString: docker compose interpolation, not a template string
    expect(interpolate('${OPENAI_API_KEY:-}|${UNSET}|$ALSO_UNSET|${REQUIRED:?set it}|$$SYS|${X-y?}')).toBe(
      '||||$SYS|y?',
    );
  });
});
