// Codecs turn values into the bytes of one message and back. The channel checks the encoded size
// against its maximum before handing bytes to any transport, so the limit means the same everywhere.
import v8 from 'node:v8';
import { Packr } from 'msgpackr';
import { IpcError, invalidArgType } from '../errors.js';
import { toBytes } from '../internal/validate.js';

export type CodecName = 'raw' | 'json' | 'msgpack' | 'v8';

export interface Codec {
  readonly name: CodecName;
  encode(value: unknown): Uint8Array;
  decode(bytes: Buffer): unknown;
}

function undecodable(codec: string, err: unknown): IpcError {
  return new IpcError('ERR_IPC_CORRUPT', `a received message is not valid ${codec}`, { codec }, { cause: err });
}

const raw: Codec = {
  name: 'raw',
  encode: (value) => toBytes('value', value),
  decode: (bytes) => bytes,
};

const json: Codec = {
  name: 'json',
  encode(value) {
    const s = JSON.stringify(value);
    // JSON.stringify(undefined) is undefined: there would be nothing to send.
    if (s === undefined) throw invalidArgType('value', 'a JSON-serialisable value', value);
    return Buffer.from(s, 'utf8');
  },
  decode(bytes) {
    try {
      return JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      throw undecodable('JSON', err);
    }
  },
};

// One Packr without record structures: structures would be per-connection state a peer in another
// language (or a restarted one) does not share.
const packr = new Packr({ useRecords: false, moreTypes: true });
const msgpack: Codec = {
  name: 'msgpack',
  encode: (value) => packr.pack(value),
  decode(bytes) {
    try {
      return packr.unpack(bytes);
    } catch (err) {
      throw undecodable('MessagePack', err);
    }
  },
};

const structured: Codec = {
  name: 'v8',
  encode: (value) => v8.serialize(value),
  decode(bytes) {
    try {
      return v8.deserialize(bytes);
    } catch (err) {
      throw undecodable('v8 serialization', err);
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
