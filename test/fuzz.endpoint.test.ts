// Property-based tests of the endpoint parsers: parseEndpoint (channels, and the CLI through it),
// parseUnixEndpoint (sockets) and the CLI's openOutgoing on what they refuse. Any string gives an endpoint or a coded error
// (ERR_IPC_NAME_INVALID, ERR_IPC_UNSUPPORTED), never a TypeError or URIError; endpoints built from valid
// parts parse back to those parts; parsing an endpoint's url again gives the same endpoint. Failures in
// parsers this branch does not own are `todo` tests holding the minimal counterexample. A bounded
// number of cases under `npm test`; IPCKIT_FUZZ_RUNS=N (npm run fuzz) runs N per property.
import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IpcError, parseEndpoint, parseUnixEndpoint } from '../src/index.js';
import { checkEndpoint, openOutgoing } from '../src/cli/endpoint.js';
import { CliError } from '../src/cli/output.js';

const runs = (n: number): fc.Parameters<unknown> => ({
  numRuns: Number(process.env.IPCKIT_FUZZ_RUNS) || n,
  ...(process.env.IPCKIT_FUZZ_SEED ? { seed: Number(process.env.IPCKIT_FUZZ_SEED) } : {}),
});

const SCHEMES = ['fifo:', 'mq:', 'shm:', 'sysvmq:', 'unix:', 'unix+stream:', 'unix+dgram:', 'unix+seqpacket:', 'tcp:', 'udp:', 'nats:', 'TCP:', 'Unix:', 'pigeon:', ''];
// Pieces that reach every branch of the parsers: separators, brackets, ports, NUL, wildcards, UTF-8.
const PIECES = ['/', '//', ':', '@', '[', ']', '[::1]', '::', '.', '0', '1', '65535', '65536', '99999', '0x1f', 'a', 'h', 'é', '\0', ' ', '*', '>', '?', '#', '+', 'x'.repeat(120)];
function urls(withPercent: boolean): fc.Arbitrary<string> {
  const piece = fc.oneof(fc.constantFrom(...PIECES, ...(withPercent ? ['%', '%E0', '%2F', '%00', '%41'] : [])), fc.string({ maxLength: 3 }));
  const structured = fc.tuple(fc.constantFrom(...SCHEMES), fc.array(piece, { maxLength: 10 })).map(([s, p]) => s + p.join(''));
  const any = withPercent ? fc.string({ maxLength: 40 }) : fc.string({ maxLength: 40 }).map((s) => s.replaceAll('%', ''));
  return fc.oneof({ weight: 4, arbitrary: structured }, { weight: 1, arbitrary: any });
}

/** Calls `parse`, and fails on anything thrown but an IpcError with one of `codes`. */
function parsesOrRefuses<T>(parse: (u: string) => T, u: string, codes: string[]): T | undefined {
  try {
    return parse(u);
  } catch (err) {
    if (!(err instanceof IpcError)) throw err;
    assert.ok(codes.includes(err.code), `${JSON.stringify(u)}: ${err.code}`);
    return undefined;
  }
}

test('fuzz: parseEndpoint gives an endpoint or ERR_IPC_NAME_INVALID/ERR_IPC_UNSUPPORTED, and re-parsing its url gives it again', () => {
  fc.assert(
    fc.property(urls(false), (u) => {
      const e = parsesOrRefuses(parseEndpoint, u, ['ERR_IPC_NAME_INVALID', 'ERR_IPC_UNSUPPORTED']);
      if (!e) return;
      assert.equal(e.url, u);
      assert.deepEqual(parseEndpoint(e.url), e);
      // What the kernel will be handed is within its limits.
      if ('name' in e) assert.ok(/^\/[^/\0]+$/.test(e.name) && Buffer.byteLength(e.name) <= 255, e.name);
      if ('port' in e) assert.ok(Number.isInteger(e.port) && e.port >= 0 && e.port <= 65535 && e.host.length > 0);
      if ('abstract' in e) assert.ok(e.path.length > 0 && Buffer.byteLength(e.path) <= 107);
      if ('path' in e && !('abstract' in e && e.abstract)) assert.ok(e.path.length > 0 && !e.path.includes('\0'));
    }),
    runs(3000),
  );
});

test('fuzz: parseEndpoint with percent-escapes in a tcp:/udp:/nats: path never throws a URIError', () => {
  for (const u of ['tcp://h:1/%E0', 'nats://h:1/%E0']) {
    assert.throws(() => parseEndpoint(u), { code: 'ERR_IPC_NAME_INVALID' }, u);
  }
  fc.assert(fc.property(urls(true), (u) => void parsesOrRefuses(parseEndpoint, u, ['ERR_IPC_NAME_INVALID', 'ERR_IPC_UNSUPPORTED'])), runs(3000));
});

test('mq: and shm: names follow the one POSIX name rule (internal/names.ts): "." and ".." are refused', () => {
  for (const u of ['mq:/.', 'mq:/..', 'shm:/..', 'mq:', 'mq:/', 'mq:x', 'mq:/a/b']) assert.throws(() => parseEndpoint(u), { code: 'ERR_IPC_NAME_INVALID', url: u }, u);
  assert.throws(() => parseEndpoint('mq:/..'), { path: '/..', message: /invalid endpoint 'mq:\/\.\.': .*'\.' and '\.\.' are not names/ });
});

test('an empty tcp:/udp: host is the conventional any address, 0.0.0.0; nats: still needs its broker host', () => {
  assert.deepEqual(parseEndpoint('udp://:0'), { transport: 'udp', url: 'udp://:0', host: '0.0.0.0', port: 0 });
  assert.deepEqual(parseEndpoint('tcp://:7000'), { transport: 'tcp', url: 'tcp://:7000', host: '0.0.0.0', port: 7000 });
  assert.throws(() => parseEndpoint('udp://:'), { code: 'ERR_IPC_NAME_INVALID' });
  assert.throws(() => parseEndpoint('nats://:4222/x'), { code: 'ERR_IPC_NAME_INVALID' });
});

