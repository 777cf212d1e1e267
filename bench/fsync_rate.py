"""fsyncs per second on one file in DIR (bench/run's limit for durable ingest).

Usage: fsync_rate.py DIR [seconds]. Rewrites 512 bytes at offset 0 and calls
os.fdatasync, one after another, for the given time (default 3 s). Prints
`BENCH fsyncs_per_s=… p50_us=…`.
"""
import os, sys, time

d, secs = sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
path = os.path.join(d, "fsync-probe")
fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
buf = b"x" * 512
lat = []
end = time.perf_counter() + secs
start = time.perf_counter()
while time.perf_counter() < end:
    t = time.perf_counter()
    os.pwrite(fd, buf, 0)
    os.fdatasync(fd)
    lat.append(time.perf_counter() - t)
elapsed = time.perf_counter() - start
os.close(fd)
os.unlink(path)
lat.sort()
print(f"BENCH fsyncs_per_s={len(lat) / elapsed:.0f} p50_us={lat[len(lat) // 2] * 1e6:.0f}")
