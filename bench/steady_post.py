"""POSTs one hook event at a steady rate (bench/run's end-to-end stage).

Usage: steady_post.py URL TOKEN BODY_FILE RATE SECONDS
One keep-alive connection, requests started on a fixed schedule (RATE per
second, no catching up in bursts beyond the schedule). Prints
`BENCH sent=… accepted=… rate_per_s=… p50_us=… p99_us=…` (202 latency).
"""
import http.client, sys, time, urllib.parse

url, token, body_file, rate, secs = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
u = urllib.parse.urlsplit(url)
body = open(body_file, "rb").read()
headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
n = int(rate * secs)
lat, accepted = [], 0
start = time.perf_counter()
for i in range(n):
    due = start + i / rate
    now = time.perf_counter()
    if due > now:
        time.sleep(due - now)
    t = time.perf_counter()
    conn.request("POST", u.path, body=body, headers=headers)
    r = conn.getresponse()
    r.read()
    lat.append(time.perf_counter() - t)
    accepted += r.status == 202
elapsed = time.perf_counter() - start
lat.sort()
print(f"BENCH sent={n} accepted={accepted} rate_per_s={n / elapsed:.0f} p50_us={lat[n // 2] * 1e6:.0f} p99_us={lat[int(n * 0.99)] * 1e6:.0f}")
