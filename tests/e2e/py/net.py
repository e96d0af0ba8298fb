#!/usr/bin/env python3
"""Loopback ports for the end-to-end tests' servers.

  python3 net.py free-port         prints a port nothing listens on now
  python3 net.py wait-port PORT    waits (10 s at most) until something listens on PORT
  python3 net.py unix-socket PATH  leaves a Unix socket at PATH (bound, nothing listening)
"""
import socket
import sys
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])


def wait_port(port):
    for _ in range(100):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    sys.exit("nothing listens on port %d" % port)


if __name__ == "__main__":
    if sys.argv[1:2] == ["free-port"] and len(sys.argv) == 2:
        free_port()
    elif sys.argv[1:2] == ["wait-port"] and len(sys.argv) == 3:
        wait_port(int(sys.argv[2]))
    elif sys.argv[1:2] == ["unix-socket"] and len(sys.argv) == 3:
        socket.socket(socket.AF_UNIX).bind(sys.argv[2])
    else:
        sys.exit(__doc__)
