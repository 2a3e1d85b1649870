"""ipckit_channel: the Python end of an ipckit shared-memory ring channel (standard library only).

It speaks docs/ring-format.md: the handshake over an AF_UNIX seqpacket socket (a sealed memfd and two
eventfds passed with SCM_RIGHTS), the two rings in the memfd, eventfd doorbells, and the raw and json
codecs. Use it as the child of ipckit's ``spawn()`` (``Channel.from_parent()``) or as a client of an
ipckit ring server (``Channel.connect('shm+unix:/run/app.sock')``).

    from ipckit_channel import Channel
    with Channel.from_parent(codec='json') as ch:
        for msg in ch:            # until the Node side closes
            ch.send({'echo': msg})

Needs Linux and Python 3.10+ (os.eventfd, socket.recv_fds, fcntl.F_GET_SEALS). Everything read from
shared memory is validated (IpcError ERR_IPC_CORRUPT, never an out-of-bounds access); the peer's death is
the socket closing (IpcError ERR_IPC_PEER_DEAD).

Memory ordering: CPython has no atomics. Aligned 32-bit loads and stores through a memoryview cast are
single instructions; the one place that needs a full barrier (storing a position, then reading the
other side's sleep flag, and the mirror image when parking) goes through a lock acquire and release,
which are locked (x86-64) or acquire/release (arm64) instructions in glibc.
"""

import fcntl
import json
import mmap
import os
import select
import socket
import struct
import threading
import time

__all__ = ['Channel', 'IpcError', 'CHANNEL_FD_ENV']

CHANNEL_FD_ENV = 'IPCKIT_CHANNEL_FD'

HELLO_MAGIC = 0x484B5049  # "IPKH"
ACK_MAGIC = 0x414B5049  # "IPKA"
HANDSHAKE_VERSION = 1
SEGMENT_MAGIC = 0x434B5049  # "IPKC"
SEGMENT_VERSION = 2
SEGMENT_HEADER = 64
RING_MAGIC = 0x524B5049  # "IPKR"
RING_VERSION = 1
RING_HEADER = 256
WRAP = 0xFFFFFFFF
MIN_CAPACITY = 64
MAX_CAPACITY = 1 << 30

# Word offsets (in u32 units) inside a ring header.
W_MAGIC, W_VERSION, W_CAPACITY = 0, 1, 2
W_PRODUCER_CLOSED, W_CONSUMER_CLOSED = 6, 7
W_HEAD, W_TAIL = 16, 32
W_CONSUMER_SLEEPING, W_PRODUCER_WAITING = 48, 49

F_GET_SEALS = getattr(fcntl, 'F_GET_SEALS', 1034)
F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_GROW = 1, 2, 4
REQUIRED_SEALS = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW

_fence_lock = threading.Lock()


def _fence():
    # A full memory barrier (see the module docstring).
    _fence_lock.acquire()
    _fence_lock.release()


