"""The Python side of examples/python-peer.mjs: answers each request on the ring channel that ipckit's
spawn() made for this process, until the Node side closes. Standard library only, through
python/ipckit_channel.py (on PYTHONPATH)."""

import statistics

from ipckit_channel import Channel

with Channel.from_parent(codec='json') as ch:
    for req in ch:  # until the Node side closes the channel
        xs = req['numbers']
        ch.send({'id': req['id'], 'mean': statistics.fmean(xs), 'median': statistics.median(xs)})
