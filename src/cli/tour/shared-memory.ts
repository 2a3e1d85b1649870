// `ipckit tour`, sections 4 and 5: shared memory with a semaphore and a robust mutex, between real
// processes. This file is also its own child process (run with `child <mode> <name>`), so the tour
// needs no script beside the package.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Mutex, Semaphore, SharedMemory } from '../../index.js';
import { own, ownChild } from '../lifetime.js';
import type { TourOutput, TourSection } from './section.js';

const self = fileURLToPath(import.meta.url);
const ROUNDS = 10_000;
const SEM_AT = 0;
const MUTEX_AT = 64;
const COUNTER = 32; // Int32 index: byte 128

function child(mode: string, name: string): ChildProcess {
  return ownChild(spawn(process.execPath, [self, 'child', mode, name], { stdio: ['ignore', 'pipe', 'inherit'] }));
}

function line(c: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    c.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      if (buf.includes('\n')) resolve(buf.slice(0, buf.indexOf('\n')));
    });
    c.once('exit', (code, sig) => reject(new Error(`tour child exited (${code ?? sig})`)));
  });
}

function exit(c: ChildProcess): Promise<number | string | null> {
  return new Promise((resolve) => c.once('exit', (code, sig) => resolve(code ?? sig)));
}

async function runChild(mode: string, name: string): Promise<void> {
  const shm = await SharedMemory.open(name);
  const i32 = new Int32Array(shm.buffer);
  if (mode === 'count') {
    const sem = Semaphore.inSharedMemory(shm, SEM_AT);
    for (let i = 0; i < ROUNDS; i++) {
      await sem.wait();
      i32[COUNTER] = i32[COUNTER]! + 1; // a plain read-modify-write: only the semaphore makes it safe
      sem.post();
    }
    sem.close();
    shm.close();
  } else if (mode === 'hold') {
    const mutex = Mutex.inSharedMemory(shm, MUTEX_AT);
    await mutex.lock();
    process.stdout.write(`locked ${process.pid}\n`);
    setInterval(() => {}, 1 << 30); // hold it until killed
  }
}

export const section: TourSection = {
  title: 'Shared memory, semaphores and a robust mutex',
  order: 4,
  async run(out: TourOutput): Promise<void> {
    const name = `/ipckit-tour-${process.pid}`;
    await using shm = await SharedMemory.create(name, { size: 4096 });
    own(`shm:${name}`, () => shm.close());
    out.step(`A 4 KiB POSIX shared memory object ${name} is mapped as a real SharedArrayBuffer.`);
    const sem = Semaphore.inSharedMemory(shm, SEM_AT, { value: 1 });
    const i32 = new Int32Array(shm.buffer);
    try {
      out.step(`Two processes each add 1 to a counter in it ${ROUNDS.toLocaleString('en')} times, under a semaphore living in the same segment.`);
      const t0 = performance.now();
      const codes = await Promise.all([exit(child('count', name)), exit(child('count', name))]);
      if (codes.some((c) => c !== 0)) throw new Error(`a counting process failed: ${codes.join(', ')}`);
      out.detail(`counter = ${i32[COUNTER]} (expected ${2 * ROUNDS}: no update lost), in ${Math.round(performance.now() - t0)} ms`);

      const mutex = Mutex.inSharedMemory(shm, MUTEX_AT, { init: true });
      try {
        out.step('A process locks a robust mutex in the segment, and is killed with SIGKILL while holding it.');
        const holder = child('hold', name);
        const said = await line(holder);
        out.detail(`pid ${said.split(' ')[1]} holds the mutex; tryLock() here: ${mutex.tryLock() === null ? 'busy' : 'free?!'}`);
        const locking = mutex.lock({ timeout: 10_000 });
        holder.kill('SIGKILL');
        out.detail(`holder ended by ${await exit(holder)}`);
        const { ownerDied } = await locking;
        out.detail(`lock() here resolved { ownerDied: ${ownerDied} }: the kernel released it, the data it guards can be repaired`);
        mutex.unlock();
      } finally {
        mutex.close();
      }
    } finally {
      sem.close();
    }
  },
};

export default section;

if (process.argv[1] === self && process.argv[2] === 'child') {
  await runChild(process.argv[3]!, process.argv[4]!);
}
