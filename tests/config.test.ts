/**
 * The configuration's choices (src/config.ts): the settings given make a typed `store` and
 * `transport`, a half-given choice is refused with a message naming what is missing, and no
 * message ever shows a credential.
 */
import { describe, expect, it } from 'vitest';
import { childEnvironment, ConfigError, loadConfig, SETTINGS, settingDefaults } from '../src/config.js';

const SECRET = 's3cret_value-42';
const URL = 'https://cite.example.org/telegram';

/** The message loadConfig refuses `env` with. */
function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`accepted: ${JSON.stringify(env)}`);
}

describe('the store', () => {
  it('is the file store unless DATABASE_URL is given', () => {
    expect(loadConfig({}).store).toEqual({ kind: 'file' });
  });

  it('is PostgreSQL at DATABASE_URL when it is given', () => {
    const url = 'postgres://cite:pw@db:5432/cite';
    expect(loadConfig({ DATABASE_URL: url }).store).toEqual({ kind: 'postgres', url });
  });
});

describe('the transport', () => {
  it('is long polling unless WEBHOOK_URL is given', () => {
    expect(loadConfig({}).transport).toEqual({ kind: 'polling' });
  });

  it('is the webhook at WEBHOOK_URL with WEBHOOK_SECRET when both are given', () => {
    expect(loadConfig({ WEBHOOK_URL: URL, WEBHOOK_SECRET: SECRET }).transport).toEqual({
      kind: 'webhook',
      url: URL,
      secret: SECRET,
    });
  });

  it('WEBHOOK_URL without WEBHOOK_SECRET is refused, naming the missing secret', () => {
    const message = refusal({ WEBHOOK_URL: URL });
    expect(message).toMatch(/^ {2}WEBHOOK_SECRET \(not set\): required with WEBHOOK_URL/m);
    expect(message.split('\n')).toHaveLength(2);
  });

  it('WEBHOOK_SECRET alone is polling (one .env may serve the webhook bot and npm run index)', () => {
    expect(loadConfig({ WEBHOOK_SECRET: SECRET }).transport).toEqual({ kind: 'polling' });
  });

  it('a bad WEBHOOK_URL is one line, not also a missing secret', () => {
    const message = refusal({ WEBHOOK_URL: 'not a url' });
    expect(message).toMatch(/WEBHOOK_URL="not a url"/);
    expect(message).not.toMatch(/WEBHOOK_SECRET/);
  });

  it('the missing secret is named in the same message as the other bad values', () => {
    const message = refusal({ WEBHOOK_URL: URL, TOP_K: 'abc' });
    expect(message).toMatch(/TOP_K="abc": must be a number/);
    expect(message).toMatch(/WEBHOOK_SECRET \(not set\): required with WEBHOOK_URL/);
  });
});

describe('the config carries the choices, not the settings they are made of', () => {
  it('has no DATABASE_URL, WEBHOOK_URL or WEBHOOK_SECRET of its own', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://db/cite', WEBHOOK_URL: URL, WEBHOOK_SECRET: SECRET });
    for (const name of ['DATABASE_URL', 'WEBHOOK_URL', 'WEBHOOK_SECRET']) expect(config).not.toHaveProperty(name);
  });

  it('while every setting, those too, keeps its name and default for docs/configuration.md', () => {
    expect(SETTINGS).toEqual(expect.arrayContaining(['DATABASE_URL', 'WEBHOOK_URL', 'WEBHOOK_SECRET', 'PORT']));
    const defaults = settingDefaults();
    expect(defaults).toMatchObject({ PORT: 8080, INDEX_DIR: 'index', SEEDS_DIR: 'seeds' });
    expect(defaults.DATABASE_URL).toBeUndefined();
  });
});

describe('a child process (the bench probes) gets the same choices', () => {
  it.each([[{}], [{ DATABASE_URL: 'postgres://db/cite', WEBHOOK_URL: URL, WEBHOOK_SECRET: SECRET, PORT: '9000' }]])(
    'childEnvironment(%j) loads as the same store and transport',
    (env) => {
      const config = loadConfig(env);
      const again = loadConfig(childEnvironment(config));
      expect(again.store).toEqual(config.store);
      expect(again.transport).toEqual(config.transport);
      expect(again.PORT).toBe(config.PORT);
    },
  );
});

describe('messages never show a credential', () => {
  it.each([
    ['TELEGRAM_BOT_TOKEN', 'not-a-token-but-private'],
    ['WEBHOOK_SECRET', 'has spaces, so invalid: private'],
    ['DATABASE_URL', 'mysql://cite:private@db/cite'],
  ])('a bad %s is named without its value', (name, value) => {
    const message = refusal({ WEBHOOK_URL: URL, WEBHOOK_SECRET: SECRET, [name]: value });
    expect(message).toContain(`${name} (value not shown): `);
    expect(message).not.toContain('private');
  });

  it('other values are shown, to be found and fixed', () => {
    expect(refusal({ LOG_LEVEL: 'verbose' })).toMatch(/LOG_LEVEL="verbose": must be one of/);
  });
});
