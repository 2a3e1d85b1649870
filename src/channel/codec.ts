// Codecs turn values into the bytes of one message and back. The channel checks the encoded size
// against its maximum before handing bytes to any transport, so the limit means the same everywhere.
// A value a codec cannot encode, and received bytes it cannot decode, are ERR_IPC_CODEC with the
// codec's own error as the cause; received bytes are a peer's, so whatever they hold, decode throws
// nothing else.
import v8 from 'node:v8';
import { C1, Packr } from 'msgpackr';
import { IpcError, invalidArgType } from '../errors.js';
import { toBytes } from '../internal/validate.js';

/**
 * How a channel turns values into bytes: `'raw'` (bytes or strings in, Buffers out), `'json'`,
 * `'msgpack'`, or `'v8'` (`v8.serialize`: Maps, Sets, Dates, BigInts, typed arrays, cycles).
 */
export type CodecName = 'raw' | 'json' | 'msgpack' | 'v8';

export interface Codec {
  readonly name: CodecName;
  encode(value: unknown): Uint8Array;
  decode(bytes: Buffer): unknown;
}

const FORMAT: Record<CodecName, string> = { raw: 'bytes', json: 'JSON', msgpack: 'MessagePack', v8: 'v8 serialization' };

function undecodable(codec: CodecName, err: unknown): IpcError {
  return new IpcError('ERR_IPC_CODEC', `a received message is not valid ${FORMAT[codec]}`, { codec }, { cause: err });
}

function unencodable(codec: CodecName, err: unknown): IpcError {
  const why = err instanceof Error ? `: ${err.message}` : '';
  return new IpcError('ERR_IPC_CODEC', `the value cannot be encoded as ${FORMAT[codec]}${why}`, { codec }, { cause: err });
}

const raw: Codec = {
  name: 'raw',
  encode: (value) => toBytes('value', value),
  decode: (bytes) => bytes,
};

const json: Codec = {
  name: 'json',
  encode(value) {
    let s: string | undefined;
    try {
      s = JSON.stringify(value);
    } catch (err) {
      throw unencodable('json', err); // a BigInt, a cycle, a throwing toJSON
    }
    // JSON.stringify(undefined), of a function or of a symbol is undefined: there would be nothing to send.
    if (s === undefined) throw unencodable('json', new TypeError(`${typeof value} has no JSON form`));
    return Buffer.from(s, 'utf8');
  },
  decode(bytes) {
    try {
      return JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      throw undecodable('json', err);
    }
  },
};

// One Packr without record structures: structures would be per-connection state a peer in another
// language (or a restarted one) does not share. Nor structured-clone references: the encoder never
// writes them, and a peer's references could hand the receiver cyclic values it never sent.
const packr = new Packr({ useRecords: false, moreTypes: true, structuredClone: false });

/**
 * Throws if msgpackr's placeholder for the byte 0xC1 (which MessagePack says is never used) stands
 * anywhere in a decoded value: msgpackr returns it as an object instead of failing.
 */
function refuseNeverUsed(value: unknown): void {
  if (value === C1) throw new Error('byte 0xC1 is never used in MessagePack');
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return;
  const seen = new Set<object>();
  const stack: object[] = [value];
  while (stack.length > 0) {
    const v = stack.pop()!;
    if (seen.has(v)) continue;
    seen.add(v);
    const items: Iterable<unknown> =
      v instanceof Map ? [...v.keys(), ...v.values()] : v instanceof Set ? v : Array.isArray(v) ? v : Object.values(v);
    for (const item of items) {
      if (item === C1) throw new Error('byte 0xC1 is never used in MessagePack');
      if (typeof item === 'object' && item !== null && !ArrayBuffer.isView(item)) stack.push(item);
    }
    if (v instanceof Error && typeof v.cause === 'object' && v.cause !== null) stack.push(v.cause);
  }
}

const msgpack: Codec = {
  name: 'msgpack',
  encode(value) {
    try {
      return packr.pack(value);
    } catch (err) {
      throw unencodable('msgpack', err); // a symbol
    }
  },
  decode(bytes) {
    let value: unknown;
    try {
      value = packr.unpack(bytes);
      refuseNeverUsed(value);
    } catch (err) {
      throw undecodable('msgpack', err);
    }
    return value;
  },
};

const structured: Codec = {
  name: 'v8',
  encode(value) {
    try {
      return v8.serialize(value);
    } catch (err) {
      throw unencodable('v8', err); // a function, a symbol, a host object
    }
  },
  decode(bytes) {
    try {
      return v8.deserialize(bytes);
    } catch (err) {
      throw undecodable('v8', err);
    }
  },
};

const codecs: Record<CodecName, Codec> = { raw, json, msgpack, v8: structured };

/** The codec of a name ('raw', 'json', 'msgpack', 'v8'). */
export function codecFor(name: unknown): Codec {
  if (typeof name !== 'string' || !Object.hasOwn(codecs, name)) {
    throw invalidArgType('options.codec', "one of 'raw', 'json', 'msgpack', 'v8'", name);
  }
  return codecs[name as CodecName];
}
