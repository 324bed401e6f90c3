#!/usr/bin/env python3
"""Writes the latest run of `make bench` (build/bench/results.json) into
docs/benchmarks.md, between its "bench:begin" and "bench:end" markers, so
that the figures there are the ones a run printed, with its date and
machine. usage: scripts/bench-doc.py [RESULTS] [DOC]"""
import json
import sys

results = sys.argv[1] if len(sys.argv) > 1 else "build/bench/results.json"
doc = sys.argv[2] if len(sys.argv) > 2 else "docs/benchmarks.md"
r = json.load(open(results))
t, s, c, g = r["tools"], r["scale"], r["churn"], r["guards"]
lib = t["lib"]["create_ms"]["median"]
names = {"lib": "playnet, library (guards, state)", "api": "playnet, API (HTTP on unix socket)",
         "ip": "ip/nft, one command per object", "batch": "ip -batch + nft -f",
         "cni": "CNI bridge + host-local"}
out = [f"Run of {r.get('date', 'an unknown date')} on {r['cpus']} CPUs"
       + (f", {round(r['mem_kb'] / 1048576)} GiB" if "mem_kb" in r else "")
       + f", kernel {r['kernel']}, {r['manifest']}.", "",
       f"Create and delete, {r['n']} playgrounds one after another (ms, median and p99):", "",
       "| tool | create | p99 | delete | p99 | create × library |", "|---|---|---|---|---|---|"]
for k, name in names.items():
    if k in t:
        cr, de = t[k]["create_ms"], t[k]["delete_ms"]
        out.append(f"| {name} | {cr['median']} | {cr['p99']} | {de['median']} | {de['p99']} | "
                   f"{cr['median'] / lib:.1f} |")
out += ["", f"{s['playgrounds']} playgrounds up through the API: create median of the first 100 "
        f"{s['first100_median_ms']} ms, of the last 100 {s['last100_median_ms']} ms; netd RSS "
        f"{s['netd_rss_kb_rest']} kB at rest, {s['netd_rss_kb_up']} kB with all up; "
        f"{s['kernel_kb_per_playground']} kB of kernel memory per playground.", "",
        f"Churn, {c['playgrounds']} deleted while a client creates (the kernel alone: "
        f"{c['kernel_floor_serial_s']} s one after another):", ""]
for k, name in (("same_manifest", "the same manifest"), ("refit_manifest", "another of the same frame"),
                ("takeovers_off", "the same manifest, takeovers off")):
    x = c[k]
    out.append(f"- {name}: create median {x['create_median_ms']} ms, p99 {x['create_p99_ms']} ms, "
               f"{x['recycled']} of {x['creates']} took over a namespace, all gone after {x['all_gone_s']} s")
out += ["", f"Guards: tap {g['tap_ns']} ns, uplink {g['uplink_ns']} ns per packet (a program that only "
        f"returns: {g['test_run_floor_ns']} ns); iperf3 with guards on over off: {g['iperf_ratio_on_off']}."]
text = open(doc).read()
begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
a, b = text.index(begin) + len(begin), text.index(end)
open(doc, "w").write(text[:a] + "\n" + "\n".join(out) + "\n" + text[b:])
