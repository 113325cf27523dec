"""The table and plots of a compare.sh run, from the JSON reports it left.

Usage: compare_report.py REPORTS_DIR SLO_ACK_MS SLO_DELIVERY_MS SLO_WAIT_MS
Reads compare-{limit,peer,dynchat}.json and capacity-*.json, prints the side-by-side
table and the ratios, and (with gnuplot) draws compare-latency.png (visitor ack by
percentile at the equal load), compare-throughput.png (acked/s over the equal-load run)
and compare-capacity.png (acked/s at each capacity step, a cross where a step missed).
"""
import json, os, shutil, subprocess, sys

SERVERS = ("limit", "peer", "dynchat")
reports, slo_ack, slo_delivery, slo_wait = sys.argv[1:5]
os.chdir(reports)
rows = {k: json.load(open(f"compare-{k}.json")) for k in SERVERS}
caps = {k: json.load(open(f"capacity-{k}.json")) for k in SERVERS}


def write_dat(path, lines):
    with open(path, "w") as f:
        f.writelines(line + "\n" for line in lines)


def gnuplot(png, script):
    subprocess.run(["gnuplot", "-e", f"set terminal pngcairo size 900,500; set output '{png}'; {script}"], check=True)


# Plots (PNG, beside the JSON): latency percentiles, throughput over time, capacity steps.
if shutil.which("gnuplot"):
    write_dat("compare-latency.dat", ["pct limit peer dynchat"] + [
        q.replace("_us", "") + " " + " ".join(str(rows[k]["latency"]["visitor_ack"][q] / 1000) for k in SERVERS)
        for q in ("p50_us", "p90_us", "p99_us", "p999_us")])
    for k in SERVERS:
        write_dat(f"compare-timeline-{k}.dat", [f"{s['t']:.1f} {s['acked']}" for s in rows[k].get("timeline", [])])
        write_dat(f"capacity-steps-{k}.dat", [f"{s['arrival_rate']:.1f} {s['acked_per_second']:.0f} {1 if s['ok'] else 0}"
                                              for s in caps[k].get("steps", [])])
    gnuplot("compare-latency.png", """
set title 'visitor ack latency by percentile (same scenario, same tool)'; set ylabel 'ms'; set logscale y;
set style data histograms; set style fill solid; set key top left;
plot 'compare-latency.dat' using 2:xtic(1) title 'limit (Beast relay)', '' using 3 title 'peer (Node ws relay)', '' using 4 title 'dynchat (durable)'
""")
    gnuplot("compare-throughput.png", """
set title 'acked messages per second'; set xlabel 's'; set ylabel 'msgs/s'; set key top left;
plot for [k in 'limit peer dynchat'] 'compare-timeline-'.k.'.dat' with lines lw 2 title k
""")
    gnuplot("compare-capacity.png", """
set title 'capacity: acked messages per second at each step (x: the step missed a service level)';
set xlabel 'visitors arriving per second'; set ylabel 'acked msgs/s'; set logscale x; set key top left;
plot for [k in 'limit peer dynchat'] 'capacity-steps-'.k.'.dat' using 1:2 with lines lw 2 title k, for [k in 'limit peer dynchat'] 'capacity-steps-'.k.'.dat' using 1:($3 == 0 ? $2 : 1/0) with points pt 2 ps 2 lc 'black' notitle
""")
    print(f"plots: {reports}/compare-latency.png, {reports}/compare-throughput.png, {reports}/compare-capacity.png")
print(f"{'server':<9}{'acked/s':>9}{'visitor ack p50/p99 ms':>24}{'v->a p99 ms':>13}{'a->v p99 ms':>13}{'wait p99 ms':>13}"
      f"{'lost':>6}{'dup':>5}{'reord':>6}")
for k, r in rows.items():
    l = r["latency"]
    print(f"{k:<9}{r['acked_per_second']:>9.0f}{l['visitor_ack']['p50_us']/1000:>12.1f}/{l['visitor_ack']['p99_us']/1000:<11.1f}"
          f"{l['visitor_to_agent']['p99_us']/1000:>13.1f}{l['agent_to_visitor']['p99_us']/1000:>13.1f}"
          f"{l['agent_wait']['p99_us']/1000:>13.1f}"
          f"{r['lost']:>6}{r['duplicated']:>5}{r['reordered']:>6}")
d, lim, peer = rows["dynchat"], rows["limit"], rows["peer"]
print(f"equal load: dynchat / limit throughput: {d['acked_per_second']/max(lim['acked_per_second'],1):.2f}; "
      f"dynchat / peer: {d['acked_per_second']/max(peer['acked_per_second'],1):.2f}")
print(f"\ncapacity (p99 visitor ack <= {slo_ack} ms, p99 delivery <= "
      f"{slo_delivery} ms, p99 wait for an agent <= {slo_wait} ms, "
      "0 lost/dup/reordered):")
print(f"{'server':<9}{'visitors/s held':>16}{'acked/s there':>15}{'ack p99 ms there':>18}   steps (visitors/s: ok, or what broke)")
held = {}
for k, c in caps.items():
    ok_steps = [s for s in c.get("steps", []) if s["ok"]]
    best = ok_steps[-1] if ok_steps else None
    held[k] = best["acked_per_second"] if best else 0
    trail = ", ".join(f"{s['arrival_rate']:.0f}:" + ("ok" if s["ok"] else "; ".join(s.get("not_ok_because", [])) or "no")
                      for s in c.get("steps", []))
    print(f"{k:<9}{c.get('highest_arrival_rate_held', 0):>16.0f}{held[k]:>15.0f}"
          f"{(best['p99_visitor_ack_us']/1000 if best else 0):>18.1f}   {trail}")
print(f"at capacity: dynchat / limit: {held['dynchat']/max(held['limit'],1):.2f}; dynchat / peer: {held['dynchat']/max(held['peer'],1):.2f}")
for k, c in caps.items():
    if c.get("steps") and all(s["ok"] for s in c["steps"]):
        print(f"note: {k} held every step, so its figure is a lower bound (raise COMPARE_STEPS)")
