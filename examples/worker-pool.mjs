// A pool of worker processes sharing one SharedArrayBuffer (a POSIX shared memory segment) and
// a robust, process-shared Mutex inside it. Then a worker is SIGKILLed while it holds the lock: the
// next locker is told (ownerDied) and repairs the data the dead owner left half-updated.
//
//   node examples/worker-pool.mjs [/segment-name]
//
// Layout of the segment: the mutex at offset 0 (Mutex.SIZE bytes), then at byte 64 an Int32Array
// [counter, dirty]. Each increment is a read, an await, and a write: without the lock, workers would
// lose each other's updates.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Mutex, SharedMemory } from 'ipckit';

const DATA = 64;
const COUNTER = 0;
const DIRTY = 1;
const ROUNDS = 200;

async function incrementMany(mutex, data, rounds) {
  for (let i = 0; i < rounds; i++) {
    await mutex.lock({ timeout: 10_000 });
    try {
      const v = data[COUNTER];
      await new Promise(setImmediate); // let the other workers run while this one holds the lock
      data[COUNTER] = v + 1;
    } finally {
      mutex.unlock();
    }
  }
}

const [role, name = `/ipckit-example-pool-${process.pid}`] = process.argv.slice(2);

if (role === '--worker' || role === '--crash') {
  const shm = await SharedMemory.open(name);
  const mutex = Mutex.inSharedMemory(shm, 0); // attach: checks that a robust mutex is there
  const data = new Int32Array(shm.buffer, DATA, 2);
  if (role === '--worker') {
    await incrementMany(mutex, data, ROUNDS);
    mutex.close();
    shm.close();
  } else {
    // Take the lock, start an update, and die before finishing it: the kernel releases a robust
    // mutex of a dead thread and marks it so that the next owner knows.
    await mutex.lock({ timeout: 10_000 });
    data[DIRTY] = 1;
    process.kill(process.pid, 'SIGKILL');
  }
} else {
  const workers = 3;
  const shm = await SharedMemory.create(name, { size: 4096 }); // exclusive, 0600; unlinked by close()
  const mutex = Mutex.inSharedMemory(shm, 0, { init: true });
  const data = new Int32Array(shm.buffer, DATA, 2);
  const script = fileURLToPath(import.meta.url);
  const run = async (role) => {
    const child = fork(script, [role, name]);
    const [code, signal] = await once(child, 'exit');
    return signal ?? code;
  };
  try {
    const results = await Promise.all(Array.from({ length: workers }, () => run('--worker')));
    if (results.some((r) => r !== 0)) throw new Error(`a worker failed: ${results.join(', ')}`);
    console.log(`${workers} workers x ${ROUNDS} increments under the mutex: counter = ${data[COUNTER]}`);

    console.log(`a worker locked the mutex and was killed: ${await run('--crash')}`);
    const { ownerDied } = await mutex.lock({ timeout: 10_000 });
    try {
      console.log(`next lock: ownerDied = ${ownerDied}`);
      if (ownerDied && data[DIRTY] === 1) {
        data[DIRTY] = 0; // repair what the dead owner left half-done before anyone else sees it
        console.log('repaired the half-finished update');
      }
    } finally {
      mutex.unlock();
    }
    if (data[COUNTER] !== workers * ROUNDS) throw new Error(`lost updates: ${data[COUNTER]}`);
  } finally {
    mutex.close();
    shm.close(); // unlinks the segment: this process created it
  }
  console.log(`segment ${name} removed`);
}