class IpcError(Exception):
    """An ipckit condition: ``code`` is ERR_IPC_PEER_DEAD, ERR_IPC_CORRUPT, ERR_IPC_CODEC, ERR_IPC_TIMEOUT, ..."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def _corrupt(what):
    return IpcError('ERR_IPC_CORRUPT', 'shared-memory ring: ' + what)


class _Ring:
    """One ring of the segment: a header of 64 u32 words, then `capacity` data bytes."""

    def __init__(self, mm, offset, capacity):
        self.w = memoryview(mm)[offset:offset + RING_HEADER].cast('I')
        self.data = memoryview(mm)[offset + RING_HEADER:offset + RING_HEADER + capacity]
        self.cap = capacity
        self.mask = capacity - 1
        if self.w[W_MAGIC] != RING_MAGIC or self.w[W_VERSION] != RING_VERSION or self.w[W_CAPACITY] != capacity:
            raise _corrupt('bad ring header')

    def release(self):
        self.w.release()
        self.data.release()


class Channel:
    """One end of a ring channel: ``send``, ``receive``, iteration, ``close``."""

    def __init__(self, sock, codec='raw', spin_micros=50):
        if codec not in ('raw', 'json'):
            raise ValueError("codec must be 'raw' or 'json'")
        self.codec = codec
        self.spin = spin_micros / 1e6
        self._sock = sock
        self._closed = False
        self._dead = False
        self._mm = None
        fds = []
        try:
            msg, fds, flags, _ = socket.recv_fds(sock, 64, 3)
            if not msg:
                raise IpcError('ERR_IPC_PEER_DEAD', 'the listener closed before the handshake')
            if len(msg) < 16 or len(fds) != 3:
                raise _corrupt('not a ring server hello')
            magic, version, capacity, _ = struct.unpack_from('<IIII', msg)
            if magic != HELLO_MAGIC:
                raise _corrupt('not a ring server hello')
            if version != HANDSHAKE_VERSION:
                raise IpcError('ERR_IPC_UNSUPPORTED', 'handshake version %d' % version)
            if capacity < MIN_CAPACITY or capacity > MAX_CAPACITY or capacity & (capacity - 1):
                raise _corrupt('bad capacity %d' % capacity)
            memfd, listener_bell, own_bell = fds
            # Refuse a segment the other side could still shrink: touching a truncated page is SIGBUS.
            try:
                seals = fcntl.fcntl(memfd, F_GET_SEALS)
            except OSError:
                seals = 0
            if seals & REQUIRED_SEALS != REQUIRED_SEALS:
                raise _corrupt('the segment is not sealed against shrinking and growing')
            size = os.fstat(memfd).st_size
            if size != SEGMENT_HEADER + 2 * (RING_HEADER + capacity):
                raise _corrupt('unexpected segment size %d' % size)
            self._mm = mmap.mmap(memfd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
            os.close(memfd)
            fds.remove(memfd)
            seg = memoryview(self._mm)[:SEGMENT_HEADER].cast('I')
            ok = seg[0] == SEGMENT_MAGIC and seg[1] == SEGMENT_VERSION and seg[2] == capacity
            seg.release()
            if not ok:
                raise _corrupt('not a channel segment')
            # The connector sends on ring 0 and receives on ring 1.
            self._tx = _Ring(self._mm, SEGMENT_HEADER, capacity)
            self._rx = _Ring(self._mm, SEGMENT_HEADER + RING_HEADER + capacity, capacity)
            self._head = self._tx.w[W_HEAD]  # our producer position
            self._tail_seen = self._tx.w[W_TAIL]
            self._tail = self._rx.w[W_TAIL]  # our consumer position
            self._own = own_bell
            self._peer = listener_bell
            os.set_blocking(own_bell, False)
            os.set_blocking(listener_bell, False)
            self.max_message_size = capacity // 2 - 8
            sock.send(struct.pack('<II', ACK_MAGIC, HANDSHAKE_VERSION))
            fds = []
        except BaseException:
            for fd in fds:
                os.close(fd)
            sock.close()
            raise

    # ---- making one ----------------------------------------------------------------------------

    @classmethod
    def from_parent(cls, codec='raw', spin_micros=50):
        """The channel to the parent, in a process started by ipckit's ``spawn()``/``fork()``."""
        raw = os.environ.pop(CHANNEL_FD_ENV, None)
        if raw is None:
            raise IpcError('ERR_IPC_UNSUPPORTED', CHANNEL_FD_ENV + ' is not set: not started by ipckit spawn()')
        fd = int(raw)
        os.set_inheritable(fd, False)  # not for our own children: the parent must see it close
        sock = socket.socket(fileno=fd)
        return cls(sock, codec, spin_micros)

    @classmethod
    def connect(cls, address, codec='raw', spin_micros=50, timeout=10.0):
        """A client of an ipckit ring server: 'shm+unix:/path', 'shm+unix:@name', '/path' or '@name'."""
        if address.startswith('shm+unix:'):
            address = address[len('shm+unix:'):]
        if address.startswith('@'):
            address = '\0' + address[1:]  # abstract: exactly the name's bytes after the NUL
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        sock.settimeout(timeout)
        try:
            sock.connect(address)
        except BaseException:
            sock.close()
            raise
        return cls(sock, codec, spin_micros)

    # ---- waiting -------------------------------------------------------------------------------

    def _ring_peer(self):
        try:
            os.eventfd_write(self._peer, 1)
        except BlockingIOError:
            pass  # the counter is full: rung already

    def _check_socket(self):
        """The socket carries nothing after the handshake: readable means the peer's end closed."""
        try:
            data = self._sock.recv(64, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return
        except OSError:
            data = b''
        if not data:
            self._dead = True

    def _wait(self, ready, ring, flag_word, word, deadline):
        end_spin = time.perf_counter() + self.spin
        while time.perf_counter() < end_spin:
            if ready():
                return
        while True:
            if self._closed:
                raise IpcError('ERR_IPC_CLOSED', 'the channel is closed')
            seen = ring.w[word]
            ring.w[flag_word] = 2
            _fence()
            if ready() or ring.w[word] != seen:
                ring.w[flag_word] = 0
                return
            if self._dead:
                ring.w[flag_word] = 0
                raise IpcError('ERR_IPC_PEER_DEAD', 'the peer went away (its socket closed)')
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                ring.w[flag_word] = 0
                raise IpcError('ERR_IPC_TIMEOUT', 'timed out')
            r, _, _ = select.select([self._own, self._sock], [], [], left)
            ring.w[flag_word] = 0
            if self._sock in r:
                self._check_socket()
            if self._own in r:
                try:
                    os.eventfd_read(self._own)
                except BlockingIOError:
                    pass
            if ready():
                return

    # ---- sending -------------------------------------------------------------------------------

    def _encode(self, value):
        if self.codec == 'json':
            return json.dumps(value, separators=(',', ':')).encode('utf-8')
        if isinstance(value, str):
            return value.encode('utf-8')
        return bytes(value)

    def send(self, value, timeout=None):
        """Sends one message; waits for room (spin, then park) when the ring is full."""
        if self._closed:
            raise IpcError('ERR_IPC_CLOSED', 'the channel is closed')
        payload = self._encode(value)
        n = len(payload)
        if n > self.max_message_size:
            raise IpcError('ERR_IPC_MESSAGE_TOO_LARGE', 'message of %d bytes exceeds the limit of %d' % (n, self.max_message_size))
        if self._dead:
            raise IpcError('ERR_IPC_PEER_DEAD', 'the peer went away (its socket closed)')
        r = self._tx
        rec = 8 + ((n + 7) & ~7)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if r.w[W_CONSUMER_CLOSED]:
                raise IpcError('ERR_IPC_PEER_DEAD', 'the peer closed its end')
            off = self._head & r.mask
            to_end = r.cap - off
            need = rec if rec <= to_end else to_end + rec
            used = (self._head - self._tail_seen) & 0xFFFFFFFF
            if r.cap - used < need:
                tail = r.w[W_TAIL]
                used = (self._head - tail) & 0xFFFFFFFF
                if used > r.cap or used & 7:
                    raise _corrupt('consumer position out of range')
                self._tail_seen = tail
            if r.cap - used >= need:
                break

            def room():
                t = r.w[W_TAIL]
                return r.cap - ((self._head - t) & 0xFFFFFFFF) >= need or r.w[W_CONSUMER_CLOSED] != 0

            self._wait(room, r, W_PRODUCER_WAITING, W_TAIL, deadline)
        if rec > to_end:
            struct.pack_into('<I', r.data, off, WRAP)
            self._head = (self._head + to_end) & 0xFFFFFFFF
            off = 0
        struct.pack_into('<II', r.data, off, n, 0)
        r.data[off + 8:off + 8 + n] = payload
        self._head = (self._head + rec) & 0xFFFFFFFF
        r.w[W_HEAD] = self._head
        _fence()
        if r.w[W_CONSUMER_SLEEPING]:
            self._ring_peer()

    # ---- receiving -----------------------------------------------------------------------------

    def _try_receive(self):
        r = self._rx
        head = r.w[W_HEAD]
        avail = (head - self._tail) & 0xFFFFFFFF
        if avail == 0:
            return None
        if avail > r.cap or avail & 7:
            raise _corrupt('producer position out of range')
        off = self._tail & r.mask
        skip = 0
        (n,) = struct.unpack_from('<I', r.data, off)
        if n == WRAP:
            skip = r.cap - off
            if skip >= avail:
                raise _corrupt('wrap marker with no record after it')
            avail -= skip
            off = 0
            (n,) = struct.unpack_from('<I', r.data, 0)
            if n == WRAP:
                raise _corrupt('two wrap markers in a row')
        if n > r.cap // 2 - 8:
            raise _corrupt('record length out of range')
        rec = 8 + ((n + 7) & ~7)
        if rec > avail or rec > r.cap - off:
            raise _corrupt('record runs past the producer position')
        payload = bytes(r.data[off + 8:off + 8 + n])
        self._tail = (self._tail + skip + rec) & 0xFFFFFFFF
        r.w[W_TAIL] = self._tail
        _fence()
        if r.w[W_PRODUCER_WAITING]:
            self._ring_peer()
        return payload

    def _decode(self, payload):
        if self.codec == 'json':
            try:
                return json.loads(payload.decode('utf-8'))
            except ValueError as e:
                raise IpcError('ERR_IPC_CODEC', 'a received message is not valid JSON') from e
        return payload

    def receive(self, timeout=None):
        """The next message, or None once the peer closed on purpose. Raises IpcError otherwise."""
        if self._closed:
            raise IpcError('ERR_IPC_CLOSED', 'the channel is closed')
        r = self._rx
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            m = self._try_receive()
            if m is not None:
                return self._decode(m)
            if r.w[W_PRODUCER_CLOSED]:
                m = self._try_receive()  # "closed" comes after the last position store
                return None if m is None else self._decode(m)
            self._wait(lambda: r.w[W_HEAD] != self._tail or r.w[W_PRODUCER_CLOSED] != 0, r, W_CONSUMER_SLEEPING, W_HEAD, deadline)

    def __iter__(self):
        while True:
            m = self.receive()
            if m is None:
                return
            yield m

    # ---- closing -------------------------------------------------------------------------------

    def close(self):
        """Says goodbye (the peer's iteration ends) and releases everything. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._mm is not None:
            self._tx.w[W_PRODUCER_CLOSED] = 1
            self._rx.w[W_TAIL] = self._tail
            self._rx.w[W_CONSUMER_CLOSED] = 1
            _fence()
            self._ring_peer()
            self._tx.release()
            self._rx.release()
            self._mm.close()
            os.close(self._own)
            os.close(self._peer)
        self._sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _main(argv):
    """python3 ipckit_channel.py echo [json]            echo as the child of spawn()
    python3 ipckit_channel.py connect ADDRESS [json]   echo as a client of a ring server"""
    if len(argv) >= 1 and argv[0] == 'echo':
        ch = Channel.from_parent(codec=argv[1] if len(argv) > 1 else 'raw')
    elif len(argv) >= 2 and argv[0] == 'connect':
        ch = Channel.connect(argv[1], codec=argv[2] if len(argv) > 2 else 'raw')
        print('ready', flush=True)
    else:
        print(_main.__doc__)
        return 2
    with ch:
        for m in ch:
            ch.send(m)
    return 0


if __name__ == '__main__':
    import sys
    sys.exit(_main(sys.argv[1:]))
