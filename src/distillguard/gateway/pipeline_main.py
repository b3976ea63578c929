"""Entry point of the event pipeline process: `python -m distillguard.gateway.pipeline_main FD`.

SIGINT and SIGTERM are ignored before anything else is imported: a Ctrl-C or systemd's
SIGTERM to every process of the unit must not stop the pipeline before the gateway has sent
its last events. It stops when the gateway says so, or when the pipe ends.
"""

import signal

signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)

if __name__ == "__main__":
    import sys

    from distillguard.gateway.sidecar import main

    main(int(sys.argv[1]))
