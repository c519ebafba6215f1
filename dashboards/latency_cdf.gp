# Latency CDFs per thread: the fraction of a thread's wakeups served within a
# latency (log scale).
# Input: latency_cdf.csv (fraction, one column of latencies per thread).
if (ARGC < 2) { print 'usage: gnuplot -c '.ARG0.' DATA_DIR OUT.png|OUT.svg'; exit status 2 }
data = ARG1
out = ARG2
dir = ARG0  # this script's directory, where style.gp is
while (strlen(dir) > 0 && dir[strlen(dir):strlen(dir)] ne '/') { dir = dir[1:strlen(dir) - 1] }
load dir.'style.gp'
f = data.'/latency_cdf.csv'

set title 'Wakeup-to-run latency CDF per thread. '.session_title
set xlabel 'latency ('.latency_unit.', log scale)'
set ylabel 'fraction of wakeups'
set logscale x
set yrange [0:1.02]
set key bottom right inside
plot for [i=2:1 + latency_threads] f using (column(i) > 0 ? column(i) : NaN):1 with lines lw 2 lc rgb colour(i - 1) title columnhead(i)
