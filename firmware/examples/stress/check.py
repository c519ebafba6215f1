#!/usr/bin/env python3
"""Check the capture of examples/stress: whole packets, complete sequences."""
import re
import sys

data = open(sys.argv[1], 'rb').read()
i = 0
ports = {}
syncs = overflows = 0
while i < len(data):
    h = data[i]
    if h == 0:
        assert data[i:i + 6] == b'\0\0\0\0\0\x80', 'bad sync at %d' % i
        syncs += 1
        i += 6
        continue
    if h == 0x70:
        overflows += 1
        i += 1
        continue
    assert h & 3 and not h & 4, 'not a SWIT header: 0x%02x at %d' % (h, i)
    n = {1: 1, 2: 2, 3: 4}[h & 3]
    assert i + 1 + n <= len(data), 'truncated packet at %d' % i
    ports.setdefault(h >> 3, []).append((n, int.from_bytes(data[i + 1:i + 1 + n], 'little')))
    i += 1 + n

text = bytes(b for n, v in ports.get(1, []) for b in v.to_bytes(n, 'little')).decode()
m = re.search(r'thread=(\d+) systick=(\d+) timer=(\d+) dropped=(\d+)', text)
assert m, 'no summary line: %r' % text
thread, systick, timer, dropped = map(int, m.groups())

assert ports[2] == [(4, k) for k in range(thread)], 'thread sequence broken'
want3 = []
for k in range(systick):
    want3 += [(2, k & 0xFFFF), (4, ~k & 0xFFFFFFFF)]
assert ports.get(3, []) == want3, 'systick sequence broken'
want4 = []
for k in range(timer):
    want4 += [(4, k), (1, k & 0xFF)]
assert ports.get(4, []) == want4, 'timer sequence broken'
assert dropped == 0 and overflows == 0, 'drops: %d, overflow packets: %d' % (dropped, overflows)
assert syncs >= len(data) // 1024 - 1, 'too few syncs: %d in %d bytes' % (syncs, len(data))
print('stress OK: %d bytes, %d syncs, thread %d, systick %d, timer %d packets pairs' %
      (len(data), syncs, thread, systick, timer))
