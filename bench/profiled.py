"""``python -m bench.profiled <output> <module> [args...]``: run a module as ``python -m`` would,
under cProfile timed by the process's CPU clock (not the wall clock: on a shared machine the
figures are then the process's own work, not the waits for a core), and write the profile to
``<output>`` when it returns (the worker returns on SIGTERM)."""

from __future__ import annotations

import cProfile
import runpy
import sys
import time


def main() -> None:
    output, module, *arguments = sys.argv[1:]
    sys.argv = [module, *arguments]
    profile = cProfile.Profile(time.process_time)
    try:
        profile.runcall(runpy.run_module, module, run_name="__main__", alter_sys=True)
    except SystemExit:
        pass
    finally:
        profile.dump_stats(output)


if __name__ == "__main__":
    main()
