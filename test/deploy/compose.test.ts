// docker-compose.yml and the Dockerfile are shipped, not run here (no Docker engine): check their syntax, that
// every setting they give the service exists and validates, that the spools line up, and that no secret is in them.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { parseEnv } from 'node:util';
import { parse } from 'yaml';
import { createBackend } from '../../src/backends/registry.js';
import { parseSettings, secretSettings, settingNames } from '../../src/config/index.js';
import { createLogger } from '../../src/log.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const read = (f: string) => readFileSync(join(ROOT, f), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  profiles?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}
const compose = parse(read('docker-compose.yml')) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const example = parseEnv(read('.env.example')) as Record<string, string>;

/** Compose's ${VAR}, ${VAR:-default} and ${VAR:?message} against .env.example; $$ is a literal $. */
function interpolate(value: string, env: Record<string, string>): string {
  return value
    .replace(/\$\{([A-Z0-9_]+)(?::([-?])((?:[^{}]|\{[^{}]*\})*))?\}/g, (_m, name: string, op: string | undefined, arg: string | undefined) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (op === '?') throw new Error(`${name} is required (${arg ?? ''}) and .env.example does not set it`);
      return op === '-' ? (arg ?? '') : '';
    })
    .replace(/\$\$/g, '$');
}

function serviceEnv(name: string): Record<string, string> {
  const env = compose.services[name]?.environment ?? {};
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, interpolate(String(v), example)]));
}

/** Where a container path lives: the named volume mounted above it and the path inside that volume. */
function volumeOf(service: string, path: string): { volume: string; rel: string } | null {
  let best: { volume: string; rel: string; depth: number } | null = null;
  for (const v of compose.services[service]?.volumes ?? []) {
    const [src, dst] = v.split(':');
    if (!src || !dst || src.startsWith('.')) continue;
    if (path === dst || path.startsWith(dst + '/')) {
      const depth = dst.split('/').length;
      if (!best || depth > best.depth) best = { volume: src, rel: posix.relative(dst, path), depth };
    }
  }
  return best && { volume: best.volume, rel: best.rel };
}

describe('docker-compose.yml', () => {
  test('has the service with PostgreSQL, an Asterisk service, and FreeSWITCH as a profile', () => {
    assert.ok(compose.services.faxbot?.build !== undefined);
    assert.equal(compose.services.faxbot?.depends_on?.postgres?.condition, 'service_healthy');
    assert.match(compose.services.postgres?.image ?? '', /^postgres:/);
    assert.ok(compose.services.asterisk);
    assert.deepEqual(compose.services.freeswitch?.profiles, ['freeswitch']);
    assert.match(compose.services.faxbot?.healthcheck?.test.join(' ') ?? '', /\/health\/ready/);
    for (const v of Object.keys(compose.volumes)) assert.ok(v.length > 0);
  });

  test('every variable given to the service is a real setting, and together they validate', () => {
    const env = serviceEnv('faxbot');
    const unknown = Object.keys(env).filter((k) => !settingNames.includes(k));
    assert.deepEqual(unknown, [], 'not a Faxbot setting (typo?)');
    const settings = parseSettings(env);
    assert.equal(settings.FAX_BACKEND, 'sip');
    assert.match(settings.DATABASE_URL ?? '', /^postgres:\/\/faxbot:.+@postgres:5432\/faxbot$/);
    // The default backend's own configuration check passes (it would name any missing setting).
    const backend = createBackend(settings, createLogger('silent'));
    assert.equal(backend.name, 'sip');
  });

  test('secrets come from .env only, never written into the compose file', () => {
    const raw = compose.services.faxbot?.environment ?? {};
    for (const [k, v] of Object.entries(raw)) {
      if (!secretSettings.has(k) || k === 'DATABASE_URL') continue;
      assert.match(String(v), /^\$\{[A-Z0-9_]+(:[-?][^}]*)?\}$/, `${k} must come from the environment`);
    }
    assert.match(read('.gitignore'), /^\.env$/m);
    for (const s of ['asterisk', 'freeswitch', 'postgres']) {
      for (const [k, v] of Object.entries(compose.services[s]?.environment ?? {})) {
        if (/PASSWORD|SECRET/.test(k)) assert.match(String(v), /^\$\{/, `${s}.${k} must come from the environment`);
      }
    }
  });

  test('the spools line up: what Faxbot writes is what each PBX reads, and the other way round', () => {
    const env = serviceEnv('faxbot');
    const pairs: [string, string, string][] = [
      [env.ASTERISK_FAX_DIR!, 'asterisk', env.ASTERISK_FAX_DIR_PBX!],
      [env.FREESWITCH_FAX_DIR!, 'freeswitch', env.FREESWITCH_FAX_DIR_PBX!],
    ];
    for (const pair of env.INBOUND_SPOOL_MAP!.split(',')) {
      const [pbxPath, here] = pair.split('=');
      pairs.push([here!, pbxPath!.includes('asterisk') ? 'asterisk' : 'freeswitch', pbxPath!]);
    }
    for (const [here, pbx, there] of pairs) {
      const a = volumeOf('faxbot', here);
      const b = volumeOf(pbx, there);
      assert.ok(a && b, `${here} and ${pbx}:${there} must both be on volumes`);
      assert.deepEqual(a, b, `${here} (faxbot) and ${there} (${pbx}) must be the same directory of the same volume`);
    }
    for (const d of env.INBOUND_SPOOL_DIRS!.split(',')) assert.ok(volumeOf('faxbot', d.replace(/^\w+:/, '')), d);
    assert.equal(serviceEnv('asterisk').FAXBOT_INBOUND_URL, 'http://faxbot:8080/_internal/asterisk/inbound');
  });

  test('the PBX containers start with the shipped configuration and its start scripts', () => {
    for (const [svc, dir] of [['asterisk', 'asterisk-config'], ['freeswitch', 'freeswitch-config']] as const) {
      const s = compose.services[svc]!;
      assert.ok(s.volumes?.includes(`./${dir}:/opt/faxbot-config:ro`));
      const script = s.entrypoint?.[1] ?? '';
      assert.equal(script, '/opt/faxbot-config/docker-start.sh');
      const local = join(ROOT, dir, 'docker-start.sh');
      assert.ok(existsSync(local));
      assert.ok(statSync(local).mode & 0o111, `${dir}/docker-start.sh must be executable`);
    }
  });

  test('every variable the compose file requires is in .env.example', () => {
    const required = [...read('docker-compose.yml').matchAll(/\$\{([A-Z0-9_]+):\?/g)].map((m) => m[1]!);
    for (const r of new Set(required)) assert.ok(example[r] !== undefined && example[r] !== '', `.env.example must set ${r}`);
  });
});

describe('Dockerfile', () => {
  const df = read('Dockerfile');
  test('current Node LTS, Ghostscript, a non-root user, a health check on /health/ready', () => {
    assert.match(df, /^ARG NODE_VERSION=2[4-9]$/m);
    assert.match(df, /^FROM node:\$\{NODE_VERSION\}-slim$/m);
    assert.match(df, /apt-get install[^\n]*ghostscript/);
    assert.match(df, /^USER node$/m);
    assert.match(df, /^HEALTHCHECK[\s\S]*\/health\/ready/m);
    assert.match(df, /^ENTRYPOINT \["tini", "--"\]$/m);
    for (const dir of df.matchAll(/^COPY (?!--from)(\S+) /gm)) {
      for (const f of dir[1]!.split(' ')) if (!f.includes('*')) assert.ok(existsSync(join(ROOT, f)), `COPY ${f}: missing`);
    }
  });
});
