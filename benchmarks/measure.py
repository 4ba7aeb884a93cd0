"""What the benchmark scripts share: how a worker process measures its own peak memory."""

import resource


def peak_mb():
    """This process's peak resident set, MB: VmHWM (ru_maxrss would include what the parent
    process had resident when it started us)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