test('fuzz: parseUnixEndpoint gives an address or ERR_IPC_NAME_INVALID', () => {
  fc.assert(
    fc.property(urls(true), (u) => {
      const e = parsesOrRefuses(parseUnixEndpoint, u, ['ERR_IPC_NAME_INVALID']);
      if (!e) return;
      assert.ok(['stream', 'dgram', 'seqpacket'].includes(e.type));
    }),
    runs(3000),
  );
});

// Valid parts, and the URL they make.
// '.' and '..' are no names (internal/names.ts, the one rule for every POSIX name).
const posixName = fc.stringMatching(/^[A-Za-z0-9._-]{1,40}$/).filter((s) => s !== '.' && s !== '..').map((s) => `/${s}`);
const port = fc.integer({ min: 0, max: 65535 });
const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((a) => a.join('.'));
const hostname = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,10}){0,2}$/).filter((h) => !h.endsWith('-'));
const host = fc.oneof(ipv4, hostname, fc.constant('::1'));
const subject = fc.array(fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/), { minLength: 1, maxLength: 4 }).map((t) => t.join('.'));
const bracket = (h: string) => (h.includes(':') ? `[${h}]` : h);
const valid = fc.oneof(
  posixName.map((name) => ({ url: `mq:${name}`, want: { transport: 'mq', name } })),
  posixName.map((name) => ({ url: `shm:${name}`, want: { transport: 'shm', name } })),
  fc.integer({ min: 1, max: 0x7fffffff }).map((key) => ({ url: `sysvmq:0x${key.toString(16)}`, want: { transport: 'sysvmq', key } })),
  fc.stringMatching(/^\/[A-Za-z0-9._/-]{1,60}$/).map((path) => ({ url: `fifo:${path}`, want: { transport: 'fifo', path } })),
  fc.tuple(fc.constantFrom('unix', 'unix+dgram', 'unix+seqpacket'), fc.stringMatching(/^[A-Za-z0-9._-]{1,100}$/), fc.boolean()).map(([t, p, abstract]) => ({
    url: `${t}:${abstract ? '@' : '/'}${p}`,
    want: { transport: t, path: abstract ? p : `/${p}`, abstract },
  })),
  fc.tuple(fc.constantFrom('tcp', 'udp'), host, port).map(([t, h, p]) => ({ url: `${t}://${bracket(h)}:${p}`, want: { transport: t, host: h, port: p } })),
  fc.tuple(host, port, subject).map(([h, p, s]) => ({ url: `nats://${bracket(h)}:${p}/${s}`, want: { transport: 'nats', host: h, port: p, subject: s } })),
);

test('fuzz: endpoints built from valid parts parse back to those parts', () => {
  fc.assert(
    fc.property(valid, ({ url, want }) => {
      assert.deepEqual(parseEndpoint(url), { url, ...want });
    }),
    runs(3000),
  );
});

test('fuzz: the two unix-socket parsers agree on every unix:, unix+dgram:, unix+seqpacket: string', () => {
  const seen = (f: () => string) => {
    try {
      return f();
    } catch {
      return 'refused';
    }
  };
  fc.assert(
    fc.property(fc.constantFrom('unix:', 'unix+dgram:', 'unix+seqpacket:'), urls(true), (s, rest) => {
      const u = s + rest.replace(/^[^:]*:/, '');
      const a = seen(() => {
        const e = parseEndpoint(u);
        assert.ok(e.transport === 'unix' || e.transport === 'unix+dgram' || e.transport === 'unix+seqpacket', e.transport);
        return e.abstract ? `@${e.path}` : e.path;
      });
      const b = seen(() => {
        const e = parseUnixEndpoint(u);
        return e.abstract !== undefined ? `@${e.abstract}` : e.path!;
      });
      assert.equal(a, b, JSON.stringify(u));
    }),
    runs(1000),
  );
});

/** What a parser makes of `u`: the endpoint, or the code it refused it with. */
function outcome(parse: (u: string) => unknown, u: string): unknown {
  try {
    return { endpoint: parse(u) };
  } catch (err) {
    return { refused: (err as { code?: unknown }).code };
  }
}

test('fuzz: the CLI and the Channel layer read every string the same way (one parser)', () => {
  fc.assert(
    fc.property(urls(true), (u) => {
      assert.deepEqual(outcome(checkEndpoint, u), outcome(parseEndpoint, u), JSON.stringify(u));
    }),
    runs(3000),
  );
});

test('fuzz: the CLI refuses what the parser refuses with a coded error, before any syscall', async () => {
  // Only strings parseEndpoint refuses: openOutgoing must stop at parsing (nothing is created or
  // reached), with the parser's own IpcError (or a CliError); never a TypeError, never a syscall's error.
  const refused = urls(false).filter((u) => parsesOrRefuses(parseEndpoint, u, ['ERR_IPC_NAME_INVALID', 'ERR_IPC_UNSUPPORTED']) === undefined);
  await fc.assert(
    fc.asyncProperty(refused, fc.boolean(), async (u, channel) => {
      let out: Awaited<ReturnType<typeof openOutgoing>> | undefined;
      try {
        out = await openOutgoing(u, { channel, timeout: 200 });
      } catch (err) {
        assert.ok(err instanceof CliError || err instanceof IpcError, `${JSON.stringify(u)}: ${String(err)}`);
        return;
      } finally {
        await out?.close();
      }
      assert.fail(`${JSON.stringify(u)} was opened`);
    }),
    runs(300),
  );
});
